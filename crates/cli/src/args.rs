//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Reads Python pickles and ML model files without running them.
///
/// Nothing in the file is imported or executed: every command reads bytes only.
#[derive(Debug, Parser)]
#[command(name = "pickle-doctor", version, about, long_about = None)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
// Each subcommand's arguments are built only when it is the one invoked: building every
// subcommand's arguments was a tenth of a `scan`'s start-up (allocations and first-touch page
// faults for ~150 `Arg`s), paid on every process a scanner spawns.
#[command(defer = true)]
pub(crate) enum Command {
    /// Disassemble: the listing `python -m pickletools FILE` prints, byte for byte.
    ///
    /// A stream of several pickles gets one `== pickle N at offset X ==` section each. A
    /// truncated or malformed pickle is listed up to the bad op, then the error is printed with
    /// its offset and the exit code is 1.
    Dis(DisArgs),
    /// Show what a pickle would build, as Python-like expressions or as a JSON value graph.
    ///
    /// Classes and functions are shown by name and never imported. Shared and recursive
    /// structures are labelled `#N=` where first seen and referred to as `#N` afterwards.
    Show(ShowArgs),
    /// Security scan: report every way loading the file would run code, touch files or the
    /// network, or hide what it imports. Exit 0 clean, 1 unsafe, 2 error.
    ///
    /// PATH may be a directory: it is walked recursively, hidden files included (`.git` is
    /// skipped), following symlinks with loop detection, and files whose content is a pickle
    /// or model file are scanned in parallel. A file reachable by several paths (a Hugging Face
    /// cache's `snapshots/` links to `blobs/`) is scanned once, under its linked name.
    Scan(ScanArgs),
    /// Print a rule's documentation, or list the rules.
    Rule(RuleArgs),
    /// Predict whether a file loads in a target Python environment, without loading it.
    ///
    /// Prints the verdict (loads, fails, at-risk), the first error in the loader's exact
    /// wording, every global with its status and distribution, and fixes. Exit 0 loads or
    /// at-risk (1 with --strict), 1 fails, 2 error.
    Check(CheckArgs),
    /// Print the distributions a file needs, as requirement lines (`name==version`).
    ///
    /// The version is the one installed in the target environment when there is one, else
    /// the producer version found in the data (scikit-learn's `_sklearn_version`).
    Requirements(RequirementsArgs),
    /// Repair module paths (and known state-level breaks) so that a file loads in the target
    /// environment, then prove it with `check` on the result.
    ///
    /// Renames come from the knowledge base (only those valid for the target's installed
    /// versions) and from `--map`. Only the ops that name a renamed global change; memo indices
    /// and every other byte stay as they were. Containers are written back the way their
    /// library writes them (torch zip: stored, 64-byte aligned; joblib: same compressor).
    /// OUT is written atomically, and only when the result is predicted to load.
    ///
    /// Exit 0 written (or would be, with --dry-run), 1 refused or still failing (nothing is
    /// written unless --force), 2 error.
    Fix(FixArgs),
    /// Leave pickle behind: write the tensors to safetensors, bit for bit, or a scikit-learn
    /// model to ONNX (--to onnx), without running anything.
    ///
    /// Torch checkpoints (zip, legacy, 0.1.x tar): state_dicts, nested checkpoints and whole
    /// pickled modules (named as `state_dict()` names them); numpy .npy/.npz; the arrays of
    /// joblib dumps. Strided views are written contiguous; tied weights once (the dropped
    /// names go into `__metadata__`); plain data (epoch, hyper-parameters) into
    /// `__metadata__` as JSON. Quantized, sparse, complex and big-endian tensors are refused
    /// by name, and then nothing is written.
    ///
    /// --to onnx: a pickled or joblib-dumped scikit-learn estimator or Pipeline becomes an
    /// ONNX graph (input float_input [N, F]; classifiers output label and probabilities,
    /// regressors and transformers variable). An unsupported step is refused by its path.
    ///
    /// Exit 0 written (or would be, with --dry-run), 1 refused, 2 error.
    Export(ExportArgs),
}

