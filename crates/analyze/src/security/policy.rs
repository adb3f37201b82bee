//! The policy: which globals are dangerous (with a severity) and which only rebuild data.

use serde::Deserialize;

use super::Severity;

/// The built-in policy, as data.
const DEFAULT: &str = include_str!("../../data/security.toml");

/// A policy file could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError(pub String);

impl std::fmt::Display for PolicyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "invalid policy: {}", self.0)
    }
}

impl std::error::Error for PolicyError {}

#[derive(Deserialize)]
struct File {
    #[serde(default)]
    allow: Vec<String>,
    #[serde(default)]
    deny: Vec<DenyEntry>,
}

#[derive(Deserialize)]
struct DenyEntry {
    pattern: String,
    severity: String,
    why: String,
    /// `"code"` for names that build code objects (reported by PD107, not PD101).
    #[serde(default)]
    kind: Option<String>,
    source: String,
}

/// A dangerous name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deny {
    /// Module, module prefix or `module.name`.
    pub pattern: String,
    /// Severity when matched.
    pub severity: Severity,
    /// What it does on load.
    pub why: String,
    /// It builds code objects: loading runs Python bytecode from the file.
    pub builds_code: bool,
    /// Where the fact comes from (a URL in the built-in policy).
    pub source: String,
}

/// Allow and deny lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    deny: Vec<Deny>,
    allow: Vec<String>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy::from_toml(DEFAULT).unwrap_or(Policy {
            deny: Vec::new(),
            allow: Vec::new(),
        })
    }
}

/// `_compat_pickle` module renames Python applies below protocol 3, so that `__builtin__.eval`
/// is judged as `builtins.eval`.
const COMPAT: &[(&str, &str)] = &[
    ("__builtin__", "builtins"),
    ("copy_reg", "copyreg"),
    ("cPickle", "pickle"),
    ("commands", "subprocess"),
    ("urllib2", "urllib.request"),
    ("exceptions", "builtins"),
];

impl Policy {
    /// Parses a policy in the data file's format.
    ///
    /// # Errors
    /// Invalid TOML or an unknown severity.
    pub fn from_toml(text: &str) -> Result<Policy, PolicyError> {
        let file: File = toml::from_str(text).map_err(|e| PolicyError(e.to_string()))?;
        let deny = file
            .deny
            .into_iter()
            .map(|d| {
                let builds_code = match d.kind.as_deref() {
                    None => false,
                    Some("code") => true,
                    Some(other) => {
                        return Err(PolicyError(format!(
                            "unknown kind {other:?} for {:?} (expected \"code\")",
                            d.pattern
                        )));
                    }
                };
                Ok(Deny {
                    builds_code,
                    severity: Severity::parse(&d.severity)
                        .ok_or_else(|| PolicyError(format!("unknown severity {:?}", d.severity)))?,
                    pattern: d.pattern,
                    why: d.why,
                    source: d.source,
                })
            })
            .collect::<Result<_, PolicyError>>()?;
        Ok(Policy {
            deny,
            allow: file.allow,
        })
    }

    /// Adds another policy's entries (a user's policy file) to this one.
    pub fn extend(&mut self, other: Policy) {
        self.deny.extend(other.deny);
        self.allow.extend(other.allow);
    }

    /// The deny entries.
    #[must_use]
    pub fn denied(&self) -> &[Deny] {
        &self.deny
    }

    /// The most severe deny entry matching `module.name` or any dotted prefix of it, also
    /// under its `_compat_pickle` name; among equally severe ones, the most specific (so that
    /// `dill._dill._create_code` is judged as code, not as the `dill` loader).
    #[must_use]
    pub fn deny_match(&self, module: &str, name: &str) -> Option<&Deny> {
        let mut best: Option<&Deny> = None;
        // A dotted name is an attribute walk from the module (`pathlib` + `os.system` reaches
        // `os.system` through `pathlib.os`), so every tail of the name is judged on its own
        // as well: each may be a module re-exported under its own name.
        let tails = name
            .match_indices('.')
            .map(|(i, _)| name[i + 1..].to_owned())
            .chain(name.contains('.').then(|| name.to_owned()));
        let roots: Vec<String> = candidates(module)
            .into_iter()
            .map(|m| format!("{m}.{name}"))
            .chain(tails)
            .collect();
        for full in roots {
            let prefixes = full
                .match_indices('.')
                .map(|(i, _)| &full[..i])
                .chain(std::iter::once(full.as_str()));
            for prefix in prefixes {
                for d in &self.deny {
                    let better = best.is_none_or(|b| {
                        (d.severity, d.pattern.len()) > (b.severity, b.pattern.len())
                    });
                    let hit = if d.pattern.contains('*') {
                        prefix == full && matches_deny_glob(&d.pattern, &full)
                    } else {
                        d.pattern == prefix
                    };
                    if hit && better {
                        best = Some(d);
                    }
                }
            }
        }
        best
    }

    /// Whether `module.name` only rebuilds data. A user's deny entry still wins.
    #[must_use]
    pub fn allowed(&self, module: &str, name: &str) -> bool {
        candidates(module).iter().any(|module| {
            let full = format!("{module}.{name}");
            self.allow.iter().any(|a| matches_allow(a, &full))
        })
    }
}

fn candidates(module: &str) -> Vec<String> {
    let mut out = vec![module.to_owned()];
    for (old, new) in COMPAT {
        if module == *old {
            out.push((*new).to_owned());
        }
    }
    out
}

/// A deny pattern with one `*` standing for one or more dotted components, such as
/// `pathlib.*.write_text` (a method reached through any class of the module).
fn matches_deny_glob(pattern: &str, full: &str) -> bool {
    pattern.split_once('*').is_some_and(|(prefix, suffix)| {
        full.len() > prefix.len() + suffix.len()
            && full.starts_with(prefix)
            && full.ends_with(suffix)
    })
}

/// `a.b.c` exact, `a.*` (anything under `a.`), or `a.*Suffix` (a name under `a.` ending in
/// `Suffix`, with no further dots).
fn matches_allow(pattern: &str, full: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == full,
        Some((prefix, suffix)) => {
            full.len() > prefix.len() + suffix.len()
                && full.starts_with(prefix)
                && full.ends_with(suffix)
                && (suffix.is_empty()
                    || !full[prefix.len()..full.len() - suffix.len()].contains('.'))
        }
    }
}
