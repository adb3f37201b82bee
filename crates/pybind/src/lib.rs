//! `pickle_doctor._native`: the Python binding over the `doctor` facade.
//!
//! Every function returns the CLI's own JSON text (or plain strings), which the pure-Python
//! layer turns into picklable dataclasses, so that results cross process boundaries (Dask,
//! Ray) and `.to_dict()` equals the CLI's output by construction. All Rust work runs with the
//! GIL released, on a worker thread, while the calling thread polls for Ctrl-C: an interrupt
//! stops directory scans between files and raises `KeyboardInterrupt` in Python.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use doctor::scan::{Hooks, ReadMode, ScanOptions};
use doctor::{CheckOptions, Error, FixOptions, Input, Session, TargetSpec};
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;

// Named under its importable module, so that the exception pickles (Dask and Ray ship
// exceptions between processes by pickling them).
create_exception!(
    pickle_doctor._native,
    NativeError,
    PyException,
    "A pickle-doctor error: args are (kind, message)."
);

/// A file to read, or bytes already in memory.
enum Source {
    Path(String),
    Bytes(PyBackedBytes),
}

impl<'py> FromPyObject<'_, 'py> for Source {
    type Error = PyErr;

    fn extract(obj: Borrowed<'_, 'py, PyAny>) -> PyResult<Self> {
        if let Ok(s) = obj.extract::<String>() {
            return Ok(Source::Path(s));
        }
        Ok(Source::Bytes(obj.extract::<PyBackedBytes>()?))
    }
}

/// The bytes of a source, and its name in reports.
enum Data<'a> {
    Read(Input),
    Borrowed(&'a [u8]),
}

impl Source {
    fn name(&self) -> String {
        match self {
            Source::Path(p) => p.clone(),
            Source::Bytes(_) => "<bytes>".to_owned(),
        }
    }

    fn data(&self) -> Result<Data<'_>, Error> {
        match self {
            Source::Path(p) => Ok(Data::Read(read(Path::new(p))?)),
            Source::Bytes(b) => Ok(Data::Borrowed(b)),
        }
    }
}

impl std::ops::Deref for Data<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Data::Read(i) => i,
            Data::Borrowed(b) => b,
        }
    }
}

/// Reads a file memory-mapped, as the CLI does.
fn read(path: &Path) -> Result<Input, Error> {
    #[allow(
        unsafe_code,
        reason = "memory-mapping is the one way to avoid reading tensor bytes"
    )]
    // SAFETY: read-only private map; a file truncated by another process while it is read
    // raises SIGBUS, a risk the binding accepts as the CLI does (README, "Reading files").
    unsafe {
        Input::map(path)
    }
}

fn read_mode() -> ReadMode {
    #[allow(unsafe_code, reason = "as `read`")]
    // SAFETY: as in `read`.
    unsafe {
        ReadMode::mmap()
    }
}

fn native_err(e: &Error) -> PyErr {
    NativeError::new_err((e.kind().as_str(), e.to_string()))
}

fn usage(msg: String) -> PyErr {
    NativeError::new_err(("usage", msg))
}

/// Runs `f` on a worker thread with the GIL released, polling for Ctrl-C on this thread.
/// On an interrupt, `cancel` is set (long scans stop between files) and, once the worker has
/// returned, the interrupt is raised.
fn interruptible<T: Send>(
    py: Python<'_>,
    cancel: &AtomicBool,
    f: impl FnOnce() -> Result<T, Error> + Send,
) -> PyResult<T> {
    let (result, interrupt) = py.detach(|| {
        std::thread::scope(|s| {
            let (tx, rx) = mpsc::channel();
            s.spawn(move || {
                let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
                let _ = tx.send(r);
            });
            let mut interrupt: Option<PyErr> = None;
            loop {
                match rx.recv_timeout(Duration::from_millis(50)) {
                    Ok(r) => return (Some(r), interrupt),
                    Err(mpsc::RecvTimeoutError::Disconnected) => return (None, interrupt),
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        if interrupt.is_none()
                            && let Err(e) = Python::attach(|py| py.check_signals())
                        {
                            cancel.store(true, Ordering::Relaxed);
                            interrupt = Some(e);
                        }
                    }
                }
            }
        })
    });
    if let Some(e) = interrupt {
        return Err(e);
    }
    match result {
        Some(Ok(Ok(v))) => Ok(v),
        Some(Ok(Err(e))) => Err(native_err(&e)),
        _ => Err(NativeError::new_err((
            "internal",
            "internal error (please report): the worker panicked".to_owned(),
        ))),
    }
}

