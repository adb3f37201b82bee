//! Leave pickle behind: `export --to safetensors`, without running anything.
//!
//! The tensors are found the way `show` finds them (the symbolic run of the pickle, and torch's
//! storage records, legacy storages or tar blobs; numpy's npy members; joblib's inline arrays),
//! named the way `state_dict` names them ([`plan`]), checked against their storage with checked
//! arithmetic, and written in the reference writer's layout ([`write`]): sorted by dtype size
//! then name, header padded to 8 bytes. Contiguous tensors are copied file to file by the
//! kernel (`copy_file_range`), so a 2 GB checkpoint never passes through this process's
//! memory; strided views are gathered element by element into a small buffer.
//!
//! Nothing is written unless every tensor can be: a refusal names each tensor and why, and no
//! partial file is left behind (the output is a temporary file renamed into place).

pub mod dtype;
pub mod onnx;
mod plan;
mod write;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

pub use dtype::Dtype;
pub use plan::{Refused, Skipped};

use crate::error::{Error, Result};
use crate::{Limits, members};

/// What to export to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExportFormat {
    /// safetensors.
    #[default]
    Safetensors,
    /// ONNX (scikit-learn models).
    Onnx,
}

impl ExportFormat {
    /// Parses a format name.
    ///
    /// # Errors
    /// [`Error::Usage`] for formats this build cannot write.
    pub fn parse(name: &str) -> Result<ExportFormat> {
        match name {
            "safetensors" => Ok(ExportFormat::Safetensors),
            "onnx" => Ok(ExportFormat::Onnx),
            other => Err(Error::Usage(format!(
                "cannot export to {other:?}: the formats are safetensors and onnx"
            ))),
        }
    }
}

/// How to export.
#[derive(Debug, Clone, Default)]
pub struct ExportOptions {
    /// The output format.
    pub to: ExportFormat,
    /// Where to write; `None` plans only (a dry run).
    pub output: Option<PathBuf>,
    /// Write tied weights once per name instead of once (copies, no `__metadata__` entry).
    pub duplicate_shared: bool,
    /// Write even when some tensors are refused (they are left out).
    pub force: bool,
    /// ONNX: a double input instead of float (`--float64`).
    pub float64: bool,
    /// ONNX: the default domain's opset (`--target-opset`; `None`: 17).
    pub target_opset: Option<i64>,
    /// Budgets.
    pub limits: Limits,
}

/// One tensor as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportedTensor {
    /// Its name in the file.
    pub name: String,
    /// Where it was in the pickle (dotted path) or container.
    pub source: String,
    /// safetensors dtype name.
    pub dtype: &'static str,
    /// Shape.
    pub shape: Vec<u64>,
    /// Bytes written.
    pub bytes: u64,
    /// Whether its bytes were one contiguous run in the input.
    pub contiguous: bool,
}

/// What an export did, or would do.
#[derive(Debug, Clone, Serialize)]
pub struct ExportReport {
    /// The input as named.
    pub path: String,
    /// Its format.
    pub format: String,
    /// Where the file was written (`None`: dry run or refused).
    pub output: Option<String>,
    /// Whether this was a dry run.
    pub dry_run: bool,
    /// Tensors in the order they are stored.
    pub tensors: Vec<ExportedTensor>,
    /// Tied names left out, with the name kept (also in `__metadata__`).
    pub dropped_shared: BTreeMap<String, String>,
    /// The `__metadata__` written.
    pub metadata: BTreeMap<String, String>,
    /// Non-tensor values that are not plain data, left out.
    pub skipped: Vec<Skipped>,
    /// Tensors that cannot be exported. Non-empty means nothing was written (unless forced).
    pub refused: Vec<Refused>,
    /// Bytes of the file written (or that would be).
    pub file_bytes: u64,
    /// ONNX exports: the graph written (or planned).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub onnx: Option<onnx::OnnxSummary>,
}

impl ExportReport {
    /// Whether everything was (or would be) exported.
    #[must_use]
    pub fn ok(&self) -> bool {
        self.refused.is_empty()
    }
}

/// Exports `data` (read from `input`, which may be `-`) as `opts` says.
///
/// # Errors
/// The file cannot be opened or holds no model, a tensor's view lies outside its storage (a
/// damaged file), or the output cannot be written.
pub fn export(input: &Path, data: &[u8], opts: &ExportOptions) -> Result<ExportReport> {
    let shown = input.display().to_string();
    let opened = container::open(data, &opts.limits.inflate).map_err(|e| Error::open(&shown, e))?;
    members::ensure_model(&opened, &shown)?;
    if opts.to == ExportFormat::Onnx {
        return onnx::run(&opened, opts, shown);
    }
    let mut plan = if members::is_torch(&opened.format) {
        if matches!(opened.format, container::Format::TorchScript { .. }) {
            return Err(Error::Usage(format!(
                "{shown}: a TorchScript archive: export its weights from Python with torch.jit.load(f).state_dict()"
            )));
        }
        let runs = torch_runs(&opened, opts.limits.budgets);
        if let Some((i, e)) = runs
            .iter()
            .find_map(|(i, r)| r.trace.error().map(|e| (*i, e.clone())))
        {
            return Err(Error::Usage(format!(
                "{}: the pickle is damaged, so its tensors cannot be trusted: {e}",
                crate::target::place(&shown, &opened.members[i].name)
            )));
        }
        let mut plan = plan::torch(&opened, &runs);
        plan.metadata
            .entry("format".to_owned())
            .or_insert_with(|| "pt".to_owned());
        plan
    } else {
        // npy and npz members, joblib's inline arrays; other pickles hold no located arrays.
        plan::numpy(&opened, opts.limits.budgets)
    };
    if plan.tensors.is_empty() && plan.refused.is_empty() {
        plan.refused.push(Refused {
            name: "<file>".to_owned(),
            why: "it holds no tensor or array".to_owned(),
        });
    }
    write::run(input, data, &opened, &mut plan, opts, shown)
}

