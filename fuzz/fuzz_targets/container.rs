//! Sniffing and opening any bytes as a model file and running its pickle members; the
//! invariants live in `container::fuzzing` so the corpus replay test checks exactly the same.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| container::fuzzing::open_and_run(data));
