//! The invariants the `container` fuzz target checks, shared with the test that replays its
//! corpus on every test run.

use crate::{Limits, Loader, MemberKind, joblib::ArrayHook, open, torch};

/// Opens `data` as a model file under a small inflate budget, runs every pickle member the
/// way its loader would, and lists torch tensors.
///
/// # Panics
/// When an invariant breaks: a member offset outside the input or an inflated member over
/// budget.
pub fn open_and_run(data: &[u8]) {
    let limits = Limits {
        max_inflated_bytes: 1 << 20,
    };
    let Ok(opened) = open(data, &limits) else {
        return;
    };
    for m in &opened.members {
        assert!(m.data.len() as u64 <= (data.len() as u64).max(limits.max_inflated_bytes));
        if let Some(off) = m.file_offset {
            assert!(off <= data.len() as u64);
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
