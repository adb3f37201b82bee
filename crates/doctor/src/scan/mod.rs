//! Would loading this file run code? Every pickle member of every container is run through the
//! symbolic machine and the security rules (`analyze::security`); a directory is walked the way
//! [`walk`] documents, and its files are scanned in parallel.

pub mod walk;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use analyze::security::{self, Finding, Policy, Severity};
use container::Sniffed;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::input::Input;
use crate::{Limits, members};

/// A file's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ScanVerdict {
    /// No finding at or above the policy's threshold, and the file was read in full.
    Clean,
    /// A finding at or above the policy's threshold.
    Unsafe,
    /// The file could not be read or opened, and nothing unsafe was seen before that.
    Error,
}

impl ScanVerdict {
    /// The name used in output.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ScanVerdict::Clean => "clean",
            ScanVerdict::Unsafe => "unsafe",
            ScanVerdict::Error => "error",
        }
    }
}

/// A finding and where it is: the member it was found in, and where that member's bytes start
/// in the file when they are stored as is (so that offsets can be given in file coordinates).
#[derive(Debug, Clone, Serialize)]
pub struct LocatedFinding {
    /// The member (empty for a whole-file pickle; `null` in JSON).
    #[serde(serialize_with = "analyze::empty_as_null")]
    pub member: String,
    /// Where the member's bytes start in the file, when stored uncompressed.
    #[serde(skip)]
    pub member_start: Option<u64>,
    /// The finding; its offset is in the member's bytes.
    #[serde(flatten)]
    pub finding: Finding,
}

impl LocatedFinding {
    /// A finding in a file read as one pickle, from its first byte.
    fn whole_file(finding: Finding) -> Self {
        LocatedFinding {
            member: String::new(),
            member_start: Some(0),
            finding,
        }
    }
}

/// The outcome for one file: one element of the `files` array of `scan --format json`.
#[derive(Debug, Clone, Serialize)]
pub struct ScanReport {
    /// The file as named.
    pub path: String,
    /// Its format, or `unknown` when it could not be opened.
    pub format: String,
    /// The verdict under the policy used.
    pub verdict: ScanVerdict,
    /// Why the file could not be scanned in full.
    pub error: Option<String>,
    /// Findings in stream order.
    pub findings: Vec<LocatedFinding>,
}

impl ScanReport {
    fn new(
        path: String,
        format: &str,
        findings: Vec<LocatedFinding>,
        error: Option<String>,
        unsafe_at: Severity,
    ) -> ScanReport {
        let verdict = if findings.iter().any(|l| l.finding.severity >= unsafe_at) {
            ScanVerdict::Unsafe
        } else if error.is_some() {
            ScanVerdict::Error
        } else {
            ScanVerdict::Clean
        };
        ScanReport {
            path,
            format: format.to_owned(),
            verdict,
            error,
            findings,
        }
    }

    /// A file that could not be scanned at all.
    #[must_use]
    pub fn failed(path: String, format: &str, error: String) -> ScanReport {
        ScanReport::new(path, format, Vec::new(), Some(error), Severity::Critical)
    }

    /// `file` or `file:member`.
    #[must_use]
    pub fn place(&self, member: &str) -> String {
        crate::target::place(&self.path, member)
    }
}

/// How a file is read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadMode {
    mmap: bool,
}

impl ReadMode {
    /// Read files whole.
    #[must_use]
    pub fn read() -> ReadMode {
        ReadMode { mmap: false }
    }

    /// Memory-map files (see [`Input::map`]).
    ///
    /// # Safety
    /// As [`Input::map`]: the caller accepts SIGBUS if a scanned file is truncated meanwhile.
    #[allow(unsafe_code, reason = "propagates Input::map's contract to the caller")]
    #[must_use]
    pub unsafe fn mmap() -> ReadMode {
        ReadMode { mmap: true }
    }

    /// Reads `path` this way.
    ///
    /// # Errors
    /// As [`Input::read`].
    #[allow(
        unsafe_code,
        reason = "the mode was chosen through the unsafe constructor"
    )]
    pub fn input(self, path: &Path) -> Result<Input> {
        if self.mmap {
            // SAFETY: a propagation of the assertion made by calling `ReadMode::mmap`.
            unsafe { Input::map(path) }
        } else {
            Input::read(path)
        }
    }
}

