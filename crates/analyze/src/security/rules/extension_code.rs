use vm::Node;

use super::{Check, Context, Rule};
use crate::security::{Finding, Severity};

pub(super) const RULE: Rule = Rule {
    code: "PD104",
    name: "extension-code",
    doc: "## What it does
Reports EXT1, EXT2 and EXT4 opcodes.

## Why is this bad?
An extension code names a global through `copyreg`'s registry of the loading process, not
through the bytes: what it imports depends on the environment and cannot be checked.
Standard picklers never write them unless a program registered codes itself.

## What to do
Find out which program registered the codes; otherwise treat the file as hostile.",
    check: Check::Trace(check),
};

fn check(cx: &Context<'_, '_>, out: &mut Vec<Finding>) {
    let (trace, _policy) = (cx.trace, cx.policy);
    for n in &trace.nodes {
        if let Node::Ext { code, offset } = n {
            out.push(Finding {
                code: RULE.code,
                severity: Severity::High,
                global: None,
                offset: *offset,
                message: format!("extension code {code} imports whatever the loading process registered under it"),
                help: "standard pickles do not use extension codes; treat the file as hostile unless you know who registered them".to_owned(),
            });
        }
    }
}
