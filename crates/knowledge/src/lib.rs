//! What pickle-doctor knows about the Python ecosystem, as data.
//!
//! Every fact lives in a TOML file under `data/` with its version range and a source URL:
//! - `compat_pickle.toml`: Python's `_compat_pickle` maps, applied below protocol 3;
//! - `renames.toml`: modules and classes that moved, with the releases they moved in, and
//!   the class locations pandas' `read_pickle` remaps (`applied_by`);
//! - `breaks.toml`: state-level breaks (the pickle names the right class, but its state or
//!   constructor arguments no longer fit);
//! - `distributions.toml`: import names whose PyPI distribution has another name;
//! - `producers.toml`: what the data says about the release that wrote it (a version string
//!   in an object's state, a module only some releases have);
//! - `torch_weights_only.toml`: torch's `weights_only=True` allowlist and its error texts.
//!
//! Adding a case means adding an entry and a test, not code.

#![deny(missing_docs)]

mod version;

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Deserialize;

pub use version::{Version, in_range};

/// `module:Name` or `module`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Dotted module.
    pub module: String,
    /// Attribute, if the entry names one.
    pub name: Option<String>,
}

impl Target {
    fn parse(s: &str) -> Target {
        match s.split_once(':') {
            Some((m, n)) => Target {
                module: m.to_owned(),
                name: Some(n.to_owned()),
            },
            None => Target {
                module: s.to_owned(),
                name: None,
            },
        }
    }
}

/// How a rename's `from` matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Match {
    /// `module:Name`, that global only.
    Exact,
    /// Every global of exactly this module (name kept).
    Module,
    /// This module and its submodules (suffix kept).
    Prefix,
}

/// A module or class that moved between releases.
#[derive(Debug, Clone, Deserialize)]
pub struct Rename {
    /// Stable identifier.
    pub id: String,
    /// `module` or `module:Name` as pickles written by one side name it.
    pub from: String,
    /// Where the other side has it.
    pub to: String,
    /// How `from` matches.
    #[serde(rename = "match")]
    pub matching: Match,
    /// The distribution whose version in the target decides it (`python`: the interpreter).
    pub dist: String,
    /// The target releases where `from` is missing and `to` works: `since <= v < until`.
    #[serde(default)]
    pub since: String,
    /// See `since`.
    #[serde(default)]
    pub until: String,
    /// A loader that applies this rename itself (`pandas.read_pickle`, `dill.load`).
    #[serde(default)]
    pub applied_by: Option<String>,
    /// Releases of the loader's distribution that apply it.
    #[serde(default)]
    pub applied_since: String,
    /// See `applied_since`.
    #[serde(default)]
    pub applied_until: String,
    /// `false` for loader-table entries whose target no longer exists anywhere.
    #[serde(default = "yes")]
    pub usable_as_plain_rename: bool,
    /// Where the fact comes from.
    pub source: String,
    /// How it was verified.
    #[serde(default)]
    pub note: String,
}

fn yes() -> bool {
    true
}

impl Rename {
    /// `from` split.
    #[must_use]
    pub fn from_target(&self) -> Target {
        Target::parse(&self.from)
    }

    /// `to` split.
    #[must_use]
    pub fn to_target(&self) -> Target {
        Target::parse(&self.to)
    }

    /// Rewrites `module.name` if this entry covers it.
    #[must_use]
    pub fn apply(&self, module: &str, name: &str) -> Option<(String, String)> {
        let (from, to) = (self.from_target(), self.to_target());
        match self.matching {
            Match::Exact => {
                let tname = to.name.clone().unwrap_or_else(|| name.to_owned());
                (from.module == module && from.name.as_deref() == Some(name))
                    .then(|| (to.module.clone(), tname))
            }
            Match::Module => (from.module == module).then(|| (to.module.clone(), name.to_owned())),
            Match::Prefix => {
                let rest = module.strip_prefix(&from.module)?;
                (rest.is_empty() || rest.starts_with('.'))
                    .then(|| (format!("{}{rest}", to.module), name.to_owned()))
            }
        }
    }

    fn specificity(&self) -> (u8, usize) {
        let rank = match self.matching {
            Match::Exact => 2,
            Match::Module => 1,
            Match::Prefix => 0,
        };
        (rank, self.from.len())
    }
}