/// How to scan.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// The rules' data.
    pub policy: Policy,
    /// Findings at or above this severity make a file unsafe.
    pub unsafe_at: Severity,
    /// Budgets.
    pub limits: Limits,
    /// Files scanned at once (`None`: one per core).
    pub jobs: Option<usize>,
    /// How files are read.
    pub read: ReadMode,
    /// Whether the pickle members of one file are scanned at once.
    pub parallel_members: ParallelMembers,
    /// Leave each member's trace allocated rather than free it node by node: for a process
    /// that exits right after the scan (the CLI). Long-lived callers keep the default, false.
    pub forget_traces: bool,
    /// Run the symbolic machine on every member, even plain data that the plain-data pass
    /// (`vm::plain`) would only count. The reports are the same; tests compare them.
    pub full_graph: bool,
}

/// Whether the pickle members of one file (a torch zip's pickles, an npz's object arrays)
/// are scanned on several threads. The findings and their order are the same either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ParallelMembers {
    /// When there are enough of them to pay for the threads: at least
    /// [`PARALLEL_MIN_MEMBERS`] pickles holding [`PARALLEL_MIN_BYTES`] between them, and
    /// `jobs` is not 1.
    #[default]
    Auto,
    /// Always (tests compare it with `Never`).
    Always,
    /// One member after the other.
    Never,
}

/// Fewer pickle members than this are scanned one after the other.
pub const PARALLEL_MIN_MEMBERS: usize = 2;
/// Pickle members holding fewer bytes than this in total are scanned one after the other:
/// a scan runs at hundreds of MB/s, so below this the work is shorter than waking threads.
pub const PARALLEL_MIN_BYTES: usize = 1 << 20;

/// The default policy, parsed once per process (a call that scans one small file would
/// otherwise spend most of its time parsing the policy's data).
fn default_policy() -> Policy {
    static POLICY: std::sync::OnceLock<Policy> = std::sync::OnceLock::new();
    POLICY.get_or_init(Policy::default).clone()
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            policy: default_policy(),
            unsafe_at: Severity::High,
            limits: Limits::default(),
            jobs: None,
            read: ReadMode::read(),
            parallel_members: ParallelMembers::Auto,
            forget_traces: false,
            full_graph: false,
        }
    }
}

impl ScanOptions {
    /// Options for a policy given by name: `default` (unsafe at high), `strict` (unsafe at
    /// medium: unknown classes count), or the path of a TOML file whose `allow = [...]` and
    /// `[[deny]]` entries are added to the default policy.
    ///
    /// # Errors
    /// [`Error::Usage`] when the file cannot be read or parsed.
    pub fn with_policy(name: &str) -> Result<ScanOptions> {
        let mut opts = ScanOptions::default();
        match name {
            "default" => {}
            "strict" => opts.unsafe_at = Severity::Medium,
            path => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    Error::Usage(format!(
                        "cannot read policy {path} (a policy is default, strict or a TOML file): {e}"
                    ))
                })?;
                let extra = Policy::from_toml(&text)
                    .map_err(|e| Error::Usage(format!("policy {path}: {e}")))?;
                opts.policy.extend(extra);
            }
        }
        Ok(opts)
    }
}

/// Scans bytes already in memory, named `path` in the report.
#[must_use]
pub fn scan_bytes(data: &[u8], path: &str, opts: &ScanOptions) -> ScanReport {
    scan_data(data, path.to_owned(), true, opts)
        .unwrap_or_else(|| unreachable!("a file named explicitly is never skipped"))
}

/// Scans one file. `explicit` is false for files met while walking a directory: those are
/// skipped (`None`) unless their content looks like a model.
#[must_use]
pub fn scan_file(path: &Path, explicit: bool, opts: &ScanOptions) -> Option<ScanReport> {
    let shown = path.display().to_string();
    match opts.read.input(path) {
        Ok(data) => scan_data(&data, shown, explicit, opts),
        Err(e) => Some(ScanReport::failed(shown, "unknown", e.to_string())),
    }
}

