//! `export` of the torch fixtures that torch itself wrote and recorded
//! (tests/fixtures/torch/export/: make_export_fixtures.py, expected.json): names as
//! `state_dict` gives them, every dtype bit for bit, strided views contiguous, ties once,
//! plain data in `__metadata__`, and each refusal class with nothing written. The files are
//! read back by the Python `safetensors` package (tests/export/check_torch.py) in the
//! fixtures venv; CI has no torch.

mod common;

use std::path::Path;

#[test]
fn exports_equal_what_torch_recorded() {
    let Some(python) = common::from_env("PICKLE_DOCTOR_PYTHON") else {
        return;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/torch/export");
    let expected: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root.join("expected.json")).unwrap()).unwrap();
    let out_dir = tempfile::tempdir().unwrap();
    let mut runs = serde_json::Map::new();
    for (name, want) in expected["files"].as_object().unwrap() {
        let input = root.join(want["path"].as_str().unwrap());
        let output = out_dir.path().join(want["output"].as_str().unwrap());
        let out = common::run_cli(
            &[
                "export",
                "--format",
                "json",
                input.to_str().unwrap(),
                "-o",
                output.to_str().unwrap(),
            ],
            None,
        );
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
            panic!(
                "{name}: no report: {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        runs.insert(
            name.clone(),
            serde_json::json!({"code": out.status.code(), "report": report, "output": output}),
        );
    }
    // Nothing but the outputs of successful exports is left in the folder.
    for e in std::fs::read_dir(out_dir.path()).unwrap().flatten() {
        let n = e.file_name().to_string_lossy().into_owned();
        assert!(n.ends_with(".safetensors"), "left behind: {n}");
    }
    let list = out_dir.path().join("runs.json");
    std::fs::write(&list, serde_json::to_vec(&runs).unwrap()).unwrap();
    let check = std::process::Command::new(&python)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/export/check_torch.py"))
        .arg(root.join("expected.json"))
        .arg(&list)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&check.stdout);
    assert!(
        check.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&check.stderr)
    );
    eprint!("{text}");
}
