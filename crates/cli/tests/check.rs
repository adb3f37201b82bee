//! `check` and `requirements` against real venvs: the JSON contract of DESIGN.md, exit codes,
//! the static target (`--site-packages`) agreeing with the interpreter target, and
//! requirement lines whose versions come from the venv's own metadata.

mod common;

use std::path::PathBuf;
use std::process::Command;

fn venv(name: &str) -> Option<PathBuf> {
    let truth = common::from_env("PICKLE_DOCTOR_MATRIX")?;
    let cache = truth.parent()?.parent()?;
    Some(cache.join("venvs").join(name).join("bin/python"))
}

/// What the venv's own `importlib.metadata` says.
fn installed(python: &PathBuf, dist: &str) -> String {
    let out = Command::new(python)
        .args([
            "-I",
            "-c",
            &format!("import importlib.metadata as m; print(m.version({dist:?}))"),
        ])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[test]
fn json_follows_the_contract_and_exit_codes_follow_the_verdict() {
    let Some(bare) = venv("matrix-bare") else {
        return;
    };
    let py = bare.display().to_string();
    let out = common::run_cli(
        &[
            "check",
            "--format",
            "json",
            "--python",
            &py,
            "samples/logistic-regression.pkl",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        doc["environment"]["python"]
            .as_str()
            .unwrap()
            .starts_with("3.11.")
    );
    let f = &doc["files"][0];
    assert_eq!(f["verdict"], "fails");
    assert_eq!(f["loader"], "pickle");
    assert_eq!(f["error"], "ModuleNotFoundError: No module named 'sklearn'");
    let g = &f["globals"][0];
    for key in [
        "module",
        "name",
        "member",
        "offset",
        "status",
        "distribution",
        "reason",
    ] {
        assert!(g.get(key).is_some(), "{key}");
    }
    assert_eq!(g["status"], "module-missing");
    // In the venv that has scikit-learn it loads (exit 0); at-risk exits 1 only with --strict.
    let Some(old) = venv("matrix-old") else {
        return;
    };
    let py = old.display().to_string();
    let out = common::run_cli(
        &["check", "--python", &py, "samples/logistic-regression.pkl"],
        None,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains(": at-risk"));
    let out = common::run_cli(
        &[
            "check",
            "--strict",
            "--python",
            &py,
            "samples/logistic-regression.pkl",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn static_target_agrees_with_the_interpreter() {
    let Some(old) = venv("matrix-old") else {
        return;
    };
    let site = old
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("lib/python3.11/site-packages");
    let files = [
        "samples/logistic-regression.pkl",
        "samples/array-p5.pkl",
        "tests/fixtures/torch/files/checkpoint.pt",
    ];
    let py = old.display().to_string();
    let site = site.display().to_string();
    let mut a = vec!["check", "--format", "json", "--python", &py];
    a.extend(files);
    let mut b = vec![
        "check",
        "--format",
        "json",
        "--site-packages",
        &site,
        "--python-version",
        "3.11",
    ];
    b.extend(files);
    let verdicts = |args: &[&str]| -> Vec<(String, String)> {
        let out = common::run_cli(args, None);
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        doc["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["verdict"].as_str().unwrap().to_owned(),
                    f["error"].to_string(),
                )
            })
            .collect()
    };
    assert_eq!(verdicts(&a), verdicts(&b));
}

/// `pickle-doctor requirements` of the sample for the venv of `python`.
fn requirements(python: &std::path::Path) -> String {
    let py = python.display().to_string();
    let out = common::run_cli(
        &[
            "requirements",
            "--python",
            &py,
            "samples/logistic-regression.pkl",
        ],
        None,
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn requirements_give_installed_or_producer_versions() {
    let (Some(full), Some(bare)) = (venv("fixtures"), venv("matrix-bare")) else {
        return;
    };
    let text = requirements(&full);
    assert!(
        text.contains(&format!(
            "numpy=={}  # installed",
            installed(&full, "numpy")
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "scikit-learn=={}  # installed",
            installed(&full, "scikit-learn")
        )),
        "{text}"
    );
    // Nothing installed: the producer's scikit-learn version, from `_sklearn_version`.
    let text = requirements(&bare);
    let data = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../samples/logistic-regression.pkl"
    ))
    .unwrap();
    let producer = {
        let i = memchr_find(&data, b"_sklearn_version").unwrap();
        // SHORT_BINUNICODE key, memo op, then SHORT_BINUNICODE value: read the value.
        let rest = &data[i + 16..];
        let j = rest.iter().position(|&b| b == 0x8c).unwrap();
        let len = rest[j + 1] as usize;
        String::from_utf8(rest[j + 2..j + 2 + len].to_vec()).unwrap()
    };
    assert!(
        text.contains(&format!("scikit-learn=={producer}  # producer version")),
        "{text}"
    );
    assert!(
        text.contains("numpy>=2  # the data names numpy._core"),
        "{text}"
    );
}

fn memchr_find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// `--main SCRIPT`: `__main__` names resolve against the script that will load the file. The
/// truth is a real `python SCRIPT FILE` run: one script defines the classes, one does not.
#[test]
fn main_script_decides_main_names() {
    let Some(truth) = common::from_env("PICKLE_DOCTOR_MATRIX") else {
        return;
    };
    let Some(python) = venv("fixtures") else {
        return;
    };
    let fixtures = truth.parent().unwrap().join("fixtures/current");
    let dir = std::env::temp_dir().join(format!("pickle-doctor-main-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let loader = "import pickle, sys\npickle.load(open(sys.argv[1], 'rb'))\n";
    let full = dir.join("defines.py");
    std::fs::write(
        &full,
        format!(
            "class Point:\n    pass\n\nclass Outer:\n    class Inner:\n        pass\n\n{loader}"
        ),
    )
    .unwrap();
    let partial = dir.join("partial.py");
    std::fs::write(&partial, format!("class Point:\n    pass\n\n{loader}")).unwrap();
    let py = python.display().to_string();
    for fixture in [
        "main-point-p4.pkl",
        "main-nested-p4.pkl",
        "main-point-p2.pkl",
    ] {
        let file = fixtures.join(fixture);
        for script in [&full, &partial] {
            let real = Command::new(&python)
                .arg(script)
                .arg(&file)
                .current_dir(&dir)
                .output()
                .unwrap();
            let real_error = String::from_utf8_lossy(&real.stderr)
                .lines()
                .last()
                .unwrap_or_default()
                .to_owned();
            let out = common::run_cli(
                &[
                    "check",
                    "--format",
                    "json",
                    "--python",
                    &py,
                    "--main",
                    script.to_str().unwrap(),
                    file.to_str().unwrap(),
                ],
                None,
            );
            let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            let f = &doc["files"][0];
            if real.status.success() {
                assert_ne!(f["verdict"], "fails", "{fixture} with {}", script.display());
            } else {
                assert_eq!(f["verdict"], "fails", "{fixture} with {}", script.display());
                assert_eq!(f["error"].as_str().unwrap(), real_error, "{fixture}");
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// When `fix` repairs the file for the target, `check` prints the exact `pickle-doctor fix`
/// command as its first fix, and running that command writes a file the target really loads.
/// The file: scikit-learn 1.2.2's KNeighborsClassifier (EuclideanDistance, renamed in 1.3)
/// checked against the matrix's current venv.
#[test]
fn check_prints_the_fix_command_that_repairs_the_file() {
    let Some(truth) = common::from_env("PICKLE_DOCTOR_MATRIX") else {
        return;
    };
    let Some(python) = venv("matrix-current") else {
        return;
    };
    let src = truth
        .parent()
        .unwrap()
        .join("fixtures/legacy/sk-knn-p4.pkl");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("knn.pkl");
    std::fs::copy(&src, &file).unwrap();
    let py = python.display().to_string();
    let out = common::run_cli(&["check", "--python", &py, file.to_str().unwrap()], None);
    let text = String::from_utf8(out.stdout).unwrap();
    let first_fix = text
        .lines()
        .find_map(|l| l.strip_prefix("  fix: "))
        .unwrap_or_else(|| panic!("no fix in {text}"));
    let fixed = dir.path().join("knn.fixed.pkl");
    assert_eq!(
        first_fix,
        format!(
            "pickle-doctor fix {} -o {} --python {py}",
            file.display(),
            fixed.display()
        ),
        "{text}"
    );
    let words: Vec<&str> = first_fix.split(' ').skip(1).collect();
    let run = common::run_cli(&words, None);
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stdout)
    );
    let load = Command::new(&python)
        .args([
            "-I",
            "-c",
            "import pickle, sys; print(type(pickle.load(open(sys.argv[1], 'rb'))).__name__)",
        ])
        .arg(&fixed)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&load.stdout).trim(),
        "KNeighborsClassifier",
        "{}",
        String::from_utf8_lossy(&load.stderr)
    );
    // A pin stays a pip line.
    assert!(
        text.contains("  fix: pip install 'scikit-learn==1.2.2'"),
        "{text}"
    );
}

/// `--encoding` applies to the loaders that take it; joblib.load and pandas.read_pickle have
/// no such option, which is a usage error (exit 2), not a prediction.
#[test]
fn encoding_is_refused_for_loaders_without_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("py2.pkl");
    std::fs::write(&file, b"(dp0\nS'name'\np1\nS'caf\\xe9'\np2\ns.").unwrap();
    let site = dir.path().join("site-packages");
    std::fs::create_dir(&site).unwrap();
    let args = |loader: &'static str, encoding: &'static str| {
        vec![
            "check".to_owned(),
            "--site-packages".to_owned(),
            site.display().to_string(),
            "--python-version".to_owned(),
            "3.11".to_owned(),
            "--loader".to_owned(),
            loader.to_owned(),
            "--encoding".to_owned(),
            encoding.to_owned(),
            file.display().to_string(),
        ]
    };
    for (loader, encoding, code) in [
        ("pickle", "latin1", 0),
        ("pickle", "Latin-1", 0),
        ("pickle", "ASCII", 1),
        ("joblib", "latin1", 2),
        ("pickle", "utf-8", 2),
    ] {
        let a = args(loader, encoding);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        let out = common::run_cli(&a, None);
        assert_eq!(
            out.status.code(),
            Some(code),
            "{loader} {encoding}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The text report: the loader's error, one sentence per risk, what to do as a call.
/// `--verbose` adds each risk's fix and note.
#[test]
fn text_report_of_a_python2_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("py2.pkl");
    // Python 2's pickle.dumps({'name': 'caf\xe9'}, 0), as bytes.
    std::fs::write(&file, b"(dp0\nS'name'\np1\nS'caf\\xe9'\np2\ns.").unwrap();
    let site = dir.path().join("site-packages");
    std::fs::create_dir(&site).unwrap();
    let s = site.display().to_string();
    let out = common::run_cli(
        &[
            "check",
            "--site-packages",
            &s,
            "--python-version",
            "3.11",
            file.to_str().unwrap(),
        ],
        None,
    );
    let text = String::from_utf8(out.stdout)
        .unwrap()
        .replace(&file.display().to_string(), "py2.pkl");
    insta::assert_snapshot!(text);
}

/// A break at first use, in text and JSON: the object loads, then `predict` raises. The
/// pickle is `pickle.dumps(Model().fit([1, 2, 3]), 2)` of version 1 (CPython 3.11); the
/// Python API test `test_check_use_time_trouble_matches_python` checks the error text against
/// a real load and call in a subprocess.
#[test]
fn text_and_json_report_of_a_use_time_break() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("model.pkl");
    std::fs::write(&file, common::toy::MODEL_V1_PICKLE).unwrap();
    let site = dir.path().join("site-packages");
    std::fs::create_dir(&site).unwrap();
    std::fs::write(site.join("toymodel.py"), common::toy::MODEL_V2).unwrap();
    let s = site.display().to_string();
    let f = file.display().to_string();
    let args = [
        "check",
        "--site-packages",
        &s,
        "--python-version",
        "3.11",
        &f,
    ];
    let out = common::run_cli(&args, None);
    assert_eq!(
        out.status.code(),
        Some(0),
        "at-risk exits 0 without --strict"
    );
    let text = String::from_utf8(out.stdout)
        .unwrap()
        .replace(&f, "model.pkl");
    insta::assert_snapshot!("use_time_break_text", text);
    let mut json_args = args.to_vec();
    json_args.extend(["--format", "json"]);
    let out = common::run_cli(&json_args, None);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    insta::assert_snapshot!(
        "use_time_break_json",
        serde_json::to_string_pretty(&doc["files"][0]["troubles"]).unwrap()
    );
    let mut strict = args.to_vec();
    strict.push("--strict");
    assert_eq!(common::run_cli(&strict, None).status.code(), Some(1));
}

/// A fitted `ColumnTransformer` keeps unfitted templates of its transformers
/// (`transformers`) beside the fitted clones it uses (`transformers_`). The templates'
/// missing fitted attributes are no break: the atlas saw `transform` run, identically, in
/// scikit-learn 1.6.1 on the files of 1.2, 1.3 and 1.4, and `check` must not say their
/// `StandardScaler` fails (`StandardScaler.fit` deletes its fitted attributes before
/// `partial_fit` sets them again, which once hid them from the schema diff).
#[test]
fn unfitted_templates_inside_a_fitted_model_are_no_use_time_break() {
    let Some(envs) = common::atlas_envs() else {
        return;
    };
    let Some(python) = envs.get("sk-1.6") else {
        common::skipped("atlas venv sk-1.6 is not built");
        return;
    };
    let truth = common::atlas_truth();
    let repo = common::matrix::repo();
    for producer in ["sk-1.2", "sk-1.3", "sk-1.4"] {
        let row = truth["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| {
                r["producer"] == producer
                    && r["target"] == "sk-1.6"
                    && r["case"] == "ColumnTransformer"
            })
            .unwrap();
        let transform = row["calls"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["call"] == "transform")
            .unwrap();
        assert_eq!(transform["status"], "ok-identical", "{producer}: {row}");
        let file = repo.join(format!(
            "tests/atlas/fixtures/{producer}/ColumnTransformer.pkl"
        ));
        let out = common::run_cli(
            &[
                "check",
                "--format",
                "json",
                "--python",
                python.to_str().unwrap(),
                file.to_str().unwrap(),
            ],
            None,
        );
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let troubles = doc["files"][0]["troubles"].as_array().unwrap();
        let scaler: Vec<_> = troubles
            .iter()
            .filter(|t| {
                t["class"]
                    .as_str()
                    .is_some_and(|c| c.ends_with("StandardScaler"))
            })
            .collect();
        assert!(scaler.is_empty(), "{producer}: {scaler:#?}");
    }
}