fn scan_data(data: &[u8], shown: String, explicit: bool, opts: &ScanOptions) -> Option<ScanReport> {
    let fail = |format: &str, msg: String| {
        ScanReport::new(shown.clone(), format, Vec::new(), Some(msg), opts.unsafe_at)
    };
    // Files met while walking a directory are scanned only when they look like models.
    let sniffed = container::sniff(data);
    if !explicit && matches!(sniffed, Sniffed::Unknown | Sniffed::Empty | Sniffed::Html) {
        return None;
    }
    // A raw pickle of plain data needs no container (see `scan_plain_pickle`). A legacy
    // torch file, a sequence of pickles that may all be plain, keeps its container.
    let plain_tried =
        sniffed == Sniffed::Pickle && !opts.full_graph && !container::torch::is_legacy(data);
    if plain_tried && let Some(report) = scan_plain_pickle(data, &shown, opts) {
        return Some(report);
    }
    // A named file in no known format is read as `pickle.load` reads it: it fails on the
    // first byte, and nothing runs (PD105, low: not a pickle).
    let opened = match container::open_as_loader(data, &opts.limits.inflate) {
        Ok(o) => o,
        Err(e) => {
            // A damaged safetensors, GGUF or ONNX file is still named for what it is.
            let format = match sniffed {
                Sniffed::Safetensors => "safetensors",
                Sniffed::Gguf => "gguf",
                Sniffed::Onnx => "onnx",
                _ => "unknown",
            };
            return Some(fail(format, e.to_string()));
        }
    };
    // `container` calls a raw pickle joblib when its bytes name joblib's array wrapper; one
    // of plain data holds that name only as text (see `scan_plain_pickle`). Reached with
    // the plain pass untried only under `--full-graph`, which must say the same.
    let format = if opened.format == (container::Format::Joblib { compression: None })
        && !plain_tried
        && vm::run_plain_uncounted(data, opts.limits.budgets).is_some()
    {
        container::Format::Pickle.name()
    } else {
        opened.format.name()
    };
    // A file met while walking that happens to start with an opcode byte (a text file: 'S',
    // 'c', '('; an image or HDF5 file: 0x89 is NEWFALSE) is not a protocol 0/1 pickle when
    // its data stops being pickle ops before anything could run: no global was named and
    // nothing called, so loading it would only fail. Skip it. A damaged real pickle names
    // globals before its break and is still reported (PD105), as is any file named
    // explicitly.
    let not_a_pickle =
        !explicit && opened.format == container::Format::Pickle && data.first() != Some(&0x80) && {
            let t = vm::run_scan(data, vm::Budgets::small());
            t.error().is_some_and(|e| {
                !e.is_budget() && (e.offset == 0 || (t.globals.is_empty() && t.calls.is_empty()))
            })
        };
    if not_a_pickle {
        return None;
    }
    if let Some(why) = opened.format.not_a_model() {
        return Some(fail(format, why.to_owned()));
    }
    let mut findings = Vec::new();
    if let Some(inventory) = &opened.inventory {
        findings = data_only_findings(data, inventory, opts);
    }
    let pickles: Vec<&container::Member<'_>> = opened.pickles().collect();
    // When the plain pass already failed on the file, it would fail again on its one member.
    findings.extend(member_findings(&pickles, opts, plain_tried));
    Some(ScanReport::new(
        shown,
        format,
        findings,
        None,
        opts.unsafe_at,
    ))
}

/// The report on a raw pickle of plain data (`vm::plain`), the commonest file a scanner
/// meets, or `None` for any other. Plain data names no global, so no joblib array wrapper and
/// no torch storage can be in it: it needs no container, and the plain-data pass alone
/// reports on it, as `member_findings` would on the file's one member. Opening it as a
/// container first would search all of it for joblib's wrapper class (about a tenth of a
/// 3 MB file's scan), and call a plain pickle that merely holds that text a joblib file.
fn scan_plain_pickle(data: &[u8], shown: &str, opts: &ScanOptions) -> Option<ScanReport> {
    // The rules never read op counts, so the pass need not keep them.
    let trace = vm::run_plain_uncounted(data, opts.limits.budgets)?;
    let findings = security::scan(&trace, &opts.policy)
        .into_iter()
        .map(LocatedFinding::whole_file)
        .collect();
    Some(ScanReport::new(
        shown.to_owned(),
        container::Format::Pickle.name(),
        findings,
        None,
        opts.unsafe_at,
    ))
}

