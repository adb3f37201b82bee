//! Running `pickle-doctor fix` for a target venv and sorting what it did, for the tests that
//! prove repairs by predictions (`fix_usetime.rs`, `fix_atlas.rs`).

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde_json::Value;

/// The shared venv cache (`$PICKLE_DOCTOR_CACHE/venvs`, by default
/// `~/.cache/pickle-doctor/venvs`).
pub(crate) fn venvs() -> PathBuf {
    std::env::var_os("PICKLE_DOCTOR_CACHE")
        .map_or_else(
            || {
                PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                    .join(".cache/pickle-doctor")
            },
            PathBuf::from,
        )
        .join("venvs")
}

/// What `fix` did with one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Fixed {
    /// Exit 0 and the output exists.
    Written,
    /// Exit 1, nothing written, and this reason.
    Refused(String),
    /// Anything else: a bug (exit code and standard error).
    Broken(String),
}

/// Runs `fix INPUT -o OUT --python PYTHON --format json` (plus `--force` when asked).
pub(crate) fn fix(input: &Path, out: &Path, python: &Path, force: bool) -> Fixed {
    let mut args = vec![
        "fix",
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--python",
        python.to_str().unwrap(),
        "--format",
        "json",
    ];
    if force {
        args.push("--force");
    }
    let o = super::run_cli(&args, None);
    let report: Value = serde_json::from_slice(&o.stdout).unwrap_or(Value::Null);
    let written = out.exists();
    match (o.status.code(), written) {
        (Some(0), true) => Fixed::Written,
        (Some(1), true) if force => Fixed::Written,
        (Some(1), false) => match report["refusal"]["reason"].as_str() {
            Some(r) => Fixed::Refused(r.to_owned()),
            None => Fixed::Broken(format!("exit 1 without a refusal: {report}")),
        },
        (code, _) => Fixed::Broken(format!(
            "exit {code:?} (written: {written}): {}",
            String::from_utf8_lossy(&o.stderr)
        )),
    }
}

/// Runs `work` over `jobs` on `threads` threads; the results in the jobs' order.
pub(crate) fn parallel<T: Send, R: Send>(
    jobs: Vec<T>,
    threads: usize,
    work: impl Fn(T) -> R + Sync,
) -> Vec<R> {
    let n = jobs.len();
    let queue = Mutex::new(jobs.into_iter().enumerate().collect::<Vec<_>>());
    let done = Mutex::new(Vec::with_capacity(n));
    std::thread::scope(|s| {
        for _ in 0..threads.max(1) {
            s.spawn(|| {
                loop {
                    let Some((i, job)) = queue.lock().unwrap().pop() else {
                        return;
                    };
                    let r = work(job);
                    done.lock().unwrap().push((i, r));
                }
            });
        }
    });
    let mut done = done.into_inner().unwrap();
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
}

/// Threads for jobs that each run a subprocess: `PICKLE_DOCTOR_TEST_JOBS`, else 2 (the CI
/// runners have two cores).
pub(crate) fn threads() -> usize {
    std::env::var("PICKLE_DOCTOR_TEST_JOBS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2)
}
