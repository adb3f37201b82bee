//! Output formats, shared by every front end so that the CLI's output and the binding's
//! dictionaries are one contract (docs/json.md).
//!
//! JSON documents are built from the serializable reports and printed with sorted keys and
//! two-space indentation: `serde_json::Value` keeps object keys in order.

pub mod check;
pub mod export;
pub mod fix;
pub mod github;
pub mod sarif;
pub mod scan_text;
pub(crate) mod value;

use std::io::{self, Write};

use serde::Serialize;

use crate::scan::ScanReport;

/// `value` as pretty JSON with sorted keys.
#[must_use]
pub fn pretty(value: &impl Serialize) -> String {
    let v = serde_json::to_value(value).unwrap_or(serde_json::Value::Null);
    serde_json::to_string_pretty(&v).unwrap_or_default()
}

/// `value` as a `serde_json::Value` (objects with sorted keys).
#[must_use]
pub fn to_value(value: &impl Serialize) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}

/// `scan --format json`: `{"files": [...]}`.
///
/// # Errors
/// Writing fails.
pub fn scan_json(out: &mut impl Write, reports: &[ScanReport]) -> io::Result<()> {
    writeln!(out, "{}", pretty(&serde_json::json!({ "files": reports })))
}
