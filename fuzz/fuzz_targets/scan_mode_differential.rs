//! The scan mode against the full value graph: any bytes, run both ways, must give the same
//! pickles, globals, calls and findings (`doctor::scan::fuzzing::modes_agree`, which
//! `crates/doctor/tests/scan_mode.rs` also replays over this target's corpus).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    doctor::scan::fuzzing::modes_agree(data);
});
