//! Exporting any bytes as a model file to safetensors, in memory; the invariants (no panic,
//! nothing written when refused, a valid file of the reported size otherwise) live in
//! `doctor::export::fuzzing` so the corpus replay test checks exactly the same.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| doctor::export::fuzzing::export_any(data));
