//! `fix` over the check matrix (`check_matrix.rs`): every (fixture, target) row whose real
//! load failed is handed to `pickle-doctor fix --python TARGET`. Then:
//! - a repaired file must really load in the target venv, in a subprocess, and what it loads
//!   must equal the original loaded in its writer venv: both are dumped by
//!   `tests/fix/canonical.py` (arrays by value, estimators by their outputs on fixed inputs,
//!   types by qualname since module paths are what changed);
//! - a refused row writes nothing, and its refusal must be one no rename can lift, shown from
//!   the target venv itself: the package is not installed, the name was defined in the
//!   writer's `__main__`, the failure is in the object's state, or the missing module or name
//!   is defined nowhere in the target's package (searched in its sources and extension
//!   binaries).
//!
//! Rows that need the user's knowledge (`__main__` classes moved into a module, a local
//! package's own renames) are repaired with `--map` in the tests after this one.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

struct Matrix {
    truth: Value,
    cache: PathBuf,
    fixtures: PathBuf,
}

impl Matrix {
    fn load() -> Option<Matrix> {
        let truth_path = common::from_env("PICKLE_DOCTOR_MATRIX")?;
        let truth: Value = serde_json::from_slice(&std::fs::read(&truth_path).unwrap()).unwrap();
        let cache = truth_path
            .parent()
            .and_then(Path::parent)
            .unwrap()
            .to_path_buf();
        let fixtures = PathBuf::from(truth["fixtures_dir"].as_str().unwrap());
        Some(Matrix {
            truth,
            cache,
            fixtures,
        })
    }

    fn python(&self, venv: &str) -> PathBuf {
        if venv == "fixtures" {
            self.cache.join("venvs/fixtures/bin/python")
        } else {
            self.cache.join(format!("venvs/matrix-{venv}/bin/python"))
        }
    }

    fn path_of(&self, fixture: &str) -> PathBuf {
        match fixture.strip_prefix("torch/") {
            Some(name) => repo().join("tests/fixtures/torch/files").join(name),
            None => self.fixtures.join(fixture),
        }
    }

    fn purelib(&self, target: &str) -> PathBuf {
        PathBuf::from(
            self.truth["targets"][target]["purelib"]
                .as_str()
                .unwrap_or_default(),
        )
    }

    fn failing_rows(&self) -> Vec<&Value> {
        self.truth["rows"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["outcome"] == "fails")
            .collect()
    }
}

/// The canonical dump of `file` loaded with `loader` by `python`, in an empty directory.
/// `extra` is prepended to `sys.path` and `main` names a module whose names are copied into
/// `__main__` first (the training script's classes, for the original of a `__main__` row).
fn canonical(
    python: &Path,
    loader: &str,
    file: &Path,
    extra: Option<&Path>,
    main: Option<&str>,
) -> Result<String, String> {
    let dir = tempdir();
    let mut cmd = Command::new(python);
    cmd.arg("-I")
        .arg(repo().join("tests/fix/canonical.py"))
        .arg(loader)
        .arg(file)
        .current_dir(dir.path());
    if let Some(p) = extra {
        cmd.arg("--path").arg(p);
    }
    if let Some(m) = main {
        cmd.arg("--main-module").arg(m);
    }
    let out = cmd.output().unwrap();
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
    }
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// Runs `fix` and returns (exit code, JSON report).
fn fix(file: &Path, out: &Path, target_args: &[String], extra: &[&str]) -> (i32, Value) {
    let mut args: Vec<String> = vec![
        "fix".into(),
        file.display().to_string(),
        "-o".into(),
        out.display().to_string(),
        "--format".into(),
        "json".into(),
    ];
    args.extend(target_args.iter().cloned());
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = common::run_cli(&refs, None);
    let code = o.status.code().unwrap_or(-1);
    assert!(
        code == 0 || code == 1,
        "fix {} exited {code}: {}",
        file.display(),
        String::from_utf8_lossy(&o.stderr)
    );
    let report: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "fix {}: not JSON ({e}): {}",
            file.display(),
            String::from_utf8_lossy(&o.stdout)
        )
    });
    (code, report)
}

