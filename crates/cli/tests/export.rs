//! `export --to safetensors` on the committed torch fixtures: refusals, dry runs, forced
//! partial exports, tied weights, and what the written files hold. Equality with what torch
//! itself recorded lives in `export_torch.rs`; with numpy and joblib in `export_arrays.rs`.

mod common;

use std::path::{Path, PathBuf};

use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/torch/files")
        .join(name)
}

fn export(args: &[&str]) -> (Option<i32>, Value, String) {
    let mut all = vec!["export", "--format", "json"];
    all.extend_from_slice(args);
    let out = common::run_cli(&all, None);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let doc = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code(), doc, stderr)
}

/// The header of a safetensors file, and its data buffer.
fn read_safetensors(path: &Path) -> (serde_json::Map<String, Value>, Vec<u8>) {
    let bytes = std::fs::read(path).unwrap();
    let n = usize::try_from(u64::from_le_bytes(bytes[..8].try_into().unwrap())).unwrap();
    let header: Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    (header.as_object().unwrap().clone(), bytes[8 + n..].to_vec())
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn refusals_name_each_tensor_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("dtypes.safetensors");
    let (code, doc, err) = export(&[
        fixture("dtypes.pt").to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(1), "{err}");
    let refused: Vec<(&str, &str)> = doc["refused"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["name"].as_str().unwrap(), r["why"].as_str().unwrap()))
        .collect();
    for (name, why) in [
        ("complex64", "complex"),
        ("complex128", "complex"),
        ("quint8_per_tensor", "quantized"),
        ("qint8_per_tensor", "quantized"),
    ] {
        assert!(
            refused.iter().any(|(n, w)| *n == name && w.contains(why)),
            "{name} not refused as {why}: {refused:?}"
        );
    }
    assert_eq!(doc["output"], Value::Null);
    // No output and no temporary file left behind.
    assert!(
        files_in(dir.path()).is_empty(),
        "{:?}",
        files_in(dir.path())
    );
}

#[test]
fn force_writes_what_can_be_written_and_ties_are_written_once() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("dtypes.safetensors");
    let (code, doc, err) = export(&[
        fixture("dtypes.pt").to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--force",
    ]);
    // Refusals still make the exit code 1, but the rest is written.
    assert_eq!(code, Some(1), "{err}");
    assert_eq!(files_in(dir.path()), ["dtypes.safetensors"]);
    let (header, buffer) = read_safetensors(&out);
    // The same tensor object saved under two names is written once; the dropped name maps to
    // the kept one in __metadata__, as Hugging Face's save_model records it.
    assert_eq!(doc["dropped_shared"]["tied_same_object"], "tied_a");
    assert_eq!(header["__metadata__"]["tied_same_object"], "tied_a");
    assert!(header.get("tied_same_object").is_none());
    assert!(header.get("tied_a").is_some());
    // Every dtype torch and safetensors share is there, by safetensors name.
    for (name, dtype) in [
        ("bfloat16", "BF16"),
        ("float16", "F16"),
        ("float8_e4m3fn", "F8_E4M3"),
        ("float8_e5m2", "F8_E5M2"),
        ("bool", "BOOL"),
        ("uint64", "U64"),
        ("int8", "I8"),
    ] {
        assert_eq!(header[name]["dtype"], dtype, "{name}");
    }
    // Offsets tile the buffer, largest dtypes first.
    let mut spans: Vec<(u64, u64)> = header
        .iter()
        .filter(|(k, _)| *k != "__metadata__")
        .map(|(_, v)| {
            (
                v["data_offsets"][0].as_u64().unwrap(),
                v["data_offsets"][1].as_u64().unwrap(),
            )
        })
        .collect();
    spans.sort_unstable();
    let mut at = 0;
    for (b, e) in spans {
        assert_eq!(b, at);
        at = e;
    }
    assert_eq!(at, buffer.len() as u64);
    // --duplicate-shared writes the tie under both names instead.
    let dup = dir.path().join("dup.safetensors");
    let (_, doc, _) = export(&[
        fixture("dtypes.pt").to_str().unwrap(),
        "-o",
        dup.to_str().unwrap(),
        "--force",
        "--duplicate-shared",
    ]);
    assert_eq!(doc["dropped_shared"], serde_json::json!({}));
    let (header, _) = read_safetensors(&dup);
    assert!(header.get("tied_same_object").is_some());
}

#[test]
fn dry_run_reports_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (code, doc, err) = export(&[fixture("checkpoint.pt").to_str().unwrap(), "--dry-run"]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(doc["dry_run"], true);
    assert_eq!(doc["output"], Value::Null);
    assert!(doc["file_bytes"].as_u64().unwrap() > 0);
    assert!(files_in(dir.path()).is_empty());
}

#[test]
fn bad_arguments_and_inputs_are_clear_errors() {
    let out = common::run_cli(
        &[
            "export",
            "samples/logistic-regression.pkl",
            "--to",
            "onnx2",
            "-o",
            "/tmp/x",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot export to \"onnx2\""));
    // A pickle with no tensors is refused, not an empty file.
    let dir = tempfile::tempdir().unwrap();
    let o = dir.path().join("x.safetensors");
    let (code, doc, _) = export(&["samples/logistic-regression.pkl", "-o", o.to_str().unwrap()]);
    assert_eq!(code, Some(1));
    assert!(
        doc["refused"][0]["why"]
            .as_str()
            .unwrap()
            .contains("no tensor")
    );
    assert!(!o.exists());
    // TorchScript holds code: a usage error with advice.
    let out = common::run_cli(
        &[
            "export",
            fixture("scripted.pt").to_str().unwrap(),
            "-o",
            o.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("torch.jit.load"));
}
