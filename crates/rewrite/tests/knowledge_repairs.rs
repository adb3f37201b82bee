//! Every state-level repair the knowledge base names (`repair = "..."` in `breaks.toml`)
//! is one `rewrite` knows: a misspelt name would otherwise be skipped silently by `fix`.

use rewrite::state::StateRepair;

#[test]
fn every_repair_named_in_the_knowledge_base_resolves() {
    let k = knowledge::Knowledge::embedded();
    let mut n = 0;
    for b in &k.breaks {
        let Some(name) = b.repair.as_deref() else {
            continue;
        };
        assert!(
            StateRepair::from_break(b).is_some(),
            "{}: unknown repair {name:?}",
            b.id
        );
        n += 1;
    }
    assert_eq!(n, 23);
    assert!(StateRepair::from_name("sklearn-tree-nodes-to-46", "x", "").is_none());
}

/// The repair that only touches old producers carries the break's `producer_until`.
#[test]
fn tree_values_repair_carries_its_producer_bound() {
    let k = knowledge::Knowledge::embedded();
    let b = k
        .breaks
        .iter()
        .find(|b| b.id == "sklearn-tree-values-fractions")
        .unwrap();
    let until = b.producer_until.as_deref().unwrap();
    assert_eq!(
        StateRepair::from_name("sklearn-tree-values-as-fractions", &b.id, until),
        Some(StateRepair::TreeValuesAsFractions {
            id: b.id.clone(),
            producer_until: "1.4".into()
        })
    );
}
