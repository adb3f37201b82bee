//! Repairs proven by predictions: models written by scikit-learn 1.2.2 and 1.3.2
//! (`tests/fix/usetime/make.sh`: SimpleImputer pipelines, HistGradientBoosting and
//! GradientBoosting with several losses, AdaBoost with SAMME and SAMME.R; AdaBoost also by
//! 1.4.2) are handed to `pickle-doctor fix` for scikit-learn
//! 1.4.2, 1.6.1 and 1.9.1. Each written file is loaded in the target venv in a subprocess,
//! every public method is called (`tests/fix/usetime/outputs.py`) and compared with what the
//! writer's own venv returned (committed next to each pickle): labels exactly, numbers within
//! 1e-5 relative, the same exception type when the writer raised. A written file that fails
//! to load, raises, or differs fails the test; a refused file must have written nothing and
//! say why, and a refusal because the outputs would differ is proven too: forced, the file
//! does differ.

mod common;

use std::path::Path;
use std::process::Command;

use common::fix::Fixed;
use serde_json::Value;

/// Target venvs: (venv directory, scikit-learn release).
const TARGETS: [(&str, &str); 3] = [
    ("atlas-sk-1.4", "1.4.2"),
    ("atlas-sk-1.6", "1.6.1"),
    ("matrix-current", "1.9.1"),
];
/// Files `fix` refuses, and why (the knowledge base says it): writer (`*`: both), file,
/// target releases, and what the reason names.
const REFUSED: [(&str, &str, &[&str], &str); 3] = [
    // 1.4's symmetric multinomial link shifts decision_function by a per-row constant.
    (
        "*",
        "gb_clf_multi",
        &["1.4.2", "1.6.1", "1.9.1"],
        "still fails",
    ),
    // 1.3's symmetric SAMME votes rescale decision_function (predict is unchanged).
    (
        "legacy",
        "ada_samme",
        &["1.4.2", "1.6.1", "1.9.1"],
        "sklearn-adaboost-samme-decision-symmetric",
    ),
    // SAMME.R is gone from 1.6, which predicts other labels with a SAMME.R model.
    (
        "*",
        "ada_samme_r",
        &["1.6.1", "1.9.1"],
        "sklearn-adaboost-samme-r-removed",
    ),
];

/// What the refusal of `writer/name` for `release` must name, when one is expected.
fn refused(writer: &str, name: &str, release: &str) -> Option<&'static str> {
    REFUSED
        .iter()
        .find(|(w, n, r, _)| (*w == "*" || *w == writer) && *n == name && r.contains(&release))
        .map(|r| r.3)
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
    let venvs = common::fix::venvs();
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
        for writer in ["legacy", "old", "sk14"] {
            for f in common::pickles_under(&dir.join(writer)) {
                jobs.push((python.clone(), release, writer, f));
            }
        }
    }
    if jobs.is_empty() {
        return;
    }
    let results = common::fix::parallel(
        jobs,
        common::fix::threads(),
        |(python, release, writer, f)| {
            let tmp = tempfile::tempdir().unwrap();
            let out = tmp.path().join("fixed.pkl");
            let name = f.file_stem().unwrap().to_string_lossy().into_owned();
            let row = format!("{writer}/{name} -> {release}");
            let expected: Value =
                serde_json::from_slice(&std::fs::read(f.with_extension("json")).unwrap()).unwrap();
            let verdict = match (
                common::fix::fix(&f, &out, &python, false),
                refused(writer, &name, release),
            ) {
                (Fixed::Written, None) => match verify(&python, &out, &expected) {
                    None => Ok(true),
                    Some(e) => Err(format!("{row}: written, but {e}")),
                },
                (Fixed::Written, Some(_)) => Err(format!("{row}: written, expected a refusal")),
                (Fixed::Refused(r), Some(why)) if r.contains(why) => {
                    // A refusal because the outputs would differ is itself checked: the file
                    // written anyway (`--force`) does differ in the target.
                    if r.contains("outputs would differ") {
                        match common::fix::fix(&f, &out, &python, true) {
                            Fixed::Written if verify(&python, &out, &expected).is_some() => {
                                Ok(false)
                            }
                            other => Err(format!(
                                "{row}: refused ({r}), but forced it predicts identically ({other:?})"
                            )),
                        }
                    } else {
                        Ok(false)
                    }
                }
                (Fixed::Refused(r), _) => Err(format!("{row}: refused: {r}")),
                (Fixed::Broken(e), _) => Err(format!("{row}: {e}")),
            };
            (row, verdict)
        },
    );
    let repaired = results.iter().filter(|r| r.1 == Ok(true)).count();
    let refused = results.iter().filter(|r| r.1 == Ok(false)).count();
    let failed: Vec<&String> = results.iter().filter_map(|r| r.1.as_ref().err()).collect();
    common::say(&format!(
        "fix_usetime: {} pairs, {repaired} repaired and predicting identically, {refused} refused, {} failed\n",
        results.len(),
        failed.len()
    ));
    assert!(failed.is_empty(), "{failed:#?}");
    // Every refusal is one `REFUSED` expects (above); with every target venv, the counts are
    // 123 repaired and 15 refused of 138 pairs.
    if results.len() == 138 {
        assert!(repaired >= 123, "{results:?}");
    }
}
