//! Rewriting any bytes opened as a model file: renames and state repairs on every pickle
//! member, then repacking; the invariants live in `rewrite::fuzzing`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| rewrite::fuzzing::rewrite_any(data));
