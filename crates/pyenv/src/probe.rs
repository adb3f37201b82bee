//! Asking the target interpreter, once, where it looks for modules.
//!
//! `python -I` (isolated: no user site, no `PYTHON*` variables, no script directory on the
//! path) prints its version, platform, `sys.path` after `site` ran (so `.pth` path lines are
//! in it), extension suffixes, builtin module names and their attributes. Nothing from
//! site-packages is imported, and nothing of the file under analysis is ever run.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;

/// What the interpreter reported.
#[derive(Debug, Clone, Deserialize)]
pub struct Probe {
    /// `sys.version_info[:3]`.
    pub version: (u32, u32, u32),
    /// `sys.executable`.
    pub executable: PathBuf,
    /// `sysconfig.get_platform()`.
    pub platform: String,
    /// `sys.path`, in order.
    pub path: Vec<PathBuf>,
    /// `importlib.machinery.EXTENSION_SUFFIXES`, in the order the finder tries them.
    pub extension_suffixes: Vec<String>,
    /// `sys.builtin_module_names`, each with `dir(module)`.
    pub builtins: Vec<(String, Vec<String>)>,
    /// The standard library directory (`sysconfig.get_paths()["stdlib"]`).
    pub stdlib: PathBuf,
}

/// The probe script. It imports only builtin modules and `sysconfig`.
const SCRIPT: &str = r#"
import sys, json, sysconfig, importlib, importlib.machinery
b = []
for n in sys.builtin_module_names:
    try:
        m = importlib.import_module(n)
        b.append((n, sorted(dir(m))))
    except Exception:
        b.append((n, []))
json.dump({
    "version": list(sys.version_info[:3]),
    "executable": sys.executable,
    "platform": sysconfig.get_platform(),
    "path": [p for p in sys.path if p],
    "extension_suffixes": importlib.machinery.EXTENSION_SUFFIXES,
    "builtins": b,
    "stdlib": sysconfig.get_paths()["stdlib"],
}, sys.stdout)
"#;

/// A failed probe.
#[derive(Debug)]
pub struct ProbeError(pub String);

impl std::fmt::Display for ProbeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ProbeError {}

/// Runs `python -I` once and parses its answer.
///
/// # Errors
/// The interpreter cannot be started, fails, or prints something else.
pub fn probe(python: &Path) -> Result<Probe, ProbeError> {
    let out = Command::new(python)
        .args(["-I", "-c", SCRIPT])
        .env_remove("PYTHONPATH")
        .output()
        .map_err(|e| ProbeError(format!("cannot run {}: {e}", python.display())))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(ProbeError(format!(
            "{} failed: {}",
            python.display(),
            err.lines().last().unwrap_or("no message")
        )));
    }
    serde_json::from_slice(&out.stdout).map_err(|e| {
        ProbeError(format!(
            "{}: unexpected probe output: {e}",
            python.display()
        ))
    })
}