#[derive(Debug, Args)]
pub(crate) struct ExportArgs {
    /// The model file.
    pub(crate) file: PathBuf,
    /// The output format.
    #[arg(long, value_name = "FORMAT", default_value = "safetensors")]
    pub(crate) to: String,
    /// Where to write.
    #[arg(short, long, value_name = "OUT", required_unless_present = "dry_run")]
    pub(crate) output: Option<PathBuf>,
    /// Print what would be written; write nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// Write the tensors that can be exported even when others are refused.
    #[arg(long)]
    pub(crate) force: bool,
    /// Write tied weights under each name (copies) instead of once.
    #[arg(long)]
    pub(crate) duplicate_shared: bool,
    /// ONNX: the default domain's opset (13 to 21; default 17, with ai.onnx.ml 3 and IR 8).
    #[arg(long, value_name = "N")]
    pub(crate) target_opset: Option<i64>,
    /// ONNX: a double input (`float_input` is float32 by default).
    #[arg(long)]
    pub(crate) float64: bool,
    /// Output format of the report.
    #[arg(long, value_enum, default_value_t = FixFormat::Text)]
    pub(crate) format: FixFormat,
    #[command(flatten)]
    pub(crate) limits: LimitArgs,
}

// The target environment of `check`, `requirements` and `fix`. (A plain comment: under
// `defer` a flattened struct's doc comment would replace the subcommand's about.)
#[derive(Debug, Args)]
pub(crate) struct TargetArgs {
    /// The target interpreter (run once, isolated, to learn its search path). Default: the
    /// interpreter of $VIRTUAL_ENV, else `python3` on PATH.
    #[arg(long, value_name = "PY", conflicts_with = "site_packages")]
    pub(crate) python: Option<PathBuf>,
    /// Fully static target: these site-packages directories (with their .pth lines). Needs
    /// --python-version.
    #[arg(long, value_name = "DIR", num_args = 1.., requires = "python_version")]
    pub(crate) site_packages: Vec<PathBuf>,
    /// Python version of a static target, as X.Y.
    #[arg(long, value_name = "X.Y")]
    pub(crate) python_version: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    /// Pickles or model files (torch, joblib, npy/npz).
    #[arg(required = true)]
    pub(crate) files: Vec<PathBuf>,
    #[command(flatten)]
    pub(crate) target: TargetArgs,
    /// The script that will be `__main__` when the file is loaded; without it, `__main__`
    /// names fail as in a fresh interpreter.
    #[arg(long, value_name = "SCRIPT")]
    pub(crate) main: Option<PathBuf>,
    /// The loader: pickle, joblib, torch, numpy or pandas (pd.read_pickle). Default: chosen
    /// from the content (torch zip → torch, NumpyArrayWrapper → joblib, .npy → numpy).
    #[arg(long, value_name = "NAME")]
    pub(crate) loader: Option<String>,
    /// pickle.load's `encoding` for Python 2 strs (protocols 0-2): ASCII (default), latin1
    /// or bytes. Applies to the pickle, numpy and torch loaders (docs/python2-strings.md).
    #[arg(long, value_name = "ENCODING")]
    pub(crate) encoding: Option<String>,
    /// pickle.load's `errors` for Python 2 strs: strict (default), ignore, replace,
    /// backslashreplace or surrogateescape.
    #[arg(long, value_name = "HANDLER")]
    pub(crate) errors: Option<String>,
    /// Print the knowledge base's notes under each risk.
    #[arg(short, long)]
    pub(crate) verbose: bool,
    /// Exit 1 for at-risk too.
    #[arg(long)]
    pub(crate) strict: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    pub(crate) format: CheckFormat,
    #[command(flatten)]
    pub(crate) limits: LimitArgs,
}

/// Output formats of `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum CheckFormat {
    /// Human-readable.
    Text,
    /// One JSON document (docs/json.md).
    Json,
    /// GitHub Actions annotations: `fails` as errors, `at-risk` as warnings.
    Github,
}

