//! The invariants the `rewrite` fuzz target checks, shared with the test that replays its
//! corpus on every test run.

use container::{Limits, open};

use crate::plan::{Plan, UserMap};
use crate::state::StateRepair;
use crate::stream::{Edits, Stream};

/// Opens `data`, and for every pickle member: parses it as a stream (an error is fine), checks
/// that no edit gives back the input, then renames its first literal global to a longer
/// name, applies every state repair, and checks that the result parses to STOP everywhere
/// and can be repacked.
///
/// # Panics
/// When an invariant breaks.
pub fn rewrite_any(data: &[u8]) {
    let limits = Limits {
        max_inflated_bytes: 1 << 20,
    };
    let Ok(opened) = open(data, &limits) else {
        return;
    };
    let repairs: Vec<StateRepair> = [
        "numpy-bit-generator-by-name",
        "sklearn-tree-nodes-to-64",
        "sklearn-tree-nodes-to-56",
        "sklearn-tree-values-as-fractions",
        "pandas-ndarraybacked-state-dict",
        "pandas-string-dtype-without-na",
    ]
    .iter()
    .filter_map(|n| StateRepair::from_name(n, "fuzz", "99"))
    .collect();
    let mut plan = Plan::default();
    for m in opened.pickles() {
        let Ok(stream) = Stream::parse(&m.data, &[]) else {
            continue;
        };
        assert_eq!(stream.emit(&Edits::default()), &m.data[..]);
        let trace = vm::run_with(&m.data, vm::Budgets::small());
        if let Some((module, _)) = trace.globals.iter().find_map(|g| g.literal())
            && let Ok(map) = format!("{module}=renamed.by.fuzz.{module}").parse::<UserMap>()
        {
            plan = Plan::new(vec![map]);
            break;
        }
    }
    let Ok(fixed) = crate::fix_members(&opened, &plan, &repairs) else {
        return;
    };
    let mut changed = std::collections::HashMap::new();
    for f in fixed {
        if let Some(bytes) = f.bytes {
            assert!(
                Stream::parse(&bytes, &[]).is_ok()
                    || opened.member(&f.member).is_some_and(
                        |m| m.kind == container::MemberKind::Pickle(container::Loader::Joblib)
                    ),
                "rewritten member {:?} does not parse",
                f.member
            );
            changed.insert(f.member, bytes);
        }
    }
    let mut out = std::io::Cursor::new(Vec::new());
    let _ = crate::repack::write(data, &opened, &changed, &mut out);
}
