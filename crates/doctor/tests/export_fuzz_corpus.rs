//! Replays the committed fuzz corpora (container and parse_vm seeds) and the torch fixtures
//! through the export fuzz target's invariants.

use std::path::Path;

fn replay_onnx(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut n = 0;
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            n += replay_onnx(&p);
        } else if p.extension().is_some_and(|x| x == "pkl" || x == "joblib")
            || dir.ends_with("corpus/container")
        {
            doctor::export::fuzzing::export_onnx_any(&std::fs::read(&p).unwrap());
            n += 1;
        }
    }
    n
}

#[test]
fn sklearn_fixtures_and_corpora_keep_the_onnx_export_invariants() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let n = replay_onnx(&root.join("tests/fixtures/sklearn-onnx"))
        + replay_onnx(&root.join("fuzz/corpus/container"))
        + replay_onnx(&root.join("samples"));
    assert!(n > 100, "only {n} inputs replayed");
}

fn replay(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut n = 0;
    for e in entries.flatten() {
        let p = e.path();
        if p.is_file() {
            let data = std::fs::read(&p).unwrap();
            doctor::export::fuzzing::export_any(&data);
            n += 1;
        }
    }
    n
}

#[test]
fn corpora_and_fixtures_keep_the_export_invariants() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let n = replay(&root.join("fuzz/corpus/container"))
        + replay(&root.join("fuzz/corpus/parse_vm"))
        + replay(&root.join("tests/fixtures/torch/files"))
        + replay(&root.join("samples"));
    assert!(n > 100, "only {n} inputs replayed");
}
