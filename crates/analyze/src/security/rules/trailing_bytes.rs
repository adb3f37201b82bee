use super::{Check, Context, Rule};
use crate::security::{Finding, Severity};

pub(super) const RULE: Rule = Rule {
    code: "PD110",
    name: "trailing-bytes",
    doc: "## What it does
Notes bytes after a pickle's STOP that are not another pickle: their first opcode cannot be
decoded or fails at once (a newline, zero padding, text).

## Why is this bad?
It usually is not: `pickle.load` reads one pickle, stops at STOP and never looks at what
follows, and many writers leave a newline there. Nothing in those bytes can run, even for a
reader that calls `pickle.load` again on the same stream, because their first opcode fails.
The finding is low so that bytes smuggled after a model are at least visible. Further bytes
that *are* pickles are scanned like the first one, so a payload hidden in a second pickle is
reported by the rule it breaks.

## Example
A protocol 4 pickle of a dict followed by `\\n`: the finding points at the offset just past
STOP and gives the length (1 byte).

## What to do
Nothing, unless the file should end at STOP: then find out what appended the bytes.",
    check: Check::Trace(check),
};

fn check(cx: &Context<'_, '_>, out: &mut Vec<Finding>) {
    let Some(t) = &cx.trace.trailing else { return };
    let (plural, verb) = if t.len == 1 { ("", "is") } else { ("s", "are") };
    out.push(Finding {
        code: RULE.code,
        severity: Severity::Low,
        global: None,
        offset: t.offset,
        message: format!(
            "{} byte{plural} after STOP at offset {} {verb} not a pickle ({}); pickle.load stops at STOP and ignores them",
            t.len, t.offset, t.error
        ),
        help: "nothing to do unless the file should end at STOP".to_owned(),
    });
}
