//! Sniffing and opening any bytes as a model file and running its pickle members; the
//! invariants live in `container::fuzzing` so the corpus replay test checks exactly the same.
//! Then the whole scan of the same bytes (`doctor::scan::fuzzing`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    container::fuzzing::open_and_run(data);
    doctor::scan::fuzzing::scan_any(data);
});