/// Findings for a file that stores data only (safetensors, GGUF, ONNX): the file rules over
/// its header (an ONNX model naming external data outside its folder), and whatever would run
/// if the same bytes were handed to `pickle.load` (or to `torch.load`, which unpickles any file
/// that is not a zip): a polyglot that is both a valid header and a pickle that imports
/// something is reported with that pickle's findings. A header that merely fails as a pickle
/// (the usual case: no global is ever reached) adds nothing.
fn data_only_findings(
    data: &[u8],
    inventory: &container::Inventory,
    opts: &ScanOptions,
) -> Vec<LocatedFinding> {
    let mut out: Vec<LocatedFinding> = security::scan_inventory(inventory, &opts.policy)
        .into_iter()
        .map(LocatedFinding::whole_file)
        .collect();
    let as_pickle = if opts.full_graph {
        vm::run_mode(data, opts.limits.budgets, vm::Mode::Scan, &mut vm::NoHooks)
    } else {
        vm::run_scan(data, opts.limits.budgets)
    };
    let pickle_findings = security::scan(&as_pickle, &opts.policy);
    if pickle_findings.iter().any(|f| {
        ![
            security::rules::INCOMPLETE_STREAM,
            security::rules::TRAILING_BYTES,
        ]
        .contains(&f.code)
    }) {
        out.extend(pickle_findings.into_iter().map(LocatedFinding::whole_file));
    }
    out
}

/// What a front end may observe and control during a long scan.
#[derive(Default, Clone, Copy)]
pub struct Hooks<'a> {
    /// Called once per file scanned or skipped, from worker threads.
    pub on_file: Option<&'a (dyn Fn() + Sync)>,
    /// When it becomes true, the remaining files are not scanned and the scan returns
    /// [`Error::Interrupted`].
    pub cancel: Option<&'a AtomicBool>,
}

/// A whole scan of some paths.
#[derive(Debug, Clone, Serialize)]
pub struct ScanRun {
    /// One report per file: walk errors first, then the scanned files in walk order.
    pub files: Vec<ScanReport>,
    /// Files met while walking that are not model files.
    #[serde(skip)]
    pub skipped: usize,
    /// Symlink loops met while walking (warnings: they only lead back to files walked).
    #[serde(skip)]
    pub loops: Vec<walk::WalkError>,
}

/// Scans files and directories, as the CLI does.
///
/// # Errors
/// [`Error::Interrupted`] when `hooks.cancel` was set; [`Error::Usage`] when the worker
/// threads cannot start.
pub fn scan_paths(paths: &[PathBuf], opts: &ScanOptions, hooks: Hooks<'_>) -> Result<ScanRun> {
    let (candidates, walk_errors) = walk::collect(paths);
    let (loops, walk_errors): (Vec<_>, Vec<_>) = walk_errors.into_iter().partition(|e| e.is_loop);
    let mut files: Vec<ScanReport> = walk_errors
        .into_iter()
        .map(|e| ScanReport::failed(e.path.display().to_string(), "unknown", e.message))
        .collect();
    let (scanned, skipped) = scan_candidates(&candidates, opts, hooks)?;
    files.extend(scanned);
    Ok(ScanRun {
        files,
        skipped,
        loops,
    })
}

/// Scans walked files in parallel, in order; files that are not models are left out and
/// counted.
///
/// # Errors
/// As [`scan_paths`].
pub fn scan_candidates(
    candidates: &[walk::Candidate],
    opts: &ScanOptions,
    hooks: Hooks<'_>,
) -> Result<(Vec<ScanReport>, usize)> {
    let one = |c: &walk::Candidate| {
        if hooks.cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
            return None;
        }
        let r = scan_file(&c.path, c.explicit, opts);
        if let Some(f) = hooks.on_file {
            f();
        }
        Some(r)
    };
    let results: Vec<Option<Option<ScanReport>>> = parallel_map(candidates, opts.jobs, one)?;
    if hooks.cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
        return Err(Error::Interrupted);
    }
    let skipped = results.iter().filter(|r| matches!(r, Some(None))).count();
    Ok((results.into_iter().flatten().flatten().collect(), skipped))
}

