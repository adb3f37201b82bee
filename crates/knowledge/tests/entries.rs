//! Every knowledge entry is well-formed: a unique id, a source URL, version bounds that parse,
//! and (for renames) `from` and `to` that differ. What the entries claim about real packages
//! is checked in the reference venvs by `crates/cli/tests/knowledge.rs`.

use std::collections::HashSet;

use knowledge::{BreakFix, BreakKind, Knowledge, Version};

fn version_ok(v: &str) -> bool {
    v.is_empty() || Version::parse(v).is_some()
}

#[test]
fn renames_are_well_formed() {
    let k = Knowledge::embedded();
    assert!(k.renames.len() > 400);
    let mut ids = HashSet::new();
    for r in &k.renames {
        assert!(ids.insert(r.id.clone()), "duplicate id {}", r.id);
        assert!(r.source.starts_with("https://"), "{}", r.id);
        assert!(version_ok(&r.since) && version_ok(&r.until), "{}", r.id);
        assert!(
            version_ok(&r.applied_since) && version_ok(&r.applied_until),
            "{}",
            r.id
        );
        assert_ne!(r.from, r.to, "{}", r.id);
        assert!(!r.note.is_empty(), "{} says how it was verified", r.id);
    }
    for s in &k.shims {
        assert!(ids.insert(s.id.clone()), "duplicate id {}", s.id);
        assert!(s.source.starts_with("https://"), "{}", s.id);
    }
}

#[test]
fn breaks_are_well_formed() {
    let k = Knowledge::embedded();
    assert!(k.breaks.len() >= 38);
    let mut ids = HashSet::new();
    for b in &k.breaks {
        assert!(ids.insert(b.id.clone()), "duplicate id {}", b.id);
        assert!(b.source.starts_with("https://"), "{}", b.id);
        assert!(version_ok(&b.since) && version_ok(&b.until), "{}", b.id);
        assert!(!b.detect.is_empty(), "{} has a detect pattern", b.id);
        // A load failure says how the loader words it.
        if b.kind == BreakKind::Failure {
            assert!(b.error.is_some(), "{} has an error text", b.id);
        }
    }
    // CodeType layouts for every minor from 3.7.
    let minors: Vec<&str> = k.codetypes.iter().map(|c| c.python.as_str()).collect();
    for m in ["3.7", "3.8", "3.9", "3.10", "3.11", "3.12", "3.13"] {
        assert!(minors.contains(&m), "{m}");
    }
}

#[test]
fn distribution_names_are_well_formed() {
    let k = Knowledge::embedded();
    assert!(k.distributions.len() > 200);
    let mut modules = HashSet::new();
    for d in &k.distributions {
        assert!(modules.insert(d.module.clone()), "duplicate {}", d.module);
        assert!(d.source.starts_with("https://"), "{}", d.module);
    }
    assert_eq!(
        k.distribution_for("sklearn.tree._classes").unwrap().dist,
        "scikit-learn"
    );
    assert_eq!(
        k.distribution_for("google.protobuf.message").unwrap().dist,
        "protobuf"
    );
}

#[test]
fn weights_only_allowlist_is_torchs() {
    let k = Knowledge::embedded();
    assert!(k.weights_only.allowed.len() > 100);
    assert!(k.weights_only.allows("torch._utils", "_rebuild_tensor_v2"));
    assert!(!k.weights_only.allows("builtins", "eval"));
}

#[test]
fn every_break_kind_is_used_and_known() {
    let k = Knowledge::embedded();
    let used: HashSet<BreakKind> = k.breaks.iter().map(|b| b.kind).collect();
    let known: HashSet<BreakKind> = BreakKind::ALL.into_iter().collect();
    assert_eq!(used, known, "a kind nobody uses");
}

/// The names themselves resolve in `rewrite` (`crates/rewrite/tests/knowledge_repairs.rs`).
#[test]
fn state_repairs_are_named_in_the_data() {
    let k = knowledge::Knowledge::embedded();
    let named: Vec<(&str, &str)> = k
        .breaks
        .iter()
        .filter_map(|b| Some((b.id.as_str(), b.repair.as_deref()?)))
        .collect();
    assert_eq!(named.len(), 23, "{named:?}");
    // A repair is a tested rewrite.
    for (id, _) in &named {
        let b = k.breaks.iter().find(|b| b.id == *id).unwrap();
        assert_eq!(b.fix_kind, BreakFix::Rewrite, "{id}");
    }
}