/// A numpy 2 `numpy.core.*` module that still resolves through `__getattr__`.
#[derive(Debug, Clone, Deserialize)]
pub struct Shim {
    /// Stable identifier.
    pub id: String,
    /// The shim module.
    pub module: String,
    /// Where its names really live.
    pub target: String,
    /// The distribution and target releases where the shim exists.
    pub dist: String,
    /// See `dist`.
    #[serde(default)]
    pub since: String,
    /// See `dist`.
    #[serde(default)]
    pub until: String,
    /// The warning each lookup raises, if any.
    #[serde(default)]
    pub warning: String,
    /// Where the fact comes from.
    pub source: String,
}

/// What kind of trouble a [`Break`] is. A misspelt kind fails to parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BreakKind {
    /// The load fails (no `kind` in the data).
    #[default]
    Failure,
    /// The load succeeds with a warning (scikit-learn's version warning).
    Warning,
    /// A module only newer releases have, named by newer pickles.
    ModuleAdded,
    /// The target's loader cannot read the file's container format.
    Container,
    /// The loader refuses by policy (torch's `weights_only` default).
    LoaderPolicy,
    /// The load succeeds and the object misbehaves (a `fix` repair is the only sign).
    Silent,
    /// The load succeeds and the first call of a public method raises (`error`), because
    /// the state lacks an attribute the target's class reads.
    UseTime,
}

impl BreakKind {
    /// Every kind, in declaration order.
    pub const ALL: [BreakKind; 7] = [
        BreakKind::Failure,
        BreakKind::Warning,
        BreakKind::ModuleAdded,
        BreakKind::Container,
        BreakKind::LoaderPolicy,
        BreakKind::Silent,
        BreakKind::UseTime,
    ];
}

/// How a [`Break`] can be repaired. A misspelt kind fails to parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BreakFix {
    /// A static, tested byte-level repair (`fix` applies [`Break::repair`]).
    Rewrite,
    /// A rename.
    Rename,
    /// Install or change something in the environment.
    Environment,
    /// Nothing can be done to the file.
    #[default]
    None,
}

impl std::fmt::Display for BreakFix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            BreakFix::Rewrite => "rewrite",
            BreakFix::Rename => "rename",
            BreakFix::Environment => "environment",
            BreakFix::None => "none",
        })
    }
}

/// Names a module's `__getattr__` refuses with `AttributeError` (`renames.toml` `[[refused]]`):
/// undecidable from the source, known from the release.
#[derive(Debug, Clone, Deserialize)]
pub struct Refused {
    /// Stable identifier.
    pub id: String,
    /// The module.
    pub module: String,
    /// The names it refuses.
    pub names: Vec<String>,
    /// The distribution whose target version decides.
    pub dist: String,
    /// Target releases: `since <= v < until`.
    #[serde(default)]
    pub since: String,
    /// See `since`.
    #[serde(default)]
    pub until: String,
    /// Where the fact comes from.
    pub source: String,
    /// How it was verified.
    pub note: String,
}

/// A state-level break: the pickle names the right class, but what it passes no longer fits.
#[derive(Debug, Clone, Deserialize)]
pub struct Break {
    /// Stable identifier.
    pub id: String,
    /// The distribution whose target version decides.
    pub dist: String,
    /// Target releases where the break fires.
    #[serde(default)]
    pub since: String,
    /// See `since`.
    #[serde(default)]
    pub until: String,
    /// What kind of trouble it is; absent in the data: the load fails.
    #[serde(default)]
    pub kind: BreakKind,
    /// Globals involved (`module:Name`).
    #[serde(default)]
    pub affects: Vec<String>,
    /// The trace pattern (keys documented in `breaks.toml`).
    pub detect: toml::Table,
    /// The target loader's message, with `{placeholders}`.
    #[serde(default)]
    pub error: Option<String>,
    /// The message under `pandas.read_pickle`, when it differs.
    #[serde(default)]
    pub error_read_pickle: Option<String>,
    /// A filled-in example of `error`.
    #[serde(default)]
    pub error_example: Option<String>,
    /// What can be done.
    #[serde(default)]
    pub fix: String,
    /// How it can be repaired.
    #[serde(default)]
    pub fix_kind: BreakFix,
    /// The `rewrite` state repair that fixes it (a name `rewrite::state::StateRepair`
    /// knows; tested there).
    #[serde(default)]
    pub repair: Option<String>,
    /// For a repair that only applies to files from older producers: the first producer
    /// release that does not need it.
    #[serde(default)]
    pub producer_until: Option<String>,
    /// Where the fact comes from.
    pub source: String,
    /// Further message variants (`error_target_3_11plus_from_16`, ...).
    #[serde(flatten)]
    pub extra: toml::Table,
}

