//! `.pth` files: path lines, and the `MAPPING` of setuptools editable finders.
//!
//! `site` reads `*.pth` in a site directory alphabetically: `#` lines are comments, lines
//! starting with `import` are executed (never here), other lines are appended to `sys.path`
//! when they exist. Flat-layout editable installs put an `import __editable___NAME_finder`
//! line there; the finder module holds a literal `MAPPING = {'pkg': '/path/to/pkg'}` that we
//! read as data.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The directories `.pth` files in `dir` add to the path, in `site`'s order.
#[must_use]
pub(crate) fn path_lines(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "pth"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        for p in path_lines_of(&f) {
            if !out.contains(&p) {
                out.push(p);
            }
        }
    }
    out
}

/// The existing directories one `.pth` file adds (relative lines are relative to its folder).
#[must_use]
pub(crate) fn path_lines_of(file: &Path) -> Vec<PathBuf> {
    let dir = file.parent().unwrap_or(Path::new("."));
    let mut out = Vec::new();
    {
        let Ok(text) = std::fs::read_to_string(file) else {
            return out;
        };
        for line in text.lines() {
            let line = line.trim_end();
            if line.is_empty()
                || line.starts_with('#')
                || line.starts_with("import ")
                || line.starts_with("import\t")
            {
                continue;
            }
            let p = dir.join(line);
            if p.is_dir() && !out.contains(&p) {
                out.push(p);
            }
        }
    }
    out
}

/// `MAPPING` entries of the editable finders in `dir` (`__editable___*_finder.py`).
#[must_use]
pub(crate) fn editable_mappings(dir: &Path) -> HashMap<String, PathBuf> {
    let mut out = HashMap::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd.flatten() {
        let name = e.file_name();
        let name = name.to_string_lossy();
        if !(name.starts_with("__editable__") && name.ends_with("_finder.py")) {
            continue;
        }
        out.extend(editable_mappings_in(&e.path()));
    }
    out
}

/// `MAPPING` of one editable finder module.
#[must_use]
pub(crate) fn editable_mappings_in(file: &Path) -> HashMap<String, PathBuf> {
    std::fs::read_to_string(file)
        .map(|text| mapping_literal(&text))
        .unwrap_or_default()
}

/// Parses `MAPPING: dict[str, str] = {'a': '/x/a', ...}` from a finder's source.
fn mapping_literal(source: &str) -> HashMap<String, PathBuf> {
    use ruff_python_ast::{Expr, Stmt};
    let mut out = HashMap::new();
    let parsed =
        ruff_python_parser::parse_unchecked_source(source, ruff_python_ast::PySourceType::Python);
    for stmt in &parsed.syntax().body {
        let (target, value) = match stmt {
            Stmt::Assign(a) if a.targets.len() == 1 => (&a.targets[0], Some(&*a.value)),
            Stmt::AnnAssign(a) => (&*a.target, a.value.as_deref()),
            _ => continue,
        };
        let (Expr::Name(n), Some(Expr::Dict(d))) = (target, value) else {
            continue;
        };
        if n.id.as_str() != "MAPPING" {
            continue;
        }
        for item in &d.items {
            if let (Some(Expr::StringLiteral(k)), Expr::StringLiteral(v)) = (&item.key, &item.value)
            {
                out.insert(k.value.to_str().to_owned(), PathBuf::from(v.value.to_str()));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_mapping_literal() {
        let src = "import sys\nMAPPING: dict[str, str] = {'flatpkg': '/src/flatpkg', 'x': '/y'}\nNAMESPACES = {}\n";
        let m = mapping_literal(src);
        assert_eq!(m["flatpkg"], PathBuf::from("/src/flatpkg"));
        assert_eq!(m.len(), 2);
    }
}
