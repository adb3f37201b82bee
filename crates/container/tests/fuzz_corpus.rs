//! Replays the committed `container` fuzz corpus (and fuzz/regressions/) through the fuzz
//! target's invariants on every test run.

use std::path::Path;

fn check(data: &[u8]) {
    let limits = container::Limits {
        max_inflated_bytes: 1 << 20,
    };
    let Ok(opened) = container::open(data, &limits) else {
        return;
    };
    for m in &opened.members {
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
}

#[test]
fn container_fuzz_corpus_replays_cleanly() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut n = 0;
    for sub in ["corpus/container", "regressions"] {
        let Ok(rd) = std::fs::read_dir(root.join(sub)) else {
            continue;
        };
        for e in rd.flatten() {
            let Ok(data) = std::fs::read(e.path()) else {
                continue;
            };
            check(&data);
            n += 1;
        }
    }
    assert!(n > 5, "container fuzz corpus missing ({n} files)");
}

/// Truncating a real container anywhere gives an error or a partial open, never a panic.
#[test]
fn truncated_containers_fail_cleanly() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/container");
    let Ok(rd) = std::fs::read_dir(root) else {
        return;
    };
    for e in rd.flatten().take(40) {
        let Ok(data) = std::fs::read(e.path()) else {
            continue;
        };
        for cut in (0..data.len()).step_by((data.len() / 64).max(1)) {
            check(&data[..cut]);
        }
    }
}