/// Output formats of `fix`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum FixFormat {
    /// Human-readable.
    Text,
    /// One JSON document (docs/json.md).
    Json,
}

#[derive(Debug, Args)]
pub(crate) struct FixArgs {
    /// The pickle or model file to repair.
    pub(crate) file: PathBuf,
    /// Where to write the repaired file (never the input, unless --in-place).
    #[arg(
        short,
        long,
        value_name = "OUT",
        required_unless_present_any = ["dry_run", "in_place"],
        conflicts_with = "in_place"
    )]
    pub(crate) output: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) target: TargetArgs,
    /// A rename of your own, repeatable: `old.module=new.module` (the module and its
    /// submodules) or `old.module:Name=new.module:Name`. Example: `__main__=mypkg.models`
    /// for classes defined in the training script. Wins over the knowledge base.
    #[arg(long = "map", value_name = "FROM=TO")]
    pub(crate) maps: Vec<String>,
    /// Print the plan and the predicted result; write nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// Write OUT even when the result is still predicted to fail (exit code stays 1).
    #[arg(long)]
    pub(crate) force: bool,
    /// Replace FILE itself (atomically) instead of writing OUT.
    #[arg(long)]
    pub(crate) in_place: bool,
    /// The script that will be `__main__` at load time (as for `check`).
    #[arg(long, value_name = "SCRIPT")]
    pub(crate) main: Option<PathBuf>,
    /// The loader (as for `check`). Default: chosen from the content.
    #[arg(long, value_name = "NAME")]
    pub(crate) loader: Option<String>,
    /// pickle.load's `encoding` for Python 2 strs (protocols 0-2): ASCII (default), latin1
    /// or bytes. Applies to the pickle, numpy and torch loaders (docs/python2-strings.md).
    #[arg(long, value_name = "ENCODING")]
    pub(crate) encoding: Option<String>,
    /// pickle.load's `errors` for Python 2 strs: strict (default), ignore, replace,
    /// backslashreplace or surrogateescape.
    #[arg(long, value_name = "HANDLER")]
    pub(crate) errors: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = FixFormat::Text)]
    pub(crate) format: FixFormat,
    #[command(flatten)]
    pub(crate) limits: LimitArgs,
}

#[derive(Debug, Args)]
pub(crate) struct RequirementsArgs {
    /// Pickles or model files.
    #[arg(required = true)]
    pub(crate) files: Vec<PathBuf>,
    #[command(flatten)]
    pub(crate) target: TargetArgs,
    #[command(flatten)]
    pub(crate) limits: LimitArgs,
}

#[derive(Debug, Args)]
pub(crate) struct ScanArgs {
    /// Files or directories.
    #[arg(required = true)]
    pub(crate) paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub(crate) format: OutputFormat,
    /// `default` (unsafe at high), `strict` (unsafe at medium: unknown classes count), or a
    /// TOML file whose `allow = [...]` and `[[deny]]` entries are added to the default policy.
    #[arg(long, value_name = "NAME|FILE", default_value = "default")]
    pub(crate) policy: String,
    /// Files scanned at once (default: one per core).
    #[arg(long, short = 'j', value_name = "N")]
    pub(crate) jobs: Option<usize>,
    /// No progress bar, even on a terminal.
    #[arg(long)]
    pub(crate) no_progress: bool,
    #[command(flatten)]
    pub(crate) limits: LimitArgs,
}

/// Output formats of `scan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum OutputFormat {
    /// One line per finding, like ruff.
    Text,
    /// One JSON document.
    Json,
    /// SARIF 2.1.0, for code-scanning dashboards.
    Sarif,
    /// GitHub Actions annotations (at most 10 per level, then a summary line).
    Github,
}

