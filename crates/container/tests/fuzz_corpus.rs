//! Replays the committed `container` fuzz corpus (and fuzz/regressions/) through the fuzz
//! target's invariants on every test run.

use std::path::Path;

fn check(data: &[u8]) {
    container::fuzzing::open_and_run(data);
}

#[test]
fn container_fuzz_corpus_replays_cleanly() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut n = 0;
    for sub in ["corpus/container", "regressions"] {
        let Ok(rd) = std::fs::read_dir(root.join(sub)) else {
            continue;
        };
        for e in rd.flatten() {
            let Ok(data) = std::fs::read(e.path()) else {
                continue;
            };
            check(&data);
            n += 1;
        }
    }
    assert!(n > 5, "container fuzz corpus missing ({n} files)");
}

/// Truncating a real container anywhere gives an error or a partial open, never a panic.
#[test]
fn truncated_containers_fail_cleanly() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/container");
    let Ok(rd) = std::fs::read_dir(&root) else {
        // Only outside a checkout (a packaged crate): the corpus is committed.
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED fuzz_corpus::truncated_containers_fail_cleanly: no {} (the committed container fuzz corpus)",
            root.display()
        );
        return;
    };
    let mut files = 0;
    for e in rd.flatten().take(40) {
        let Ok(data) = std::fs::read(e.path()) else {
            continue;
        };
        for cut in (0..data.len()).step_by((data.len() / 64).max(1)) {
            check(&data[..cut]);
        }
        files += 1;
    }
    assert_eq!(files, 40, "container fuzz corpus has too few files");
}
