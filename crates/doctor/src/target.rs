//! The target Python environment of `check`, `requirements` and `fix`, and `FILE:MEMBER`
//! arguments.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Which Python environment a file is checked against.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum TargetSpec {
    /// `$VIRTUAL_ENV`'s interpreter, else `python3` on `PATH`.
    #[default]
    Default,
    /// This interpreter, run once, isolated, to learn its search path.
    Interpreter(PathBuf),
    /// Fully static: these site-packages directories, for this Python `X.Y`.
    SitePackages {
        /// The directories, with their `.pth` lines.
        dirs: Vec<PathBuf>,
        /// `(major, minor)`.
        python: (u32, u32),
    },
}

impl TargetSpec {
    /// Reads the environment.
    ///
    /// # Errors
    /// The interpreter cannot be run, or the directories cannot be read.
    pub fn environment(&self) -> Result<pyenv::Environment> {
        let env = match self {
            TargetSpec::Default => pyenv::Environment::default_target(),
            TargetSpec::Interpreter(py) => pyenv::Environment::from_interpreter(py),
            TargetSpec::SitePackages { dirs, python } => {
                pyenv::Environment::from_site_packages(dirs, *python)
            }
        };
        env.map_err(Error::Environment)
    }
}

/// Parses a Python version written `X.Y`.
///
/// # Errors
/// [`Error::Usage`] when it is not two integers separated by a dot.
pub fn parse_python_version(v: &str) -> Result<(u32, u32)> {
    v.split_once('.')
        .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)))
        .ok_or_else(|| Error::Usage(format!("a Python version looks like 3.11, not {v:?}")))
}

/// Splits `model.pt:archive/data.pkl` into the file and the member. A path that exists as
/// given is a file even if it contains a colon.
#[must_use]
pub fn split_member(arg: &Path) -> (PathBuf, Option<String>) {
    let s = arg.to_string_lossy();
    if arg.exists() || s == "-" {
        return (arg.to_path_buf(), None);
    }
    if let Some((file, member)) = s.rsplit_once(':')
        && Path::new(file).exists()
    {
        return (PathBuf::from(file), Some(member.to_owned()));
    }
    (arg.to_path_buf(), None)
}

/// The display name of a member: `FILE:MEMBER`, or `FILE` for a whole-file pickle.
#[must_use]
pub fn place(path: &str, member: &str) -> String {
    if member.is_empty() {
        path.to_owned()
    } else {
        format!("{path}:{member}")
    }
}