/// What an atlas break does to the user (`data/atlas/breaks.toml`, generated by
/// `scripts/atlas.sh` from real loads and calls).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AtlasKind {
    /// `pickle.load` raises.
    Load,
    /// The object loads; its first failing call (`method`) raises.
    Use,
    /// Every call runs, but an output differs from the producer's.
    Silent,
}

/// One observed break of the atlas: objects of `class` written by `producer_versions` and
/// loaded by `target_versions` (`tests/atlas/README.md`).
#[derive(Debug, Clone, Deserialize)]
pub struct AtlasBreak {
    /// Stable identifier (hash of the fields below).
    pub id: String,
    /// `scikit-learn`, `pandas` or `numpy`.
    pub dist: String,
    /// The pickled object's class in the producer, `module:Name`.
    pub class: String,
    /// Load, use or silent.
    pub kind: AtlasKind,
    /// The first failing call (empty for `load`).
    #[serde(default)]
    pub method: String,
    /// For `AttributeError: ... has no attribute 'X'`: `X`.
    #[serde(default)]
    pub attribute: String,
    /// The exact last traceback line(s) (`Type: message`; empty for `silent`).
    #[serde(default)]
    pub error: String,
    /// For `silent`: `pickle` (only the unpickled object differs), `library` (a fresh object
    /// differs the same way) or `unknown`.
    #[serde(default)]
    pub cause: String,
    /// Oldest producer observed.
    pub producer_since: String,
    /// Newest producer observed (inclusive).
    pub producer_through: String,
    /// Oldest target observed.
    pub target_since: String,
    /// Newest target observed (inclusive).
    pub target_through: String,
    /// Every producer version observed.
    pub producer_versions: Vec<String>,
    /// Every target version observed.
    pub target_versions: Vec<String>,
    /// The exact pairs by version (`1.2.2->1.9.1`).
    pub version_pairs: Vec<String>,
    /// The exact pairs by atlas venv name (`sk-1.2->sk-1.9`).
    pub pairs: Vec<String>,
    /// The atlas cases showing it.
    pub cases: Vec<String>,
    /// Innermost frames where it was raised (`path:line in func`).
    #[serde(default)]
    pub r#where: Vec<String>,
    /// Changelog entry or release notes.
    pub source: String,
    /// `changelog` or `release-notes`.
    pub source_kind: String,
    /// numpy and pandas entries (their pickles record no producer version): the layouts of
    /// the pickles that showed the break (`[[entry.layout]]`).
    #[serde(default, rename = "layout")]
    pub layouts: Vec<AtlasLayout>,
}

/// What one atlas case's pickle names (`tests/atlas/build.py` `layout`, read with
/// pickletools): an object whose pickle has the same layout is the same kind of object.
#[derive(Debug, Clone, Deserialize)]
pub struct AtlasLayout {
    /// The atlas case.
    pub case: String,
    /// Every global the pickle names, `module.name`, sorted, distinct; `numpy._core` is
    /// written `numpy.core` (one layout for both numpy majors).
    pub globals: Vec<String>,
    /// The descriptor strings passed to `numpy.dtype` (`f8`, `O8`), sorted, distinct.
    pub dtypes: Vec<String>,
    /// The pairs (`producer->target` versions) that showed the break with this layout.
    pub version_pairs: Vec<String>,
    /// The pairs where rows of the same distribution and layout were ok.
    pub ok_version_pairs: Vec<String>,
}

/// `producer->target` → the two versions.
#[must_use]
pub fn split_pair(pair: &str) -> Option<(&str, &str)> {
    pair.split_once("->")
}

#[derive(Debug, Deserialize)]
struct AtlasFile {
    schema_version: u32,
    #[serde(default)]
    entry: Vec<AtlasBreak>,
}

/// `types.CodeType`'s positional arguments in one CPython minor.
#[derive(Debug, Clone, Deserialize)]
pub struct CodeType {
    /// `X.Y`.
    pub python: String,
    /// Most positional arguments `code()` takes.
    pub max_positional_args: usize,
    /// Fewest it takes.
    pub required_args: usize,
    /// Where the fact comes from.
    pub source: String,
}

