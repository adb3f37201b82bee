//! The facade's own contract, hermetic (no Python, no corpora): results cross threads and
//! serialize, one error type classifies failures, and the entry points agree with each other.
//! What Python itself does is checked by the CLI's differential tests, which run through this
//! facade.

use std::path::{Path, PathBuf};

use doctor::scan::{Hooks, ScanOptions};
use doctor::{Error, ErrorKind, ScanVerdict, Session, TargetSpec};

fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples")
}

#[test]
fn results_are_send_sync_and_serializable() {
    fn send_sync<T: Send + Sync>() {}
    fn ser<T: serde::Serialize>() {}
    send_sync::<Session>();
    send_sync::<doctor::CheckReport>();
    send_sync::<doctor::ScanReport>();
    send_sync::<doctor::FixOutcome>();
    send_sync::<doctor::Requirement>();
    send_sync::<Error>();
    ser::<doctor::CheckReport>();
    ser::<doctor::ScanReport>();
    ser::<doctor::Requirement>();
    ser::<doctor::safe_load::LoadPlan>();
}

/// GLOBAL os.system, then a call.
const OS_SYSTEM: &[u8] = b"cos\nsystem\n(S'true'\ntR.";

#[test]
fn scanning_bytes_a_file_and_a_directory_agree() {
    let dir = tempfile::tempdir().unwrap();
    let evil = dir.path().join("evil.pkl");
    std::fs::write(&evil, OS_SYSTEM).unwrap();
    let opts = ScanOptions::default();
    let from_bytes = doctor::scan::scan_bytes(OS_SYSTEM, &evil.display().to_string(), &opts);
    let from_file = doctor::scan::scan_file(&evil, true, &opts).unwrap();
    let from_dir =
        doctor::scan::scan_paths(&[dir.path().to_path_buf()], &opts, Hooks::default()).unwrap();
    assert_eq!(from_bytes.verdict, ScanVerdict::Unsafe);
    assert_eq!(from_bytes.findings[0].finding.code, "PD101");
    assert_eq!(from_bytes.findings[0].finding.offset, 0);
    let json = |r: &doctor::ScanReport| doctor::render::to_value(r);
    assert_eq!(json(&from_bytes), json(&from_file));
    assert_eq!(from_dir.files.len(), 1);
    assert_eq!(json(&from_dir.files[0]), json(&from_file));
}

#[test]
fn a_cancelled_scan_says_so() {
    let cancel = std::sync::atomic::AtomicBool::new(true);
    let hooks = Hooks {
        on_file: None,
        cancel: Some(&cancel),
    };
    let r = doctor::scan::scan_paths(&[samples()], &ScanOptions::default(), hooks);
    assert!(matches!(r, Err(Error::Interrupted)));
}

#[test]
fn strict_policy_lowers_the_threshold_and_unknown_policies_are_usage_errors() {
    assert!(ScanOptions::with_policy("strict").is_ok());
    let e = ScanOptions::with_policy("/no/such/policy.toml").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Usage);
    assert!(
        !e.to_string().contains("--"),
        "library messages name no flags: {e}"
    );
}

#[test]
fn errors_are_classified_and_name_the_file() {
    let e = doctor::Input::read(Path::new("/no/such/model.pkl")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Io);
    assert!(
        e.to_string()
            .starts_with("cannot open /no/such/model.pkl: "),
        "{e}"
    );
    let e = doctor::dis::dis(
        &mut Vec::new(),
        b"\x00\x01\x02 not a model",
        "junk.bin",
        None,
        &doctor::Limits::default(),
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Input);
    assert!(e.to_string().starts_with("junk.bin: "), "{e}");
    let e = doctor::check::parse_loader("pickel").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Usage);
    let e = doctor::target::parse_python_version("three").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Usage);
}

#[test]
fn check_and_fix_over_a_static_target_return_typed_results() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site-packages");
    std::fs::create_dir(&site).unwrap();
    let session = Session::new(
        &TargetSpec::SitePackages {
            dirs: vec![site],
            python: (3, 11),
        },
        doctor::Limits::default(),
    )
    .unwrap();
    let path = samples().join("logistic-regression.pkl");
    let data = std::fs::read(&path).unwrap();
    let report = session
        .check(&data, "logistic-regression.pkl", &Default::default())
        .unwrap();
    let doc = doctor::render::to_value(&report);
    for key in [
        "path", "format", "loader", "verdict", "error", "globals", "risks", "fixes",
    ] {
        assert!(doc.get(key).is_some(), "{key} missing from {doc}");
    }
    // With nothing installed, nothing can be renamed into place: fix refuses, writes nothing,
    // and its advice is typed (the install line is advice, not a flag).
    let out = dir.path().join("fixed.pkl");
    let opts = doctor::FixOptions {
        output: Some(out.clone()),
        ..Default::default()
    };
    let outcome = session.fix(&path, &data, &opts, &mut |_| {}).unwrap();
    assert!(!outcome.ok());
    assert!(!out.exists());
    let refusal = outcome.refusal.unwrap();
    assert!(
        refusal
            .advice
            .iter()
            .any(|a| matches!(a, doctor::Advice::Install { .. })),
        "{refusal:?}"
    );
}
