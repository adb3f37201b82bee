use vm::VmErrorKind;

use super::{Check, Context, Rule};
use crate::security::{Finding, Severity};

pub(super) const RULE: Rule = Rule {
    code: "PD105",
    name: "incomplete-stream",
    doc: "## What it does
Reports a pickle stream that cannot be read to its STOP: truncated, malformed, or over a
budget. A stream that fails on its very first op is not a pickle (low): `pickle.load`
raises before anything runs.

## Why is this bad?
Python runs every opcode before the point where loading fails, calls included, so a broken
tail can hide behind a malicious prefix. Findings for the prefix are reported as usual; the file
is never reported clean.

## What to do
Get an intact copy of the file. If the stream is over a budget, raise the budget only for
trusted files.",
    check: Check::Trace(check),
};

fn check(cx: &Context<'_, '_>, out: &mut Vec<Finding>) {
    let (trace, _policy) = (cx.trace, cx.policy);
    for (i, p) in trace.pickles.iter().enumerate() {
        let Some(e) = &p.error else { continue };
        if let Some(raised) = crate::security::not_a_pickle(e, p.start)
            && i == 0
            && p.parent.is_none()
        {
            // The stream fails on its very first op (a text file, raw array bytes, a
            // truncated or unknown first byte): `pickle.load` raises before anything runs.
            out.push(Finding {
                code: RULE.code,
                severity: Severity::Low,
                global: None,
                offset: e.offset,
                message: format!(
                    "not a pickle: pickle.load fails on its first op with `{raised}`; nothing would run"
                ),
                help: "nothing to do unless this was meant to be a pickle".to_owned(),
            });
            continue;
        }
        let not_opcodes = matches!(
            &e.kind,
            VmErrorKind::UnsupportedProtocol(_)
                | VmErrorKind::Parse(pickle::ParseError {
                    kind: pickle::ErrorKind::UnknownOpcode(_),
                    ..
                })
        );
        if e.offset == p.start && not_opcodes {
            // The very first byte is not an opcode a loader accepts: it stops there, before
            // anything runs (raw array bytes in an old joblib sibling file, garbage after a
            // STOP). A truncated first op, by contrast, is still a broken pickle.
            out.push(Finding {
                code: RULE.code,
                severity: Severity::Low,
                global: None,
                offset: e.offset,
                message: format!("not a loadable pickle: {e}; nothing would run"),
                help: "nothing to do unless this was meant to be a pickle".to_owned(),
            });
            continue;
        }
        out.push(Finding {
            code: RULE.code,
            severity: Severity::High,
            global: None,
            offset: e.offset,
            message: format!("the stream cannot be read to its end: {e}; everything before this point runs when loaded"),
            help: "get an intact copy; never treat a broken stream as clean".to_owned(),
        });
    }
}
