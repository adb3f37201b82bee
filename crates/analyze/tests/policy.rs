//! The security data: every deny entry fires on a pickle naming it, every entry cites a source,
//! and harmless names stay quiet.

use analyze::security::{Judgement, Policy, Severity, scan};

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
fn dotted_names_are_checked_and_allowed_names_are_not_denied() {
    let policy = Policy::default();
    // A dotted attribute under a harmless-looking module path still hits `os`.
    assert!(policy.deny_match("os.path", "join").is_some());
    // Allowed data types are not denied.
    assert!(policy.deny_match("collections", "OrderedDict").is_none());
    assert!(policy.allowed("collections", "OrderedDict"));
    assert!(policy.allowed("torch", "FloatStorage"));
    assert!(!policy.allowed("torch", "load"));
}

#[test]
fn every_allow_entry_cites_a_source() {
    let policy = Policy::default();
    let entries = policy.allowed_entries();
    assert!(entries.len() > 150, "{} allow entries", entries.len());
    for a in entries {
        let source = a.source.as_deref().unwrap_or_default();
        assert!(
            source.starts_with("https://") && source.len() > "https://".len() + 3,
            "{}: source {source:?}",
            a.pattern
        );
    }
    // A policy file may still list bare names.
    let p = Policy::from_toml("allow = [\"mylib.Model\"]\n").unwrap();
    assert!(p.allowed("mylib", "Model"));
}

/// Findings for `data` under the default policy.
fn findings(data: &[u8]) -> Vec<analyze::security::Finding> {
    scan(&vm::run(data), &Policy::default())
}

/// The most severe finding of a rule, if any.
fn worst(data: &[u8], code: &str) -> Option<Severity> {
    findings(data)
        .into_iter()
        .filter(|f| f.code == code)
        .map(|f| f.severity)
        .max()
}

/// `PROTO p` (none for `None`), `GLOBAL module name`, a call with one string, STOP.
fn call_at(proto: Option<u8>, module: &str, name: &str) -> Vec<u8> {
    let mut d = Vec::new();
    if let Some(p) = proto {
        d.extend([0x80, p]);
    }
    d.extend(format!("c{module}\n{name}\n(S'x'\ntR.").into_bytes());
    d
}

/// Python 2 names are mapped through `_compat_pickle` below protocol 3, before the deny
/// checks, exactly when CPython's `find_class` maps them (the last PROTO in effect, none
/// meaning 0); from protocol 3 on Python 3 cannot import them, and they are unknown globals.
/// Checked against CPython: `pickle.loads(b"\x80\x02chttplib\nHTTPConnection\n.")` gives
/// `http.client.HTTPConnection`; with `\x80\x03` it raises `ModuleNotFoundError: No module
/// named 'httplib'`; `\x80\x03\x80\x02c__builtin__\nlen\n.` loads `len` and
/// `\x80\x02\x80\x03c__builtin__\nlen\n.` does not.
#[test]
fn python2_names_are_mapped_below_protocol_3_only() {
    // (module, name, severity of the name it maps to)
    let cases = [
        ("__builtin__", "eval", Severity::Critical),
        ("__builtin__", "getattr", Severity::Critical),
        ("httplib", "HTTPConnection", Severity::Critical),
        ("commands", "getoutput", Severity::Critical),
        ("cPickle", "loads", Severity::Critical),
        ("urllib2", "urlopen", Severity::Critical),
        ("urllib", "urlopen", Severity::Critical),
        ("urllib", "urlretrieve", Severity::Critical),
        ("SocketServer", "TCPServer", Severity::Critical),
        ("BaseHTTPServer", "HTTPServer", Severity::Critical),
        ("cookielib", "FileCookieJar", Severity::High),
        ("dbhash", "open", Severity::Medium),
    ];
    for (module, name, severity) in cases {
        for proto in [None, Some(0), Some(1), Some(2)] {
            let data = call_at(proto, module, name);
            let (m, n) = knowledge::Knowledge::get().compat_map(module, name);
            let expected = Policy::default().deny_match(&m, &n).map(|d| d.severity);
            if severity == Severity::Medium {
                // dbm.bsd is not denied: it is an unknown global, called.
                assert_eq!(expected, None, "{module}.{name}");
                assert_eq!(
                    worst(&data, "PD103"),
                    Some(Severity::High),
                    "{module}.{name}"
                );
                continue;
            }
            assert_eq!(expected, Some(severity), "{module}.{name} -> {m}.{n}");
            assert_eq!(
                worst(&data, "PD101"),
                Some(severity),
                "{module}.{name} at {proto:?}"
            );
            let f = findings(&data);
            assert!(
                f.iter().any(|f| f
                    .message
                    .contains(&format!("`{m}.{n}` (written `{module}.{name}`)"))),
                "{f:#?}"
            );
        }
        for proto in [3, 4, 5] {
            let data = call_at(Some(proto), module, name);
            assert_eq!(worst(&data, "PD101"), None, "{module}.{name} at {proto}");
            // Unknown: a lowercase callable called is high, a class called is low (PD103's
            // grading: calling a class is how enum members and instances are rebuilt).
            let class_like = name.starts_with(|c: char| c.is_ascii_uppercase());
            let want = if class_like {
                Severity::Low
            } else {
                Severity::High
            };
            assert_eq!(
                worst(&data, "PD103"),
                Some(want),
                "{module}.{name} at {proto}"
            );
        }
    }
    // The protocol in effect is the last PROTO before the op.
    let mut late = vec![0x80, 2, 0x80, 3];
    late.extend(b"c__builtin__\neval\n(S'x'\ntR.");
    assert_eq!(worst(&late, "PD101"), None);
    let mut back = vec![0x80, 3, 0x80, 2];
    back.extend(b"c__builtin__\neval\n(S'x'\ntR.");
    assert_eq!(worst(&back, "PD101"), Some(Severity::Critical));
    // STACK_GLOBAL maps too (find_class does), below protocol 3.
    let sg = b"\x80\x02\x8c\x0b__builtin__\x8c\x04eval\x93(S'x'\ntR.";
    assert_eq!(worst(sg, "PD101"), Some(Severity::Critical));
    // A mapped data type stays clean: `__builtin__.xrange` is `builtins.range`.
    assert!(findings(b"\x80\x02c__builtin__\nxrange\nK\x01K\x05\x86R.").is_empty());
}