#[derive(Debug, Args)]
pub(crate) struct RuleArgs {
    /// A rule code such as PD101; without it, every rule is listed.
    pub(crate) code: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct DisArgs {
    /// Files to disassemble: a pickle, or any model file (torch, joblib, npy/npz, zip). Add
    /// `:MEMBER` to pick one member, e.g. `model.pt:archive/data.pkl`. `-` reads stdin.
    #[arg(required = true)]
    pub(crate) files: Vec<PathBuf>,
    #[command(flatten)]
    pub(crate) limits: LimitArgs,
}

#[derive(Debug, Args)]
pub(crate) struct ShowArgs {
    /// A pickle or model file (torch, joblib, npy/npz, zip), optionally `FILE:MEMBER`; `-`
    /// reads standard input.
    pub(crate) file: PathBuf,
    /// Print the value graph as JSON (schema: docs/show-json.md).
    #[arg(long, conflicts_with = "stats")]
    pub(crate) json: bool,
    /// Print every byte and array element instead of summaries.
    #[arg(long)]
    pub(crate) full: bool,
    /// Print counts only (ops, nodes, globals, calls): a full symbolic run without rendering.
    #[arg(long)]
    pub(crate) stats: bool,
    #[command(flatten)]
    pub(crate) limits: LimitArgs,
}

// Limits on the symbolic run and on decompression; raise one when a trusted file
// legitimately exceeds it. (A plain comment: see `TargetArgs`.)
#[derive(Debug, Args)]
pub(crate) struct LimitArgs {
    /// Maximum bytes a compressed stream or member may inflate to.
    #[arg(long, value_name = "BYTES", default_value_t = 8 << 30)]
    pub(crate) max_inflated_bytes: u64,
    /// Maximum opcodes executed.
    #[arg(long, value_name = "N")]
    pub(crate) max_ops: Option<u64>,
    /// Maximum memo entries.
    #[arg(long, value_name = "N")]
    pub(crate) max_memo: Option<usize>,
    /// Maximum value-graph nodes.
    #[arg(long, value_name = "N")]
    pub(crate) max_nodes: Option<usize>,
    /// Maximum stack depth.
    #[arg(long, value_name = "N")]
    pub(crate) max_stack: Option<usize>,
}

impl TargetArgs {
    /// The target these flags name.
    pub(crate) fn spec(&self) -> anyhow::Result<doctor::TargetSpec> {
        if !self.site_packages.is_empty() {
            let v = self.python_version.as_deref().unwrap_or_default();
            let python = doctor::target::parse_python_version(v)
                .map_err(|_| anyhow::anyhow!("--python-version must look like 3.11, not {v:?}"))?;
            return Ok(doctor::TargetSpec::SitePackages {
                dirs: self.site_packages.clone(),
                python,
            });
        }
        Ok(match &self.python {
            Some(py) => doctor::TargetSpec::Interpreter(py.clone()),
            None => doctor::TargetSpec::Default,
        })
    }

    /// Reads the target environment, saying which one failed and how to choose another.
    pub(crate) fn session(&self, limits: &LimitArgs) -> anyhow::Result<doctor::Session> {
        use anyhow::Context as _;
        let spec = self.spec()?;
        doctor::Session::new(&spec, limits.limits()).with_context(|| match spec {
            doctor::TargetSpec::Default => {
                "default target ($VIRTUAL_ENV or python3; pass --python or --site-packages)"
            }
            doctor::TargetSpec::Interpreter(_) => "target interpreter",
            doctor::TargetSpec::SitePackages { .. } => "static target",
        })
    }
}

impl LimitArgs {
    pub(crate) fn limits(&self) -> doctor::Limits {
        doctor::Limits {
            inflate: container::Limits {
                max_inflated_bytes: self.max_inflated_bytes,
            },
            budgets: self.budgets(),
        }
    }

    pub(crate) fn budgets(&self) -> vm::Budgets {
        let mut b = vm::Budgets::default();
        if let Some(n) = self.max_ops {
            b.max_ops = n;
        }
        if let Some(n) = self.max_memo {
            b.max_memo = n;
        }
        if let Some(n) = self.max_nodes {
            b.max_nodes = n;
        }
        if let Some(n) = self.max_stack {
            b.max_stack = n;
        }
        b
    }
}