/// Why no rename can make this row load, judged from the error that remains (the real one,
/// or after the renames `fix` did apply, the one `check` predicts for its output) and from
/// the target venv's files; `None` when a rename could.
fn unrepairable(m: &Matrix, row: &Value, report: &Value) -> Option<String> {
    let target = row["target"].as_str().unwrap();
    if row["loader_missing"] == true {
        return Some(format!("the loader is not installed: {}", row["error_line"]));
    }
    let error = report["after"]["error"]
        .as_str()
        .or(row["error_line"].as_str())
        .unwrap_or_default();
    if error.contains("'__main__'") {
        return Some("defined in the writer's __main__".to_owned());
    }
    let etype = error.split(':').next().unwrap_or_default();
    if etype != "ModuleNotFoundError" && etype != "AttributeError" {
        return Some(format!("state-level ({etype})"));
    }
    let quoted_after = |marker: &str| {
        let rest = &error[error.find(marker)? + marker.len()..];
        Some(rest[..rest.find('\'')?].to_owned())
    };
    let purelib = m.purelib(target);
    if etype == "ModuleNotFoundError" {
        let module = quoted_after("No module named '")?;
        let top = module.split('.').next().unwrap_or_default().to_owned();
        if !purelib.join(&top).exists() && !purelib.join(format!("{top}.py")).exists() {
            return Some(format!("{top} is not installed"));
        }
        let last = module.rsplit('.').next().unwrap();
        return (!defined_anywhere(&purelib.join(&top), last, true))
            .then(|| format!("module {module} is defined nowhere in {top}"));
    }
    // Can't get attribute 'NAME' on <module 'MODULE' ...>
    let name = quoted_after("attribute '")?;
    let module = quoted_after("<module '")?;
    let top = module.split('.').next().unwrap_or_default();
    let leaf = name.rsplit('.').next().unwrap();
    (!defined_anywhere(&purelib.join(top), leaf, false))
        .then(|| format!("{module}.{name} is defined nowhere in {top}"))
}

/// Whether `name` is defined as a module (`module = true`) or as a class, function or
/// assignment anywhere under `pkg`: in Python sources, or as a Cython type name in an
/// extension binary.
fn defined_anywhere(pkg: &Path, name: &str, module: bool) -> bool {
    let mut stack = vec![pkg.to_path_buf()];
    let word = |hay: &[u8], pat: &[u8]| {
        hay.windows(pat.len()).enumerate().any(|(i, w)| {
            w == pat
                && !hay
                    .get(i + pat.len())
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
        })
    };
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            let fname = e.file_name().to_string_lossy().into_owned();
            if p.is_dir() {
                if module && fname == name {
                    return true;
                }
                stack.push(p);
                continue;
            }
            let stem = fname.split('.').next().unwrap_or_default();
            if module {
                if stem == name && (fname.ends_with(".py") || fname.ends_with(".so")) {
                    return true;
                }
                continue;
            }
            if fname.ends_with(".py") || fname.ends_with(".pyi") || fname.ends_with(".pyx") {
                let Ok(src) = std::fs::read(&p) else { continue };
                for pat in [
                    format!("def {name}("),
                    format!("class {name}"),
                    format!("\n{name} ="),
                    format!("cdef class {name}"),
                ] {
                    if word(&src, pat.trim_end_matches('(').as_bytes()) {
                        return true;
                    }
                }
            } else if fname.ends_with(".so") {
                let Ok(bin) = std::fs::read(&p) else { continue };
                if word(&bin, format!(".{name}").as_bytes()) {
                    return true;
                }
            }
        }
    }
    false
}

/// Runs `work` over `items` on two threads (the CI machine has two cores).
fn parallel<T: Sync, R: Send>(items: &[T], work: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let next = Mutex::new(0usize);
    let results: Mutex<Vec<(usize, R)>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                loop {
                    let i = {
                        let mut n = next.lock().unwrap();
                        let i = *n;
                        *n += 1;
                        i
                    };
                    let Some(item) = items.get(i) else { break };
                    let r = work(item);
                    results.lock().unwrap().push((i, r));
                }
            });
        }
    });
    let mut r = results.into_inner().unwrap();
    r.sort_by_key(|(i, _)| *i);
    r.into_iter().map(|(_, r)| r).collect()
}

fn clip(s: &str) -> &str {
    &s[..s.len().min(800)]
}

/// Equal, except for estimator outputs that raise under the target's older scikit-learn.
/// `check` predicted the version warning that scikit-learn itself gives for these files
/// (InconsistentVersionWarning); every output that does run must still agree.
fn equal_but_for_skew(repaired: &str, original: &str) -> bool {
    fn strip(r: &mut Value, o: &mut Value) {
        match (r, o) {
            (Value::Object(r), Value::Object(o)) => {
                if let (Some(Value::Object(ro)), Some(Value::Object(oo))) =
                    (r.get_mut("outputs"), o.get_mut("outputs"))
                {
                    let raising: Vec<String> = ro
                        .iter()
                        .filter(|(k, v)| {
                            v.get("raises").is_some()
                                && oo.get(*k).is_some_and(|x| x.get("raises").is_none())
                        })
                        .map(|(k, _)| k.clone())
                        .collect();
                    for k in raising {
                        ro.remove(&k);
                        oo.remove(&k);
                    }
                }
                for (k, rv) in r.iter_mut() {
                    if let Some(ov) = o.get_mut(k) {
                        strip(rv, ov);
                    }
                }
            }
            (Value::Array(r), Value::Array(o)) => {
                for (rv, ov) in r.iter_mut().zip(o.iter_mut()) {
                    strip(rv, ov);
                }
            }
            _ => {}
        }
    }
    let (Ok(mut r), Ok(mut o)) = (
        serde_json::from_str::<Value>(repaired),
        serde_json::from_str::<Value>(original),
    ) else {
        return false;
    };
    strip(&mut r, &mut o);
    r == o
}

