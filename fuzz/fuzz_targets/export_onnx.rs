//! Converting any bytes, opened as a model file, to ONNX in memory; the invariants (no panic,
//! a refusal has a reason and a path, otherwise the bytes decode as a model with typed
//! attributes) live in `doctor::export::fuzzing::export_onnx_any`, which the corpus replay test
//! (crates/doctor/tests/export_fuzz_corpus.rs) also runs over the scikit-learn fixtures.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| doctor::export::fuzzing::export_onnx_any(data));
