//! Shared helpers for the integration tests.
#![allow(dead_code, reason = "each test binary uses a different subset")]

pub(crate) mod canonical;
pub(crate) mod fix;
pub(crate) mod matrix;
pub(crate) mod toy;

use std::path::{Path, PathBuf};

/// Says that the running test did nothing, and why, on the real standard error: libtest
/// captures `eprintln!` of passing tests, which would make the skip silent and the pass
/// look earned. Once per test and reason.
pub(crate) fn skipped(why: &str) {
    use std::io::Write as _;
    static SAID: std::sync::Mutex<Vec<(String, String)>> = std::sync::Mutex::new(Vec::new());
    let thread = std::thread::current();
    let test = thread.name().filter(|n| *n != "main").unwrap_or("?");
    let key = (test.to_owned(), why.to_owned());
    let mut said = SAID
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if said.contains(&key) {
        return;
    }
    said.push(key);
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED {}::{test}: {why}",
        env!("CARGO_CRATE_NAME")
    );
}

/// Prints `text` on the real standard error, past libtest's capture (agreement counts of the
/// matrix tests).
pub(crate) fn say(text: &str) {
    use std::io::Write as _;
    let _ = std::io::stderr().write_all(text.as_bytes());
}

/// The generated fixture corpus (`scripts/test.sh` generates it with real CPython, numpy,
/// scikit-learn and pandas and sets `PICKLE_DOCTOR_FIXTURES`).
///
/// Without it the fixture tests have nothing to compare against. When
/// `PICKLE_DOCTOR_REQUIRE_FIXTURES=1` (as in CI) a missing corpus fails the test; otherwise
/// the test prints `SKIPPED <test>: ...` past libtest's capture and returns.
pub(crate) fn fixtures_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("PICKLE_DOCTOR_FIXTURES").map(PathBuf::from);
    let required = std::env::var("PICKLE_DOCTOR_REQUIRE_FIXTURES").is_ok_and(|v| v == "1");
    match dir {
        Some(d) if d.join("manifest.json").is_file() => Some(d),
        _ if required => panic!(
            "fixture corpus not found: set PICKLE_DOCTOR_FIXTURES (scripts/test.sh does this)"
        ),
        _ => {
            skipped(
                "set PICKLE_DOCTOR_FIXTURES to the generated fixture corpus (scripts/test.sh does)",
            );
            None
        }
    }
}

/// Every `.pkl` file under `dir`, sorted.
pub(crate) fn pickles_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "pkl") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// `path` with `suffix` appended to its full name (`a.pkl` → `a.pkl.dis`).
pub(crate) fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Runs the built binary from the repository root with `args`, feeding `stdin`.
pub(crate) fn run_cli(args: &[&str], stdin: Option<&[u8]>) -> std::process::Output {
    run_bin(Path::new(bin()), args, stdin)
}

/// Runs `binary` from the repository root with `args`, feeding `stdin`.
pub(crate) fn run_bin(binary: &Path, args: &[&str], stdin: Option<&[u8]>) -> std::process::Output {
    use std::io::Write as _;
    use std::process::{Command, Stdio};
    let mut child = Command::new(binary)
        .args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or_default()).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

/// Path of the built binary.
pub(crate) fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_pickle-doctor")
}

/// A corpus or tool named by an environment variable that `scripts/test.sh` sets. Missing: the
/// test fails when `PICKLE_DOCTOR_REQUIRE_FIXTURES=1` (CI), and otherwise prints
/// `SKIPPED <test>: ...` past libtest's capture and returns.
pub(crate) fn from_env(var: &str) -> Option<PathBuf> {
    let required = std::env::var("PICKLE_DOCTOR_REQUIRE_FIXTURES").is_ok_and(|v| v == "1");
    match std::env::var_os(var).map(PathBuf::from) {
        Some(p) if p.exists() => Some(p),
        _ if required => panic!("{var} is not set or missing (scripts/test.sh sets it)"),
        _ => {
            skipped(&format!("set {var} (scripts/test.sh does)"));
            None
        }
    }
}

/// Runs `pickle-doctor scan ARGS --format json` and parses the document.
pub(crate) fn scan_json(args: &[&str]) -> (Option<i32>, serde_json::Value) {
    let mut all = vec!["scan", "--format", "json"];
    all.extend_from_slice(args);
    let out = run_cli(&all, None);
    let doc = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "scan printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code(), doc)
}

/// The break atlas's venvs, by atlas name (`sk-1.2` -> its python), from the `envs.tsv` that
/// `PICKLE_DOCTOR_ATLAS` names (`scripts/atlas-targets.sh` writes it; only venvs that exist
/// are listed).
pub(crate) fn atlas_envs() -> Option<std::collections::BTreeMap<String, PathBuf>> {
    let tsv = from_env("PICKLE_DOCTOR_ATLAS")?;
    let text = std::fs::read_to_string(tsv).unwrap();
    Some(
        text.lines()
            .skip(1)
            .filter_map(|l| {
                let mut f = l.split('\t');
                Some((f.next()?.to_owned(), PathBuf::from(f.next()?)))
            })
            .collect(),
    )
}

/// The break atlas's truth (`tests/atlas/truth.json`): what each pickle did when really
/// loaded and used in each target venv.
pub(crate) fn atlas_truth() -> serde_json::Value {
    let path = matrix::repo().join("tests/atlas/truth.json");
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}
