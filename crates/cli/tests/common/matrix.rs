//! The check matrix (`scripts/matrix.sh`): its truth, its venvs and its fixtures, and the
//! canonical dumps (`tests/fix/canonical.py`) that compare what a file loads as in two venvs.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// The matrix's `truth.json`, with where its venvs and fixtures are.
pub(crate) struct Matrix {
    pub(crate) truth: Value,
    pub(crate) cache: PathBuf,
    pub(crate) fixtures: PathBuf,
}

pub(crate) fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

impl Matrix {
    /// The matrix named by `PICKLE_DOCTOR_MATRIX` (see [`super::from_env`]).
    pub(crate) fn load() -> Option<Matrix> {
        let truth_path = super::from_env("PICKLE_DOCTOR_MATRIX")?;
        let truth: Value = serde_json::from_slice(&std::fs::read(&truth_path).unwrap()).unwrap();
        let cache = truth_path
            .parent()
            .and_then(Path::parent)
            .unwrap()
            .to_path_buf();
        let fixtures = PathBuf::from(truth["fixtures_dir"].as_str().unwrap());
        Some(Matrix {
            truth,
            cache,
            fixtures,
        })
    }

    /// The interpreter of a target or writer venv.
    pub(crate) fn python(&self, venv: &str) -> PathBuf {
        if venv == "fixtures" {
            self.cache.join("venvs/fixtures/bin/python")
        } else {
            self.cache.join(format!("venvs/matrix-{venv}/bin/python"))
        }
    }

    /// A fixture's file (`torch/…` are the committed torch files).
    pub(crate) fn path_of(&self, fixture: &str) -> PathBuf {
        match fixture.strip_prefix("torch/") {
            Some(name) => repo().join("tests/fixtures/torch/files").join(name),
            None => self.fixtures.join(fixture),
        }
    }

    /// A target's site-packages.
    pub(crate) fn purelib(&self, target: &str) -> PathBuf {
        PathBuf::from(
            self.truth["targets"][target]["purelib"]
                .as_str()
                .unwrap_or_default(),
        )
    }

    /// The rows whose real load failed.
    pub(crate) fn failing_rows(&self) -> Vec<&Value> {
        self.truth["rows"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["outcome"] == "fails")
            .collect()
    }
}

/// The canonical dump of `file` loaded with `loader` by `python`, in an empty directory.
/// `extra` is prepended to `sys.path`, and `main` names a module whose names are copied into
/// `__main__` first (the training script's classes, for the original of a `__main__` row).
pub(crate) fn canonical(
    python: &Path,
    loader: &str,
    file: &Path,
    extra: Option<&Path>,
    main: Option<&str>,
) -> Result<String, String> {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(python);
    cmd.arg("-I")
        .arg(repo().join("tests/fix/canonical.py"))
        .arg(loader)
        .arg(file)
        .current_dir(dir.path());
    if let Some(p) = extra {
        cmd.arg("--path").arg(p);
    }
    if let Some(m) = main {
        cmd.arg("--main-module").arg(m);
    }
    let out = cmd.output().unwrap();
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
    }
}
