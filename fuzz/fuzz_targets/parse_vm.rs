//! Parse + disassemble + write + symbolic run on arbitrary bytes; the invariants live in
//! `vm::fuzzing` so the corpus replay test checks exactly the same. Then the whole scan
//! (`doctor::scan::fuzzing`): Python 2 names, getattr resolution, not-a-pickle notes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    vm::fuzzing::parse_and_run(data);
    doctor::scan::fuzzing::scan_any(data);
});
