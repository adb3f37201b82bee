//! The plain-data pass (`vm::plain`, tried first by `scan` and `show --stats`) against the
//! full machine: whenever it says any bytes are plain, the full run must read them to the end
//! with no error, global, call or trailing bytes and the same counts, findings and
//! `show --stats` text (`doctor::scan::fuzzing::plain_agrees_with`, which
//! `crates/doctor/tests/plain_fast_path.rs` also replays over this target's corpus), under
//! the default and the small budgets; and the machine's two modes agree as in
//! `scan_mode_differential`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    doctor::scan::fuzzing::plain_agrees_with(data, vm::Budgets::default());
    doctor::scan::fuzzing::modes_agree(data);
});
