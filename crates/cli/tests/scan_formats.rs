//! `scan` output formats: snapshots of text, JSON and SARIF on fixed inputs, and SARIF
//! validated against the OASIS SARIF 2.1.0 schema by Python's `jsonschema` (the schema file
//! and its source are in `tests/data`).

mod common;

use std::io::Write as _;
use std::process::{Command, Stdio};

/// The fixed inputs, relative to the repository root (where the binary runs).
const INPUTS: &[&str] = &[
    "crates/cli/tests/data/scan/clean.pkl",
    "crates/cli/tests/data/scan/memo-stack-global.pt",
    "crates/cli/tests/data/scan/nested-zlib.joblib",
    "crates/cli/tests/data/scan/os-system.pkl",
    "crates/cli/tests/data/scan/truncated.pkl",
    "crates/cli/tests/data/scan/missing.pkl",
];

fn scan(format: &str, paths: &[&str]) -> (Option<i32>, String) {
    let mut args = vec!["scan", "--format", format];
    args.extend_from_slice(paths);
    let out = common::run_cli(&args, None);
    (
        out.status.code(),
        String::from_utf8(out.stdout).expect("UTF-8 output"),
    )
}

#[test]
fn text_snapshot() {
    let (code, text) = scan("text", INPUTS);
    assert_eq!(code, Some(1));
    insta::assert_snapshot!(text);
}

#[test]
fn json_snapshot() {
    let (code, text) = scan("json", INPUTS);
    assert_eq!(code, Some(1));
    insta::assert_snapshot!(text);
}

#[test]
fn sarif_snapshot() {
    let (code, text) = scan("sarif", INPUTS);
    assert_eq!(code, Some(1));
    insta::assert_snapshot!(text);
}

#[test]
fn github_snapshot() {
    let (code, text) = scan("github", INPUTS);
    assert_eq!(code, Some(1));
    insta::assert_snapshot!(text);
}

/// GitHub keeps 10 annotations per level and step: the rest are counted in the summary line,
/// never silently dropped.
#[test]
fn github_annotations_stay_within_githubs_limits() {
    let dir = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    for i in 0..15 {
        let p = dir.path().join(format!("evil,{i}:x.pkl"));
        // GLOBAL os.system, then a call: a critical finding (an error annotation) per file.
        std::fs::write(&p, b"cos\nsystem\n(S'true'\ntR.").unwrap();
        paths.push(p.to_str().unwrap().to_owned());
    }
    let args: Vec<&str> = paths.iter().map(String::as_str).collect();
    let (code, text) = scan("github", &args);
    assert_eq!(code, Some(1));
    let errors: Vec<&str> = text.lines().filter(|l| l.starts_with("::error ")).collect();
    assert_eq!(errors.len(), 10, "{text}");
    // Property values escape `,` and `:`; the file name is still recognisable.
    assert!(
        errors[0].contains("file=") && errors[0].contains("evil%2C"),
        "{}",
        errors[0]
    );
    let last = text.lines().last().unwrap();
    assert!(last.contains("15 files scanned"), "{last}");
    assert!(last.contains("more not annotated"), "{last}");
}

/// `check --format github`: a file that fails is an error annotation with the loader's error.
#[test]
fn check_github_annotates_failures() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site-packages");
    std::fs::create_dir(&site).unwrap();
    let plain = dir.path().join("plain.pkl");
    std::fs::write(&plain, b"(lp0\nI1\naI2\na.").unwrap();
    let out = common::run_cli(
        &[
            "check",
            "--format",
            "github",
            "--site-packages",
            site.to_str().unwrap(),
            "--python-version",
            "3.11",
            plain.to_str().unwrap(),
            "samples/logistic-regression.pkl",
        ],
        None,
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "{text}");
    let errors: Vec<&str> = text.lines().filter(|l| l.starts_with("::error ")).collect();
    assert_eq!(errors.len(), 1, "{text}");
    assert!(
        errors[0].contains("file=samples/logistic-regression.pkl"),
        "{text}"
    );
    // The multi-line message is escaped onto one line.
    assert!(errors[0].contains("%0A"), "{text}");
    assert!(
        text.lines()
            .last()
            .unwrap()
            .starts_with("2 checked: 1 loads, 0 at-risk, 1 fails"),
        "{text}"
    );
}

/// Offsets of members stored as is are given in file coordinates: the byte there is the op.
#[test]
fn sarif_offsets_point_into_the_file() {
    let (_, text) = scan(
        "sarif",
        &["crates/cli/tests/data/scan/memo-stack-global.pt"],
    );
    let log: serde_json::Value = serde_json::from_str(&text).unwrap();
    let data = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/scan/memo-stack-global.pt"
    ))
    .unwrap();
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert!(!results.is_empty());
    for r in results {
        let at = r["locations"][0]["physicalLocation"]["region"]["byteOffset"]
            .as_u64()
            .unwrap();
        // STACK_GLOBAL (0x93) is where the global is named.
        if r["ruleId"] == "PD101" {
            assert_eq!(data[usize::try_from(at).unwrap()], 0x93, "{r}");
        }
    }
}

fn validate_sarif(python: &std::path::Path, log: &str) -> Result<(), String> {
    let schema = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/sarif-schema-2.1.0.json"
    );
    let script = "import json, sys\n\
        from jsonschema import Draft4Validator\n\
        schema = json.load(open(sys.argv[1]))\n\
        Draft4Validator.check_schema(schema)\n\
        v = Draft4Validator(schema, format_checker=Draft4Validator.FORMAT_CHECKER)\n\
        errors = sorted(v.iter_errors(json.load(sys.stdin)), key=lambda e: list(e.path))\n\
        for e in errors[:20]:\n    print(list(e.path), e.message)\n\
        sys.exit(1 if errors else 0)\n";
    let mut child = Command::new(python)
        .args(["-c", script, schema])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(log.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

#[test]
fn sarif_is_valid_against_the_schema() {
    let Some(python) = common::from_env("PICKLE_DOCTOR_PYTHON") else {
        return;
    };
    // The fixed inputs, and the whole hostile corpus (every rule, every container) when there.
    let (_, log) = scan("sarif", INPUTS);
    validate_sarif(&python, &log).unwrap();
    if let Some(hostile) = common::from_env("PICKLE_DOCTOR_HOSTILE") {
        let (code, log) = scan("sarif", &[hostile.to_str().unwrap()]);
        assert_eq!(code, Some(1));
        let parsed: serde_json::Value = serde_json::from_str(&log).unwrap();
        assert!(parsed["runs"][0]["results"].as_array().unwrap().len() > 2000);
        validate_sarif(&python, &log).unwrap();
    }
    // The validator does reject a broken log (the check is not vacuous).
    let broken = log.replacen("\"version\": \"2.1.0\"", "\"version\": \"9\"", 1);
    assert!(validate_sarif(&python, &broken).is_err());
}
