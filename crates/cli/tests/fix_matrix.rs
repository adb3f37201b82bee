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

use common::matrix::{Matrix, canonical, repo};

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Mutex;

use serde_json::Value;

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// `g` without the hyper-parameters the report says `fix` set to their default (a repair
/// `N objects (...): ATTR = VALUE, its default`), in the canonical dump's `params`.
fn without_defaults_set(g: &str, report: &Value) -> String {
    let mut g = g.to_owned();
    for r in report["repairs"].as_array().into_iter().flatten() {
        let what = r["what"].as_str().unwrap_or_default();
        let Some(rest) = what.strip_suffix(", its default") else {
            continue;
        };
        let Some((_, assign)) = rest.rsplit_once("): ") else {
            continue;
        };
        let Some((attr, _)) = assign.split_once(" = ") else {
            continue;
        };
        let key = format!("[{{\"str\":\"{attr}\"}},");
        while let Some(at) = g.find(&key) {
            // The entry `[key, value]` and the comma after it (or before it, at the end).
            let mut depth = 0;
            let mut end = at;
            for (i, c) in g[at..].char_indices() {
                match c {
                    '[' | '{' => depth += 1,
                    ']' | '}' => {
                        depth -= 1;
                        if depth == 0 {
                            end = at + i + 1;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            if g[end..].starts_with(',') {
                g.replace_range(at..=end, "");
            } else if g[..at].ends_with(',') {
                g.replace_range(at - 1..end, "");
            } else {
                g.replace_range(at..end, "");
            }
        }
    }
    g
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
/// Loads `file` in `python` and calls the usual public methods of the object (and of a
/// pipeline's last step) on a zero input of the fitted width: the first error, as
/// `Type: message`, or `None` when every call runs.
fn first_use_error(python: &Path, file: &Path) -> Option<String> {
    const PROBE: &str = r#"
import pickle, sys, warnings
warnings.simplefilter("ignore")
import numpy as np
with open(sys.argv[1], "rb") as f:
    m = pickle.load(f)
n = getattr(m, "n_features_in_", 1)
X = np.zeros((2, n))
for name in ("predict", "predict_proba", "decision_function", "transform"):
    fn = getattr(type(m), name, None)
    if fn is None:
        continue
    try:
        getattr(m, name)(X)
    except Exception as e:
        print(f"{type(e).__name__}: {e}")
        break
"#;
    let o = std::process::Command::new(python)
        .args(["-I", "-c", PROBE])
        .arg(file)
        .output()
        .ok()?;
    let out = String::from_utf8_lossy(&o.stdout).trim().to_owned();
    (!out.is_empty()).then_some(out)
}

fn unrepairable(m: &Matrix, row: &Value, report: &Value) -> Option<String> {
    let target = row["target"].as_str().unwrap();
    if row["loader_missing"] == true {
        return Some(format!(
            "the loader is not installed: {}",
            row["error_line"]
        ));
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
    // Can't get attribute 'NAME' on <module 'MODULE' ...> (the C unpickler; the name is a
    // repr, double-quoted when it holds a quote), or module 'MODULE' has no attribute 'NAME'
    // (the pure-Python one below protocol 4).
    let name = quoted_after("attribute '").or_else(|| {
        let rest = &error[error.find("attribute \"")? + 11..];
        Some(rest[..rest.find('"')?].to_owned())
    })?;
    let module = quoted_after("<module '").or_else(|| quoted_after("module '"))?;
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

/// The first `--map FROM=TO` each advice line of a refusal suggests.
fn suggested_maps(report: &Value) -> Vec<String> {
    let mut maps = Vec::new();
    for line in report["refusal"]["advice"].as_array().into_iter().flatten() {
        let line = line.as_str().unwrap_or_default();
        if let Some(i) = line.find("pass --map ") {
            let rest = &line[i + "pass --map ".len()..];
            let map = rest.split_whitespace().next().unwrap_or_default();
            if map.contains('=') && !map.contains('<') && !maps.contains(&map.to_owned()) {
                maps.push(map.to_owned());
            }
        }
    }
    maps
}

enum RowResult {
    RepairedWithSuggestedMap,
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
        let mut target_args = vec![
            "--python".to_owned(),
            m.python(target).display().to_string(),
            "--loader".to_owned(),
            loader.to_owned(),
        ];
        if let Some(encoding) = row["encoding"].as_str() {
            target_args.extend(["--encoding".to_owned(), encoding.to_owned()]);
        }
        let (code, report) = fix(&src, &out, &target_args, &[]);
        let label = format!("{fixture} -> {target}");
        if code == 1 {
            if out.exists() {
                return RowResult::Wrong(format!("{label}: refused but wrote {}", out.display()));
            }
            if report["refusal"].is_null() {
                return RowResult::Wrong(format!("{label}: exit 1 without a refusal"));
            }
            if let Some(why) = unrepairable(&m, row, &report) {
                return RowResult::Refused(why);
            }
            // Refused because the repaired file would load and then fail at first use: that
            // must be true. Write it anyway (`--force`) and call it in the target.
            if let Some(error) = report["refusal"]["reason"]
                .as_str()
                .and_then(|r| r.strip_prefix("loads, then fails at first use: "))
            {
                let (_, _) = fix(&src, &out, &target_args, &["--force"]);
                let really = first_use_error(&m.python(target), &out);
                let _ = std::fs::remove_file(&out);
                return match really {
                    Some(e) if e == error => RowResult::Refused(format!("fails at first use: {e}")),
                    other => RowResult::Wrong(format!(
                        "{label}: refused as failing at first use with {error:?}, but the forced file gives {other:?}"
                    )),
                };
            }
            // The name exists elsewhere in the target: the refusal must say where, and the
            // suggested map must then repair the file.
            let maps = suggested_maps(&report);
            if maps.is_empty() {
                return RowResult::Wrong(format!(
                    "{label}: refused, but the missing name exists in the target and no --map is suggested: {}",
                    report["refusal"]
                ));
            }
            let mut extra = Vec::new();
            for map in &maps {
                extra.push("--map");
                extra.push(map.as_str());
            }
            let (code, _) = fix(&src, &out, &target_args, &extra);
            if code != 0 {
                return RowResult::Wrong(format!(
                    "{label}: the suggested {maps:?} did not repair it"
                ));
            }
            return match (
                canonical(&m.python(target), loader, &out, None, None),
                canonical(&m.python(writer), loader, &src, None, None),
            ) {
                (Ok(g), Ok(w)) if g == w => RowResult::RepairedWithSuggestedMap,
                (g, w) => RowResult::Wrong(format!(
                    "{label}: repaired with the suggested {maps:?}, but {g:?} != {w:?}"
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
        // Hyper-parameters a newer release added, which `fix` sets to their defaults
        // (`sklearn-attribute-default` in breaks.toml): the original never had them.
        let got = got.map(|g| without_defaults_set(&g, &report));
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
    let mut suggested = 0;
    let mut refused: BTreeMap<String, usize> = BTreeMap::new();
    let mut wrong = Vec::new();
    for r in results {
        match r {
            RowResult::Repaired => repaired += 1,
            RowResult::RepairedWithSkew => skewed += 1,
            RowResult::RepairedWithSuggestedMap => suggested += 1,
            RowResult::Refused(why) => {
                let key = why;
                *refused.entry(key).or_default() += 1;
            }
            RowResult::Wrong(w) => wrong.push(w),
        }
    }
    eprintln!(
        "fix matrix: {} failing rows; {} repaired and verified by a real load ({skewed} of them \
         with outputs an older scikit-learn cannot compute, as it warns); {suggested} more \
         with the --map the refusal suggested; {} refused",
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

fn run_and_compare(
    m: &Matrix,
    row: &Value,
    target_args: &[String],
    maps: &[&str],
    extra_path: Option<&Path>,
    renamed_names: &[(&str, &str)],
    work: &Path,
) -> Result<(), String> {
    let fixture = row["fixture"].as_str().unwrap();
    let target = row["target"].as_str().unwrap();
    let writer = row["writer"].as_str().unwrap();
    let loader = row["loader"].as_str().unwrap();
    let src = m.path_of(fixture);
    let out = work.join(format!("{target}__{}", fixture.replace('/', "__")));
    let mut extra = Vec::new();
    for map in maps {
        extra.push("--map");
        extra.push(*map);
    }
    extra.push("--loader");
    extra.push(loader);
    let (code, report) = fix(&src, &out, target_args, &extra);
    let label = format!("{fixture} -> {target}");
    if code != 0 {
        return Err(format!("{label}: not repaired: {}", report["refusal"]));
    }
    let got = canonical(&m.python(target), loader, &out, extra_path, None)
        .map_err(|e| format!("{label}: predicted to load, but the real load failed: {e}"))?;
    let main = extra_path.map(|_| "trainmodels");
    let mut want = canonical(&m.python(writer), loader, &src, extra_path, main)
        .map_err(|e| format!("{label}: original does not load: {e}"))?;
    for (old, new) in renamed_names {
        want = want.replace(&format!("\"{old}\""), &format!("\"{new}\""));
    }
    if got != want {
        return Err(format!(
            "{label}: differs\n  repaired: {}\n  original: {}",
            clip(&got),
            clip(&want)
        ));
    }
    Ok(())
}

/// A local package's own renames are the user's knowledge: mlkit 2.0 (the `renamed` venv)
/// renamed `Scaler` to `StandardScaler`, moved `mlkit.nn.layers` to `mlkit.layers` and
/// stopped exporting `mlkit.Encoder`. With those maps every mlkit 1.0 pickle that fails there
/// loads and equals the original (the renamed class compared under its new name), and the
/// two that need `compat.removed_helper`, which 2.0 deleted, are still refused.
#[test]
fn local_package_renames_are_repaired_with_the_users_maps() {
    let Some(m) = Matrix::load() else {
        return;
    };
    let work = tempdir();
    let maps = [
        "mlkit.models:Scaler=mlkit.models:StandardScaler",
        "mlkit:Scaler=mlkit.models:StandardScaler",
        "mlkit.nn.layers=mlkit.layers",
        "mlkit:Encoder=mlkit._api:Encoder",
    ];
    let target_args = vec![
        "--python".to_owned(),
        m.python("renamed").display().to_string(),
    ];
    let rows: Vec<&Value> = m
        .failing_rows()
        .into_iter()
        .filter(|r| r["writer"] == "localpkg" && r["target"] == "renamed")
        .collect();
    assert!(
        rows.len() >= 8,
        "expected the mlkit rows, got {}",
        rows.len()
    );
    let mut repaired = 0;
    let mut problems = Vec::new();
    for row in &rows {
        let removed = row["error_line"]
            .as_str()
            .is_some_and(|e| e.contains("removed_helper"));
        let res = run_and_compare(
            &m,
            row,
            &target_args,
            &maps,
            None,
            &[("Scaler", "StandardScaler")],
            work.path(),
        );
        match (removed, res) {
            (false, Ok(())) => repaired += 1,
            (true, Err(e)) if e.contains("not repaired") => {}
            (true, Ok(())) => {
                problems.push(format!("{}: removed_helper was repaired?", row["fixture"]))
            }
            (_, Err(e)) => problems.push(e),
        }
    }
    eprintln!(
        "mlkit 1.0 -> 2.0 with user maps: {repaired} repaired, {} refused",
        rows.len() - repaired
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Classes from the training script are pickled as `__main__.X`. Once they live in a module
/// (`tests/fix/moved/trainmodels.py`), `--map __main__=trainmodels` repairs every such row,
/// in every target that has the loader: the target is given statically as its `sys.path`
/// plus the folder holding the module, and the real load runs with that folder on sys.path.
#[test]
fn main_classes_are_repaired_with_a_map_to_their_new_module() {
    let Some(m) = Matrix::load() else {
        return;
    };
    let work = tempdir();
    let moved = repo().join("tests/fix/moved");
    let rows: Vec<&Value> = m
        .failing_rows()
        .into_iter()
        .filter(|r| {
            r["error_line"]
                .as_str()
                .is_some_and(|e| e.contains("'__main__'"))
                && r["loader_missing"] != true
        })
        .collect();
    assert!(
        rows.len() >= 40,
        "expected the __main__ rows, got {}",
        rows.len()
    );
    let results = parallel(&rows, |row| {
        let target = row["target"].as_str().unwrap();
        // The target's own sys.path, plus the folder the classes moved to.
        let mut target_args = vec!["--site-packages".to_owned()];
        for p in m.truth["targets"][target]["sys_path"].as_array().unwrap() {
            let p = p.as_str().unwrap_or_default();
            if Path::new(p).is_dir() {
                target_args.push(p.to_owned());
            }
        }
        target_args.push(moved.display().to_string());
        target_args.extend(["--python-version".to_owned(), "3.11".to_owned()]);
        run_and_compare(
            &m,
            row,
            &target_args,
            &["__main__=trainmodels"],
            Some(&moved),
            &[],
            work.path(),
        )
    });
    let problems: Vec<String> = results.into_iter().filter_map(Result::err).collect();
    eprintln!(
        "__main__ rows repaired with --map __main__=trainmodels: {} of {}",
        rows.len() - problems.len(),
        rows.len()
    );
    assert!(
        problems.is_empty(),
        "{} rows:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
