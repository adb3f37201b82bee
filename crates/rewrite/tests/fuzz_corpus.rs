//! Replays committed fuzz corpora through the `rewrite` target's invariants on every test
//! run: the `container` seeds (model files of every format), the `parse_vm` corpus (raw
//! pickles with every op in odd orders) and fuzz/regressions/. The rewrite target's own
//! corpus (fuzz/corpus/rewrite) is not committed; when a local fuzzing run has left one, it
//! is replayed too.

use std::io::Write as _;
use std::path::Path;

/// Replays every file of `fuzz/<sub>`, returning how many there were (`None`: no folder).
fn replay(sub: &str) -> Option<usize> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz")
        .join(sub);
    let rd = std::fs::read_dir(dir).ok()?;
    let mut n = 0;
    for e in rd.flatten() {
        let Ok(data) = std::fs::read(e.path()) else {
            continue;
        };
        rewrite::fuzzing::rewrite_any(&data);
        n += 1;
    }
    Some(n)
}

#[test]
fn rewrite_fuzz_corpus_replays_cleanly() {
    // Committed: each must be there and hold real inputs.
    for (sub, at_least) in [("corpus/container", 1000), ("corpus/parse_vm", 1000)] {
        let n = replay(sub).unwrap_or(0);
        assert!(n >= at_least, "fuzz/{sub} missing ({n} files)");
    }
    // Committed, but empty until a fuzzer finds something.
    assert!(replay("regressions").is_some(), "fuzz/regressions missing");
    if replay("corpus/rewrite").is_none() {
        let _ = writeln!(
            std::io::stderr(),
            "NOTE rewrite fuzz corpus replay: no fuzz/corpus/rewrite (not committed; `cargo fuzz run rewrite` creates it), replayed the committed corpora only"
        );
    }
}
