//! The target environment: where modules are looked for, and what the interpreter provides.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::dist::{self, Distribution};
use crate::probe::{self, Probe, ProbeError};
use crate::pth;

/// How the environment was learned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// From running this interpreter once (`--python`, `$VIRTUAL_ENV`, `python3`).
    Interpreter(PathBuf),
    /// From `--site-packages` directories and `--python-version`, without running anything.
    Static,
}

/// A target Python environment.
#[derive(Debug, Clone)]
pub struct Environment {
    /// How it was learned.
    pub origin: Origin,
    /// `(major, minor, micro)`; micro is 0 when static.
    pub version: (u32, u32, u32),
    /// The search path, in order (`sys.path` without the script directory).
    pub path: Vec<PathBuf>,
    /// Extension-module suffixes, in the order the path finder tries them.
    pub extension_suffixes: Vec<String>,
    /// Builtin modules and their attributes (empty when static).
    pub builtins: HashMap<String, Vec<String>>,
    /// Standard library directory, when known.
    pub stdlib: Option<PathBuf>,
    /// setuptools editable finders: top-level name → directory or file.
    pub editable: HashMap<String, PathBuf>,
    /// Installed distributions.
    pub distributions: Vec<Distribution>,
    /// Top-level module name → index into `distributions`.
    pub(crate) module_dists: HashMap<String, usize>,
}

/// The environment could not be determined.
#[derive(Debug)]
pub struct EnvError(pub String);

impl std::fmt::Display for EnvError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for EnvError {}

impl From<ProbeError> for EnvError {
    fn from(e: ProbeError) -> Self {
        EnvError(e.0)
    }
}

impl Environment {
    /// The default target: the interpreter of `$VIRTUAL_ENV`, else `python3` on `PATH`.
    ///
    /// # Errors
    /// No interpreter can be run.
    pub fn default_target() -> Result<Environment, EnvError> {
        let python = match std::env::var_os("VIRTUAL_ENV") {
            Some(venv) => PathBuf::from(venv).join("bin").join("python"),
            None => PathBuf::from("python3"),
        };
        Environment::from_interpreter(&python)
    }

    /// Learns the environment from an interpreter (run once, isolated).
    ///
    /// # Errors
    /// The interpreter cannot be run or answers unexpectedly.
    pub fn from_interpreter(python: &Path) -> Result<Environment, EnvError> {
        let Probe {
            version,
            executable,
            platform: _,
            path,
            extension_suffixes,
            builtins,
            stdlib,
        } = probe::probe(python)?;
        let mut env = Environment {
            origin: Origin::Interpreter(executable),
            version,
            path,
            extension_suffixes,
            builtins: builtins.into_iter().collect(),
            stdlib: Some(stdlib),
            editable: HashMap::new(),
            distributions: Vec::new(),
            module_dists: HashMap::new(),
        };
        env.scan_site_packages();
        Ok(env)
    }

    /// A fully static environment: these site-packages directories (with their `.pth` path
    /// lines) for Python `major.minor`. The standard library is known by name only.
    ///
    /// # Errors
    /// A directory does not exist.
    pub fn from_site_packages(
        dirs: &[PathBuf],
        (major, minor): (u32, u32),
    ) -> Result<Environment, EnvError> {
        let mut path = Vec::new();
        for d in dirs {
            if !d.is_dir() {
                return Err(EnvError(format!(
                    "site-packages directory {} does not exist",
                    d.display()
                )));
            }
            path.push(d.clone());
            path.extend(pth::path_lines(d));
        }
        let mut env = Environment {
            origin: Origin::Static,
            version: (major, minor, 0),
            path,
            extension_suffixes: default_extension_suffixes(major, minor),
            builtins: HashMap::new(),
            stdlib: None,
            editable: HashMap::new(),
            distributions: Vec::new(),
            module_dists: HashMap::new(),
        };
        env.scan_site_packages();
        Ok(env)
    }

    /// `major.minor`.
    #[must_use]
    pub fn minor_version(&self) -> (u32, u32) {
        (self.version.0, self.version.1)
    }

    /// Finds editable finders and distributions in every path entry.
    fn scan_site_packages(&mut self) {
        for dir in &self.path {
            if dir.starts_with(self.stdlib.as_deref().unwrap_or(Path::new("/nonexistent")))
                && !dir.ends_with("site-packages")
            {
                continue;
            }
            self.editable.extend(pth::editable_mappings(dir));
            self.distributions.extend(dist::scan(dir));
        }
        for (i, d) in self.distributions.iter().enumerate() {
            for m in &d.top_level {
                self.module_dists.entry(m.clone()).or_insert(i);
            }
        }
    }

    /// The distribution that provides a top-level module, if any.
    #[must_use]
    pub fn distribution_of(&self, module: &str) -> Option<&Distribution> {
        let top = module.split('.').next().unwrap_or(module);
        self.module_dists
            .get(top)
            .and_then(|&i| self.distributions.get(i))
    }

    /// An installed distribution by (normalized) name.
    #[must_use]
    pub fn distribution(&self, name: &str) -> Option<&Distribution> {
        let want = dist::normalize(name);
        self.distributions
            .iter()
            .find(|d| dist::normalize(&d.name) == want)
    }

    /// Whether the top-level module name `top` belongs to the standard library of the target's
    /// Python minor (ruff's list of `sys.stdlib_module_names`), counting Python 2's names that
    /// pickles still carry: `__builtin__` and `copy_reg` (mapped to `builtins` and `copyreg`
    /// when loaded).
    #[must_use]
    pub fn is_stdlib(&self, top: &str) -> bool {
        let minor = u8::try_from(self.version.1).unwrap_or(u8::MAX);
        top == "builtins"
            || top == "__builtin__"
            || top == "copy_reg"
            || ruff_python_stdlib::sys::is_known_standard_library(minor, top)
    }

    /// Whether `module` is a builtin (compiled into the interpreter).
    #[must_use]
    pub fn is_builtin(&self, module: &str) -> bool {
        if self.builtins.is_empty() {
            ruff_python_stdlib::sys::is_builtin_module(self.version.1 as u8, module)
        } else {
            self.builtins.contains_key(module)
        }
    }
}

/// CPython's extension suffixes on this platform, for a static target.
fn default_extension_suffixes(major: u32, minor: u32) -> Vec<String> {
    let arch = std::env::consts::ARCH;
    vec![
        format!(".cpython-{major}{minor}-{arch}-linux-gnu.so"),
        ".abi3.so".to_owned(),
        ".so".to_owned(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn static_env(minor: u32) -> Environment {
        let dir =
            std::env::temp_dir().join(format!("pyenv-stdlib-test-{}-{minor}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let env = Environment::from_site_packages(std::slice::from_ref(&dir), (3, minor)).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        env
    }

    #[test]
    fn stdlib_names_follow_the_target_minor_and_python_2_names() {
        let (py310, py311, py312) = (static_env(10), static_env(11), static_env(12));
        for top in [
            "os",
            "json",
            "collections",
            "builtins",
            "__builtin__",
            "copy_reg",
        ] {
            assert!(py311.is_stdlib(top), "{top}");
        }
        for top in ["numpy", "sklearn", "__main__", "os.path", ""] {
            assert!(!py311.is_stdlib(top), "{top}");
        }
        // tomllib arrived in 3.11, distutils left in 3.12.
        assert!(!py310.is_stdlib("tomllib") && py311.is_stdlib("tomllib"));
        assert!(py311.is_stdlib("distutils") && !py312.is_stdlib("distutils"));
    }
}
