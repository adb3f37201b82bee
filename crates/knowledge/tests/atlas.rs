//! The generated break atlas (`data/atlas/breaks.toml`, `scripts/atlas.sh`) parses and every
//! entry is well-formed: a unique id, versions that parse, a source URL, and the fields its
//! kind needs. What the entries claim was observed by real loads and calls
//! (`tests/atlas/truth.json`); CI re-checks a sample of those (`tests/atlas/verify.py`).

use std::collections::HashSet;

use knowledge::{AtlasKind, Knowledge, Version};

#[test]
fn atlas_entries_are_well_formed() {
    let k = Knowledge::embedded();
    assert!(k.atlas.len() >= 40, "{} atlas entries", k.atlas.len());
    let mut ids = HashSet::new();
    for e in &k.atlas {
        assert!(ids.insert(e.id.clone()), "duplicate id {}", e.id);
        assert!(
            ["scikit-learn", "pandas", "numpy"].contains(&e.dist.as_str()),
            "{}",
            e.id
        );
        assert!(e.class.contains(':'), "{}: class {}", e.id, e.class);
        for v in [
            &e.producer_since,
            &e.producer_through,
            &e.target_since,
            &e.target_through,
        ] {
            assert!(Version::parse(v).is_some(), "{}: version {v:?}", e.id);
        }
        assert!(!e.producer_versions.is_empty() && !e.target_versions.is_empty());
        assert_eq!(
            e.producer_versions.first(),
            Some(&e.producer_since),
            "{}",
            e.id
        );
        assert_eq!(
            e.producer_versions.last(),
            Some(&e.producer_through),
            "{}",
            e.id
        );
        assert_eq!(e.target_versions.first(), Some(&e.target_since), "{}", e.id);
        assert_eq!(
            e.target_versions.last(),
            Some(&e.target_through),
            "{}",
            e.id
        );
        assert!(e.version_pairs.len() <= e.pairs.len(), "{}", e.id);
        for p in &e.version_pairs {
            let (pv, tv) = p.split_once("->").expect("producer->target");
            assert!(e.producer_versions.iter().any(|v| v == pv), "{}: {p}", e.id);
            assert!(e.target_versions.iter().any(|v| v == tv), "{}: {p}", e.id);
        }
        assert!(!e.cases.is_empty(), "{}", e.id);
        assert!(e.source.starts_with("https://"), "{}: source", e.id);
        assert!(
            ["changelog", "release-notes"].contains(&e.source_kind.as_str()),
            "{}",
            e.id
        );
        match e.kind {
            AtlasKind::Load => {
                assert!(e.method.is_empty() && !e.error.is_empty(), "{}", e.id);
            }
            AtlasKind::Use => {
                assert!(!e.method.is_empty() && !e.error.is_empty(), "{}", e.id);
            }
            AtlasKind::Silent => {
                assert!(!e.method.is_empty() && e.error.is_empty(), "{}", e.id);
                assert!(
                    ["pickle", "library", "unknown"].contains(&e.cause.as_str()),
                    "{}",
                    e.id
                );
            }
        }
        if e.error.starts_with("AttributeError: '") && e.error.contains("has no attribute") {
            assert!(!e.attribute.is_empty(), "{}: attribute", e.id);
            assert!(e.error.ends_with(&format!("'{}'", e.attribute)), "{}", e.id);
        }
    }
}

#[test]
fn atlas_lookup_finds_the_hgb_preprocessor_break() {
    // Observed: an HGB classifier pickled by 1.2.2 loads in 1.9.1 and its predict raises.
    let k = Knowledge::embedded();
    let cls =
        "sklearn.ensemble._hist_gradient_boosting.gradient_boosting:HistGradientBoostingClassifier";
    let hits: Vec<_> = k.atlas_for("scikit-learn", cls, "1.2.2", "1.9.1").collect();
    assert!(
        hits.iter().any(|e| e.kind == AtlasKind::Use
            && e.method == "predict"
            && e.attribute == "_preprocessor"),
        "{hits:#?}"
    );
    assert!(
        k.atlas_for("scikit-learn", cls, "1.9.1", "1.2.2")
            .next()
            .is_none()
    );
}
