//! Installed distributions: `*.dist-info` (METADATA name and version, RECORD files) and
//! legacy `*.egg-info`. RECORD is the one reliable module→distribution map: `top_level.txt`
//! is missing from meson, flit, hatchling and uv builds.

use std::path::Path;

/// One installed distribution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Distribution {
    /// `Name:` from METADATA, as written.
    pub name: String,
    /// `Version:`.
    pub version: String,
    /// Top-level modules and packages it installs.
    pub top_level: Vec<String>,
}

/// PEP 503 normalization: lowercase, runs of `-_.` become `-`.
#[must_use]
pub fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut dash = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            dash = true;
        } else {
            if dash && !out.is_empty() {
                out.push('-');
            }
            dash = false;
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// Distributions installed in `dir`.
#[must_use]
pub(crate) fn scan(dir: &Path) -> Vec<Distribution> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut entries: Vec<_> = rd.flatten().map(|e| e.path()).collect();
    entries.sort();
    let mut out = Vec::new();
    for p in entries {
        let Some(fname) = p.file_name().and_then(|f| f.to_str()) else {
            continue;
        };
        if fname.ends_with(".dist-info") && p.is_dir() {
            if let Some(d) = dist_info(dir, &p) {
                out.push(d);
            }
        } else if fname.ends_with(".egg-info")
            && p.is_dir()
            && let Some(d) = egg_info(&p)
        {
            out.push(d);
        }
    }
    out
}

fn metadata(text: &str) -> Option<(String, String)> {
    let mut name = None;
    let mut version = None;
    for line in text.lines() {
        if line.is_empty() {
            break;
        }
        if let Some(v) = line.strip_prefix("Name:") {
            name = Some(v.trim().to_owned());
        } else if let Some(v) = line.strip_prefix("Version:") {
            version = Some(v.trim().to_owned());
        }
    }
    Some((name?, version?))
}

fn dist_info(site: &Path, info: &Path) -> Option<Distribution> {
    let (name, version) = metadata(&std::fs::read_to_string(info.join("METADATA")).ok()?)?;
    let mut top_level: Vec<String> = Vec::new();
    let record = std::fs::read_to_string(info.join("RECORD")).unwrap_or_default();
    for line in record.lines() {
        let path = line.split(',').next().unwrap_or("").trim_matches('"');
        for top in record_top_level(site, path) {
            if !top_level.contains(&top) {
                top_level.push(top);
            }
        }
    }
    Some(Distribution {
        name,
        version,
        top_level,
    })
}

/// The importable top-level names a RECORD path installs.
fn record_top_level(site: &Path, path: &str) -> Vec<String> {
    if path.starts_with("..") || path.starts_with('/') {
        return Vec::new();
    }
    let first = path.split('/').next().unwrap_or("");
    // Editable installs: a `.pth` path line (src layout) or a finder with a MAPPING (flat).
    if first.starts_with("__editable__") {
        if first.ends_with(".pth") {
            return crate::pth::path_lines_of(&site.join(first))
                .iter()
                .flat_map(|d| modules_in(d))
                .collect();
        }
        if first.ends_with("_finder.py") {
            return crate::pth::editable_mappings_in(&site.join(first))
                .into_keys()
                .collect();
        }
        return Vec::new();
    }
    if first.ends_with(".dist-info")
        || first.ends_with(".data")
        || first == "__pycache__"
        || first.ends_with(".pth")
    {
        return Vec::new();
    }
    if path.contains('/') {
        return vec![first.to_owned()];
    }
    let stem = first.strip_suffix(".py").or_else(|| {
        first
            .ends_with(".so")
            .then(|| first.split('.').next())
            .flatten()
    });
    stem.map(|s| vec![s.to_owned()]).unwrap_or_default()
}

/// Top-level modules and packages directly in `dir`.
fn modules_in(dir: &Path) -> Vec<String> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    rd.flatten()
        .filter_map(|e| {
            let p = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            if p.is_dir() && p.join("__init__.py").is_file() {
                Some(name)
            } else {
                name.strip_suffix(".py").map(str::to_owned)
            }
        })
        .collect()
}

fn egg_info(info: &Path) -> Option<Distribution> {
    let text = std::fs::read_to_string(info.join("PKG-INFO")).ok()?;
    let (name, version) = metadata(&text)?;
    let top_level = std::fs::read_to_string(info.join("top_level.txt"))
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    Some(Distribution {
        name,
        version,
        top_level,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_names() {
        assert_eq!(normalize("Scikit_Learn"), "scikit-learn");
        assert_eq!(normalize("zope.interface"), "zope-interface");
    }
}
