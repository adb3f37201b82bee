//! `fix_members_with` honours the caller's budgets: the joblib array pass and every member's
//! ops and pickles count against them, and running out is an error that names the budget.

use std::path::Path;

use rewrite::{Plan, UserMap, fix_members, fix_members_with};

fn repo(path: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(path),
    )
    .unwrap()
}

fn plan(map: &str) -> Plan {
    Plan::new(vec![map.parse::<UserMap>().unwrap()])
}

fn limits() -> container::Limits {
    container::Limits {
        max_inflated_bytes: 1 << 24,
    }
}

/// `collections.OrderedDict()` at protocol 2, written twice in a row.
const TWO_PICKLES: &[u8] =
    b"\x80\x02ccollections\nOrderedDict\n)R.\x80\x02ccollections\nOrderedDict\n)R.";

#[test]
fn a_tiny_ops_budget_stops_the_rewrite_of_a_plain_pickle() {
    let opened = container::open(TWO_PICKLES, &limits()).unwrap();
    let plan = plan("collections=renamed");
    let fixed = fix_members(&opened, &plan, &[]).unwrap();
    assert!(fixed[0].bytes.is_some(), "the default budgets rewrite it");
    let budgets = vm::Budgets {
        max_ops: 5,
        ..vm::Budgets::default()
    };
    let (member, e) = fix_members_with(&opened, &plan, &[], budgets).unwrap_err();
    assert_eq!(member, "");
    assert_eq!(e.message, "budget exceeded: more than 5 ops");
    // The sixth op: PROTO, GLOBAL, EMPTY_TUPLE, REDUCE, STOP, then the second PROTO.
    assert_eq!(e.offset, 30);
}

#[test]
fn a_tiny_pickles_budget_stops_the_rewrite_of_a_stream() {
    let opened = container::open(TWO_PICKLES, &limits()).unwrap();
    let budgets = vm::Budgets {
        max_pickles: 1,
        ..vm::Budgets::default()
    };
    let (_, e) = fix_members_with(&opened, &Plan::default(), &[], budgets).unwrap_err();
    assert_eq!(e.message, "budget exceeded: more than 1 pickles per stream");
    assert_eq!(e.offset, 30);
}

#[test]
fn the_joblib_array_pass_runs_under_the_callers_budgets() {
    // joblib.dump({'a': np.arange(10.0)}, compress=('zlib', 3)): 25 memo entries.
    let data = repo("tests/data/jz.pkl");
    let opened = container::open(&data, &limits()).unwrap();
    let plan = plan("numpy=renamed.numpy");
    let fixed = fix_members(&opened, &plan, &[]).unwrap();
    assert!(fixed[0].bytes.is_some(), "the default budgets rewrite it");
    let same = fix_members_with(&opened, &plan, &[], vm::Budgets::default()).unwrap();
    assert_eq!(same[0].bytes, fixed[0].bytes);
    // Only the symbolic machine counts memo entries: this one comes from the array pass.
    let budgets = vm::Budgets {
        max_memo: 1,
        ..vm::Budgets::default()
    };
    let (_, e) = fix_members_with(&opened, &plan, &[], budgets).unwrap_err();
    assert_eq!(e.message, "budget exceeded: more than 1 memo entries");
}