impl Break {
    /// The producer releases that write the triggering pattern, `since <= v < until`
    /// (`""` = open end).
    #[must_use]
    pub fn producer_range(&self) -> (&str, &str) {
        let since = self
            .extra
            .get("producer_since")
            .and_then(|v| v.as_str())
            .unwrap_or("");
        (since, self.producer_until.as_deref().unwrap_or(""))
    }

    /// A string field of `detect`.
    #[must_use]
    pub fn detect_str(&self, key: &str) -> Option<&str> {
        self.detect.get(key).and_then(toml::Value::as_str)
    }

    /// An integer field of `detect`.
    #[must_use]
    pub fn detect_int(&self, key: &str) -> Option<i64> {
        self.detect.get(key).and_then(toml::Value::as_integer)
    }
}

/// An import name whose PyPI distribution differs.
#[derive(Debug, Clone, Deserialize)]
pub struct DistributionName {
    /// Top-level (or two-level) import name.
    pub module: String,
    /// The PyPI distribution.
    pub dist: String,
    /// Other distributions providing the same module.
    #[serde(default)]
    pub alternatives: Vec<String>,
    /// Where the fact comes from.
    pub source: String,
}

#[derive(Debug, Deserialize)]
struct CompatFile {
    python: String,
    import_mapping: HashMap<String, String>,
    name_mapping: HashMap<String, String>,
}

/// torch's `weights_only=True` allowlist and error texts.
#[derive(Debug, Clone, Deserialize)]
pub struct WeightsOnly {
    /// The torch release the data was taken from.
    pub torch: String,
    /// The first release where `weights_only=True` is `torch.load`'s default.
    pub default_since: String,
    /// Where the allowlist comes from.
    pub source: String,
    /// `module.name` of every global accepted without `add_safe_globals`.
    pub allowed: Vec<String>,
    /// Error texts.
    pub errors: WeightsOnlyErrors,
}

/// torch's words when `weights_only=True` refuses a file.
#[derive(Debug, Clone, Deserialize)]
pub struct WeightsOnlyErrors {
    /// A global outside the allowlist (`{global}` is `module.name`).
    pub unsupported_global: String,
    /// A legacy `.tar` checkpoint.
    pub legacy_tar: String,
    /// A TorchScript archive.
    pub torchscript: String,
}

impl WeightsOnly {
    /// Whether `module.name` is accepted.
    #[must_use]
    pub fn allows(&self, module: &str, name: &str) -> bool {
        let full = format!("{module}.{name}");
        self.allowed.contains(&full)
    }

    /// The error for a refused global.
    #[must_use]
    pub fn unsupported(&self, module: &str, name: &str) -> String {
        self.errors
            .unsupported_global
            .replace("{global}", &format!("{module}.{name}"))
    }
}

/// What loaders do with Python 2 `str`s they cannot decode: `python2_strings.toml`.
#[derive(Debug, Clone, Deserialize)]
pub struct Python2Strings {
    /// Where pickle.load's decoding is defined.
    pub source: String,
    /// Loaders that replace the `UnicodeDecodeError` with their own error.
    pub wrapper: Vec<DecodeWrapper>,
    /// Loaders that retry with an encoding that always decodes.
    pub fallback: Vec<DecodeFallback>,
}

/// A loader's own error in place of pickle's `UnicodeDecodeError`.
#[derive(Debug, Clone, Deserialize)]
pub struct DecodeWrapper {
    /// The loader (`numpy`, `joblib`).
    pub loader: String,
    /// The distribution whose target version decides the entry.
    pub dist: String,
    /// Target versions with this wrapper: `since <= v < until`.
    pub since: String,
    /// See `since`.
    pub until: String,
    /// Only for pickles inside a `.npy` file.
    pub npy_only: bool,
    /// The exact error; `{error_repr}` is `repr()` of the `UnicodeDecodeError`.
    pub error: String,
    /// Where the wrapper is.
    pub source: String,
    /// How it was verified.
    pub note: String,
}

impl DecodeWrapper {
    /// The wrapper's error around `decode_error_repr`.
    #[must_use]
    pub fn render(&self, decode_error_repr: &str) -> String {
        self.error.replace("{error_repr}", decode_error_repr)
    }
}

/// A loader that retries the file with another encoding.
#[derive(Debug, Clone, Deserialize)]
pub struct DecodeFallback {
    /// The loader (`pandas`).
    pub loader: String,
    /// The distribution whose target version decides the entry.
    pub dist: String,
    /// Target versions with the retry: `since <= v < until`.
    pub since: String,
    /// See `since`.
    pub until: String,
    /// The encoding of the retry.
    pub encoding: String,
    /// Where the retry is.
    pub source: String,
    /// How it was verified.
    pub note: String,
}

