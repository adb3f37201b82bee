use vm::Name;

use super::{Check, Context, Rule, use_phrase};
use crate::security::{Finding, Severity};

pub(super) const RULE: Rule = Rule {
    code: "PD102",
    name: "dynamic-global",
    doc: "## What it does
Reports STACK_GLOBAL imports whose module or name is not a literal string in the file but a
value computed while loading, for example the result of a call.

## Why is this bad?
The name Python will import is decided at load time, so no scanner can say what it is. Real
pickles always write literal names; computed ones exist to hide a dangerous import.

## Example
`builtins.str.join('', ['o', 's'])` followed by STACK_GLOBAL imports `os` without the bytes
`os` appearing next to the import.

## What to do
Treat the file as hostile. Do not load it.",
    check: Check::Trace(check),
};

fn check(cx: &Context<'_, '_>, out: &mut Vec<Finding>) {
    let (trace, _policy) = (cx.trace, cx.policy);
    for g in trace.globals.iter().filter(|g| g.is_dynamic()) {
        let part = if matches!(g.module, Name::Dynamic(_)) {
            "module"
        } else {
            "attribute name"
        };
        out.push(Finding {
            code: RULE.code,
            severity: Severity::Critical,
            global: Some(g.dotted()),
            offset: g.offset,
            message: format!(
                "STACK_GLOBAL imports a {part} computed at load time (`{}`), which is {}",
                g.dotted(),
                use_phrase(g.uses)
            ),
            help: "real pickles name their imports literally; treat this file as hostile"
                .to_owned(),
        });
    }
}
