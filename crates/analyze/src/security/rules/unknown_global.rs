use vm::Uses;

use super::{Check, Context, Rule, use_phrase};
use crate::security::{Finding, Judgement, Severity};

pub(super) const RULE: Rule = Rule {
    code: "PD103",
    name: "unknown-global",
    doc: "## What it does
Reports globals that are neither on the policy's deny list nor among the types known to only
rebuild data (builtin containers, numpy, scikit-learn, pandas, torch tensors). The severity
follows the use: a function called by REDUCE is high; a class called or instantiated, or
a global given state or passed to a call, is medium; only referenced is low. Names in
CapWords are taken to be classes (PEP 8): calling a class is how pickle rebuilds
instances and enum members, so the default policy does not fail on it, and `--policy strict`
does.

## Why is this bad?
Loading imports the module, which runs its top-level code, and calling or instantiating the
object runs more. pickle-doctor cannot tell a harmless custom class from a gadget.

## Example
`mylib.utils.run_hook` called by REDUCE.

## What to do
Check that the module comes from a package you trust and pin it. Add trusted names to a
policy file's `allow` list.

Names under `__torch__` are TorchScript classes that `torch.jit.load` compiles from the
archive's `code/` files, not Python imports: they are reported at low severity, with the
file that defines them.",
    check: Check::Trace(check),
};

fn check(cx: &Context<'_, '_>, out: &mut Vec<Finding>) {
    for j in &cx.judged {
        if cx.policy.judge(&j.module, &j.name) != Judgement::Unknown {
            continue;
        }
        let (module, name, uses) = (j.module.as_str(), j.name.as_str(), j.uses);
        if let Some(file) = crate::torchscript_source(module) {
            out.push(Finding {
                code: RULE.code,
                severity: Severity::Low,
                global: Some(j.dotted()),
                offset: j.offset,
                message: format!(
                    "{} is a TorchScript class, which `torch.jit.load` compiles from the archive's `{file}`: not a Python import (`pickle.load` cannot import `__torch__`)",
                    j.shown()
                ),
                help: format!("the archive's `{file}` is TorchScript that runs when the model is called: review it, or load the weights from a state_dict"),
            });
            continue;
        }
        // PEP 8: CapWords names are classes, and calling a class (an enum member lookup, a
        // plain constructor) is how pickle rebuilds instances; a lowercase callable is a
        // function whose only purpose in a pickle is to be run.
        let class_like = name
            .rsplit('.')
            .next()
            .is_some_and(|last| last.starts_with(|c: char| c.is_ascii_uppercase()));
        let severity = if uses.contains(Uses::CALLED) && !class_like {
            Severity::High
        } else if uses.contains(Uses::INSTANTIATED)
            || uses.contains(Uses::BUILT)
            || uses.contains(Uses::ARGUMENT)
        {
            Severity::Medium
        } else {
            Severity::Low
        };
        out.push(Finding {
            code: RULE.code,
            severity,
            global: Some(j.dotted()),
            offset: j.offset,
            message: match &j.python2_unmapped {
                Some((m, n)) => format!(
                    "{} is {}: a Python 2 name, which Python 3 maps to `{m}.{n}` only below protocol 3; at this protocol it imports `{module}` as written, which normally fails (and runs that module's code if one by that name is installed)",
                    j.shown(),
                    use_phrase(uses)
                ),
                None => format!(
                    "{} is {}; importing `{module}` runs its code, and pickle-doctor does not know what this name does",
                    j.shown(),
                    use_phrase(uses)
                ),
            },
            help: format!("make sure `{module}` comes from a package you trust, or allow the name in a policy file"),
        });
    }
}