/// What in the data shows which release of a distribution wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Evidence {
    /// A dict in the data (an object's pickled state) maps this key to the producer's version
    /// string: the requirement is `dist==<value>` (`state_key`).
    StateKey(String),
    /// The data names a module whose dotted name starts with `prefix`, which only the releases
    /// matching `spec` have (`module_prefix`).
    ModulePrefix {
        /// The module name prefix (`numpy._core`).
        prefix: String,
        /// The version specifier it implies (`>=2`).
        spec: String,
        /// Why, in one line (printed after the requirement).
        reason: String,
    },
    /// The data names one of these globals (`module.name`, exactly), which only the
    /// releases matching `spec` write (`globals`).
    Globals {
        /// The globals.
        names: Vec<String>,
        /// The version specifier it implies (`<3`).
        spec: String,
        /// Why, in one line.
        reason: String,
    },
}

impl Evidence {
    /// The version specifier a structural marker implies, and why (`None` for a state key,
    /// which gives the version itself).
    #[must_use]
    pub fn spec_and_reason(&self) -> Option<(&str, &str)> {
        match self {
            Evidence::StateKey(_) => None,
            Evidence::ModulePrefix { spec, reason, .. }
            | Evidence::Globals { spec, reason, .. } => Some((spec, reason)),
        }
    }
}

/// A fact about the releases that write some data: `producers.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "RawProducer")]
pub struct Producer {
    /// Stable identifier.
    pub id: String,
    /// The distribution the entry speaks for.
    pub dist: String,
    /// Producer releases that leave this evidence: `since <= v < until`.
    pub since: String,
    /// See `since`.
    pub until: String,
    /// What shows the producer.
    pub evidence: Evidence,
    /// Whether the implied range is also what loading the data needs, so that
    /// `requirements` prints it (`numpy._core` needs numpy 2; `numpy.core`, written by
    /// numpy 1, loads in numpy 2 too: a marker of the writer only).
    pub requires: bool,
    /// Where the fact comes from.
    pub source: String,
    /// How it was verified.
    pub note: String,
}

impl Producer {
    /// Whether `module` is one this entry's `module_prefix` names (a plain string prefix).
    #[must_use]
    pub fn names_module(&self, module: &str) -> bool {
        match &self.evidence {
            Evidence::ModulePrefix { prefix, .. } => module.starts_with(prefix.as_str()),
            Evidence::StateKey(_) | Evidence::Globals { .. } => false,
        }
    }

    /// Whether the global `module.name` is evidence of this entry (a module prefix or one
    /// of its globals).
    #[must_use]
    pub fn names_global(&self, module: &str, name: &str) -> bool {
        match &self.evidence {
            Evidence::ModulePrefix { .. } => self.names_module(module),
            Evidence::Globals { names, .. } => names.iter().any(|g| {
                g.strip_prefix(module)
                    .and_then(|r| r.strip_prefix('.'))
                    .is_some_and(|r| r == name)
            }),
            Evidence::StateKey(_) => false,
        }
    }

    /// The producer versions a structural marker implies, `since <= v < until` (`""` = open
    /// end), from its `spec` (`>=2`, `<3`, or both comma-separated); `None` for a state key
    /// or a specifier of another form.
    #[must_use]
    pub fn implied_range(&self) -> Option<(String, String)> {
        let (spec, _) = self.evidence.spec_and_reason()?;
        let (mut since, mut until) = (String::new(), String::new());
        for part in spec.split(',').map(str::trim) {
            if let Some(v) = part.strip_prefix(">=") {
                since = v.to_owned();
            } else if let Some(v) = part.strip_prefix('<') {
                if v.starts_with('=') {
                    return None;
                }
                until = v.to_owned();
            } else {
                return None;
            }
        }
        Some((since, until))
    }
}

/// `[[producer]]` as written: exactly one kind of evidence, checked when converting.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProducer {
    id: String,
    dist: String,
    #[serde(default)]
    since: String,
    #[serde(default)]
    until: String,
    #[serde(default)]
    state_key: Option<String>,
    #[serde(default)]
    module_prefix: Option<String>,
    #[serde(default)]
    globals: Option<Vec<String>>,
    #[serde(default)]
    spec: Option<String>,
    #[serde(default)]
    requires: Option<bool>,
    #[serde(default)]
    reason: Option<String>,
    source: String,
    #[serde(default)]
    note: String,
}

