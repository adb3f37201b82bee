//! `.npy`/`.npz` headers the way numpy reads them. `tests/npy/corpus/` holds header
//! variants written by numpy 2.x (format 1.0, 2.0 and 3.0; structured, big-endian, Fortran
//! order, object fields), Python-2-era headers assembled by hand (`(2L, 3L)`, `u'<f8'`, 16-byte
//! alignment), headers `ast.literal_eval` reads in other spellings, and headers numpy refuses,
//! with `truth-numpy-X.Y.json`: what real `numpy.load(allow_pickle=True)` did with each file in
//! numpy 1.24, 1.26 and 2.4 (scripts/npy-headers.sh regenerates both).
//!
//! Parity: every file some numpy version reads, `show`, `scan` and `check` read; every file
//! every version refuses gets a one-line error with a byte offset.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::run_cli;
use serde_json::Value;

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/npy/corpus")
}

/// File name → (read by some numpy version, the errors of those that refused).
fn truth() -> BTreeMap<String, (bool, Vec<String>)> {
    let mut out: BTreeMap<String, (bool, Vec<String>)> = BTreeMap::new();
    let mut versions = 0;
    for e in std::fs::read_dir(corpus()).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.starts_with("truth-numpy-") {
            continue;
        }
        versions += 1;
        let doc: Value = serde_json::from_slice(&std::fs::read(e.path()).unwrap()).unwrap();
        for (file, r) in doc["files"].as_object().unwrap() {
            let entry = out.entry(file.clone()).or_default();
            if r["ok"] == true {
                entry.0 = true;
            } else {
                entry.1.push(r["error"].as_str().unwrap().to_owned());
            }
        }
    }
    assert_eq!(versions, 3, "numpy 1.24, 1.26 and 2.4");
    out
}

#[test]
fn reads_every_header_numpy_reads_and_refuses_the_rest_with_an_offset() {
    let truth = truth();
    let (mut read, mut refused) = (0, 0);
    let mut failures = String::new();
    let empty = tempfile::tempdir().unwrap();
    let site = empty.path().display().to_string();
    // One scan over every file, one check over the readable ones.
    let paths: Vec<String> = truth
        .keys()
        .map(|n| corpus().join(n).display().to_string())
        .collect();
    let (_, scan) = common::scan_json(&paths.iter().map(String::as_str).collect::<Vec<_>>());
    let scans: BTreeMap<String, Value> = scan["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["path"].as_str().unwrap().to_owned(), f.clone()))
        .collect();
    let check_args = |files: &[&str]| {
        let mut a = vec![
            "check",
            "--format",
            "json",
            "--loader",
            "numpy",
            "--site-packages",
            &site,
            "--python-version",
            "3.11",
        ];
        a.extend_from_slice(files);
        run_cli(&a, None)
    };
    let readable: Vec<&str> = truth
        .iter()
        .zip(&paths)
        .filter(|((_, (reads, _)), _)| *reads)
        .map(|(_, p)| p.as_str())
        .collect();
    let all_checked = check_args(&readable);
    let checked: Value = serde_json::from_slice(&all_checked.stdout).unwrap_or_else(|e| {
        panic!(
            "check of every readable file: {e}: {}",
            String::from_utf8_lossy(&all_checked.stderr)
        )
    });
    assert_eq!(
        checked["files"].as_array().unwrap().len(),
        readable.len(),
        "check reads every file numpy reads"
    );
    for ((name, (numpy_reads, errors)), p) in truth.iter().zip(&paths) {
        let p = p.as_str();
        let show = run_cli(&["show", "--json", p], None);
        let scan_file = &scans[p];
        let scan_code = Some(i32::from(scan_file["verdict"] != "clean"));
        let check = if *numpy_reads {
            all_checked.clone()
        } else {
            check_args(&[p])
        };
        let show_err = String::from_utf8_lossy(&show.stderr).into_owned();
        if *numpy_reads {
            read += 1;
            let ok = show.status.code() == Some(0)
                && scan_file["verdict"] != "error"
                && scan_code == Some(0)
                && serde_json::from_slice::<Value>(&check.stdout).is_ok();
            if !ok {
                failures.push_str(&format!(
                    "{name}: numpy reads it; show {:?} {show_err:?}, scan {scan_file}, check {:?} {:?}\n",
                    show.status.code(),
                    check.status.code(),
                    String::from_utf8_lossy(&check.stderr)
                ));
            }
        } else {
            refused += 1;
            let with_offset = |s: &str| s.contains("(at offset ") && s.lines().count() == 1;
            let check_err = String::from_utf8_lossy(&check.stderr).into_owned();
            // A file without the npy magic is handed to pickle.load by numpy.load; for us too
            // it is then a pickle that breaks at an offset.
            let scan_ok = scan_file["verdict"] == "error"
                && scan_file["error"].as_str().is_some_and(with_offset)
                || scan_file["findings"]
                    .as_array()
                    .is_some_and(|f| f.iter().any(|f| f["code"] == "PD105"));
            let check_doc = serde_json::from_slice::<Value>(&check.stdout).ok();
            let check_ok = check.status.code() != Some(0) && check_err.contains("(at offset ")
                || check_doc.is_some_and(|d| d["files"][0]["verdict"] == "fails");
            let ok = show.status.code() == Some(1)
                && with_offset(show_err.trim_end())
                && scan_ok
                && check_ok;
            if !ok {
                failures.push_str(&format!(
                    "{name}: numpy refuses it ({}); show {:?} {show_err:?}, scan {scan_file}, check {check_err:?}\n",
                    errors[0],
                    show.status.code()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{failures}");
    assert!(
        read >= 70 && refused >= 20,
        "{read} read, {refused} refused"
    );
    eprintln!(
        "npy headers: {read} read as numpy reads them, {refused} refused as numpy refuses them"
    );
}