fn no_cancel() -> AtomicBool {
    AtomicBool::new(false)
}

fn target(
    python: Option<String>,
    site_packages: Vec<String>,
    python_version: Option<String>,
) -> PyResult<TargetSpec> {
    if !site_packages.is_empty() {
        let v = python_version
            .ok_or_else(|| usage("site_packages needs python_version (\"3.11\")".to_owned()))?;
        let python = doctor::target::parse_python_version(&v).map_err(|e| native_err(&e))?;
        return Ok(TargetSpec::SitePackages {
            dirs: site_packages.into_iter().map(PathBuf::from).collect(),
            python,
        });
    }
    Ok(match python {
        Some(p) => TargetSpec::Interpreter(PathBuf::from(p)),
        None => TargetSpec::Default,
    })
}

fn check_options(
    main: Option<String>,
    loader: Option<String>,
    encoding: Option<String>,
    errors: Option<String>,
) -> PyResult<CheckOptions> {
    let mut decoding = doctor::check::Decoding::default();
    if let Some(e) = encoding.as_deref() {
        decoding.encoding = doctor::check::parse_encoding(e).map_err(|e| native_err(&e))?;
    }
    if let Some(e) = errors.as_deref() {
        decoding.errors = doctor::check::parse_errors(e).map_err(|e| native_err(&e))?;
    }
    Ok(CheckOptions {
        loader: loader
            .as_deref()
            .map(doctor::check::parse_loader)
            .transpose()
            .map_err(|e| native_err(&e))?,
        main: main.map(PathBuf::from),
        decoding,
    })
}

fn scan_options(policy: &str, jobs: Option<usize>) -> PyResult<ScanOptions> {
    let mut opts = ScanOptions::with_policy(policy).map_err(|e| native_err(&e))?;
    opts.jobs = jobs;
    opts.read = read_mode();
    Ok(opts)
}

/// The package version.
#[pyfunction]
fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

/// Runs the command line in-process; returns its exit code.
#[pyfunction]
fn main(py: Python<'_>, argv: Vec<String>) -> u8 {
    py.detach(|| cli::run(argv))
}

/// One file's scan report, as JSON.
#[pyfunction]
fn scan(py: Python<'_>, source: Source, policy: &str) -> PyResult<String> {
    let opts = scan_options(policy, None)?;
    interruptible(py, &no_cancel(), || {
        let report = match source.data() {
            Ok(data) => doctor::scan::scan_bytes(&data, &source.name(), &opts),
            Err(e) => doctor::ScanReport::failed(source.name(), "unknown", e.to_string()),
        };
        Ok(doctor::render::pretty(&report))
    })
}

/// `scan --format json PATH...`.
#[pyfunction]
#[pyo3(signature = (paths, policy, jobs=None))]
fn scan_paths(
    py: Python<'_>,
    paths: Vec<String>,
    policy: &str,
    jobs: Option<usize>,
) -> PyResult<String> {
    let opts = scan_options(policy, jobs)?;
    let paths: Vec<PathBuf> = paths.into_iter().map(PathBuf::from).collect();
    let cancel = no_cancel();
    interruptible(py, &cancel, || {
        let hooks = Hooks {
            on_file: None,
            cancel: Some(&cancel),
        };
        let run = doctor::scan::scan_paths(&paths, &opts, hooks)?;
        Ok(doctor::render::pretty(&run))
    })
}

/// The files a scan of `paths` looks at.
#[pyfunction]
fn walk(py: Python<'_>, paths: Vec<String>) -> PyResult<String> {
    let paths: Vec<PathBuf> = paths.into_iter().map(PathBuf::from).collect();
    interruptible(py, &no_cancel(), || {
        let (files, errors) = doctor::scan::walk::collect(&paths);
        Ok(doctor::render::pretty(
            &serde_json::json!({"files": files, "errors": errors}),
        ))
    })
}