impl TryFrom<RawProducer> for Producer {
    type Error = String;

    fn try_from(r: RawProducer) -> Result<Self, String> {
        let evidence = match (r.state_key, r.module_prefix, r.globals, r.spec, r.reason) {
            (Some(key), None, None, None, None) => Evidence::StateKey(key),
            (None, Some(prefix), None, Some(spec), Some(reason)) => Evidence::ModulePrefix {
                prefix,
                spec,
                reason,
            },
            (None, None, Some(names), Some(spec), Some(reason)) if !names.is_empty() => {
                Evidence::Globals {
                    names,
                    spec,
                    reason,
                }
            }
            _ => {
                return Err(format!(
                    "producer {}: give either state_key alone, or module_prefix or globals with spec and reason",
                    r.id
                ));
            }
        };
        Ok(Producer {
            id: r.id,
            dist: r.dist,
            since: r.since,
            until: r.until,
            evidence,
            requires: r.requires.unwrap_or(true),
            source: r.source,
            note: r.note,
        })
    }
}

#[derive(Debug, Deserialize)]
struct ProducersFile {
    #[serde(default)]
    producer: Vec<Producer>,
}

#[derive(Debug, Deserialize)]
struct RenamesFile {
    #[serde(default)]
    rename: Vec<Rename>,
    #[serde(default)]
    shim: Vec<Shim>,
    #[serde(default)]
    refused: Vec<Refused>,
}

/// The exact text of an error a library raises, for a range of its versions
/// (`data/messages.toml`).
#[derive(Debug, Clone, Deserialize)]
pub struct Message {
    /// Stable identifier, what the analyzer asks for.
    pub id: String,
    /// The distribution whose target version decides.
    pub dist: String,
    /// Target releases where `text` holds.
    #[serde(default)]
    pub since: String,
    /// See `since`.
    #[serde(default)]
    pub until: String,
    /// The text, with `{class}` for the class name.
    pub text: String,
    /// Where the fact comes from.
    pub source: String,
    /// How it was verified.
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Deserialize)]
struct MessagesFile {
    schema_version: u32,
    #[serde(default)]
    message: Vec<Message>,
}

#[derive(Debug, Deserialize)]
struct BreaksFile {
    #[serde(rename = "break", default)]
    breaks: Vec<Break>,
    #[serde(default)]
    codetype: Vec<CodeType>,
}

#[derive(Debug, Deserialize)]
struct DistributionsFile {
    #[serde(default)]
    distribution: Vec<DistributionName>,
}

/// Everything known, loaded from the embedded data files.
#[derive(Debug)]
pub struct Knowledge {
    /// The Python version the compat tables were taken from.
    pub compat_python: String,
    import_mapping: HashMap<String, String>,
    name_mapping: HashMap<(String, String), (String, String)>,
    /// Renames, most specific first.
    pub renames: Vec<Rename>,
    /// numpy 2's `numpy.core` shims.
    pub shims: Vec<Shim>,
    /// Names a module's `__getattr__` refuses.
    pub refused: Vec<Refused>,
    /// State-level breaks.
    pub breaks: Vec<Break>,
    /// `types.CodeType` layouts per CPython minor.
    pub codetypes: Vec<CodeType>,
    /// Import names whose distribution differs.
    pub distributions: Vec<DistributionName>,
    /// torch's `weights_only` allowlist.
    pub weights_only: WeightsOnly,
    /// What the data says about the releases that wrote it, in file order.
    pub producers: Vec<Producer>,
    /// What loaders do with Python 2 `str`s they cannot decode.
    pub python2_strings: Python2Strings,
    /// The generated break atlas (`data/atlas/breaks.toml`).
    pub atlas: Vec<AtlasBreak>,
    /// Error texts by library version (`messages.toml`).
    pub messages: Vec<Message>,
}

