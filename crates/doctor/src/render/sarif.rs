//! `scan --format sarif`: SARIF 2.1.0, one result per finding.
//!
//! Offsets go in `region.byteOffset`. When a member's bytes are stored as is in the file (a raw
//! pickle, a stored zip entry), the offset is given in file coordinates so that a viewer points
//! at the right byte. When they are compressed (a zlib joblib, a deflated zip entry), the
//! member is a nested artifact (`parentIndex`, as SARIF §3.24.3 describes for archives) and
//! the offset is in the member's own bytes.

use std::collections::HashMap;
use std::io::Write;

use std::io;

use analyze::security::{Severity, rules};
use serde_json::{Value, json};

use crate::scan::ScanReport;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// Writes the SARIF log of `reports`.
///
/// # Errors
/// Writing fails.
pub fn write(out: &mut impl Write, reports: &[ScanReport]) -> io::Result<()> {
    let mut artifacts = Artifacts::default();
    let mut results = Vec::new();
    let mut notifications = Vec::new();
    for r in reports {
        let file = artifacts.file(&r.path);
        if let Some(e) = &r.error {
            notifications.push(json!({
                "level": "error",
                "message": {"text": e},
                "locations": [{"physicalLocation": {"artifactLocation": artifacts.location(file)}}],
            }));
        }
        for l in &r.findings {
            let f = &l.finding;
            let (artifact, byte_offset) = match l.member_start {
                Some(start) => (file, start + f.offset),
                None => (artifacts.member(file, &l.member), f.offset),
            };
            let mut location = json!({
                "physicalLocation": {
                    "artifactLocation": artifacts.location(artifact),
                    "region": {"byteOffset": byte_offset},
                },
            });
            if !l.member.is_empty() {
                location["logicalLocations"] = json!([{"name": l.member, "kind": "member"}]);
            }
            results.push(json!({
                "ruleId": f.code,
                "ruleIndex": rules::ALL.iter().position(|r| r.code == f.code),
                "level": level(f.severity),
                "message": {"text": format!("{} (help: {})", f.message, f.help)},
                "locations": [location],
                "properties": {
                    "severity": f.severity.as_str(),
                    "global": f.global,
                    "member": if l.member.is_empty() { None } else { Some(&l.member) },
                    "offset": f.offset,
                    "verdict": r.verdict.as_str(),
                },
            }));
        }
    }
    let driver_rules: Vec<Value> = rules::ALL
        .iter()
        .map(|r| {
            json!({
                "id": r.code,
                "name": r.name,
                "shortDescription": {"text": summary(r.doc)},
                "fullDescription": {"text": summary(r.doc)},
                "help": {"text": r.doc, "markdown": r.doc},
            })
        })
        .collect();
    let log = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "pickle-doctor",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "rules": driver_rules,
            }},
            "artifacts": artifacts.list,
            "invocations": [{
                "executionSuccessful": notifications.is_empty(),
                "toolExecutionNotifications": notifications,
            }],
            "results": results,
        }],
    });
    writeln!(out, "{}", super::pretty(&log))?;
    Ok(())
}

/// critical and high are errors, medium a warning, low a note.
fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low => "note",
    }
}

/// The first paragraph under "What it does".
fn summary(doc: &str) -> String {
    let body = doc.split_once("## What it does\n").map_or(doc, |(_, b)| b);
    let para = body.split("\n\n").next().unwrap_or(body);
    para.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The run's `artifacts` array: files, and compressed members nested under them.
#[derive(Default)]
struct Artifacts {
    list: Vec<Value>,
    index: HashMap<(Option<usize>, String), usize>,
}

impl Artifacts {
    fn file(&mut self, path: &str) -> usize {
        self.add(None, uri(path))
    }

    fn member(&mut self, parent: usize, member: &str) -> usize {
        self.add(Some(parent), uri(member))
    }

    fn add(&mut self, parent: Option<usize>, uri: String) -> usize {
        if let Some(&i) = self.index.get(&(parent, uri.clone())) {
            return i;
        }
        let mut a = json!({"location": {"uri": uri}});
        if let Some(p) = parent {
            a["parentIndex"] = json!(p);
        }
        self.list.push(a);
        self.index.insert((parent, uri), self.list.len() - 1);
        self.list.len() - 1
    }

    fn location(&self, i: usize) -> Value {
        json!({"uri": self.list[i]["location"]["uri"], "index": i})
    }
}

/// A relative URI reference for a path: forward slashes, with the characters that would end
/// or break a URI percent-encoded.
fn uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.replace('\\', "/").chars() {
        match c {
            '%' => out.push_str("%25"),
            ' ' => out.push_str("%20"),
            '#' => out.push_str("%23"),
            '?' => out.push_str("%3F"),
            '[' => out.push_str("%5B"),
            ']' => out.push_str("%5D"),
            c if c.is_control() => {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("%{b:02X}"));
                }
            }
            c => out.push(c),
        }
    }
    // `a:b/...` would read as a URI scheme.
    if out
        .split('/')
        .next()
        .is_some_and(|first| first.contains(':'))
    {
        out.insert_str(0, "./");
    }
    out
}