/// Scans walked files: `{"files": [...], "skipped": n}`.
#[pyfunction]
#[pyo3(signature = (files, policy, jobs=None))]
fn scan_files(
    py: Python<'_>,
    files: Vec<(String, bool)>,
    policy: &str,
    jobs: Option<usize>,
) -> PyResult<String> {
    let opts = scan_options(policy, jobs)?;
    let candidates: Vec<doctor::scan::walk::Candidate> = files
        .into_iter()
        .map(|(path, explicit)| doctor::scan::walk::Candidate {
            path: PathBuf::from(path),
            explicit,
        })
        .collect();
    let cancel = no_cancel();
    interruptible(py, &cancel, || {
        let hooks = Hooks {
            on_file: None,
            cancel: Some(&cancel),
        };
        let (reports, skipped) = doctor::scan::scan_candidates(&candidates, &opts, hooks)?;
        Ok(doctor::render::pretty(
            &serde_json::json!({"files": reports, "skipped": skipped}),
        ))
    })
}

/// `check --format json` for one source.
#[pyfunction]
#[pyo3(signature = (source, python=None, site_packages=Vec::new(), python_version=None, main=None, loader=None, encoding=None, errors=None))]
#[allow(clippy::too_many_arguments, reason = "mirrors the Python signature")]
fn check(
    py: Python<'_>,
    source: Source,
    python: Option<String>,
    site_packages: Vec<String>,
    python_version: Option<String>,
    main: Option<String>,
    loader: Option<String>,
    encoding: Option<String>,
    errors: Option<String>,
) -> PyResult<String> {
    let spec = target(python, site_packages, python_version)?;
    let opts = check_options(main, loader, encoding, errors)?;
    interruptible(py, &no_cancel(), || {
        let session = Session::new(&spec, doctor::Limits::default())?;
        let data = source.data()?;
        let report = session.check(&data, &source.name(), &opts)?;
        Ok(doctor::render::check::json(
            &session.environment_json(),
            &[report],
        ))
    })
}

/// The distributions a source needs: JSON list of `{dist, spec, reason}`.
#[pyfunction]
#[pyo3(signature = (source, python=None, site_packages=Vec::new(), python_version=None))]
fn requirements(
    py: Python<'_>,
    source: Source,
    python: Option<String>,
    site_packages: Vec<String>,
    python_version: Option<String>,
) -> PyResult<String> {
    let spec = target(python, site_packages, python_version)?;
    interruptible(py, &no_cancel(), || {
        let session = Session::new(&spec, doctor::Limits::default())?;
        let data = source.data()?;
        let reqs = session.requirements(&[(&source.name(), &data)])?;
        Ok(doctor::render::pretty(&reqs))
    })
}

/// `fix --format json`.
#[pyfunction]
#[pyo3(signature = (source, output=None, python=None, site_packages=Vec::new(), python_version=None, maps=Vec::new(), dry_run=false, force=false, main=None, loader=None, encoding=None, errors=None))]
#[allow(clippy::too_many_arguments, reason = "mirrors the Python signature")]
fn fix(
    py: Python<'_>,
    source: String,
    output: Option<String>,
    python: Option<String>,
    site_packages: Vec<String>,
    python_version: Option<String>,
    maps: Vec<String>,
    dry_run: bool,
    force: bool,
    main: Option<String>,
    loader: Option<String>,
    encoding: Option<String>,
    errors: Option<String>,
) -> PyResult<String> {
    let spec = target(python, site_packages, python_version)?;
    let maps = maps
        .iter()
        .map(|m| {
            m.parse::<rewrite::UserMap>()
                .map_err(|e| usage(format!("map {m:?}: {e}")))
        })
        .collect::<PyResult<Vec<_>>>()?;
    if output.is_none() && !dry_run {
        return Err(usage(
            "fix needs an output path, or dry_run=True".to_owned(),
        ));
    }
    let opts = FixOptions {
        check: check_options(main, loader, encoding, errors)?,
        maps,
        output: if dry_run {
            None
        } else {
            output.map(PathBuf::from)
        },
        replace_input: false,
        force,
        read: read_mode(),
    };
    interruptible(py, &no_cancel(), || {
        let session = Session::new(&spec, doctor::Limits::default())?;
        let input = Path::new(&source);
        let data = read(input)?;
        let outcome = session.fix(input, &data, &opts, &mut |_| {})?;
        Ok(doctor::render::fix::json(
            &session.environment_json(),
            &outcome,
        ))
    })
}

