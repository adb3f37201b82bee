//! The differential matrix of `check`: fixtures written by real numpy, scikit-learn, pandas,
//! cloudpickle, joblib and a local package in pinned venvs (plus the committed torch files),
//! each really loaded in every target venv in a subprocess by `scripts/matrix.sh`, whose
//! `truth.json` records the outcome and the exact error. `check` must agree on every row:
//! - a row that fails must be predicted to fail, and for name errors (`ModuleNotFoundError`,
//!   `AttributeError`) with the same text, ignoring the ` from '…'` path of module reprs;
//! - a row that loads must be predicted to load, or to be at risk only for reasons the real
//!   load bears out: a version-skew warning that the load really emitted, or a name that
//!   cannot be decided statically (counted and reported).

mod common;

use common::matrix::Matrix;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;

/// `<module 'x' from '/p/x.py'>` → `<module 'x'>`.
fn without_paths(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find(" from '") {
        out.push_str(&rest[..i]);
        let tail = &rest[i + 7..];
        match tail.find('\'') {
            Some(j) => rest = &tail[j + 1..],
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[test]
fn check_agrees_with_real_loads_on_every_row() {
    let Some(m) = Matrix::load() else {
        return;
    };
    let truth = &m.truth;
    let rows = truth["rows"].as_array().unwrap();
    let path_of = |f: &str| m.path_of(f);
    // One `check` per (target, loader), over all its fixtures.
    let mut groups: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for r in rows {
        groups
            .entry((
                r["target"].as_str().unwrap().into(),
                r["loader"].as_str().unwrap().into(),
            ))
            .or_default()
            .push(r["fixture"].as_str().unwrap().into());
    }
    let mut predicted: BTreeMap<(String, String, String), Value> = BTreeMap::new();
    for ((target, loader), mut files) in groups {
        files.sort();
        files.dedup();
        let python = m.python(&target);
        let paths: Vec<String> = files
            .iter()
            .map(|f| path_of(f).display().to_string())
            .collect();
        let mut args = vec!["check", "--format", "json", "--loader", &loader];
        let py = python.display().to_string();
        args.extend(["--python", &py]);
        args.extend(paths.iter().map(String::as_str));
        let out = common::run_cli(&args, None);
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "check {target}/{loader}: {e}: {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        for (f, p) in files.iter().zip(doc["files"].as_array().unwrap()) {
            predicted.insert((target.clone(), loader.clone(), f.clone()), p.clone());
        }
    }
    let mut failures = String::new();
    let (mut agree, mut unverified, mut warned) = (0, 0, 0);
    for r in rows {
        let key = (
            r["target"].as_str().unwrap().to_owned(),
            r["loader"].as_str().unwrap().to_owned(),
            r["fixture"].as_str().unwrap().to_owned(),
        );
        let p = &predicted[&key];
        let verdict = p["verdict"].as_str().unwrap();
        let ok =
            match r["outcome"].as_str().unwrap() {
                "fails" => {
                    let name_error = matches!(
                        r["error_type"].as_str(),
                        Some("ModuleNotFoundError" | "AttributeError")
                    );
                    verdict == "fails"
                        && (!name_error
                            || without_paths(r["error_line"].as_str().unwrap())
                                == without_paths(p["error"].as_str().unwrap_or_default()))
                }
                _ if verdict == "loads" => true,
                _ if verdict == "at-risk" => p["risks"].as_array().unwrap().iter().all(|risk| {
                    match risk["code"].as_str().unwrap() {
                        "unverified-global" => {
                            unverified += 1;
                            true
                        }
                        "sklearn-version-warning" => {
                            let really = r["warnings"].as_array().unwrap().iter().any(|w| {
                                w["message"]
                                    .as_str()
                                    .is_some_and(|m| m.contains("Trying to unpickle estimator"))
                            });
                            warned += usize::from(really);
                            really
                        }
                        _ => false,
                    }
                }),
                _ => false,
            };
        if ok {
            agree += 1;
        } else {
            let _ = writeln!(
                failures,
                "{} in {} ({}): truth {} {:?}\n    check {} {:?}",
                key.2,
                key.0,
                key.1,
                r["outcome"],
                r["error_line"].as_str().unwrap_or_default(),
                verdict,
                p["error"].as_str().unwrap_or_default()
            );
        }
    }
    eprintln!(
        "matrix: {agree}/{} rows agree ({} at-risk for a version warning the load really raised, {unverified} for undecidable names)",
        rows.len(),
        warned
    );
    assert!(failures.is_empty(), "{failures}");
    assert!(rows.len() >= 700, "only {} rows", rows.len());
}