/// `getattr(<class>, 'literal')` is judged as the attribute it names.
#[test]
fn getattr_of_a_literal_attribute_is_judged_as_that_attribute() {
    // PROTO 2, GLOBAL builtins getattr, the receiver, BINUNICODE attr, TUPLE2, REDUCE, then
    // a call of the result.
    let getattr = |receiver: &str, attr: &str| -> Vec<u8> {
        let mut d = b"\x80\x02cbuiltins\ngetattr\n".to_vec();
        d.extend(receiver.as_bytes());
        d.push(b'X');
        d.extend(u32::try_from(attr.len()).unwrap().to_le_bytes());
        d.extend(attr.as_bytes());
        d.extend(b"\x86R)R.");
        d
    };
    // zoneinfo's classmethod, as protocols 0-3 write `ZoneInfo._unpickle`: clean.
    assert!(findings(&getattr("czoneinfo\nZoneInfo\n", "_unpickle")).is_empty());
    // A bound method of a builtin value: clean.
    assert!(findings(&getattr("]", "append")).is_empty());
    // An enum member by name (Python 3.12's Enum.__reduce_ex__): clean.
    assert!(findings(&getattr("cre\nRegexFlag\n", "IGNORECASE")).is_empty());
    // A dangerous attribute of an allowed class is that attribute.
    let f = findings(&getattr("cpathlib\nPath\n", "write_text"));
    assert!(
        f.iter().any(|f| f.code == "PD101"
            && f.severity == Severity::Critical
            && f.global.as_deref() == Some("pathlib.Path.write_text")),
        "{f:#?}"
    );
    // An unknown class's attribute is unknown, graded by use (called: high).
    assert_eq!(
        worst(&getattr("cmylib\nThing\n", "run"), "PD103"),
        Some(Severity::High)
    );
    // Attributes that reach other objects keep the getattr a name resolver.
    for attr in [
        "__globals__",
        "__subclasses__",
        "__getattribute__",
        "__class__",
    ] {
        assert_eq!(
            worst(&getattr("]", attr), "PD101"),
            Some(Severity::Critical),
            "{attr}"
        );
    }
    // A computed attribute name, or a getattr that is only passed around, stays critical.
    let computed = b"\x80\x02cbuiltins\ngetattr\n]cbuiltins\nstr\nX\x01\x00\x00\x00x\x85R\x86R.";
    assert_eq!(worst(computed, "PD101"), Some(Severity::Critical));
    let passed = b"\x80\x02cbuiltins\nlist\ncbuiltins\ngetattr\n\x85\x85R.";
    assert_eq!(worst(passed, "PD101"), Some(Severity::Critical));
    // The receiver of an unknown kind (a call's result of a function) is not resolved.
    let unknown = b"\x80\x02cbuiltins\ngetattr\ncmylib\nmake\n)RX\x03\x00\x00\x00run\x86R.";
    assert_eq!(worst(unknown, "PD101"), Some(Severity::Critical));
}

