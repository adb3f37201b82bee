//! The knowledge base against real packages: every rename and shim entry that applies to a
//! reference venv's installed versions is checked there with real imports
//! (`tests/knowledge/verify_renames.py`): `from` must not resolve and `to` must. And the
//! import-name → distribution table must agree with the RECORD files of what is installed.
//! Error texts (`messages.toml`) are compared with what a real call raises there.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn reference_pythons() -> Option<Vec<PathBuf>> {
    let truth = common::from_env("PICKLE_DOCTOR_MATRIX")?;
    let cache = truth.parent()?.parent()?.to_path_buf();
    let mut out = vec![cache.join("venvs/fixtures/bin/python")];
    for t in ["old", "current", "bare", "localpkg", "renamed", "legacy"] {
        out.push(cache.join(format!("venvs/matrix-{t}/bin/python")));
    }
    Some(out)
}

#[test]
fn renames_hold_in_the_reference_venvs() {
    let Some(pythons) = reference_pythons() else {
        return;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut checked = BTreeSet::new();
    for py in &pythons {
        let out = Command::new(py)
            .arg(root.join("tests/knowledge/verify_renames.py"))
            .arg(root.join("crates/knowledge/data/renames.toml"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let failures = doc["failures"].as_array().unwrap();
        assert!(failures.is_empty(), "{}: {failures:?}", py.display());
        checked.extend(doc["checked"].as_object().unwrap().keys().cloned());
    }
    eprintln!(
        "{} rename/shim entries verified by real imports",
        checked.len()
    );
    assert!(checked.len() >= 250, "{}", checked.len());
}

#[test]
fn distribution_names_match_installed_records() {
    let Some(pythons) = reference_pythons() else {
        return;
    };
    let k = knowledge::Knowledge::embedded();
    let mut seen = 0;
    for py in &pythons {
        let env = pyenv::Environment::from_interpreter(py).unwrap();
        for d in &k.distributions {
            if let Some(installed) = env.distribution(&d.dist) {
                seen += 1;
                let top = d.module.split('.').next().unwrap();
                assert!(
                    installed.top_level.iter().any(|t| t == top),
                    "{} does not install {top}: {:?}",
                    d.dist,
                    installed.top_level
                );
            }
        }
    }
    assert!(
        seen >= 5,
        "only {seen} table entries installed in the reference venvs"
    );
}

/// `messages.toml` against real calls: `sklearn-not-fitted` is what `transform` of an
/// unfitted StandardScaler raises in every reference venv with scikit-learn.
#[test]
fn error_texts_match_real_calls() {
    let Some(pythons) = reference_pythons() else {
        return;
    };
    let k = knowledge::Knowledge::embedded();
    let script = "import sklearn\nfrom sklearn.preprocessing import StandardScaler\ntry:\n    StandardScaler().transform([[1.0]])\nexcept Exception as e:\n    print(sklearn.__version__)\n    print(f'{type(e).__module__}.{type(e).__qualname__}: {e}')\n";
    let mut checked = 0;
    for py in &pythons {
        let out = Command::new(py)
            .args(["-I", "-c", script])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let Some((version, real)) = text.trim_end().split_once('\n') else {
            continue; // no scikit-learn in this venv
        };
        let want = k
            .message("sklearn-not-fitted", Some(version), "StandardScaler")
            .unwrap();
        assert_eq!(want, real, "scikit-learn {version} in {}", py.display());
        checked += 1;
    }
    assert!(checked >= 3, "{checked} venvs with scikit-learn");
}
