//! The rules, one per file. Codes are stable: never reuse one.

mod code_object;
mod dangerous_global;
mod dynamic_global;
mod extension_code;
mod external_data;
mod incomplete_stream;
mod nested_pickle;
mod state_hijack;
mod trailing_bytes;
mod unknown_global;

use vm::{Trace, Uses};

use super::{Finding, Policy};

/// A rule: its code, name, documentation and check.
pub struct Rule {
    /// Stable code, e.g. `PD101`.
    pub code: &'static str,
    /// Kebab-case name.
    pub name: &'static str,
    /// Documentation: what it does, why it matters, an example, what to do.
    pub doc: &'static str,
    pub(crate) check: Check,
}

/// What a rule checks.
pub(crate) enum Check {
    /// A pickle's trace (every rule but those below).
    Trace(fn(&Context<'_, '_>, &mut Vec<Finding>)),
    /// The parsed header of a file that stores data only (safetensors, GGUF, ONNX).
    File(fn(&FileContext<'_>, &mut Vec<Finding>)),
}

/// What a file rule looks at.
pub(crate) struct FileContext<'t> {
    pub(crate) inventory: &'t container::Inventory,
    #[allow(dead_code, reason = "for rules that the policy configures")]
    pub(crate) policy: &'t Policy,
}

/// What a rule looks at.
pub(crate) struct Context<'t, 'a> {
    pub(crate) trace: &'t Trace<'a>,
    pub(crate) policy: &'t Policy,
    /// How many pickles deep this one is nested (0 for the file's own).
    pub(crate) depth: usize,
    /// The names the pickle makes Python look up, as judged (`security::names`).
    pub(crate) judged: Vec<super::names::Judged>,
}

/// The code of the rule for streams that stop before STOP.
pub const INCOMPLETE_STREAM: &str = incomplete_stream::RULE.code;

/// The code of the rule for bytes after STOP that are not a pickle.
pub const TRAILING_BYTES: &str = trailing_bytes::RULE.code;

/// Every rule, in code order.
pub const ALL: &[Rule] = &[
    dangerous_global::RULE,
    dynamic_global::RULE,
    unknown_global::RULE,
    extension_code::RULE,
    incomplete_stream::RULE,
    nested_pickle::RULE,
    code_object::RULE,
    state_hijack::RULE,
    external_data::RULE,
    trailing_bytes::RULE,
];

/// The rule with this code (case-insensitive).
#[must_use]
pub fn by_code(code: &str) -> Option<&'static Rule> {
    ALL.iter().find(|r| r.code.eq_ignore_ascii_case(code))
}

/// How a global is used, in words, most telling first.
pub(crate) fn use_phrase(uses: Uses) -> &'static str {
    if uses.contains(Uses::CALLED) {
        "called"
    } else if uses.contains(Uses::INSTANTIATED) {
        "instantiated"
    } else if uses.contains(Uses::BUILT) {
        "given state by BUILD"
    } else if uses.contains(Uses::ARGUMENT) {
        "passed to a call"
    } else {
        "referenced"
    }
}
