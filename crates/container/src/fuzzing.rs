//! The invariants the `container` fuzz target checks, shared with the test that replays its
//! corpus on every test run.

use crate::{
    Inventory, Limits, Loader, MemberKind, gguf, joblib::ArrayHook, onnx, open, safetensors, torch,
};

/// Opens `data` as a model file under a small inflate budget, runs every pickle member the
/// way its loader would, and lists torch tensors. The safetensors, GGUF and ONNX parsers also
/// read every input, whatever it sniffs as.
///
/// # Panics
/// When an invariant breaks: a member offset outside the input, an inflated member over
/// budget, or a data-only file whose listed bytes lie outside the input.
pub fn open_and_run(data: &[u8]) {
    check_data_only(data);
    let limits = Limits {
        max_inflated_bytes: 1 << 20,
    };
    let Ok(opened) = open(data, &limits) else {
        return;
    };
    if let Some(inv) = &opened.inventory {
        assert!(opened.format.stores_data_only() && opened.members.is_empty());
        match inv {
            Inventory::Safetensors(h) => assert_eq!(Ok(h), safetensors::parse(data).as_ref()),
            Inventory::Gguf(h) => assert_eq!(Ok(h), gguf::parse(data).as_ref()),
            Inventory::Onnx(m) => assert_eq!(Ok(m), onnx::parse(data).as_ref()),
        }
    }
    for m in &opened.members {
        assert!(m.data.len() as u64 <= (data.len() as u64).max(limits.max_inflated_bytes));
        if let Some(off) = m.file_offset {
            assert!(off <= data.len() as u64);
        }
        // An array member holds at least the bytes its header announces.
        if let MemberKind::Array(h) = &m.kind
            && let Some(n) = h.nbytes()
        {
            assert!(n <= m.data.len() as u64);
        }
        if let MemberKind::Pickle(loader) = m.kind {
            let budgets = vm::Budgets::small();
            let trace = if loader == Loader::Joblib {
                let mut hook = ArrayHook::new(&m.data);
                vm::run_hooked(&m.data, budgets, &mut hook)
            } else {
                vm::run_with(&m.data, budgets)
            };
            let _ = torch::tensors(&trace);
        }
    }
    let _ = torch::tar_tensors(&opened);
}

/// Runs the data-only parsers on `data` and checks that what they list lies in it.
fn check_data_only(data: &[u8]) {
    let len = data.len() as u64;
    if let Ok(h) = safetensors::parse(data) {
        assert!(h.data_start <= len);
        for t in &h.tensors {
            assert!(t.file_offset + t.len() <= len);
            let _ = t.bytes(data);
        }
    }
    if let Ok(h) = gguf::parse(data) {
        for t in &h.tensors {
            assert!(t.file_offset + t.nbytes.unwrap_or(0) <= len);
        }
    }
    if let Ok(m) = onnx::parse(data) {
        for t in &m.tensors {
            if let Some((off, n)) = t.raw_data {
                assert!(off + n <= len);
            }
            if let Some(loc) = t.external.as_ref().and_then(|e| e.location.as_deref()) {
                let _ = onnx::location_escapes(loc);
            }
        }
    }
    let _ = (
        safetensors::looks_like(data),
        gguf::looks_like(data),
        onnx::looks_like(data),
    );
}
