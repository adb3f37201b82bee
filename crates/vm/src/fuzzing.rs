//! The invariants the `parse_vm` fuzz target checks, shared with the test that replays its
//! corpus on every test run, so that the two cannot drift apart.

use crate::{Budgets, run_with};

/// Parses, disassembles, rewrites and runs `data` symbolically under small budgets.
///
/// # Panics
/// When an invariant breaks: an error offset outside the input, a writer that does not
/// reproduce the parsed bytes, or a run that exceeds its budgets.
pub fn parse_and_run(data: &[u8]) {
    let mut consumed = 0usize;
    for parsed in pickle::parse_all(data) {
        if let Some(e) = &parsed.error {
            assert!(e.offset <= data.len() as u64);
        }
        let written = pickle::write_ops(&parsed.ops).expect("parsed ops always encode");
        assert_eq!(&data[consumed..consumed + written.len()], &written[..]);
        consumed += written.len();
    }
    let _ = pickle::dis(data, 0, &mut std::io::sink());
    let budgets = Budgets::small();
    let trace = run_with(data, budgets);
    assert!(trace.nodes.len() <= budgets.max_nodes);
    assert!(trace.ops <= budgets.max_ops + 1);
    for p in &trace.pickles {
        if let Some(e) = &p.error {
            assert!(e.offset <= data.len() as u64);
            let _ = e.to_string();
        }
        // The first non-ASCII Python 2 str: an op of this pickle whose str node holds a
        // code point above 0x7f and none above 0xff (bytes decoded as latin-1).
        if let Some(py2) = p.py2_non_ascii {
            assert!(py2.offset >= p.start && py2.offset < data.len() as u64);
            match trace.nodes.get(py2.node.index()) {
                Some(crate::Node::Str(s)) => {
                    let text = std::str::from_utf8(s).expect("latin-1 decodes to UTF-8");
                    assert!(text.chars().any(|c| u32::from(c) > 0x7f));
                    assert!(text.chars().all(|c| u32::from(c) <= 0xff));
                }
                other => panic!("py2 str node is {other:?}"),
            }
        }
    }
    // Trailing bytes run from just past a STOP to the end of the data.
    if let Some(t) = &trace.trailing {
        assert!(t.offset > 0 && t.offset + t.len == data.len() as u64);
        assert!(t.error.offset <= data.len() as u64);
    }
    let _ = trace.ref_counts();
}
