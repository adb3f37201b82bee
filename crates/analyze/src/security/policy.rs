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
    allow: Vec<AllowEntry>,
    #[serde(default)]
    deny: Vec<DenyEntry>,
    #[serde(default)]
    getattr_refused: Vec<String>,
}

/// An allow entry: a bare pattern (policy files), or a pattern with the source that shows the
/// name only rebuilds data (the built-in data, where every entry has one).
#[derive(Deserialize)]
#[serde(untagged)]
enum AllowEntry {
    Pattern(String),
    Sourced { pattern: String, source: String },
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
    /// It comes from a user's policy file: no built-in allow entry overrides it.
    pub user: bool,
}

/// A name that only rebuilds data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allow {
    /// `module.name` exact, `module.*`, or `module.*Suffix`.
    pub pattern: String,
    /// Where the fact comes from (every built-in entry has a URL).
    pub source: Option<String>,
}

impl Allow {
    /// Whether this entry covers `full` and is more specific than the deny entry `d`.
    fn overrides(&self, d: &Deny, full: &str) -> bool {
        let fixed = self.pattern.split('*').next().unwrap_or_default();
        !d.pattern.contains('*')
            && matches_allow(&self.pattern, full)
            && fixed.len() > d.pattern.len()
            && fixed.starts_with(&d.pattern)
            && fixed.as_bytes().get(d.pattern.len()) == Some(&b'.')
    }
}

/// What the policy says about one `module.name`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Judgement<'p> {
    /// A deny entry matches (and no exact allow entry overrides it).
    Denied(&'p Deny),
    /// It only rebuilds data.
    Allowed,
    /// Neither: graded by how the pickle uses it.
    Unknown,
}

/// Allow and deny lists.
///
/// The built-in policy ([`Policy::default`]) is parsed from its data once per process, on
/// first use: a scan of plain data never consults it, and a process that scans one such file
/// then skips the parse (a tenth of a 2.7 MB `scan`).
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// The entries, or `None` for the built-in ones ([`default_rules`]).
    own: Option<Rules>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Rules {
    deny: Vec<Deny>,
    allow: Vec<Allow>,
    getattr_refused: Vec<String>,
}

/// The built-in entries, parsed on first use.
fn default_rules() -> &'static Rules {
    static RULES: std::sync::OnceLock<Rules> = std::sync::OnceLock::new();
    RULES.get_or_init(|| {
        Rules::from_toml(DEFAULT).unwrap_or(Rules {
            deny: Vec::new(),
            allow: Vec::new(),
            getattr_refused: Vec::new(),
        })
    })
}

impl Rules {
    fn from_toml(text: &str) -> Result<Rules, PolicyError> {
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
                    user: false,
                })
            })
            .collect::<Result<_, PolicyError>>()?;
        let allow = file
            .allow
            .into_iter()
            .map(|a| match a {
                AllowEntry::Pattern(pattern) => Allow {
                    pattern,
                    source: None,
                },
                AllowEntry::Sourced { pattern, source } => Allow {
                    pattern,
                    source: Some(source),
                },
            })
            .collect();
        Ok(Rules {
            deny,
            allow,
            getattr_refused: file.getattr_refused,
        })
    }
}

impl PartialEq for Policy {
    fn eq(&self, other: &Policy) -> bool {
        self.rules() == other.rules()
    }
}

impl Eq for Policy {}

impl Policy {
    /// Parses a policy in the data file's format.
    ///
    /// # Errors
    /// Invalid TOML or an unknown severity.
    pub fn from_toml(text: &str) -> Result<Policy, PolicyError> {
        Ok(Policy {
            own: Some(Rules::from_toml(text)?),
        })
    }

    fn rules(&self) -> &Rules {
        self.own.as_ref().unwrap_or_else(|| default_rules())
    }
    /// Adds another policy's entries (a user's policy file) to this one. Its deny entries win
    /// over every allow entry.
    pub fn extend(&mut self, other: Policy) {
        let other = other.own.unwrap_or_else(|| default_rules().clone());
        let rules = self.own.get_or_insert_with(|| default_rules().clone());
        rules
            .deny
            .extend(other.deny.into_iter().map(|d| Deny { user: true, ..d }));
        rules.allow.extend(other.allow);
        rules.getattr_refused.extend(other.getattr_refused);
    }

    /// The allow entries.
    #[must_use]
    pub fn allowed_entries(&self) -> &[Allow] {
        &self.rules().allow
    }

    /// Attribute names that `getattr(receiver, name)` is never resolved through (they reach
    /// other objects' attributes, code or state): such a call stays a `builtins.getattr` call.
    #[must_use]
    pub fn getattr_refused(&self, attr: &str) -> bool {
        self.rules().getattr_refused.iter().any(|a| a == attr)
    }

    /// The policy's word on `module.name` as the loader imports it (Python 2 names already
    /// mapped). A deny entry wins, except that a built-in deny of a whole module or class
    /// yields to a matching allow entry that is more specific (its fixed part extends the
    /// deny pattern): `socket.AddressFamily` rebuilds an enum member although `socket` opens
    /// connections, while `numpy.*` never overrides `numpy.load`.
    #[must_use]
    pub fn judge(&self, module: &str, name: &str) -> Judgement<'_> {
        let full = format!("{module}.{name}");
        if let Some(d) = self.deny_match_among(module, name, |d| d.user) {
            return Judgement::Denied(d);
        }
        match self.deny_match(module, name) {
            Some(d) if !self.rules().allow.iter().any(|a| a.overrides(d, &full)) => {
                Judgement::Denied(d)
            }
            Some(_) => Judgement::Allowed,
            None if self.allowed(module, name) => Judgement::Allowed,
            None => Judgement::Unknown,
        }
    }

    /// The deny entries.
    #[must_use]
    pub fn denied(&self) -> &[Deny] {
        &self.rules().deny
    }

    /// The most severe deny entry matching `module.name` or any dotted prefix of it; among
    /// equally severe ones, the most specific (so that `dill._dill._create_code` is judged as
    /// code, not as the `dill` loader). Names are taken as given: Python 2 names are mapped
    /// before (see `security::names`).
    #[must_use]
    pub fn deny_match(&self, module: &str, name: &str) -> Option<&Deny> {
        self.deny_match_among(module, name, |_| true)
    }

    fn deny_match_among(
        &self,
        module: &str,
        name: &str,
        keep: impl Fn(&Deny) -> bool,
    ) -> Option<&Deny> {
        let mut best: Option<&Deny> = None;
        // A dotted name is an attribute walk from the module (`pathlib` + `os.system` reaches
        // `os.system` through `pathlib.os`), so every tail of the name is judged on its own
        // as well: each may be a module re-exported under its own name.
        let tails = name
            .match_indices('.')
            .map(|(i, _)| name[i + 1..].to_owned())
            .chain(name.contains('.').then(|| name.to_owned()));
        let roots: Vec<String> = std::iter::once(format!("{module}.{name}"))
            .chain(tails)
            .collect();
        for full in roots {
            let prefixes = full
                .match_indices('.')
                .map(|(i, _)| &full[..i])
                .chain(std::iter::once(full.as_str()));
            for prefix in prefixes {
                for d in self.rules().deny.iter().filter(|d| keep(d)) {
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

    /// Whether an allow entry covers `module.name` (deny entries aside: see [`Policy::judge`]).
    #[must_use]
    pub fn allowed(&self, module: &str, name: &str) -> bool {
        let full = format!("{module}.{name}");
        self.rules()
            .allow
            .iter()
            .any(|a| matches_allow(&a.pattern, &full))
    }
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