impl Knowledge {
    /// The embedded knowledge, parsed once per process and shared.
    ///
    /// Use this everywhere outside tests: parsing the embedded TOML costs milliseconds, and the
    /// result never changes.
    ///
    /// # Panics
    /// Never in a released build: the data files are checked by the crate's tests.
    #[must_use]
    pub fn get() -> &'static Knowledge {
        static KNOWLEDGE: OnceLock<Knowledge> = OnceLock::new();
        KNOWLEDGE.get_or_init(Knowledge::embedded)
    }

    /// The embedded knowledge, parsed anew on every call (an owned copy).
    ///
    /// Prefer [`Knowledge::get`], which parses once. This stays for tests and for callers
    /// that want an owned value.
    ///
    /// # Panics
    /// Never in a released build: the data files are checked by the crate's tests.
    #[must_use]
    pub fn embedded() -> Knowledge {
        let compat: CompatFile =
            toml::from_str(include_str!("../data/compat_pickle.toml")).expect("compat_pickle.toml");
        let mut renames: RenamesFile =
            toml::from_str(include_str!("../data/renames.toml")).expect("renames.toml");
        renames
            .rename
            .sort_by_key(|r| std::cmp::Reverse(r.specificity()));
        let breaks: BreaksFile =
            toml::from_str(include_str!("../data/breaks.toml")).expect("breaks.toml");
        let mut distributions: DistributionsFile =
            toml::from_str(include_str!("../data/distributions.toml")).expect("distributions.toml");
        distributions
            .distribution
            .sort_by_key(|d| std::cmp::Reverse(d.module.len()));
        let producers: ProducersFile =
            toml::from_str(include_str!("../data/producers.toml")).expect("producers.toml");
        let atlas: AtlasFile =
            toml::from_str(include_str!("../data/atlas/breaks.toml")).expect("atlas/breaks.toml");
        assert_eq!(atlas.schema_version, 1, "atlas/breaks.toml schema_version");
        let messages: MessagesFile =
            toml::from_str(include_str!("../data/messages.toml")).expect("messages.toml");
        assert_eq!(messages.schema_version, 1, "messages.toml schema_version");
        let split = |s: &str| {
            let (m, n) = s.split_once(':').unwrap_or((s, ""));
            (m.to_owned(), n.to_owned())
        };
        Knowledge {
            compat_python: compat.python,
            import_mapping: compat.import_mapping,
            name_mapping: compat
                .name_mapping
                .iter()
                .map(|(k, v)| (split(k), split(v)))
                .collect(),
            renames: renames.rename,
            shims: renames.shim,
            refused: renames.refused,
            breaks: breaks.breaks,
            codetypes: breaks.codetype,
            distributions: distributions.distribution,
            weights_only: toml::from_str(include_str!("../data/torch_weights_only.toml"))
                .expect("torch_weights_only.toml"),
            producers: producers.producer,
            python2_strings: toml::from_str(include_str!("../data/python2_strings.toml"))
                .expect("python2_strings.toml"),
            atlas: atlas.entry,
            messages: messages.message,
        }
    }

    /// The text of message `id` for `class` in a target where its distribution is at
    /// `version`: the entry whose range holds it, else (a version outside every verified
    /// range, or unknown) the entry verified last.
    #[must_use]
    pub fn message(&self, id: &str, version: Option<&str>, class: &str) -> Option<String> {
        let of_id = || self.messages.iter().filter(move |m| m.id == id);
        let m = version
            .and_then(|v| of_id().find(|m| in_range(v, &m.since, &m.until)))
            .or_else(|| of_id().next_back())?;
        Some(m.text.replace("{class}", class))
    }

    /// The atlas breaks observed for objects of `class` (`module:Name`) of `dist`, written
    /// by `producer` and loaded by `target` (exact versions, as in `version_pairs`).
    pub fn atlas_for<'k>(
        &'k self,
        dist: &'k str,
        class: &'k str,
        producer: &'k str,
        target: &'k str,
    ) -> impl Iterator<Item = &'k AtlasBreak> {
        self.atlas.iter().filter(move |e| {
            e.dist == dist
                && e.class == class
                && e.version_pairs.iter().any(|p| {
                    p.split_once("->")
                        .is_some_and(|(pv, tv)| pv == producer && tv == target)
                })
        })
    }

    /// What `find_class` looks up for `module.name` below protocol 3 (`fix_imports`).
    #[must_use]
    pub fn compat_map(&self, module: &str, name: &str) -> (String, String) {
        if let Some((m, n)) = self.name_mapping.get(&(module.to_owned(), name.to_owned())) {
            return (m.clone(), n.clone());
        }
        match self.import_mapping.get(module) {
            Some(m) => (m.clone(), name.to_owned()),
            None => (module.to_owned(), name.to_owned()),
        }
    }

    /// Renames usable as plain renames that cover `module.name`, most specific first, for a
    /// target where `version_of(dist)` gives installed versions (entries whose distribution is
    /// not installed are skipped: `to` could not resolve).
    pub fn renames_for<'a>(
        &'a self,
        module: &'a str,
        name: &'a str,
        version_of: &'a dyn Fn(&str) -> Option<String>,
    ) -> impl Iterator<Item = (&'a Rename, (String, String))> + 'a {
        self.renames.iter().filter_map(move |r| {
            if !r.usable_as_plain_rename {
                return None;
            }
            let v = version_of(&r.dist)?;
            if !in_range(&v, &r.since, &r.until) {
                return None;
            }
            r.apply(module, name).map(|to| (r, to))
        })
    }

    /// What pandas' `read_pickle` retry looks up for `module.name` (its `_class_locations_map`),
    /// for a target pandas version.
    #[must_use]
    pub fn pandas_class_location(
        &self,
        module: &str,
        name: &str,
        pandas: &str,
    ) -> Option<(String, String)> {
        self.renames.iter().find_map(|r| {
            (r.applied_by.as_deref() == Some("pandas.read_pickle")
                && in_range(pandas, &r.applied_since, &r.applied_until))
            .then(|| r.apply(module, name))
            .flatten()
        })
    }

    /// Whether `module.name` is refused by the module's `__getattr__` at `version` of the
    /// entry's distribution (`version_of(dist)`).
    #[must_use]
    pub fn refuses(
        &self,
        module: &str,
        name: &str,
        version_of: &dyn Fn(&str) -> Option<String>,
    ) -> Option<&Refused> {
        self.refused.iter().find(|r| {
            r.module == module
                && r.names.iter().any(|n| n == name)
                && version_of(&r.dist).is_some_and(|v| in_range(&v, &r.since, &r.until))
        })
    }

    /// The numpy shim serving `module`, for a target numpy version.
    #[must_use]
    pub fn shim_for(&self, module: &str, version: &str) -> Option<&Shim> {
        self.shims
            .iter()
            .find(|s| s.module == module && in_range(version, &s.since, &s.until))
    }

    /// The entries of `producers.toml` that speak for `dist`, in file order.
    pub fn producers_of<'k>(&'k self, dist: &str) -> impl Iterator<Item = &'k Producer> {
        self.producers.iter().filter(move |p| p.dist == dist)
    }

    /// The PyPI distribution for an import name that is not installed.
    #[must_use]
    pub fn distribution_for(&self, module: &str) -> Option<&DistributionName> {
        self.distributions.iter().find(|d| {
            module == d.module
                || module
                    .strip_prefix(&d.module)
                    .is_some_and(|r| r.starts_with('.'))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_parses_once_and_matches_embedded() {
        let (a, b) = (Knowledge::get(), Knowledge::get());
        assert!(std::ptr::eq(a, b));
        assert_eq!(a.renames.len(), Knowledge::embedded().renames.len());
        assert_eq!(a.breaks.len(), Knowledge::embedded().breaks.len());
    }

    #[test]
    fn compat_maps_match_python() {
        let k = Knowledge::embedded();
        assert_eq!(
            k.compat_map("__builtin__", "set"),
            ("builtins".into(), "set".into())
        );
        assert_eq!(
            k.compat_map("exceptions", "StandardError"),
            ("builtins".into(), "Exception".into())
        );
        assert_eq!(
            k.compat_map("copy_reg", "_reconstructor"),
            ("copyreg".into(), "_reconstructor".into())
        );
        assert_eq!(
            k.compat_map("numpy", "ndarray"),
            ("numpy".into(), "ndarray".into())
        );
    }

    #[test]
    fn renames_match_exact_module_and_prefix() {
        let k = Knowledge::embedded();
        let numpy = |d: &str| (d == "numpy").then(|| "1.26.4".to_owned());
        let hits: Vec<_> = k
            .renames_for("numpy._core.numeric", "_frombuffer", &numpy)
            .map(|(_, to)| to)
            .collect();
        assert_eq!(hits[0], ("numpy.core.numeric".into(), "_frombuffer".into()));
        let none = |_: &str| None;
        assert_eq!(
            k.renames_for("numpy._core.numeric", "_frombuffer", &none)
                .count(),
            0
        );
        let sk = |d: &str| (d == "scikit-learn").then(|| "1.9.1".to_owned());
        let hits: Vec<_> = k
            .renames_for("sklearn.metrics._dist_metrics", "EuclideanDistance", &sk)
            .map(|(_, to)| to)
            .collect();
        assert_eq!(hits[0].1, "EuclideanDistance64");
    }
}