/// `show --json`.
#[pyfunction]
fn show(py: Python<'_>, source: Source) -> PyResult<String> {
    interruptible(py, &no_cancel(), || {
        let data = source.data()?;
        let opts = doctor::show::ShowOptions {
            format: doctor::show::ShowFormat::Json,
            ..Default::default()
        };
        let mut out = Vec::new();
        doctor::show::show(&mut out, &data, &source.name(), &opts)?;
        Ok(String::from_utf8_lossy(&out).into_owned())
    })
}

/// `dis`.
#[pyfunction]
fn dis(py: Python<'_>, source: Source) -> PyResult<String> {
    interruptible(py, &no_cancel(), || {
        let data = source.data()?;
        let mut out = Vec::new();
        let listed = doctor::dis::dis(
            &mut out,
            &data,
            &source.name(),
            None,
            &doctor::Limits::default(),
        )?;
        let mut text = String::from_utf8_lossy(&out).into_owned();
        for (place, e) in listed.malformed {
            text.push_str(&format!("{place}: {e}\n"));
        }
        Ok(text)
    })
}

/// `export --format json`: the report (the file is written unless `output` is None).
#[pyfunction]
#[pyo3(signature = (source, output=None, to="safetensors", duplicate_shared=false, force=false, float64=false, target_opset=None))]
#[allow(clippy::too_many_arguments)]
fn export(
    py: Python<'_>,
    source: String,
    output: Option<String>,
    to: &str,
    duplicate_shared: bool,
    force: bool,
    float64: bool,
    target_opset: Option<i64>,
) -> PyResult<String> {
    let opts = doctor::export::ExportOptions {
        to: doctor::export::ExportFormat::parse(to).map_err(|e| native_err(&e))?,
        output: output.map(PathBuf::from),
        duplicate_shared,
        force,
        float64,
        target_opset,
        limits: doctor::Limits::default(),
    };
    interruptible(py, &no_cancel(), || {
        let input = Path::new(&source);
        let data = read(input)?;
        let report = doctor::export::export(input, &data, &opts)?;
        Ok(doctor::render::pretty(&report))
    })
}

/// What safe load needs from one scan of `data`.
#[pyfunction]
fn load_plan(py: Python<'_>, data: PyBackedBytes, policy: &str) -> PyResult<String> {
    let opts = scan_options(policy, None)?;
    interruptible(py, &no_cancel(), || {
        Ok(doctor::render::pretty(&doctor::safe_load::plan(
            &data, &opts,
        )))
    })
}

/// The module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("NativeError", m.py().get_type::<NativeError>())?;
    m.add_function(wrap_pyfunction!(version, m)?)?;
    m.add_function(wrap_pyfunction!(main, m)?)?;
    m.add_function(wrap_pyfunction!(scan, m)?)?;
    m.add_function(wrap_pyfunction!(scan_paths, m)?)?;
    m.add_function(wrap_pyfunction!(walk, m)?)?;
    m.add_function(wrap_pyfunction!(scan_files, m)?)?;
    m.add_function(wrap_pyfunction!(check, m)?)?;
    m.add_function(wrap_pyfunction!(requirements, m)?)?;
    m.add_function(wrap_pyfunction!(fix, m)?)?;
    m.add_function(wrap_pyfunction!(show, m)?)?;
    m.add_function(wrap_pyfunction!(dis, m)?)?;
    m.add_function(wrap_pyfunction!(load_plan, m)?)?;
    m.add_function(wrap_pyfunction!(export, m)?)?;
    Ok(())
}
