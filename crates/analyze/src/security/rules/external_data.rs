use container::{Inventory, onnx};

use super::{Check, FileContext, Rule};
use crate::security::{Finding, Severity};

pub(super) const RULE: Rule = Rule {
    code: "PD109",
    name: "external-data-outside-folder",
    doc: "## What it does
Reports an ONNX model whose tensors keep their data in a file outside the model's folder:
an absolute path (`/etc/passwd`, `C:\\x`, `\\\\server\\share`) or a relative one whose `..`
components climb above the folder (`../../secrets.bin`).

## Why is this bad?
ONNX stores large tensors in external files named by each tensor's `external_data`
`location`, which `onnx.load` and onnxruntime join to the model's folder. A location that
leaves the folder makes loading the model read any file the user can read, as tensor data that
inference then exposes (and makes `onnx.save` of a loaded model write outside the folder).
This is the path traversal of CVE-2024-27318 and CVE-2024-27319: onnx 1.16 and later refuse
such paths, older onnx and onnxruntime versions follow them. Models written by
`onnx.save(..., save_as_external_data=True)` never contain one.

## Example
A model downloaded into `models/` whose initializer `big` has `location` set to
`../../../../home/user/.ssh/id_rsa`.

## What to do
Do not load the model. If it is yours, save it again with its external data beside it
(`onnx.save_model(m, path, save_as_external_data=True, location=\"weights.bin\")`).",
    check: Check::File(check),
};

fn check(cx: &FileContext<'_>, out: &mut Vec<Finding>) {
    let Inventory::Onnx(model) = cx.inventory else {
        return;
    };
    for (t, e) in model.external() {
        let Some(location) = e.location.as_deref() else {
            continue;
        };
        if !onnx::location_escapes(location) {
            continue;
        }
        let name = if t.name.is_empty() {
            "an unnamed tensor".to_owned()
        } else {
            format!("tensor {:?}", t.name)
        };
        out.push(Finding {
            code: RULE.code,
            severity: Severity::High,
            global: None,
            offset: t.offset,
            message: format!(
                "{name} reads its data from {location:?}, outside the model's folder: loading the model reads that file"
            ),
            help: "keep external data beside the model under a relative name; onnx >= 1.16 refuses such paths, older onnx and onnxruntime follow them".to_owned(),
        });
    }
}