/// A misspelt kind or fix kind is a parse error, not a break silently ignored.
#[test]
fn misspelt_kinds_do_not_parse() {
    #[derive(serde::Deserialize)]
    #[allow(dead_code, reason = "only parsing is tested")]
    struct K {
        kind: BreakKind,
        fix_kind: BreakFix,
    }
    assert!(toml::from_str::<K>("kind = \"silent\"\nfix_kind = \"rewrite\"").is_ok());
    assert!(toml::from_str::<K>("kind = \"slient\"\nfix_kind = \"rewrite\"").is_err());
    assert!(toml::from_str::<K>("kind = \"silent\"\nfix_kind = \"rewirte\"").is_err());
}

/// `python2_strings.toml`: each wrapper and retry names a loader that has one, its version
/// bounds parse, it has a source and says how it was verified; a wrapper's only placeholder
/// is `{error_repr}`. The texts themselves are compared with real loads by the check matrix
/// (`crates/cli/tests/check_matrix.rs`, group `python2`).
#[test]
fn python2_string_entries_are_well_formed() {
    let k = Knowledge::embedded();
    let t = &k.python2_strings;
    assert!(t.source.starts_with("https://"));
    assert!(!t.wrapper.is_empty() && !t.fallback.is_empty());
    for w in &t.wrapper {
        assert!(
            ["numpy", "joblib"].contains(&w.loader.as_str()),
            "{}",
            w.loader
        );
        assert!(version_ok(&w.since) && version_ok(&w.until), "{}", w.loader);
        assert!(w.source.starts_with("https://"), "{}", w.loader);
        assert!(w.note.contains("load test"), "{}", w.loader);
        let rendered =
            w.render("UnicodeDecodeError('ascii', b'\\xe9', 0, 1, 'ordinal not in range(128)')");
        assert!(
            !rendered.contains("{error_repr}") && !rendered.contains("{\""),
            "{rendered}"
        );
        assert!(
            w.error
                .split(": ")
                .next()
                .is_some_and(|t| t.ends_with("Error")),
            "{}",
            w.error
        );
    }
    for f in &t.fallback {
        assert_eq!(f.loader, "pandas");
        assert!(version_ok(&f.since) && version_ok(&f.until), "{}", f.loader);
        assert!(f.source.starts_with("https://") && f.note.contains("load test"));
        assert!(["latin-1", "latin1"].contains(&f.encoding.as_str()));
    }
}

/// `renames.toml` `[[refused]]`: unique ids, bounds that parse, a source, a verification
/// note. Real imports check them in the reference venvs (`tests/knowledge/verify_renames.py`).
#[test]
fn refused_names_are_well_formed() {
    let k = Knowledge::embedded();
    assert!(!k.refused.is_empty());
    let mut ids = HashSet::new();
    for r in &k.refused {
        assert!(ids.insert(r.id.clone()), "duplicate id {}", r.id);
        assert!(r.source.starts_with("https://"), "{}", r.id);
        assert!(version_ok(&r.since) && version_ok(&r.until), "{}", r.id);
        assert!(!r.names.is_empty() && !r.note.is_empty(), "{}", r.id);
    }
}

#[test]
fn messages_are_well_formed() {
    let k = Knowledge::embedded();
    assert!(!k.messages.is_empty());
    for m in &k.messages {
        assert!(m.source.starts_with("https://"), "{}", m.id);
        assert!(version_ok(&m.since) && version_ok(&m.until), "{}", m.id);
        assert!(!m.note.is_empty(), "{} says how it was verified", m.id);
        assert!(
            m.text.contains("{class}") || !m.text.contains('{'),
            "{}",
            m.id
        );
    }
    // A version outside every range gets the entry verified last; the class is filled in.
    let text = k
        .message("sklearn-not-fitted", Some("0.1"), "Thing")
        .unwrap();
    assert!(text.contains("This Thing instance"), "{text}");
}
