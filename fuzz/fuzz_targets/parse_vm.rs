//! Parse + disassemble + write + symbolic run on arbitrary bytes; the invariants live in
//! `vm::fuzzing` so the corpus replay test checks exactly the same.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| vm::fuzzing::parse_and_run(data));
