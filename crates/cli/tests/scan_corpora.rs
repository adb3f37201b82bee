//! `scan` over the two corpora: the generated hostile corpus (every technique of
//! security.md §4 inside every container, assembled from raw opcodes by
//! `tests/hostile/generate.py` and never loaded) must be caught in full, and the benign corpus
//! (real numpy, scikit-learn, pandas, joblib and stdlib pickles written by
//! `tests/fixtures/generate.py`, the torch fixtures, the committed samples) must raise no alarm
//! under the default policy.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

use serde_json::Value;

/// `path` relative to `root`, with `/`.
fn rel(root: &Path, path: &str) -> String {
    Path::new(path).strip_prefix(root).map_or_else(
        |_| path.to_owned(),
        |p| p.to_string_lossy().replace('\\', "/"),
    )
}

#[test]
fn every_technique_is_caught_in_every_container() {
    let Some(root) = common::from_env("PICKLE_DOCTOR_HOSTILE") else {
        return;
    };
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(root.join("manifest.json")).unwrap()).unwrap();
    let expected = manifest["files"].as_array().unwrap();
    let (code, doc) = common::scan_json(&[root.to_str().unwrap()]);
    assert_eq!(code, Some(1));
    let results: BTreeMap<String, &Value> = doc["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (rel(&root, f["path"].as_str().unwrap()), f))
        .collect();
    let mut failures = String::new();
    let mut techniques = BTreeSet::new();
    let mut containers = BTreeSet::new();
    for e in expected {
        let path = e["path"].as_str().unwrap();
        techniques.insert(e["technique"].as_str().unwrap());
        containers.insert(e["container"].as_str().unwrap());
        let Some(r) = results.get(path) else {
            let _ = writeln!(failures, "{path}: not scanned");
            continue;
        };
        let found: BTreeSet<&str> = r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["code"].as_str().unwrap())
            .collect();
        let missing: Vec<&str> = e["expect"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .filter(|c| !found.contains(c))
            .collect();
        if r["verdict"] != "unsafe" || !missing.is_empty() {
            let _ = writeln!(
                failures,
                "{path}: verdict {}, missing {missing:?}, found {found:?}, error {}",
                r["verdict"], r["error"]
            );
        }
        // Where the generator states it, the worst finding of the expected rules has exactly
        // that severity (Python 2 names mapped below protocol 3, unknown from protocol 3).
        if let Some(want) = e["severity"].as_str() {
            let rank = |s: &str| {
                ["low", "medium", "high", "critical"]
                    .iter()
                    .position(|x| *x == s)
            };
            let worst = r["findings"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|f| e["expect"].as_array().unwrap().contains(&f["code"]))
                .filter_map(|f| rank(f["severity"].as_str().unwrap()))
                .max();
            if worst != rank(want) {
                let _ = writeln!(failures, "{path}: worst severity {worst:?}, want {want}");
            }
        }
    }
    assert!(failures.is_empty(), "{failures}");
    // The corpus really is the full matrix.
    assert!(techniques.len() >= 110, "{} techniques", techniques.len());
    assert!(containers.len() >= 27, "{} containers", containers.len());
    assert_eq!(expected.len(), techniques.len() * containers.len());
    eprintln!(
        "{} hostile files ({} techniques x {} containers): all unsafe",
        expected.len(),
        techniques.len(),
        containers.len()
    );
}

#[test]
fn no_false_alarms_on_real_models() {
    let Some(fixtures) = common::fixtures_dir() else {
        return;
    };
    let repo = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    let dirs = [
        fixtures.join("corpus"),
        fixtures.join("stdlib"),
        fixtures.join("joblib"),
        fixtures.join("numpy"),
        fixtures.join("plain"),
        fixtures.join("safetensors"),
        repo.join("tests/fixtures/torch/files"),
        repo.join("samples"),
        repo.join("tests/data"),
    ];
    let args: Vec<&str> = dirs.iter().map(|d| d.to_str().unwrap()).collect();
    let (code, doc) = common::scan_json(&args);
    let files = doc["files"].as_array().unwrap();
    let alarms: Vec<String> = files
        .iter()
        .filter(|f| f["verdict"] != "clean")
        .map(|f| format!("{} {} {}", f["path"], f["verdict"], f["findings"]))
        .collect();
    assert!(alarms.is_empty(), "{}", alarms.join("\n"));
    assert_eq!(code, Some(0));
    assert!(files.len() > 700, "only {} benign files", files.len());
    eprintln!("{} benign files: all clean", files.len());
}

/// The standard-library value corpus (`tests/fixtures/stdlib_values.py`: every stdlib type
/// CPython 3.8-3.13 pickles with its default reducers, written by the fixture venv's CPython
/// at protocols 0-5, plus the enum reducers of the versions that write them differently)
/// raises no false alarm. A false alarm is any finding above `low`, or any verdict other
/// than clean, under the default or the strict policy. The corpus is held to more: no
/// finding at all.
#[test]
fn stdlib_value_types_are_clean() {
    let Some(fixtures) = common::fixtures_dir() else {
        return;
    };
    let dir = fixtures.join("stdlib");
    let mut protocols = BTreeSet::new();
    for policy in ["default", "strict"] {
        let (code, doc) = common::scan_json(&["--policy", policy, dir.to_str().unwrap()]);
        let files = doc["files"].as_array().unwrap();
        let alarms: Vec<String> = files
            .iter()
            .filter(|f| f["verdict"] != "clean" || !f["findings"].as_array().unwrap().is_empty())
            .map(|f| format!("{} {} {}", f["path"], f["verdict"], f["findings"]))
            .collect();
        assert!(alarms.is_empty(), "{policy}:\n{}", alarms.join("\n"));
        assert_eq!(code, Some(0));
        assert!(files.len() >= 150, "only {} stdlib files", files.len());
        for f in files {
            let path = f["path"].as_str().unwrap();
            if let Some(p) = path.strip_suffix(".pkl").and_then(|p| p.rsplit_once("-p")) {
                protocols.insert(p.1.to_owned());
            }
        }
        eprintln!(
            "{} stdlib value files under {policy}: no finding",
            files.len()
        );
    }
    assert_eq!(protocols.len(), 6, "{protocols:?}");
}
