//! Model files against what their own libraries report.
//!
//! `tests/fixtures/generate.py` writes joblib dumps (every compressor, old formats, misleading
//! names) and npy/npz files with real joblib and numpy, and records per file what the library
//! saw while loading it (`<file>.inventory.json`): array dtypes, shapes, orders, sizes and the
//! stream offsets of their bytes. These tests open the same files by content and compare.

mod common;

use std::fmt::Write as _;
use std::path::Path;

use container::{Format, MemberKind};
use serde_json::Value as J;

fn inventories(dir: &Path) -> Vec<(std::path::PathBuf, J)> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd.flatten() {
        let p = e.path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if let Some(data_name) = name.strip_suffix(".inventory.json") {
            let inv: J = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
            out.push((dir.join(data_name), inv));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn rel(dir: &Path, p: &Path) -> String {
    p.strip_prefix(dir).unwrap_or(p).display().to_string()
}

/// Every joblib dump opens by content, with the compressor joblib detected, and its inline
/// arrays are found with joblib's dtype, shape, order, size and data offset.
#[test]
fn joblib_arrays_match_joblib() {
    let Some(root) = common::fixtures_dir() else {
        return;
    };
    let dir = root.join("joblib");
    let mut failures = String::new();
    let mut checked = 0;
    for (path, inv) in inventories(&dir) {
        if inv["loader"] != "joblib" {
            continue;
        }
        let name = rel(&root, &path);
        let data = std::fs::read(&path).unwrap();
        let opened = match container::open(&data, &container::Limits::default()) {
            Ok(o) => o,
            Err(e) => {
                let _ = writeln!(failures, "{name}: {e}");
                continue;
            }
        };
        let want_c = inv["compressor"].as_str();
        let got_c = match &opened.format {
            Format::Joblib { compression } => compression.map(|c| c.name()),
            Format::Pickle => None,
            other => {
                let _ = writeln!(failures, "{name}: opened as {}", other.name());
                continue;
            }
        };
        let want_c = want_c.map(|c| if c == "compat" { "zfile" } else { c });
        if want_c != got_c {
            let _ = writeln!(
                failures,
                "{name}: compressor {got_c:?}, joblib says {want_c:?}"
            );
        }
        let member = &opened.members[0];
        let mut hook = container::joblib::ArrayHook::new(&member.data);
        let trace = vm::run_hooked(&member.data, vm::Budgets::default(), &mut hook);
        if let Some(e) = trace.error() {
            let _ = writeln!(failures, "{name}: {e}");
            continue;
        }
        let want: Vec<&J> = inv["arrays"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["via"] == "NumpyArrayWrapper")
            .collect();
        if want.len() != hook.arrays.len() {
            let _ = writeln!(
                failures,
                "{name}: {} arrays, joblib read {}",
                hook.arrays.len(),
                want.len()
            );
            continue;
        }
        for (i, (w, g)) in want.iter().zip(&hook.arrays).enumerate() {
            let shape: Vec<i64> = w["shape"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d.as_i64().unwrap())
                .collect();
            let ok = w["dtype"] == g.dtype.as_str()
                && shape == g.shape
                && w["order"] == g.order.to_string().as_str()
                && w["object"] == g.object
                && (g.object || w["nbytes"] == g.nbytes)
                && w["stream_offset"] == g.data_offset;
            if !ok {
                let _ = writeln!(
                    failures,
                    "{name} array {i}: joblib {} {:?} {} {} bytes at {}; ours {} {:?} {} {} bytes at {}",
                    w["dtype"],
                    w["shape"],
                    w["order"],
                    w["nbytes"],
                    w["stream_offset"],
                    g.dtype,
                    g.shape,
                    g.order,
                    g.nbytes,
                    g.data_offset
                );
            }
        }
        let want_ext: Vec<&str> = inv["external_files"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(J::as_str)
            .collect();
        let got_ext: Vec<&str> = hook
            .external_files
            .iter()
            .map(|f| f.filename.as_str())
            .collect();
        if want_ext != got_ext {
            let _ = writeln!(
                failures,
                "{name}: external files {got_ext:?}, joblib {want_ext:?}"
            );
        }
        checked += 1;
    }
    assert!(checked >= 30, "only {checked} joblib inventories");
    assert!(failures.is_empty(), "{failures}");
}

fn check_npy(
    name: &str,
    kind: &MemberKind,
    member_data_len: usize,
    inv: &J,
    failures: &mut String,
) {
    let shape: Vec<u64> = inv["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_u64().unwrap())
        .collect();
    match kind {
        MemberKind::Array(h) => {
            let ok = !inv["object"].as_bool().unwrap()
                && h.shape == shape
                && h.fortran_order == inv["fortran_order"]
                && h.header_len as u64 == inv["header_length"].as_u64().unwrap()
                && format!("'{}'", h.descr) == inv["descr"].as_str().unwrap().replace('"', "'")
                || h.descr.starts_with('[') && inv["descr"].as_str().unwrap().starts_with('[');
            let len_ok = inv["data_length"]
                .as_u64()
                .is_none_or(|l| l == member_data_len as u64);
            if !ok || !len_ok {
                let _ = writeln!(
                    failures,
                    "{name}: ours {h:?} ({member_data_len} bytes); numpy {inv}"
                );
            }
        }
        MemberKind::Pickle(_) => {
            if !inv["object"].as_bool().unwrap() {
                let _ = writeln!(
                    failures,
                    "{name}: read as a pickle, numpy says not an object array"
                );
            }
        }
        other => {
            let _ = writeln!(failures, "{name}: member kind {other:?}");
        }
    }
}

/// Every npy and npz opens by content with numpy's header facts: version, dtype, shape,
/// order, header length and data length; object arrays are read as pickles that run to STOP.
#[test]
fn numpy_headers_match_numpy() {
    let Some(root) = common::fixtures_dir() else {
        return;
    };
    let dir = root.join("numpy");
    let mut failures = String::new();
    let mut checked = 0;
    for (path, inv) in inventories(&dir) {
        let name = rel(&root, &path);
        let data = std::fs::read(&path).unwrap();
        let opened = match container::open(&data, &container::Limits::default()) {
            Ok(o) => o,
            Err(e) => {
                // numpy itself refuses headers over 10000 bytes without allow_pickle.
                if inv["load_default"]
                    .as_str()
                    .is_some_and(|l| l.contains("header"))
                {
                    checked += 1;
                    continue;
                }
                let _ = writeln!(failures, "{name}: {e}");
                continue;
            }
        };
        if let Some(members) = inv["members"].as_array() {
            if opened.format != Format::Npz {
                let _ = writeln!(failures, "{name}: opened as {}", opened.format.name());
            }
            for m in members {
                let mname = m["name"].as_str().unwrap();
                match opened.member(mname) {
                    Some(got) => check_npy(
                        &format!("{name}:{mname}"),
                        &got.kind,
                        got.data.len(),
                        m,
                        &mut failures,
                    ),
                    None => {
                        let _ = writeln!(failures, "{name}: no member {mname}");
                    }
                }
            }
        } else {
            if opened.format != Format::Npy {
                let _ = writeln!(failures, "{name}: opened as {}", opened.format.name());
                continue;
            }
            let m = &opened.members[0];
            check_npy(&name, &m.kind, m.data.len(), &inv, &mut failures);
            if matches!(m.kind, MemberKind::Pickle(_))
                && let Some(e) = vm::run(&m.data).error()
            {
                let _ = writeln!(failures, "{name}: object array pickle: {e}");
            }
        }
        checked += 1;
    }
    assert!(checked >= 30, "only {checked} numpy inventories");
    assert!(failures.is_empty(), "{failures}");
}

/// Formats come from content: the same bytes under a wrong name or no name open the same way.
#[test]
fn names_do_not_matter() {
    let Some(root) = common::fixtures_dir() else {
        return;
    };
    let tmp = std::env::temp_dir().join(format!("pd-names-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    for sub in ["joblib", "numpy"] {
        for (path, _) in inventories(&root.join(sub)) {
            let data = std::fs::read(&path).unwrap();
            let Ok(want) = container::open(&data, &container::Limits::default()) else {
                continue;
            };
            for fake in ["noext", "model.pt", "weights.safetensors"] {
                let p = tmp.join(fake);
                std::fs::write(&p, &data).unwrap();
                let again = std::fs::read(&p).unwrap();
                let got = container::open(&again, &container::Limits::default()).unwrap();
                assert_eq!(got.format, want.format, "{}", path.display());
            }
        }
    }
    // The torch fixtures are committed, so they are checked even without the corpus.
    let torch = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/torch/files");
    for e in std::fs::read_dir(torch).unwrap().flatten() {
        let data = std::fs::read(e.path()).unwrap();
        let want = container::open(&data, &container::Limits::default()).unwrap();
        let p = tmp.join("checkpoint.joblib");
        std::fs::write(&p, &data).unwrap();
        let again = std::fs::read(&p).unwrap();
        let got = container::open(&again, &container::Limits::default()).unwrap();
        assert_eq!(got.format, want.format);
    }
    let _ = std::fs::remove_dir_all(&tmp);
}
