//! The security data: every deny entry fires on a pickle naming it, every entry cites a source,
//! and harmless names stay quiet.

use analyze::security::{Policy, Severity, scan};

fn global_pickle(module: &str, name: &str) -> Vec<u8> {
    // GLOBAL module name, EMPTY_TUPLE, REDUCE, STOP: loading would call module.name().
    format!("c{module}\n{name}\n)R.").into_bytes()
}

#[test]
fn every_deny_entry_fires() {
    let policy = Policy::default();
    assert!(policy.denied().len() > 80);
    for d in policy.denied() {
        // `pathlib.*.write_text` is tried as `pathlib.Path.write_text` (a protocol-4 dotted name).
        let pattern = d.pattern.replace('*', "Path");
        let (module, name) = match pattern.rsplit_once('.') {
            Some((m, n)) => (m.to_owned(), n.to_owned()),
            None => (pattern.clone(), "anything".to_owned()),
        };
        let data = global_pickle(&module, &name);
        let trace = vm::run(&data);
        let findings = scan(&trace, &policy);
        // Names that build code objects are reported as code (PD107), the rest as PD101.
        let code = if d.builds_code { "PD107" } else { "PD101" };
        let hit = findings.iter().find(|f| f.code == code);
        assert!(hit.is_some(), "{} not reported", d.pattern);
        assert!(hit.unwrap().severity >= d.severity, "{}", d.pattern);
    }
}

#[test]
fn every_deny_entry_cites_a_source() {
    let policy = Policy::default();
    // Every entry of the file was parsed: the built-in policy falls back to nothing on error.
    let entries = include_str!("../data/security.toml")
        .matches("[[deny]]")
        .count();
    assert_eq!(policy.denied().len(), entries);
    for d in policy.denied() {
        assert!(
            d.source.starts_with("https://") && d.source.len() > "https://".len() + 3,
            "{}: source {:?}",
            d.pattern,
            d.source
        );
    }
    // A policy file's entries need a source too.
    let unsourced = "[[deny]]\npattern = \"x\"\nseverity = \"high\"\nwhy = \"w\"\n";
    assert!(Policy::from_toml(unsourced).is_err());
    let sourced = format!("{unsourced}source = \"https://example.org/x\"\n");
    let p = Policy::from_toml(&sourced).unwrap();
    assert_eq!(p.denied()[0].source, "https://example.org/x");
}

#[test]
fn dotted_names_and_python2_names_are_checked() {
    let policy = Policy::default();
    // A dotted attribute under a harmless-looking module path still hits `os`.
    assert!(policy.deny_match("os.path", "join").is_some());
    // protocol-0 name for builtins.
    assert_eq!(
        policy.deny_match("__builtin__", "eval").unwrap().severity,
        Severity::Critical
    );
    // Allowed data types are not denied.
    assert!(policy.deny_match("collections", "OrderedDict").is_none());
    assert!(policy.allowed("collections", "OrderedDict"));
    assert!(policy.allowed("torch", "FloatStorage"));
    assert!(!policy.allowed("torch", "load"));
    assert!(policy.allowed("__builtin__", "set"));
}

#[test]
fn harmless_model_pickle_has_no_findings_above_low() {
    let data = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../samples/logistic-regression.pkl"
    ))
    .unwrap();
    let trace = vm::run(&data);
    let findings = scan(&trace, &Policy::default());
    assert!(
        findings.iter().all(|f| f.severity == Severity::Low),
        "{findings:#?}"
    );
}
