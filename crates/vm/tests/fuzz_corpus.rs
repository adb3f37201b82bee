//! Replays the committed fuzz corpus (seeds and every input that ever crashed, under
//! fuzz/corpus/parse_vm/ and fuzz/regressions/) through the fuzz target's invariants.

use std::path::Path;

#[test]
fn fuzz_corpus_replays_cleanly() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut n = 0;
    for sub in ["corpus/parse_vm", "regressions"] {
        let Ok(rd) = std::fs::read_dir(root.join(sub)) else {
            continue;
        };
        for e in rd.flatten() {
            let Ok(data) = std::fs::read(e.path()) else {
                continue;
            };
            vm::fuzzing::parse_and_run(&data);
            n += 1;
        }
    }
    assert!(n > 10, "fuzz corpus missing ({n} files)");
}