/// The findings of each pickle member, in member order, scanning the members on several
/// threads when [`ScanOptions::parallel_members`] says so. `not_plain`: the plain-data pass
/// is known to fail on them.
fn member_findings(
    pickles: &[&container::Member<'_>],
    opts: &ScanOptions,
    not_plain: bool,
) -> Vec<LocatedFinding> {
    let one = |m: &&container::Member<'_>| {
        let run = if opts.full_graph || not_plain {
            members::run_scan_mode(m, opts.limits.budgets)
        } else {
            members::run_for_scan(m, opts.limits.budgets)
        };
        let found = security::scan(&run.trace, &opts.policy)
            .into_iter()
            .map(|finding| LocatedFinding {
                member: m.name.clone(),
                member_start: m.file_offset,
                finding,
            })
            .collect::<Vec<_>>();
        if opts.forget_traces {
            std::mem::forget(run);
        }
        found
    };
    let parallel = match opts.parallel_members {
        ParallelMembers::Always => true,
        ParallelMembers::Never => false,
        ParallelMembers::Auto => {
            opts.jobs != Some(1)
                && pickles.len() >= PARALLEL_MIN_MEMBERS
                && pickles.iter().map(|m| m.data.len()).sum::<usize>() >= PARALLEL_MIN_BYTES
        }
    };
    let per_member: Vec<Vec<LocatedFinding>> = if parallel {
        parallel_members(pickles, one)
    } else {
        pickles.iter().map(one).collect()
    };
    per_member.into_iter().flatten().collect()
}

/// `items` mapped on the current thread pool (the one `jobs` chose when files are scanned at
/// once), results in item order.
#[cfg(feature = "parallel")]
fn parallel_members<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync + Send) -> Vec<R> {
    use rayon::prelude::*;
    items.par_iter().map(f).collect()
}

#[cfg(not(feature = "parallel"))]
fn parallel_members<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync + Send) -> Vec<R> {
    items.iter().map(f).collect()
}

#[cfg(feature = "parallel")]
fn parallel_map<T: Sync, R: Send>(
    items: &[T],
    jobs: Option<usize>,
    f: impl Fn(&T) -> R + Sync + Send,
) -> Result<Vec<R>> {
    use rayon::prelude::*;
    if items.len() <= 1 && jobs.is_none() {
        // One file (the usual command line): no thread to start here; its members still
        // go to the global pool, as they would from inside it.
        return Ok(items.iter().map(f).collect());
    }
    let all = || items.par_iter().map(&f).collect::<Vec<_>>();
    match jobs {
        Some(n) => Ok(rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build()
            .map_err(|e| Error::Usage(format!("cannot start worker threads: {e}")))?
            .install(all)),
        None => Ok(all()),
    }
}

#[cfg(not(feature = "parallel"))]
fn parallel_map<T: Sync, R: Send>(
    items: &[T],
    _jobs: Option<usize>,
    f: impl Fn(&T) -> R + Sync + Send,
) -> Result<Vec<R>> {
    Ok(items.iter().map(f).collect())
}

#[doc(hidden)]
pub mod fuzzing {
    //! The scan's invariants, checked by the `parse_vm` and `container` fuzz targets and by
    //! the test that replays their corpora: any bytes scan without a panic, every finding
    //! lies inside its member, a file that fails on its first op is a low note and nothing
    //! else, and the report serialises.

    use super::{ScanOptions, ScanVerdict, scan_bytes};
    use analyze::security::Severity;

