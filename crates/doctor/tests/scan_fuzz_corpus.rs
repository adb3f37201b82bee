//! Replays the committed fuzz corpora (container and parse_vm, whose targets also run the
//! whole scan), fuzz/regressions/ and the torch fixtures through the scan's fuzzing
//! invariants (`doctor::scan::fuzzing`).

use std::path::Path;

fn replay(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut n = 0;
    for e in entries.flatten() {
        let p = e.path();
        if p.is_file() {
            let data = std::fs::read(&p).unwrap();
            doctor::scan::fuzzing::scan_any(&data);
            n += 1;
        }
    }
    n
}

#[test]
fn corpora_and_fixtures_keep_the_scan_invariants() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let n = replay(&root.join("fuzz/corpus/container"))
        + replay(&root.join("fuzz/corpus/parse_vm"))
        + replay(&root.join("fuzz/regressions"))
        + replay(&root.join("tests/fixtures/torch/files"));
    assert!(n > 1000, "only {n} inputs replayed");
}
