//! Sniffing and opening any bytes as a model file, then running every pickle member the way
//! its loader would (joblib inline arrays included) and listing torch tensors.
//!
//! Invariants: nothing panics; inflation stays within the (small) limit; member offsets lie
//! inside the input.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = container::Limits {
        max_inflated_bytes: 1 << 20,
    };
    let Ok(opened) = container::open(data, &limits) else {
        return;
    };
    for m in &opened.members {
        assert!(m.data.len() as u64 <= (data.len() as u64).max(limits.max_inflated_bytes));
        if let Some(off) = m.file_offset {
            assert!(off <= data.len() as u64);
        }
        if let container::MemberKind::Pickle(loader) = m.kind {
            let budgets = vm::Budgets::small();
            let trace = if loader == container::Loader::Joblib {
                let mut hook = container::joblib::ArrayHook::new(&m.data);
                vm::run_hooked(&m.data, budgets, &mut hook)
            } else {
                vm::run_with(&m.data, budgets)
            };
            let _ = container::torch::tensors(&trace);
        }
    }
});
