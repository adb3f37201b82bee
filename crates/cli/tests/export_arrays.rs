//! `export` of numpy and joblib files: every array equals what `numpy.load` and `joblib.load`
//! return, bit for bit, read back by the Python `safetensors` package
//! (`tests/export/check_arrays.py`, run in the fixtures venv).

mod common;

use std::path::Path;

#[test]
fn npy_npz_and_joblib_arrays_equal_numpys_and_joblibs() {
    let Some(fixtures) = common::fixtures_dir() else {
        return;
    };
    let Some(python) = common::from_env("PICKLE_DOCTOR_PYTHON") else {
        return;
    };
    let out_dir = tempfile::tempdir().unwrap();
    let mut pairs = Vec::new();
    let mut refused = 0;
    let mut candidates = Vec::new();
    for (sub, kind) in [("numpy", "npy"), ("numpy", "npz"), ("joblib", "joblib")] {
        for e in std::fs::read_dir(fixtures.join(sub)).unwrap().flatten() {
            let p = e.path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            let is = match kind {
                "npy" => name.ends_with(".npy"),
                "npz" => name.ends_with(".npz"),
                // The dicts of arrays, under every compressor.
                _ => name.starts_with("arrays") && !name.ends_with(".json"),
            };
            if is {
                candidates.push((p, kind));
            }
        }
    }
    candidates.sort();
    for (p, kind) in &candidates {
        let o = out_dir.path().join(format!(
            "{}.safetensors",
            p.file_name().unwrap().to_string_lossy()
        ));
        // --force: the arrays safetensors can hold are written even when others are refused.
        let out = common::run_cli(
            &[
                "export",
                "--format",
                "json",
                "--force",
                p.to_str().unwrap(),
                "-o",
                o.to_str().unwrap(),
            ],
            None,
        );
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        let code = out.status.code();
        assert!(
            matches!(code, Some(0 | 1)),
            "{}: exit {code:?}: {}",
            p.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        // Refused arrays must be the kinds safetensors cannot hold.
        let mut names = Vec::new();
        for r in doc["refused"].as_array().unwrap() {
            let why = r["why"].as_str().unwrap();
            assert!(
                ["object array", "big-endian", "no safetensors equivalent"]
                    .iter()
                    .any(|k| why.contains(k)),
                "{}: unexpected refusal {r}",
                p.display()
            );
            names.push(r["name"].clone());
            refused += 1;
        }
        assert_eq!(code == Some(1), !names.is_empty());
        if doc["tensors"].as_array().is_some_and(|t| !t.is_empty()) {
            // The kind by content (npy-named.npz is an npy), as the exporter read it.
            pairs.push(serde_json::json!({
                "original": p, "exported": o, "refused": names,
                "kind": doc["format"].as_str().unwrap_or(kind),
            }));
        } else {
            assert!(!o.exists(), "{}: an empty file was written", p.display());
        }
    }
    assert!(pairs.len() >= 15, "only {} exports", pairs.len());
    let list = out_dir.path().join("pairs.json");
    std::fs::write(&list, serde_json::to_vec(&pairs).unwrap()).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/export/check_arrays.py");
    let check = std::process::Command::new(&python)
        .arg(&script)
        .arg(&list)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&check.stdout);
    assert!(
        check.status.success(),
        "{report}{}",
        String::from_utf8_lossy(&check.stderr)
    );
    eprintln!(
        "{} exports equal numpy/joblib's arrays; {} arrays refused (object, big-endian or non-numeric dtypes)",
        pairs.len(),
        refused
    );
}