/// The pickle members torch reads, with their index in `Opened::members` and their runs.
fn torch_runs<'o>(
    opened: &'o container::Opened<'_>,
    budgets: vm::Budgets,
) -> Vec<(usize, members::MemberRun<'o>)> {
    members::loaded_members(opened)
        .into_iter()
        .filter_map(|m| {
            let i = opened.members.iter().position(|x| std::ptr::eq(x, m))?;
            Some((i, members::run(m, budgets)))
        })
        .collect()
}

#[doc(hidden)]
pub mod fuzzing {
    //! The export fuzz target's invariants, shared with the corpus replay test: any bytes
    //! either fail with an error, or plan an export whose written bytes are a valid
    //! safetensors file of exactly the reported size.

    use super::{ExportOptions, members, plan, write};

    /// Opens `data` as any model file and converts it to ONNX in memory (float and double
    /// input); panics if an invariant breaks: a conversion either refuses with a reason and a
    /// path, or yields bytes that decode as a `ModelProto` whose graph has the `float_input`
    /// input, at least one output, and a type on every attribute.
    pub fn export_onnx_any(data: &[u8]) {
        let mut opts = ExportOptions {
            to: super::ExportFormat::Onnx,
            ..ExportOptions::default()
        };
        opts.limits.budgets = vm::Budgets::small();
        opts.limits.inflate.max_inflated_bytes = 64 << 20;
        let Ok(opened) = container::open(data, &opts.limits.inflate) else {
            return;
        };
        for float64 in [false, true] {
            opts.float64 = float64;
            let Ok((summary, result)) = super::onnx::convert_opened(&opened, &opts, "fuzz") else {
                return;
            };
            match result {
                Err(r) => {
                    assert!(!r.why.is_empty(), "a refusal without a reason");
                    assert!(!r.path.is_empty(), "a refusal without a path");
                }
                Ok(bytes) => {
                    let model = onnx::decode(&bytes).expect("the model decodes");
                    let graph = model.graph.expect("a graph");
                    assert_eq!(graph.input.len(), 1, "one input");
                    assert_eq!(graph.input[0].name.as_deref(), Some("float_input"));
                    assert!(!graph.output.is_empty(), "no output");
                    assert_eq!(graph.output.len(), summary.outputs.len());
                    for n in &graph.node {
                        for a in &n.attribute {
                            assert!(a.r#type.is_some(), "an attribute without a type");
                        }
                    }
                }
            }
        }
    }

    /// Opens `data` as any model file and exports it into memory; panics if an invariant
    /// breaks.
    pub fn export_any(data: &[u8]) {
        let mut opts = ExportOptions::default();
        opts.limits.budgets = vm::Budgets::small();
        opts.limits.inflate.max_inflated_bytes = 64 << 20;
        let Ok(opened) = container::open(data, &opts.limits.inflate) else {
            return;
        };
        let mut p = if members::is_torch(&opened.format) {
            plan::torch(&opened, &super::torch_runs(&opened, opts.limits.budgets))
        } else {
            plan::numpy(&opened, opts.limits.budgets)
        };
        let Ok((report, bytes)) = write::to_memory(data, &opened, &mut p, &opts) else {
            return;
        };
        if !report.refused.is_empty() {
            assert!(bytes.is_empty(), "a refused export wrote bytes");
            return;
        }
        assert_eq!(
            bytes.len() as u64,
            report.file_bytes,
            "size differs from the report"
        );
        let n = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes"));
        let n = usize::try_from(n).expect("header fits");
        assert_eq!(n % 8, 0, "header not padded to 8");
        let header: serde_json::Value =
            serde_json::from_slice(&bytes[8..8 + n]).expect("header is JSON");
        let mut spans: Vec<(u64, u64)> = header
            .as_object()
            .expect("header is an object")
            .iter()
            .filter(|(k, _)| *k != "__metadata__")
            .map(|(_, v)| {
                let o = &v["data_offsets"];
                (o[0].as_u64().expect("begin"), o[1].as_u64().expect("end"))
            })
            .collect();
        spans.sort_unstable();
        let mut at = 0;
        for (b, e) in spans {
            assert_eq!(b, at, "a gap or overlap in the buffer");
            at = e;
        }
        assert_eq!(8 + n as u64 + at, bytes.len() as u64, "buffer not covered");
    }
}
