use super::{Check, Context, Rule, use_phrase};
use crate::security::{Finding, Judgement};

pub(super) const RULE: Rule = Rule {
    code: "PD101",
    name: "dangerous-global",
    doc: "## What it does
Reports globals that the policy lists as dangerous: anything that runs commands or Python
source, reads or writes files, reaches the network, resolves names at load time, loads nested
pickles. (Names that build code objects are PD107.) Every dotted prefix of `module.name` is
checked, under the name `find_class` imports (below).

Names are judged as Python loads them:
- Python 2 names (`__builtin__`, `cPickle`, `httplib`) are mapped the way `_compat_pickle` maps
  them when the protocol in effect (the last PROTO before the op, 0 without one) is below 3;
  from protocol 3 on they are imported as written, which Python 3 cannot (PD103);
- `getattr(cls, 'name')` with a literal name, on a class the file names or an instance of
  one, is judged as `cls.name` (`getattr(pathlib.Path, 'write_text')` is
  `pathlib.Path.write_text`); attributes that reach other objects (`__globals__`,
  `__subclasses__`, ...: `getattr_refused` in the data) leave it a `getattr` call;
- `functools.partial` of allowed callables only binds arguments and is not reported.

## Why is this bad?
Unpickling imports the module and, for REDUCE, calls the object with arguments from the file.
`os.system`, `builtins.exec` or `subprocess.Popen` therefore run whatever the file says. Even
a global that is only referenced can be passed to another call.

## Example
`cposix\\nsystem\\n(S'id'\\ntR.` runs `id` when loaded.

## What to do
Do not load the file. If it comes from a source you trust, load it once in a sandbox and
re-export the model to a data-only format (safetensors, ONNX).

## References
- https://docs.python.org/3/library/pickle.html (the warning at the top)
- CWE-502: Deserialization of Untrusted Data",
    check: Check::Trace(check),
};

fn check(cx: &Context<'_, '_>, out: &mut Vec<Finding>) {
    for j in &cx.judged {
        // Code builders have their own rule (PD107).
        if let Judgement::Denied(d) = cx.policy.judge(&j.module, &j.name)
            && !d.builds_code
        {
            out.push(Finding {
                code: RULE.code,
                severity: d.severity,
                global: Some(j.dotted()),
                offset: j.offset,
                message: format!("{} is {}: {}", j.shown(), use_phrase(j.uses), d.why),
                help: "do not load this file; if its source is trusted, re-export the model to safetensors or ONNX in a sandbox".to_owned(),
            });
        }
    }
}
