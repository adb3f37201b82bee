//! Repairs proven by predictions: models written by scikit-learn 1.2.2 and 1.3.2
//! (`tests/fix/usetime/make.sh`: SimpleImputer pipelines, HistGradientBoosting and
//! GradientBoosting with several losses) are handed to `pickle-doctor fix` for scikit-learn
//! 1.4.2, 1.6.1 and 1.9.1. Each written file is loaded in the target venv in a subprocess,
//! every public method is called (`tests/fix/usetime/outputs.py`) and compared with what the
//! writer's own venv returned (committed next to each pickle): labels exactly, numbers within
//! 1e-5 relative, the same exception type when the writer raised. A written file that fails
//! to load, raises, or differs fails the test; a refused file must have written nothing and
//! say why.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use serde_json::Value;

/// Target venvs: (venv directory, scikit-learn release).
const TARGETS: [(&str, &str); 3] = [
    ("atlas-sk-1.4", "1.4.2"),
    ("export-sk-1.6", "1.6.1"),
    ("matrix-current", "1.9.1"),
];
/// Files `fix` refuses for every target, and why (the knowledge base says it).
const REFUSED: [&str; 1] = [
    // 1.4's symmetric multinomial link shifts decision_function by a per-row constant.
    "gb_clf_multi",
];

fn venvs() -> PathBuf {
    std::env::var_os("PICKLE_DOCTOR_CACHE")
        .map_or_else(
            || {
                PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                    .join(".cache/pickle-doctor")
            },
            PathBuf::from,
        )
        .join("venvs")
}

/// Equal as `outputs.py` values: labels and shapes exactly, numbers within 1e-5 relative.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            if let (Some(Value::Array(p)), Some(Value::Array(q))) =
                (x.get("numbers"), y.get("numbers"))
            {
                return x.get("shape") == y.get("shape")
                    && p.len() == q.len()
                    && p.iter()
                        .zip(q)
                        .all(|(u, v)| match (u.as_f64(), v.as_f64()) {
                            (Some(u), Some(v)) => {
                                u == v || (u - v).abs() <= 1e-5 * u.abs().max(v.abs())
                            }
                            (None, None) => true,
                            _ => false,
                        });
            }
            if let (Some(Value::String(p)), Some(Value::String(q))) =
                (x.get("raises"), y.get("raises"))
            {
                return p.split(':').next() == q.split(':').next();
            }
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        (Value::Array(p), Value::Array(q)) => {
            p.len() == q.len() && p.iter().zip(q).all(|(u, v)| same(u, v))
        }
        _ => a == b,
    }
}

/// What went wrong with a written file, if anything.
fn verify(python: &Path, written: &Path, expected: &Value) -> Option<String> {
    let script = common::matrix::repo().join("tests/fix/usetime/outputs.py");
    let o = Command::new(python)
        .arg("-I")
        .arg(&script)
        .arg(written)
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap();
    let got: Value = match serde_json::from_slice(&o.stdout) {
        Ok(v) => v,
        Err(e) => {
            return Some(format!(
                "outputs.py: {e}: {}",
                String::from_utf8_lossy(&o.stderr)
            ));
        }
    };
    if let Some(e) = got.get("load") {
        return Some(format!("does not load: {e}"));
    }
    let want = expected["methods"].as_object().unwrap();
    let mut bad = Vec::new();
    for (m, v) in want {
        match got["methods"].get(m) {
            Some(g) if same(v, g) => {}
            Some(g) => bad.push(format!(
                "{m}: {}",
                g.get("raises")
                    .map_or("differs".into(), ToString::to_string)
            )),
            None => bad.push(format!("{m}: missing")),
        }
    }
    (!bad.is_empty()).then(|| bad.join("; "))
}

#[test]
fn fix_repairs_use_time_breaks_proven_by_predictions() {
    let venvs = venvs();
    let required = std::env::var("PICKLE_DOCTOR_REQUIRE_FIXTURES").is_ok_and(|v| v == "1");
    let dir = common::matrix::repo().join("tests/fix/usetime");
    let mut jobs = Vec::new();
    for (venv, release) in TARGETS {
        let python = venvs.join(venv).join("bin/python");
        if !python.exists() {
            assert!(!required, "target venv {venv} is missing");
            common::skipped(&format!(
                "target venv {venv} (scikit-learn {release}) is missing"
            ));
            continue;
        }
        for writer in ["legacy", "old"] {
            for f in common::pickles_under(&dir.join(writer)) {
                jobs.push((python.clone(), release, writer, f));
            }
        }
    }
    if jobs.is_empty() {
        return;
    }
    let jobs = Mutex::new(jobs);
    let results = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                loop {
                    let Some((python, release, writer, f)) = jobs.lock().unwrap().pop() else {
                        return;
                    };
                    let tmp = tempfile::tempdir().unwrap();
                    let out = tmp.path().join("fixed.pkl");
                    let o = common::run_cli(
                        &[
                            "fix",
                            f.to_str().unwrap(),
                            "-o",
                            out.to_str().unwrap(),
                            "--python",
                            python.to_str().unwrap(),
                            "--format",
                            "json",
                        ],
                        None,
                    );
                    let name = f.file_stem().unwrap().to_string_lossy().into_owned();
                    let row = format!("{writer}/{name} -> {release}");
                    let report: Value = serde_json::from_slice(&o.stdout).unwrap_or(Value::Null);
                    let code = o.status.code().unwrap_or(-1);
                    let verdict = match code {
                        0 => {
                            let expected: Value = serde_json::from_slice(
                                &std::fs::read(f.with_extension("json")).unwrap(),
                            )
                            .unwrap();
                            match verify(&python, &out, &expected) {
                                None => Ok(true),
                                Some(e) => Err(format!("{row}: written, but {e}")),
                            }
                        }
                        1 if !out.exists() && report["refusal"]["reason"].is_string() => {
                            if REFUSED.contains(&name.as_str()) {
                                Ok(false)
                            } else {
                                Err(format!("{row}: refused: {}", report["refusal"]["reason"]))
                            }
                        }
                        _ => Err(format!(
                            "{row}: exit {code}: {}",
                            String::from_utf8_lossy(&o.stderr)
                        )),
                    };
                    results.lock().unwrap().push((row, verdict));
                }
            });
        }
    });
    let results = results.into_inner().unwrap();
    let repaired = results.iter().filter(|r| r.1 == Ok(true)).count();
    let refused = results.iter().filter(|r| r.1 == Ok(false)).count();
    let failed: Vec<&String> = results.iter().filter_map(|r| r.1.as_ref().err()).collect();
    eprintln!(
        "fix_usetime: {} pairs, {repaired} repaired and predicting identically, {refused} refused, {} failed",
        results.len(),
        failed.len()
    );
    assert!(failed.is_empty(), "{failed:#?}");
    assert!(
        repaired >= results.len() - results.len() / 20,
        "{results:?}"
    );
}
