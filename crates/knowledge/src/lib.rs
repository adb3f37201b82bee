//! What pickle-doctor knows about the Python ecosystem, as data.
//!
//! Every fact lives in a TOML file under `data/` with its version range and a source URL:
//! - `compat_pickle.toml`: Python's `_compat_pickle` maps, applied below protocol 3;
//! - `renames.toml`: modules and classes that moved, with the releases they moved in;
//! - `pandas_compat.toml`: the class locations pandas' `read_pickle` remaps;
//! - `breaks.toml`: state-level breaks (the pickle names the right class, but its state or
//!   constructor arguments no longer fit);
//! - `distributions.toml`: import names whose PyPI distribution has another name.
//!
//! Adding a case means adding an entry and a test, not code.

mod version;

use std::collections::HashMap;

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

/// A module or class that moved between releases.
#[derive(Debug, Clone, Deserialize)]
pub struct Rename {
    /// `module` or `module:Name` as pickles written by one side name it.
    pub from: String,
    /// Where the other side has it.
    pub to: String,
    /// The distribution whose releases decide it (`python` for the standard library).
    pub dist: String,
    /// The target releases where `from` is missing and `to` works: `since <= v < until`.
    #[serde(default)]
    pub since: String,
    /// See `since`.
    #[serde(default)]
    pub until: String,
    /// Where the fact comes from.
    pub source: String,
    /// How it was verified.
    #[serde(default)]
    pub note: String,
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

    /// Rewrites `module.name` if this entry covers it: a whole-module entry also covers
    /// its submodules.
    #[must_use]
    pub fn apply(&self, module: &str, name: &str) -> Option<(String, String)> {
        let (from, to) = (self.from_target(), self.to_target());
        match (&from.name, &to.name) {
            (Some(fname), Some(tname)) => {
                (from.module == module && fname == name).then(|| (to.module.clone(), tname.clone()))
            }
            (None, None) => {
                let rest = module.strip_prefix(&from.module)?;
                (rest.is_empty() || rest.starts_with('.'))
                    .then(|| (format!("{}{rest}", to.module), name.to_owned()))
            }
            _ => None,
        }
    }
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

#[derive(Debug, Deserialize)]
struct RenamesFile {
    #[serde(default)]
    rename: Vec<Rename>,
}

/// Everything known, loaded from the embedded data files.
#[derive(Debug)]
pub struct Knowledge {
    /// The Python version the compat tables were taken from.
    pub compat_python: String,
    import_mapping: HashMap<String, String>,
    name_mapping: HashMap<(String, String), (String, String)>,
    /// Renames.
    pub renames: Vec<Rename>,
    /// torch's `weights_only` allowlist.
    pub weights_only: WeightsOnly,
}

impl Knowledge {
    /// The embedded knowledge.
    ///
    /// # Panics
    /// Never in a released build: the data files are checked by the crate's tests.
    #[must_use]
    pub fn embedded() -> Knowledge {
        let compat: CompatFile =
            toml::from_str(include_str!("../data/compat_pickle.toml")).expect("compat_pickle.toml");
        let renames: RenamesFile =
            toml::from_str(include_str!("../data/renames.toml")).expect("renames.toml");
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
            weights_only: toml::from_str(include_str!("../data/torch_weights_only.toml"))
                .expect("torch_weights_only.toml"),
        }
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

    /// Renames that could repair a missing `module.name`.
    pub fn renames_for<'a>(
        &'a self,
        module: &'a str,
        name: &'a str,
    ) -> impl Iterator<Item = (&'a Rename, (String, String))> + 'a {
        self.renames
            .iter()
            .filter_map(move |r| r.apply(module, name).map(|to| (r, to)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn module_renames_cover_submodules() {
        let r = Rename {
            from: "numpy._core".into(),
            to: "numpy.core".into(),
            dist: "numpy".into(),
            since: String::new(),
            until: "1.26.1".into(),
            source: String::new(),
            note: String::new(),
        };
        assert_eq!(
            r.apply("numpy._core.numeric", "_frombuffer"),
            Some(("numpy.core.numeric".into(), "_frombuffer".into()))
        );
        assert_eq!(r.apply("numpy._corex", "a"), None);
    }
}