/// `functools.partial` of allowed callables binds arguments to them and nothing else.
#[test]
fn partial_of_allowed_callables_is_clean() {
    // partial(int) with state (int, (), {'base': 2}, None), as protocol 2 writes it.
    let ok = b"\x80\x02cfunctools\npartial\ncbuiltins\nint\n\x85R(cbuiltins\nint\n)}X\x04\x00\x00\x00baseK\x02sNtb.";
    assert!(findings(ok).is_empty(), "{:#?}", findings(ok));
    let bad = b"\x80\x02cfunctools\npartial\ncos\nsystem\n\x85R.";
    assert_eq!(worst(bad, "PD101"), Some(Severity::Critical));
    assert!(
        findings(bad)
            .iter()
            .any(|f| f.global.as_deref() == Some("functools.partial"))
    );
    // The state replaces the callable: an unknown one there keeps the partial reported.
    let swapped =
        b"\x80\x02cfunctools\npartial\ncbuiltins\nint\n\x85R(cmylib\nrun\n)}NtbK\x01\x85R.";
    assert!(
        findings(swapped)
            .iter()
            .any(|f| f.global.as_deref() == Some("functools.partial"))
    );
}

/// A built-in deny of a whole module yields to an allow entry naming a value type in it; a
/// user's deny entry does not.
#[test]
fn exact_allow_entries_override_module_denies() {
    let policy = Policy::default();
    assert_eq!(policy.judge("socket", "AddressFamily"), Judgement::Allowed);
    assert!(matches!(
        policy.judge("socket", "create_connection"),
        Judgement::Denied(_)
    ));
    assert!(matches!(policy.judge("os", "system"), Judgement::Denied(_)));
    assert_eq!(policy.judge("os", "stat_result"), Judgement::Allowed);
    // numpy.* never overrides numpy.load.
    assert!(matches!(
        policy.judge("numpy", "load"),
        Judgement::Denied(_)
    ));
    let mut user = Policy::default();
    user.extend(
        Policy::from_toml(
            "[[deny]]\npattern = \"socket\"\nseverity = \"high\"\nwhy = \"w\"\nsource = \"https://example.org/x\"\n",
        )
        .unwrap(),
    );
    assert!(matches!(
        user.judge("socket", "AddressFamily"),
        Judgement::Denied(_)
    ));
}

/// Every name on picklescan 1.0.5's deny list (`_unsafe_globals`, written with its allow list to
/// tests/data/picklescan_unsafe_globals.json by scripts/picklescan_globals.py) is denied
/// here too (PD101 or PD107), Python 2 names at protocol 2, where Python maps them. One
/// exception, by real effect: picklescan denies all of `uuid`, which holds the `uuid.UUID`
/// value type; here its command-running helpers are denied instead.
#[test]
fn picklescan_deny_list_is_covered() {
    let doc: serde_json::Value =
        serde_json::from_str(include_str!("data/picklescan_unsafe_globals.json")).unwrap();
    assert_eq!(doc["picklescan"], "1.0.5");
    let mut checked = 0;
    for (module, names) in doc["unsafe_globals"].as_object().unwrap() {
        let names: Vec<String> = match names {
            serde_json::Value::String(s) if s == "*" => match module.as_str() {
                "uuid" => vec!["_get_command_stdout".to_owned(), "getnode".to_owned()],
                _ => vec!["anything".to_owned()],
            },
            other => other
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n.as_str().unwrap().to_owned())
                .collect(),
        };
        for name in names {
            let data = call_at(Some(2), module, &name);
            let f = findings(&data);
            assert!(
                f.iter()
                    .any(|f| (f.code == "PD101" || f.code == "PD107")
                        && f.severity >= Severity::High),
                "{module}.{name}: {f:#?}"
            );
            checked += 1;
        }
    }
    assert!(checked > 90, "{checked}");
    assert!(findings(&call_at(Some(2), "uuid", "UUID")).is_empty());
    // Its allow list is allowed here too.
    let policy = Policy::default();
    let mut safe = 0;
    for (module, names) in doc["safe_globals"].as_object().unwrap() {
        for name in names.as_array().unwrap() {
            let name = name.as_str().unwrap();
            assert_eq!(
                policy.judge(module, name),
                Judgement::Allowed,
                "{module}.{name}"
            );
            safe += 1;
        }
    }
    assert!(safe > 20, "{safe}");
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