    /// Scans `data` as a named file under small budgets; panics if an invariant breaks.
    pub fn scan_any(data: &[u8]) {
        let mut opts = ScanOptions::default();
        opts.limits.budgets = vm::Budgets::small();
        opts.limits.inflate.max_inflated_bytes = 1 << 20;
        let report = scan_bytes(data, "fuzz", &opts);
        for f in &report.findings {
            if let Some(start) = f.member_start {
                assert!(start <= data.len() as u64, "member outside the file");
                if f.member.is_empty() && f.finding.code != "PD106" {
                    assert!(
                        f.finding.offset <= data.len() as u64,
                        "finding outside the file"
                    );
                }
            }
        }
        let not_a_pickle = report
            .findings
            .iter()
            .any(|f| f.finding.message.starts_with("not a pickle:"));
        if not_a_pickle && report.format == "pickle" {
            // Nothing ran: the note is the only finding, and it is low.
            assert_eq!(report.findings.len(), 1, "{:?}", report.findings);
            assert_eq!(report.findings[0].finding.severity, Severity::Low);
            assert_eq!(report.verdict, ScanVerdict::Clean);
        }
        let _ = serde_json::to_string(&report).expect("the report serialises");
    }

    /// Runs `data` in both VM modes ([`vm::Mode::Full`] and [`vm::Mode::Scan`]) under
    /// `budgets` and checks that they agree on everything the rules see: every finding (code,
    /// severity, global, offset, message, help), every pickle's extent, root, op count and
    /// error, every global with its uses, the calls, the node count and the items counted.
    ///
    /// # Panics
    /// On any disagreement, naming it.
    pub fn modes_agree_with(data: &[u8], budgets: vm::Budgets) {
        let full = vm::run_with(data, budgets);
        let scan = vm::run_mode(data, budgets, vm::Mode::Scan, &mut vm::NoHooks);
        // Compared as printed: a NaN root is the same NaN in both, yet not equal to itself.
        let shown = |t: &vm::Trace<'_>| format!("{:?}\n{:?}", t.pickles, t.globals);
        assert_eq!(shown(&full), shown(&scan), "pickles or globals differ");
        assert_eq!(full.calls, scan.calls, "calls differ");
        assert_eq!(full.trailing, scan.trailing, "trailing bytes differ");
        assert_eq!(full.nodes.len(), scan.nodes.len(), "node counts differ");
        assert_eq!(
            (full.ops, full.items),
            (scan.ops, scan.items),
            "counts differ"
        );
        let policy = super::default_policy();
        let a = analyze::security::scan(&full, &policy);
        let b = analyze::security::scan(&scan, &policy);
        assert_eq!(a, b, "findings differ between the full and the scan mode");
        plain_agrees_with(data, budgets);
    }

