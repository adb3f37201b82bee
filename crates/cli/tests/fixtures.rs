//! Differential tests against CPython, over the generated fixture corpus.
//!
//! Every expectation here was produced by real CPython (3.11) with real numpy, scikit-learn and
//! pandas in the pinned venv: `pickletools.dis` output for parity, and `pickle.loads` followed
//! by `tests/fixtures/canonical.py` for values. Nothing expected is written by hand.

mod common;

use std::fmt::Write as _;
use std::path::Path;

use common::{fixtures_dir, pickles_under, sibling};

/// First differing line of two listings, for a readable failure.
fn first_diff(want: &str, got: &str) -> String {
    for (i, (a, b)) in want.lines().zip(got.lines()).enumerate() {
        if a != b {
            return format!("line {}:\n  pickletools: {a}\n  ours:        {b}", i + 1);
        }
    }
    format!(
        "lengths differ: pickletools {} lines, ours {} lines",
        want.lines().count(),
        got.lines().count()
    )
}

fn rel(dir: &Path, p: &Path) -> String {
    p.strip_prefix(dir).unwrap_or(p).display().to_string()
}

/// `dis` is byte-identical to `pickletools.dis` on every fixture pickletools accepts, and
/// stops with an error (after the same partial listing) on every one it rejects.
#[test]
fn dis_matches_pickletools_on_every_fixture() {
    let Some(dir) = fixtures_dir() else { return };
    let files = pickles_under(&dir);
    assert!(files.len() > 100, "corpus too small: {} files", files.len());
    let (mut same, mut failures) = (0, String::new());
    for path in &files {
        let Ok(want) = std::fs::read_to_string(sibling(path, ".dis")) else {
            continue;
        };
        let data = std::fs::read(path).unwrap();
        let mut out = Vec::new();
        let result = pickle::dis(&data, 0, &mut out);
        let got = String::from_utf8(out).unwrap();
        let expect_error = sibling(path, ".dis-error").exists();
        let name = rel(&dir, path);
        match (expect_error, result) {
            (false, Ok(_)) | (true, Err(_)) if got == want => same += 1,
            (false, Err(e)) => {
                let _ = writeln!(failures, "{name}: pickletools succeeded, we failed: {e}");
            }
            (true, Ok(_)) => {
                let _ = writeln!(failures, "{name}: pickletools failed, we succeeded");
            }
            _ => {
                let _ = writeln!(failures, "{name}: {}", first_diff(&want, &got));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{same} identical; mismatches:\n{failures}"
    );
    eprintln!("dis parity: {same}/{same} listings identical");
}

/// The repr audit: `repr/` holds, at every protocol, every byte value as `bytes`,
/// `bytearray` and `str`, every mix of `'`, `"` and `\\` up to three characters, floats and
/// ints of every size, and hand-assembled text opcodes (STRING with every byte raw and
/// escaped, UNICODE escapes, INT/LONG/FLOAT text forms, GLOBAL/INST/PERSID names with quotes
/// and escapes). Each listing (or the error and the listing before it) is pickletools'.
#[test]
fn dis_repr_matches_pickletools_for_every_byte_quote_mix_and_protocol() {
    let Some(dir) = fixtures_dir() else { return };
    let files = pickles_under(&dir.join("repr"));
    let mut failures = String::new();
    let mut kinds = std::collections::BTreeSet::new();
    for path in &files {
        let name = rel(&dir, path);
        let want = std::fs::read_to_string(sibling(path, ".dis")).unwrap();
        let data = std::fs::read(path).unwrap();
        let mut out = Vec::new();
        let result = pickle::dis(&data, 0, &mut out);
        let got = String::from_utf8(out).unwrap();
        if result.is_ok() == sibling(path, ".dis-error").exists() || got != want {
            let _ = writeln!(failures, "{name}: {}", first_diff(&want, &got));
        }
        for op in pickle::Parser::new(&data, 0).flatten() {
            kinds.insert(op.opcode.name());
        }
    }
    assert!(failures.is_empty(), "{failures}");
    assert!(files.len() > 1700, "only {} repr cases", files.len());
    for k in [
        "STRING",
        "BINSTRING",
        "SHORT_BINSTRING",
        "UNICODE",
        "BINUNICODE",
        "SHORT_BINUNICODE",
        "BINBYTES",
        "SHORT_BINBYTES",
        "BYTEARRAY8",
        "INT",
        "LONG",
        "FLOAT",
        "BINFLOAT",
        "LONG1",
        "LONG4",
        "GLOBAL",
        "INST",
        "PERSID",
    ] {
        assert!(kinds.contains(k), "no {k} in repr/");
    }
    eprintln!("repr parity: {} listings identical", files.len());
}

/// Parsing then writing gives back the input bytes for every fixture.
#[test]
fn writer_reproduces_every_fixture() {
    let Some(dir) = fixtures_dir() else { return };
    for path in pickles_under(&dir) {
        let data = std::fs::read(&path).unwrap();
        let mut written = Vec::new();
        for parsed in pickle::parse_all(&data) {
            written.extend(pickle::write_ops(&parsed.ops).unwrap());
        }
        let consumed = written.len();
        assert_eq!(written, data[..consumed], "{}", rel(&dir, &path));
        let name = path.file_name().unwrap().to_string_lossy();
        if !name.starts_with("invalid-") {
            assert_eq!(
                consumed,
                data.len(),
                "{}: not all bytes parsed",
                rel(&dir, &path)
            );
        }
    }
}

/// The symbolic machine agrees with `pickle.loads` on whether a pickle is well formed: every
/// fixture CPython loaded runs to STOP, and every fixture CPython rejected for a reason of the
/// stream itself (not of the environment, like an unimportable global) stops with an error at
/// an offset inside the file. The manifest records what `pickle.loads` did for each file.
#[test]
fn vm_agrees_with_pickle_loads_on_validity() {
    let Some(dir) = fixtures_dir() else { return };
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    let mut failures = String::new();
    let mut checked = 0;
    for entry in manifest["pickles"].as_array().unwrap() {
        let Some(loads) = entry.get("loads") else {
            continue;
        };
        let path = dir.join(entry["path"].as_str().unwrap());
        let data = std::fs::read(&path).unwrap();
        let trace = vm::run(&data);
        let name = rel(&dir, &path);
        let env_error = loads["error"].as_str().is_some_and(|e| {
            [
                "global not allowed",
                "ModuleNotFoundError",
                "AttributeError: Can't get",
            ]
            .iter()
            .any(|m| e.contains(m))
        });
        checked += 1;
        match (loads["ok"].as_bool().unwrap(), trace.error()) {
            (true, Some(e)) => {
                let _ = writeln!(failures, "{name}: CPython loads it, we fail: {e}");
            }
            (false, None) if !env_error => {
                let _ = writeln!(
                    failures,
                    "{name}: CPython raises {}, we complete",
                    loads["error"]
                );
            }
            (false, Some(e)) => assert!(e.offset <= data.len() as u64, "{name}: {e}"),
            _ => {}
        }
    }
    assert!(checked > 30, "only {checked} fixtures with a recorded load");
    assert!(failures.is_empty(), "{failures}");
}

/// Every valid fixture runs to STOP.
#[test]
fn vm_completes_every_valid_fixture() {
    let Some(dir) = fixtures_dir() else { return };
    let mut failures = String::new();
    for path in pickles_under(&dir) {
        if path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("invalid-")
        {
            continue;
        }
        let data = std::fs::read(&path).unwrap();
        if let Some(e) = vm::run(&data).error() {
            let _ = writeln!(failures, "{}: {e}", rel(&dir, &path));
        }
    }
    assert!(failures.is_empty(), "{failures}");
}

/// The value graph equals what `pickle.loads` builds, for every plain-data fixture.
#[test]
fn value_graph_equals_cpython_for_plain_data() {
    let Some(dir) = fixtures_dir() else { return };
    let mut checked = 0;
    let mut failures = String::new();
    let mut files = pickles_under(&dir.join("plain"));
    files.extend(pickles_under(&dir.join("opcodes")));
    for path in files {
        let Ok(expected) =
            std::fs::read_to_string(sibling(&path, "").with_extension("expected.json"))
        else {
            continue;
        };
        let expected: serde_json::Value = serde_json::from_str(&expected).unwrap();
        let data = std::fs::read(&path).unwrap();
        let trace = vm::run(&data);
        let got = common::canonical::canonical(&trace);
        if !got
            .as_ref()
            .is_some_and(|g| common::canonical::matches(&expected, g))
        {
            let _ = writeln!(
                failures,
                "{}:\n  cpython: {}\n  ours:    {}",
                rel(&dir, &path),
                common::canonical::py_dumps(&expected),
                got.map(|g| common::canonical::py_dumps(&g))
                    .unwrap_or_default()
            );
        }
        checked += 1;
    }
    assert!(checked > 50, "only {checked} plain-data fixtures");
    assert!(failures.is_empty(), "{failures}");
}
