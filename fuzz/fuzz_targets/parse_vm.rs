//! Parse + disassemble + write + symbolic run on arbitrary bytes.
//!
//! Invariants: nothing panics; every error offset lies inside the input; writing the parsed
//! ops reproduces the bytes they came from; the machine stays within its (small) budgets, so
//! memory is bounded whatever the input asks for.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Parser and writer.
    let mut consumed = 0usize;
    for parsed in pickle::parse_all(data) {
        if let Some(e) = &parsed.error {
            assert!(e.offset <= data.len() as u64);
        }
        let written = pickle::write_ops(&parsed.ops).expect("parsed ops always encode");
        assert_eq!(&data[consumed..consumed + written.len()], &written[..]);
        consumed += written.len();
    }

    // Disassembler (pickletools semantics) into a sink.
    let _ = pickle::dis(data, 0, &mut std::io::sink());

    // Symbolic machine with small budgets.
    let budgets = vm::Budgets::small();
    let trace = vm::run_with(data, budgets);
    assert!(trace.nodes.len() <= budgets.max_nodes);
    assert!(trace.ops <= budgets.max_ops + 1);
    for p in &trace.pickles {
        if let Some(e) = &p.error {
            assert!(e.offset <= data.len() as u64);
            let _ = e.to_string();
        }
    }
    let _ = trace.ref_counts();
});