    /// Checks the plain-data pass (`vm::plain`) against the full machine under `budgets`, and
    /// returns whether the pass applied. When it says `data` is plain, the full run must read
    /// every pickle to its STOP, up to the last byte, with no error, global, call, side
    /// effect or trailing bytes, and agree on every pickle's extent, protocol, op count and
    /// memo entries, on the ops, items and value nodes, on every finding (none) and on the
    /// text of `show --stats`. The uncounted pass that `scan` runs must give the same
    /// result with its op counts at 0, and give up exactly where the counted one does.
    ///
    /// # Panics
    /// On any disagreement, naming it.
    pub fn plain_agrees_with(data: &[u8], budgets: vm::Budgets) -> bool {
        let counted = vm::plain::summarize(data, budgets);
        assert_eq!(
            vm::plain::summarize_uncounted(data, budgets),
            counted.clone().map(vm::plain::Plain::without_op_counts),
            "the uncounted plain pass disagrees with the counted one"
        );
        let Some(plain) = counted.map(vm::plain::Plain::into_trace) else {
            return false;
        };
        let full = vm::run_with(data, budgets);
        assert!(
            full.error().is_none(),
            "plain, yet the machine fails: {:?}",
            full.error()
        );
        assert!(
            full.globals.is_empty(),
            "plain, yet the machine names globals"
        );
        assert!(full.calls.is_empty(), "plain, yet the machine calls");
        assert!(
            full.side_effects.is_empty(),
            "plain, yet the machine records side effects"
        );
        assert_eq!(
            full.trailing, None,
            "plain, yet the machine sees trailing bytes"
        );
        assert_eq!(plain.mode, vm::Mode::Plain);
        assert_eq!(
            full.pickles.len(),
            plain.pickles.len(),
            "pickle counts differ"
        );
        for (f, p) in full.pickles.iter().zip(&plain.pickles) {
            assert!(f.root.is_some(), "plain, yet a pickle has no root");
            let shown = |r: &vm::PickleRun| {
                format!(
                    "{} {} {:?} {} {} {:?} {:?} {:?}",
                    r.start,
                    r.end,
                    r.protocol,
                    r.ops,
                    r.memo_entries,
                    r.error,
                    r.parent,
                    r.py2_non_ascii
                )
            };
            assert_eq!(shown(f), shown(p), "pickles differ");
        }
        assert_eq!(
            full.pickles.last().map(|p| p.end),
            Some(data.len() as u64),
            "plain, yet the pickles end before the data"
        );
        assert_eq!(
            (full.ops, full.items, full.nodes.len()),
            (plain.ops, plain.items, plain.value_nodes()),
            "counts differ"
        );
        let policy = super::default_policy();
        let a = analyze::security::scan(&full, &policy);
        let b = analyze::security::scan(&plain, &policy);
        assert_eq!(
            a, b,
            "findings differ between the full run and the plain pass"
        );
        let stats = |t: &vm::Trace<'_>| {
            let mut out = Vec::new();
            crate::show::write_stats(&mut out, t).expect("writing to memory");
            String::from_utf8(out).expect("stats are UTF-8")
        };
        assert_eq!(stats(&full), stats(&plain), "show --stats differs");
        true
    }

    /// Checks, for a whole file, that `scan` (its JSON report) and `show --stats` (its text
    /// or its error) come out the same with and without the plain-data pass, and
    /// [`plain_agrees_with`] on the whole bytes and on every pickle member, under the
    /// default budgets. Returns whether the pass applied to any of them.
    ///
    /// # Panics
    /// On any disagreement, naming it.
    pub fn file_plain_agrees(data: &[u8]) -> bool {
        let budgets = vm::Budgets::default();
        let mut applied = plain_agrees_with(data, budgets);
        let limits = crate::Limits::default();
        if let Ok(opened) = container::open_as_loader(data, &limits.inflate) {
            for m in opened.pickles() {
                applied |= plain_agrees_with(&m.data, budgets);
            }
        }
        let report = |full_graph: bool| {
            let opts = ScanOptions {
                full_graph,
                ..ScanOptions::default()
            };
            let mut out = Vec::new();
            crate::render::scan_json(&mut out, &[scan_bytes(data, "f", &opts)])
                .expect("writing to memory");
            String::from_utf8(out).expect("JSON is UTF-8")
        };
        assert_eq!(report(false), report(true), "scan reports differ");
        let stats = |full_graph: bool| {
            let opts = crate::show::ShowOptions {
                format: crate::show::ShowFormat::Stats,
                full_graph,
                ..crate::show::ShowOptions::default()
            };
            let mut out = Vec::new();
            let r = crate::show::show(&mut out, data, "f", &opts);
            format!(
                "{}\n{:?}",
                String::from_utf8_lossy(&out),
                r.map_err(|e| e.to_string())
            )
        };
        assert_eq!(stats(false), stats(true), "show --stats differs");
        applied
    }

    /// Opens `data` as `scan` does and checks [`modes_agree_with`] on every pickle member
    /// (and on the whole bytes, which `scan` also runs for data-only formats), under the
    /// default budgets.
    ///
    /// # Panics
    /// As [`modes_agree_with`].
    pub fn file_modes_agree(data: &[u8]) {
        let budgets = vm::Budgets::default();
        modes_agree_with(data, budgets);
        let limits = crate::Limits::default();
        if let Ok(opened) = container::open_as_loader(data, &limits.inflate) {
            for m in opened.pickles() {
                modes_agree_with(&m.data, budgets);
            }
        }
    }

    /// [`modes_agree_with`] under the small budgets the fuzz targets use.
    ///
    /// # Panics
    /// As [`modes_agree_with`].
    pub fn modes_agree(data: &[u8]) {
        modes_agree_with(data, vm::Budgets::small());
    }
}
