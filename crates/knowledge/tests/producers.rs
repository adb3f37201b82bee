//! `producers.toml`: every entry is well-formed, and every entry has a case below showing
//! what it applies to (adding an entry means adding its case).

use std::collections::HashSet;

use knowledge::{Evidence, Knowledge, Producer, Version};

fn version_ok(v: &str) -> bool {
    v.is_empty() || Version::parse(v).is_some()
}

#[test]
fn producers_are_well_formed() {
    let k = Knowledge::embedded();
    assert!(!k.producers.is_empty());
    let mut ids = HashSet::new();
    for p in &k.producers {
        assert!(ids.insert(p.id.clone()), "duplicate id {}", p.id);
        assert!(!p.dist.is_empty(), "{}", p.id);
        assert!(p.source.starts_with("https://"), "{}", p.id);
        assert!(version_ok(&p.since) && version_ok(&p.until), "{}", p.id);
        if let (Some(a), Some(b)) = (Version::parse(&p.since), Version::parse(&p.until)) {
            assert!(a < b, "{}: empty range", p.id);
        }
        assert!(!p.note.is_empty(), "{} says how it was verified", p.id);
        match &p.evidence {
            Evidence::StateKey(key) => assert!(!key.is_empty(), "{}", p.id),
            Evidence::ModulePrefix { prefix, .. } => assert!(!prefix.is_empty(), "{}", p.id),
            Evidence::Globals { names, .. } => {
                for g in names {
                    let (m, n) = g.rsplit_once('.').unwrap_or(("", ""));
                    assert!(!m.is_empty() && !n.is_empty(), "{}: {g}", p.id);
                    assert!(p.names_global(m, n), "{}: {g}", p.id);
                }
            }
        }
        if let Some((spec, reason)) = p.evidence.spec_and_reason() {
            assert!(!reason.is_empty(), "{}", p.id);
            let v = spec.trim_start_matches(['=', '>', '<', '!', '~']);
            assert!(
                v.len() < spec.len() && Version::parse(v).is_some(),
                "{}: {spec} is a version specifier",
                p.id
            );
            // The range it implies is the entry's own since..until.
            let (since, until) = p.implied_range().expect("a range");
            let same = |a: &str, b: &str| {
                a.is_empty() && b.is_empty()
                    || Version::parse(a)
                        .zip(Version::parse(b))
                        .is_some_and(|(a, b)| a.cmp(&b).is_eq())
            };
            assert!(
                same(&since, &p.since) && same(&until, &p.until),
                "{}: spec {spec} vs since/until",
                p.id
            );
        }
    }
}

/// A check of what one entry applies to.
type Case = fn(&Producer);

/// Each entry of the file, and the case showing it applies.
#[test]
fn every_producer_entry_applies() {
    let k = Knowledge::embedded();
    let cases: [(&str, Case); 5] = [
        ("sklearn-version-in-estimator-state", |p| {
            assert_eq!(p.dist, "scikit-learn");
            assert_eq!(p.evidence, Evidence::StateKey("_sklearn_version".into()));
            assert!(!p.names_module("sklearn.linear_model._logistic"));
        }),
        ("numpy-core-renamed-in-numpy-2", |p| {
            assert_eq!(p.dist, "numpy");
            assert!(p.names_module("numpy._core.multiarray"));
            assert!(p.names_module("numpy._core"));
            assert!(!p.names_module("numpy.core.multiarray"));
            assert!(!p.names_module("numpy"));
            let Evidence::ModulePrefix { spec, reason, .. } = &p.evidence else {
                panic!("{:?}", p.evidence);
            };
            assert_eq!(spec, ">=2");
            assert_eq!(reason, "the data names numpy._core: written by numpy 2");
            assert!(p.requires);
        }),
        // The writer markers: what they name here; crates/analyze/tests/producers_inferred.rs
        // checks them against real pickles of known writers.
        ("numpy-core-written-by-numpy-1", |p| {
            assert!(p.names_global("numpy.core.multiarray", "scalar"));
            assert!(p.names_global("numpy.core.multiarray", "_reconstruct"));
            assert!(!p.names_global("numpy._core.multiarray", "_reconstruct"));
            assert!(!p.names_global("numpy", "ndarray"));
            assert_eq!(p.implied_range(), Some((String::new(), "2".into())));
            assert!(!p.requires, "numpy 2 loads numpy.core pickles");
        }),
        ("pandas-core-classes-written-by-pandas-before-3", |p| {
            assert!(p.names_global("pandas.core.series", "Series"));
            assert!(p.names_global("pandas.core.frame", "DataFrame"));
            assert!(!p.names_global("pandas", "Series"));
            assert!(!p.names_global("pandas.core.series", "Series2"));
            assert!(!p.names_global("pandas.core.indexes.base", "_new_Index"));
            assert_eq!(p.implied_range(), Some((String::new(), "3".into())));
            assert!(!p.requires);
        }),
        ("pandas-public-classes-written-by-pandas-3", |p| {
            assert!(p.names_global("pandas", "Series"));
            assert!(p.names_global("pandas.arrays", "StringArray"));
            assert!(!p.names_global("pandas.core.series", "Series"));
            assert_eq!(p.implied_range(), Some(("3".into(), String::new())));
            assert!(!p.requires);
        }),
    ];
    let ids: HashSet<&str> = k.producers.iter().map(|p| p.id.as_str()).collect();
    let covered: HashSet<&str> = cases.iter().map(|c| c.0).collect();
    assert_eq!(ids, covered, "every entry has a case, every case an entry");
    for (id, case) in cases {
        let p = k.producers.iter().find(|p| p.id == id).unwrap();
        case(p);
        // Found through the distribution it speaks for.
        assert!(k.producers_of(&p.dist).any(|q| q.id == id));
    }
    assert_eq!(k.producers_of("pandas").count(), 2);
}

#[test]
fn producer_entries_with_a_typo_or_mixed_evidence_do_not_parse() {
    let ok = r#"id = "x"
dist = "d"
state_key = "_v"
source = "https://example.org""#;
    assert!(toml::from_str::<Producer>(ok).is_ok());
    for bad in [
        // A misspelt key.
        ok.replace("state_key", "state_kye"),
        // No evidence.
        ok.replace("state_key = \"_v\"\n", ""),
        // Both kinds.
        format!("{ok}\nmodule_prefix = \"m\"\nspec = \">=1\"\nreason = \"r\""),
        // A module prefix without its spec.
        ok.replace(
            "state_key = \"_v\"",
            "module_prefix = \"m\"\nreason = \"r\"",
        ),
    ] {
        assert!(toml::from_str::<Producer>(&bad).is_err(), "{bad}");
    }
}
