//! End-to-end tests of the `pickle-doctor` binary: output snapshots and exit codes.
//!
//! Inputs are the committed samples (written by tests/fixtures/generate.py with real
//! scikit-learn and numpy) and small hand-assembled byte strings.

mod common;

use std::process::Output;

fn run(args: &[&str], stdin: Option<&[u8]>) -> Output {
    common::run_cli(args, stdin)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn show_sklearn_model_text() {
    let out = run(&["show", "samples/logistic-regression.pkl"], None);
    assert_eq!(out.status.code(), Some(0));
    insta::assert_snapshot!(text(&out.stdout));
}

#[test]
fn show_sklearn_model_json() {
    let out = run(&["show", "--json", "samples/logistic-regression.pkl"], None);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    insta::assert_json_snapshot!(v);
}

#[test]
fn show_summarises_large_arrays_unless_full() {
    let out = run(&["show", "--json", "samples/array-p5.pkl"], None);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let arr = &v["members"][0]["pickles"][0]["value"]["ndarray"];
    assert_eq!(arr["dtype"], "<f8");
    assert_eq!(arr["shape"], serde_json::json!([3, 4]));
    assert_eq!(arr["nbytes"], 96);
    let full = run(&["show", "--json", "--full", "samples/array-p5.pkl"], None);
    let v: serde_json::Value = serde_json::from_slice(&full.stdout).unwrap();
    assert!(
        v["members"][0]["pickles"][0]["value"]["call"]["global"]
            .as_str()
            .unwrap()
            .ends_with("_frombuffer")
    );
}

#[test]
fn show_keeps_sharing_and_cycles() {
    // l = [b'x'*100]; l.append(l); l.append(l[0]) at protocol 4 (bytes from pickle.dumps).
    let data = b"\x80\x04\x95\x70\x00\x00\x00\x00\x00\x00\x00]\x94(C\x64xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\x94h\x00h\x01e.";
    let out = run(&["show", "-"], Some(data));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    insta::assert_snapshot!(text(&out.stdout));
    let out = run(&["show", "--json", "-"], Some(data));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    insta::assert_json_snapshot!(v["members"][0]["pickles"][0]["value"]);
}

#[test]
fn dis_truncated_prints_prefix_then_error_and_exits_1() {
    let out = run(&["dis", "-"], Some(b"\x80\x04K\x05X\x05\x00\x00\x00ab"));
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!(format!(
        "{}--- stderr ---\n{}",
        text(&out.stdout),
        text(&out.stderr)
    ));
}

#[test]
fn dis_heads_each_pickle_of_a_stream() {
    let out = run(&["dis", "-"], Some(b"K\x01.K\x02."));
    assert_eq!(out.status.code(), Some(0));
    insta::assert_snapshot!(text(&out.stdout));
}

#[test]
fn show_error_keeps_prefix_and_exits_1() {
    let out = run(&["show", "--json", "-"], Some(b"\x80\x02]q\x00(K\x01K\x02"));
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["members"][0]["pickles"][0]["complete"], false);
    assert_eq!(v["members"][0]["pickles"][0]["error"]["offset"], 10);
    assert!(text(&out.stderr).contains("(at offset 10)"));
}

#[test]
fn missing_file_is_a_usage_error() {
    let out = run(&["show", "no/such/file.pkl"], None);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("cannot open no/such/file.pkl"));
}

#[test]
fn show_stats_reports_globals_and_calls() {
    let out = run(
        &["show", "--stats", "samples/logistic-regression.pkl"],
        None,
    );
    assert_eq!(out.status.code(), Some(0));
    insta::assert_snapshot!(text(&out.stdout));
}

#[test]
fn truncated_container_is_one_line_error() {
    let data = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/data/z.npz"
    ))
    .unwrap();
    let out = run(&["show", "-"], Some(&data[..data.len() / 2]));
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("cannot read zip archive"), "{err}");
}

#[test]
fn lfs_pointer_is_explained() {
    let out = run(
        &["show", "-"],
        Some(b"version https://git-lfs.github.com/spec/v1\noid sha256:4d7a\nsize 1234\n"),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("git lfs pull"));
}

#[test]
fn member_addressing_picks_one_member() {
    let out = run(&["show", "--json", "tests/data/z.npz:b.npy"], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["format"], "npz");
    assert_eq!(v["members"].as_array().unwrap().len(), 1);
    assert_eq!(v["members"][0]["array"]["shape"], serde_json::json!([2, 2]));
    let out = run(&["show", "tests/data/z.npz:nope.npy"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("members: a.npy, b.npy"));
}

#[test]
fn dis_joblib_notes_inline_arrays() {
    let out = run(&["dis", "tests/data/jz.pkl"], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("[array data: <f8 [10] order C, 80 bytes at offset 240]"));
}

#[test]
fn show_torch_state_dict_text() {
    let out = run(&["show", "tests/fixtures/torch/files/state_dict.pt"], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    insta::assert_snapshot!(text(&out.stdout));
}

#[test]
fn show_torch_dtypes_tensors_json() {
    let out = run(
        &["show", "--json", "tests/fixtures/torch/files/dtypes.pt"],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    insta::assert_json_snapshot!(v["tensors"]);
}

#[test]
fn show_joblib_arrays_text() {
    let out = run(&["show", "tests/data/jz.pkl"], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    insta::assert_snapshot!(text(&out.stdout));
}