enum RowResult {
    Repaired,
    RepairedWithSkew,
    Refused(String),
    Wrong(String),
}

#[test]
fn every_repairable_row_is_repaired_and_loads_like_the_original() {
    let Some(m) = Matrix::load() else {
        return;
    };
    let rows = m.failing_rows();
    let work = tempdir();
    let originals: Mutex<HashMap<String, Result<String, String>>> = Mutex::new(HashMap::new());
    let results = parallel(&rows, |row| {
        let fixture = row["fixture"].as_str().unwrap();
        let target = row["target"].as_str().unwrap();
        let writer = row["writer"].as_str().unwrap();
        let loader = row["loader"].as_str().unwrap();
        let src = m.path_of(fixture);
        let out = work.path().join(target).join(fixture.replace('/', "__"));
        std::fs::create_dir_all(out.parent().unwrap()).unwrap();
        let target_args = vec![
            "--python".to_owned(),
            m.python(target).display().to_string(),
            "--loader".to_owned(),
            loader.to_owned(),
        ];
        let (code, report) = fix(&src, &out, &target_args, &[]);
        let label = format!("{fixture} -> {target}");
        if code == 1 {
            if out.exists() {
                return RowResult::Wrong(format!("{label}: refused but wrote {}", out.display()));
            }
            if report["refusal"].is_null() {
                return RowResult::Wrong(format!("{label}: exit 1 without a refusal"));
            }
            return match unrepairable(&m, row, &report) {
                Some(why) => RowResult::Refused(why),
                None => RowResult::Wrong(format!(
                    "{label}: refused, but the missing name exists in the target: {}",
                    report["refusal"]
                )),
            };
        }
        let got = canonical(&m.python(target), loader, &out, None, None);
        let cached = originals.lock().unwrap().get(fixture).cloned();
        let want = cached.unwrap_or_else(|| {
            let w = canonical(&m.python(writer), loader, &src, None, None);
            originals
                .lock()
                .unwrap()
                .insert(fixture.to_owned(), w.clone());
            w
        });
        let skew = report["after"]["risks"]
            .as_array()
            .is_some_and(|r| r.iter().any(|r| r["code"] == "sklearn-version-warning"));
        match (got, want) {
            (Ok(g), Ok(w)) if g == w => RowResult::Repaired,
            (Ok(g), Ok(w)) if skew && equal_but_for_skew(&g, &w) => RowResult::RepairedWithSkew,
            (Ok(g), Ok(w)) => RowResult::Wrong(format!(
                "{label}: repaired file loads but differs:\n  repaired: {}\n  original: {}",
                clip(&g),
                clip(&w)
            )),
            (Err(e), _) => RowResult::Wrong(format!(
                "{label}: predicted to load, but the real load failed: {e}"
            )),
            (_, Err(e)) => RowResult::Wrong(format!(
                "{label}: the original does not load in its writer venv: {e}"
            )),
        }
    });
    let mut repaired = 0;
    let mut skewed = 0;
    let mut refused: BTreeMap<String, usize> = BTreeMap::new();
    let mut wrong = Vec::new();
    for r in results {
        match r {
            RowResult::Repaired => repaired += 1,
            RowResult::RepairedWithSkew => skewed += 1,
            RowResult::Refused(why) => {
                let key = why;
                *refused.entry(key).or_default() += 1;
            }
            RowResult::Wrong(w) => wrong.push(w),
        }
    }
    eprintln!(
        "fix matrix: {} failing rows; {} repaired and verified by a real load ({skewed} of them \
         with outputs an older scikit-learn cannot compute, as it warns); {} refused",
        rows.len(),
        repaired + skewed,
        refused.values().sum::<usize>()
    );
    for (why, n) in &refused {
        eprintln!("  refused {n:>4}  {why}");
    }
    assert!(
        wrong.is_empty(),
        "{} rows wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    assert!(repaired > 0, "nothing was repaired");
}
