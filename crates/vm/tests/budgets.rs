//! Budgets and hostile shapes: every limit stops the run with an error naming it, and the
//! graph representation keeps "billion laughs" pickles linear.

use vm::{Budget, Budgets, VmErrorKind, run_with};

fn budget_hit(data: &[u8], budgets: Budgets) -> Option<Budget> {
    match run_with(data, budgets).error().map(|e| e.kind.clone()) {
        Some(VmErrorKind::Budget { budget, .. }) => Some(budget),
        _ => None,
    }
}

/// `[x]` then DUP/APPENDS doubling, 60 times: Python would build 2^60 references. The graph
/// holds one node per list and memory stays linear in the ops.
#[test]
fn billion_laughs_by_dup_and_appends_stays_linear() {
    let mut p = b"\x80\x02]q\x00K\x01a".to_vec(); // l = [1], memo 0
    for _ in 0..60 {
        // push a new list containing l twice: ] ( h0 h0 e  then put it in memo 0
        p.extend_from_slice(b"](h\x00h\x002eq\x00");
    }
    p.push(b'.');
    let trace = run_with(&p, Budgets::default());
    assert!(trace.is_complete(), "{:?}", trace.error());
    assert!(trace.nodes.len() < 100);
    assert!(trace.items < 400);
}

#[test]
fn ops_budget() {
    let mut p = b"N".repeat(1000);
    p.push(b'.');
    let b = Budgets {
        max_ops: 100,
        ..Budgets::default()
    };
    assert_eq!(budget_hit(&p, b), Some(Budget::Ops));
}

#[test]
fn stack_budget() {
    let mut p = b"N".repeat(1000);
    p.push(b'.');
    let b = Budgets {
        max_stack: 10,
        ..Budgets::default()
    };
    assert_eq!(budget_hit(&p, b), Some(Budget::Stack));
}

#[test]
fn memo_budget() {
    let mut p = b"N".to_vec();
    p.extend(b"\x94".repeat(100));
    p.push(b'.');
    let b = Budgets {
        max_memo: 10,
        ..Budgets::default()
    };
    assert_eq!(budget_hit(&p, b), Some(Budget::Memo));
}

#[test]
fn nodes_budget() {
    let mut p = b"]".repeat(100);
    p.push(b'.');
    let b = Budgets {
        max_nodes: 10,
        ..Budgets::default()
    };
    assert_eq!(budget_hit(&p, b), Some(Budget::Nodes));
}

#[test]
fn items_budget() {
    let mut p = b"](".to_vec();
    p.extend(b"N".repeat(100));
    p.extend(b"e.");
    let b = Budgets {
        max_items: 10,
        ..Budgets::default()
    };
    assert_eq!(budget_hit(&p, b), Some(Budget::Items));
}

#[test]
fn nesting_budget() {
    let mut p = b"(".repeat(100);
    p.push(b'.');
    let b = Budgets {
        max_nesting: 10,
        ..Budgets::default()
    };
    assert_eq!(budget_hit(&p, b), Some(Budget::Nesting));
}

#[test]
fn pickles_budget() {
    let p = b"N.".repeat(100);
    let b = Budgets {
        max_pickles: 10,
        ..Budgets::default()
    };
    assert_eq!(budget_hit(&p, b), Some(Budget::Pickles));
}

#[test]
fn budget_error_names_the_limit() {
    let mut p = b"N".repeat(1000);
    p.push(b'.');
    let b = Budgets {
        max_ops: 100,
        ..Budgets::default()
    };
    let t = run_with(&p, b);
    assert_eq!(
        t.error().unwrap().to_string(),
        "NONE: budget exceeded: more than 100 ops (at offset 100)"
    );
}

/// Everything parsed before an error stays in the trace: Python has run that prefix.
#[test]
fn prefix_before_error_is_kept() {
    // posix.system('id') is built, then the stream is cut.
    let p = b"cposix\nsystem\n(S'id'\ntRK";
    let t = run_with(p, Budgets::default());
    assert!(!t.is_complete());
    assert_eq!(t.globals[0].dotted(), "posix.system");
    assert!(t.globals[0].uses.contains(vm::Uses::CALLED));
    assert_eq!(t.calls.len(), 1);
}

/// STACK_GLOBAL whose operands come from a call is recorded as dynamic.
#[test]
fn dynamic_stack_global() {
    // builtins.str.join? No: ('o'+'s') via a call of builtins.getattr; any call result works.
    let p = b"\x80\x04\x8c\x08builtins\x8c\x03str\x93\x8c\x02os\x85R\x8c\x06system\x93.";
    let t = run_with(p, Budgets::default());
    assert!(t.is_complete(), "{:?}", t.error());
    let g = t.globals.last().unwrap();
    assert!(g.is_dynamic());
    assert_eq!(g.dotted(), "<dynamic>.system");
}
