//! Replays the committed fuzz corpora (container seeds, fuzz/regressions/ and the rewrite
//! target's own) through the `rewrite` target's invariants on every test run.

use std::path::Path;

#[test]
fn rewrite_fuzz_corpus_replays_cleanly() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut n = 0;
    for sub in ["corpus/container", "corpus/rewrite", "regressions"] {
        let Ok(rd) = std::fs::read_dir(root.join(sub)) else {
            continue;
        };
        for e in rd.flatten() {
            let Ok(data) = std::fs::read(e.path()) else {
                continue;
            };
            rewrite::fuzzing::rewrite_any(&data);
            n += 1;
        }
    }
    assert!(n > 5, "fuzz corpus missing ({n} files)");
}
