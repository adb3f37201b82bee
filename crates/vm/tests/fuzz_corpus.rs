//! Replays the committed fuzz corpus (seeds and every input that ever crashed, under
//! fuzz/corpus/ and fuzz/regressions/) through the fuzz target's invariants on each test run.

use std::path::Path;

fn check(data: &[u8]) {
    let mut consumed = 0usize;
    for parsed in pickle::parse_all(data) {
        if let Some(e) = &parsed.error {
            assert!(e.offset <= data.len() as u64);
        }
        let written = pickle::write_ops(&parsed.ops).unwrap();
        assert_eq!(&data[consumed..consumed + written.len()], &written[..]);
        consumed += written.len();
    }
    let _ = pickle::dis(data, 0, &mut std::io::sink());
    let b = vm::Budgets::small();
    let t = vm::run_with(data, b);
    assert!(t.nodes.len() <= b.max_nodes);
}

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
            check(&data);
            n += 1;
        }
    }
    assert!(n > 10, "fuzz corpus missing ({n} files)");
}
