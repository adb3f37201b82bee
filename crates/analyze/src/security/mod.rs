//! Security findings: what loading the pickle would do that a model file should not.

mod names;
mod policy;
pub mod rules;

use std::fmt;

pub use policy::{Allow, Deny, Judgement, Policy, PolicyError};
use vm::Trace;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; does not make a file unsafe.
    Low,
    /// Suspicious; unsafe under a strict policy.
    Medium,
    /// Likely to run code the user did not intend.
    High,
    /// Runs code, touches files or the network, or hides what it calls.
    Critical,
}

impl Severity {
    /// The lowercase name used in output.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// Parses a lowercase name.
    #[must_use]
    pub fn parse(s: &str) -> Option<Severity> {
        Some(match s {
            "low" => Severity::Low,
            "medium" => Severity::Medium,
            "high" => Severity::High,
            "critical" => Severity::Critical,
            _ => return None,
        })
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One finding, at a byte offset of the pickle stream it was found in.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    /// The rule's stable code, e.g. `PD101`.
    pub code: &'static str,
    /// How bad it is.
    pub severity: Severity,
    /// The global involved, as `module.name`, when there is one.
    pub global: Option<String>,
    /// Offset of the op in the pickle stream.
    pub offset: u64,
    /// What happens on load.
    pub message: String,
    /// What to do about it.
    pub help: String,
}

/// When a pickle starting at `start` stopped on its very first op (a text file, raw bytes, a
/// truncated or unknown first byte), what `pickle.load` raises there, in its words: the file
/// is not a pickle, and nothing would run. Budget overruns are not such failures.
#[must_use]
pub fn not_a_pickle(e: &vm::VmError, start: u64) -> Option<String> {
    (e.offset == start && !e.is_budget()).then(|| crate::load::stream_error(e, start))
}

/// Runs every rule over a trace and returns the findings in stream order.
#[must_use]
pub fn scan(trace: &Trace<'_>, policy: &Policy) -> Vec<Finding> {
    scan_depth(trace, policy, 0)
}

/// [`scan`] for a pickle nested `depth` levels inside others.
pub(crate) fn scan_depth(trace: &Trace<'_>, policy: &Policy, depth: usize) -> Vec<Finding> {
    let cx = rules::Context {
        trace,
        policy,
        depth,
        judged: names::judged(trace, policy),
    };
    let mut out = Vec::new();
    for rule in rules::ALL {
        if let rules::Check::Trace(check) = rule.check {
            check(&cx, &mut out);
        }
    }
    out.sort_by_key(|f| (f.offset, std::cmp::Reverse(f.severity)));
    out
}

/// Runs the file rules over the parsed header of a safetensors, GGUF or ONNX file, and returns
/// the findings in file order. Their offsets are file offsets.
#[must_use]
pub fn scan_inventory(inventory: &container::Inventory, policy: &Policy) -> Vec<Finding> {
    let cx = rules::FileContext { inventory, policy };
    let mut out = Vec::new();
    for rule in rules::ALL {
        if let rules::Check::File(check) = rule.check {
            check(&cx, &mut out);
        }
    }
    out.sort_by_key(|f| (f.offset, std::cmp::Reverse(f.severity)));
    out
}
