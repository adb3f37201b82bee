//! `scan --format json`: the document described in DESIGN.md.

use std::io::Write;

use anyhow::Result;
use serde_json::json;

use super::Report;

pub(super) fn write(out: &mut impl Write, reports: &[Report]) -> Result<()> {
    let files: Vec<serde_json::Value> = reports
        .iter()
        .map(|r| {
            let findings: Vec<serde_json::Value> = r
                .findings
                .iter()
                .map(|l| {
                    let f = &l.finding;
                    json!({"code": f.code, "severity": f.severity.as_str(), "global": f.global,
                           "member": if l.member.is_empty() { None } else { Some(&l.member) },
                           "offset": f.offset, "message": f.message, "help": f.help})
                })
                .collect();
            json!({"path": r.path, "format": r.format, "verdict": r.verdict(),
                   "error": r.error, "findings": findings})
        })
        .collect();
    writeln!(
        out,
        "{}",
        serde_json::to_string_pretty(&json!({ "files": files }))?
    )?;
    Ok(())
}
