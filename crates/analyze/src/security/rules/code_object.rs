use super::{Check, Context, Rule, use_phrase};
use crate::security::{Finding, Judgement};

pub(super) const RULE: Rule = Rule {
    code: "PD107",
    name: "code-object",
    doc: "## What it does
Reports globals that build code objects or functions from bytecode: `types.CodeType`,
`types.FunctionType`, `marshal.loads`, cloudpickle's `_make_function` and
`_builtin_type('CodeType')`, dill's `_create_code`, `_create_function` and `_load_type`. The
names come from the policy's deny entries marked `kind = \"code\"`.

## Why is this bad?
The file carries Python bytecode, and loading it runs that bytecode as soon as the rebuilt
function is called (often by the pickle itself, through REDUCE). Nothing in the bytes says
what the bytecode does, and bytecode only loads on the Python minor version that wrote it.

## Example
A cloudpickle'd lambda: `cloudpickle.cloudpickle._builtin_type('CodeType')` called with the
code's fields, then `cloudpickle.cloudpickle._make_function(code, globals, ...)`.

## What to do
Treat the file as a program. Load it only if you would run a script from the same source,
on the same Python minor version, and prefer formats without code (safetensors, ONNX).

## References
- https://docs.python.org/3/library/marshal.html
- https://github.com/cloudpipe/cloudpickle#security",
    check: Check::Trace(check),
};

fn check(cx: &Context<'_, '_>, out: &mut Vec<Finding>) {
    for j in &cx.judged {
        let Judgement::Denied(d) = cx.policy.judge(&j.module, &j.name) else {
            continue;
        };
        if !d.builds_code {
            continue;
        }
        out.push(Finding {
            code: RULE.code,
            severity: d.severity,
            global: Some(j.dotted()),
            offset: j.offset,
            message: format!("{} is {}: {}", j.shown(), use_phrase(j.uses), d.why),
            help: "treat the file as a program: load it only from a source you would run code from, on the Python version that wrote it".to_owned(),
        });
    }
}
