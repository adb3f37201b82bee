//! The differential matrix of `check`: fixtures written by real numpy, scikit-learn, pandas,
//! cloudpickle, joblib and a local package in pinned venvs (plus the committed torch files),
//! each really loaded in every target venv in a subprocess by `scripts/matrix.sh`, whose
//! `truth.json` records the outcome and the exact error. `check` must agree on every row:
//! - a row that fails must be predicted to fail, and for name errors (`ModuleNotFoundError`,
//!   `AttributeError`) with the same text, ignoring the ` from '…'` path of module reprs, and
//!   for Python 2 str decoding errors (and numpy's and joblib's wrappers of them) with every
//!   line of the text, and for the unpickler's own errors on broken streams with the same
//!   first line; rows with an `encoding` are checked with `--encoding`;
//! - a row that loads must be predicted to load, or to be at risk only for reasons the real
//!   load bears out: a version-skew warning that the load really emitted, or a name that
//!   cannot be decided statically (counted and reported);
//! - a row that loads in the venv that wrote it must be predicted to load, not at-risk.

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

/// The first `{identifier}` in `text`.
fn placeholder(text: &str) -> Option<&str> {
    let mut rest = text;
    while let Some(i) = rest.find('{') {
        let tail = &rest[i + 1..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '!'))
            .unwrap_or(tail.len());
        if end > 0
            && tail[end..].starts_with('}')
            && tail.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        {
            return Some(&tail[..end]);
        }
        rest = tail;
    }
    None
}

#[test]
fn check_agrees_with_real_loads_on_every_row() {
    let Some(m) = Matrix::load() else {
        return;
    };
    let truth = &m.truth;
    let rows = truth["rows"].as_array().unwrap();
    let path_of = |f: &str| m.path_of(f);
    // One `check` per (target, loader, encoding), over all its fixtures.
    let encoding_of = |r: &Value| r["encoding"].as_str().unwrap_or_default().to_owned();
    let mut groups: BTreeMap<(String, String, String), Vec<String>> = BTreeMap::new();
    for r in rows {
        groups
            .entry((
                r["target"].as_str().unwrap().into(),
                r["loader"].as_str().unwrap().into(),
                encoding_of(r),
            ))
            .or_default()
            .push(r["fixture"].as_str().unwrap().into());
    }
    let mut predicted: BTreeMap<(String, String, String), Value> = BTreeMap::new();
    for ((target, loader, encoding), mut files) in groups {
        files.sort();
        files.dedup();
        let python = m.python(&target);
        let paths: Vec<String> = files
            .iter()
            .map(|f| path_of(f).display().to_string())
            .collect();
        let mut args = vec!["check", "--format", "json", "--loader", &loader];
        if !encoding.is_empty() {
            args.extend(["--encoding", &encoding]);
        }
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
    let mut own_venv = String::new();
    let (mut agree, mut unverified, mut warned, mut decoding, mut at_use) = (0, 0, 0, 0, 0);
    for r in rows {
        let key = (
            r["target"].as_str().unwrap().to_owned(),
            r["loader"].as_str().unwrap().to_owned(),
            r["fixture"].as_str().unwrap().to_owned(),
        );
        let p = &predicted[&key];
        let verdict = p["verdict"].as_str().unwrap();
        let ok = match r["outcome"].as_str().unwrap() {
            "fails" => {
                let name_error = matches!(
                    r["error_type"].as_str(),
                    Some("ModuleNotFoundError" | "AttributeError")
                );
                // Decoding errors of Python 2 strs, and the loaders' wrappers of them:
                // every line of the text.
                let decoding_error = matches!(
                    r["error_type"].as_str(),
                    Some("UnicodeDecodeError" | "UnicodeError")
                ) || r["error_context"].as_array().is_some_and(|c| {
                    c.iter().any(|l| {
                        l.as_str()
                            .is_some_and(|l| l.starts_with("UnicodeDecodeError"))
                    })
                });
                if decoding_error {
                    decoding += 1;
                }
                // The unpickler's own errors on a broken stream (not torch's, whose
                // weights_only text is checked in tests/torch.rs).
                let stream_error = r["error_type"] == "UnpicklingError"
                    && r["loader"] != "torch"
                    && !decoding_error;
                verdict == "fails"
                    && (!name_error
                        || without_paths(r["error_line"].as_str().unwrap())
                            == without_paths(p["error"].as_str().unwrap_or_default()))
                    && (!decoding_error || r["error_full"].as_str() == p["error"].as_str())
                    && (!stream_error
                        || r["error_line"].as_str()
                            == p["error"].as_str().and_then(|e| e.lines().next()))
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
                    // A break at first use: the load itself succeeds (the calls are
                    // checked by fix_usetime.rs and the atlas).
                    _ if risk["message"]
                        .as_str()
                        .is_some_and(|m| m.starts_with("loads, then its first use raises: ")) =>
                    {
                        at_use += 1;
                        true
                    }
                    _ => false,
                }
            }),
            _ => false,
        };
        // The error is the loader's text: never a note, never a `{placeholder}` of the
        // knowledge base.
        if let Some(e) = p["error"].as_str()
            && let Some(name) = placeholder(e)
        {
            let _ = writeln!(failures, "{}: unfilled {{{name}}} in {e:?}", key.2);
        }
        // A file that loads in the venv that wrote it is `loads` there: every name it holds
        // was bound when it was written.
        if r["writer"] == r["target"] && r["outcome"] == "loads" && verdict != "loads" {
            let _ = writeln!(
                own_venv,
                "{} in its own venv {}: {verdict} {}",
                key.2, key.0, p["risks"]
            );
        }
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
        "matrix: {agree}/{} rows agree ({} at-risk for a version warning the load really raised, {at_use} risks of a break at first use, {unverified} for undecidable names; {decoding} Python 2 str decoding errors compared in full)",
        rows.len(),
        warned
    );
    let encoded = rows.iter().filter(|r| r["encoding"].is_string()).count();
    assert!(
        decoding >= 30 && encoded >= 20,
        "only {decoding} decoding errors, {encoded} rows with an encoding"
    );
    assert!(failures.is_empty(), "{failures}");
    assert!(own_venv.is_empty(), "{own_venv}");
    assert!(rows.len() >= 700, "only {} rows", rows.len());
}
