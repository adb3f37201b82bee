//! Bytes after STOP, against CPython: the generated `trailing/` fixtures are one pickle followed
//! by a newline, padding, text, further pickles or a cut-off one. For each, the corpus records
//! what `python -m pickletools FILE` prints and where each `pickle.load` from the stream stops
//! (`tell()`); what follows the last whole pickle is known from construction. `dis` prints
//! pickletools' output and notes the rest on stderr; `show` and `check` note it and exit as
//! without it; `scan` notes bytes that are not a pickle at low severity and scans every further
//! pickle.

mod common;

use std::path::PathBuf;

use common::{fixtures_dir, run_cli, sibling};
use serde_json::Value;

struct Case {
    path: PathBuf,
    name: String,
    size: u64,
    /// Where the first `pickle.load` stopped.
    first_end: u64,
    /// Where the last whole pickle ends (the loads that succeeded one after another).
    whole_end: u64,
    /// How many whole pickles.
    whole: usize,
    kind: String,
    pickletools: Vec<u8>,
}

fn cases() -> Option<Vec<Case>> {
    let dir = fixtures_dir()?.join("trailing");
    let mut out = Vec::new();
    for e in std::fs::read_dir(&dir).unwrap().flatten() {
        let path = e.path();
        if path.extension().is_none_or(|x| x != "tail") {
            continue;
        }
        let facts: Value =
            serde_json::from_slice(&std::fs::read(sibling(&path, ".json")).unwrap()).unwrap();
        assert_eq!(facts["pickletools_exit"], 0, "{}", path.display());
        let loads = facts["loads"].as_array().unwrap();
        let ok: Vec<&Value> = loads.iter().take_while(|l| l["ok"] == true).collect();
        out.push(Case {
            name: path.file_name().unwrap().to_string_lossy().into_owned(),
            size: facts["size"].as_u64().unwrap(),
            first_end: ok[0]["end"].as_u64().unwrap(),
            whole_end: ok.last().unwrap()["end"].as_u64().unwrap(),
            whole: ok.len(),
            kind: facts["tail_kind"].as_str().unwrap().to_owned(),
            pickletools: std::fs::read(sibling(&path, ".pickletools")).unwrap(),
            path,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    assert!(out.len() >= 60, "only {} trailing cases", out.len());
    Some(out)
}

fn bytes_after(n: u64, at: u64) -> String {
    format!(
        "{n} byte{} after STOP at offset {at} ",
        if n == 1 { "" } else { "s" }
    )
}

#[test]
fn dis_prints_pickletools_output_and_notes_trailing_bytes() {
    let Some(cases) = cases() else { return };
    for c in &cases {
        let out = run_cli(&["dis", c.path.to_str().unwrap()], None);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{}: {stderr}", c.name);
        if c.whole == 1 {
            assert!(
                out.stdout == c.pickletools,
                "{}: not pickletools' output",
                c.name
            );
        } else {
            // Several whole pickles: each is headed (docs/json.md), the first is pickletools'.
            let head = b"== pickle 0 at offset 0 ==\n";
            assert!(out.stdout.starts_with(head), "{}", c.name);
            assert!(
                out.stdout[head.len()..].starts_with(&c.pickletools),
                "{}: first pickle is not pickletools' listing",
                c.name
            );
            let headings = String::from_utf8_lossy(&out.stdout)
                .matches("== pickle ")
                .count();
            assert_eq!(headings, c.whole, "{}", c.name);
        }
        if c.whole_end < c.size {
            let want = bytes_after(c.size - c.whole_end, c.whole_end);
            assert!(
                stderr.contains(&want),
                "{}: {stderr:?} lacks {want:?}",
                c.name
            );
        } else {
            assert!(!stderr.contains("note"), "{}: {stderr}", c.name);
        }
    }
}

#[test]
fn show_notes_trailing_bytes_and_exits_as_without_them() {
    let Some(cases) = cases() else { return };
    for c in &cases {
        let out = run_cli(&["show", "--json", c.path.to_str().unwrap()], None);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}: {}",
            c.name,
            String::from_utf8_lossy(&out.stderr)
        );
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        let t = &doc["members"][0]["trailing"];
        if c.whole_end < c.size {
            assert_eq!(t["offset"], c.whole_end, "{}", c.name);
            assert_eq!(t["length"], c.size - c.whole_end, "{}", c.name);
        } else {
            assert!(t.is_null(), "{}: {t}", c.name);
        }
        let text = run_cli(&["show", c.path.to_str().unwrap()], None);
        assert_eq!(text.status.code(), Some(0), "{}", c.name);
        let text = String::from_utf8_lossy(&text.stdout);
        assert_eq!(
            text.contains("note: "),
            c.whole_end < c.size,
            "{}: {text}",
            c.name
        );
        assert!(!text.contains("<incomplete"), "{}: {text}", c.name);
    }
}

#[test]
fn check_notes_what_the_loader_ignores() {
    let Some(cases) = cases() else { return };
    let paths: Vec<String> = cases.iter().map(|c| c.path.display().to_string()).collect();
    let mut args = vec!["check", "--format", "json", "--loader", "pickle"];
    args.extend(paths.iter().map(String::as_str));
    let out = run_cli(&args, None);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    for (c, f) in cases.iter().zip(doc["files"].as_array().unwrap()) {
        assert_eq!(f["verdict"], "loads", "{}: {f}", c.name);
        let t = f["trailing"].as_array().unwrap();
        assert_eq!(t.len(), 1, "{}: {f}", c.name);
        assert_eq!(t[0]["offset"], c.first_end, "{}", c.name);
        assert_eq!(t[0]["length"], c.size - c.first_end, "{}", c.name);
    }
}

#[test]
fn scan_notes_bytes_that_are_not_a_pickle_and_scans_further_pickles() {
    let Some(cases) = cases() else { return };
    for c in &cases {
        let (code, doc) = common::scan_json(&[c.path.to_str().unwrap()]);
        let findings = doc["files"][0]["findings"].as_array().unwrap();
        let codes: Vec<&str> = findings
            .iter()
            .map(|f| f["code"].as_str().unwrap())
            .collect();
        match c.kind.as_str() {
            "none" => assert!(codes.is_empty(), "{}: {codes:?}", c.name),
            "not-a-pickle" => {
                assert_eq!(code, Some(0), "{}", c.name);
                assert_eq!(codes, ["PD110"], "{}", c.name);
                assert_eq!(findings[0]["severity"], "low", "{}", c.name);
                assert_eq!(findings[0]["offset"], c.whole_end, "{}", c.name);
            }
            // A cut-off further pickle is a broken stream: a reader that loads on runs its
            // prefix, so it is never clean.
            _ => assert_eq!(codes, ["PD105"], "{}", c.name),
        }
    }
}
