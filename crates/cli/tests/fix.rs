//! `pickle-doctor fix`: the command's contract (where it writes, when it refuses, exit codes),
//! refusals for what no rename can repair, and joblib recompression checked by real loads.
//! The repair of the whole check matrix is in `fix_matrix.rs`.

mod common;

use common::matrix::{Matrix, canonical};

use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// A pickle naming `old.mod:Thing` by STACK_GLOBAL and instantiating it (protocol 4).
const OLD_THING: &[u8] =
    b"\x80\x04\x95\x1b\x00\x00\x00\x00\x00\x00\x00\x8c\x07old.mod\x94\x8c\x05Thing\x94\x93)\x81.";

/// A static target holding `newpkg/mod.py` with `class Thing`.
fn target() -> (tempfile::TempDir, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let pkg = dir.path().join("site/newpkg");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(pkg.join("__init__.py"), "").unwrap();
    std::fs::write(pkg.join("mod.py"), "class Thing:\n    pass\n").unwrap();
    let args = vec![
        "--site-packages".to_owned(),
        dir.path().join("site").display().to_string(),
        "--python-version".to_owned(),
        "3.11".to_owned(),
    ];
    (dir, args)
}

fn run(args: &[String]) -> (i32, String, String) {
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = common::run_cli(&refs, None);
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn args(parts: &[&str], target: &[String]) -> Vec<String> {
    let mut v: Vec<String> = parts.iter().map(|s| (*s).to_owned()).collect();
    v.extend(target.iter().cloned());
    v
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// --dry-run writes nothing, -o writes OUT (and the result really loads), --in-place
/// replaces the input atomically, and OUT may not silently be the input.
#[test]
fn writes_only_where_asked_and_atomically() {
    let (dir, target) = target();
    let work = dir.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let input = work.join("model.pkl");
    std::fs::write(&input, OLD_THING).unwrap();
    let inp = input.to_str().unwrap();

    let (code, out, _) = run(&args(
        &["fix", inp, "--dry-run", "--map", "old.mod=newpkg.mod"],
        &target,
    ));
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("old.mod:Thing -> newpkg.mod:Thing"), "{out}");
    assert!(out.contains("dry run: nothing written"), "{out}");
    assert_eq!(files_in(&work), ["model.pkl"]);

    let (code, _, err) = run(&args(
        &["fix", inp, "-o", inp, "--map", "old.mod=newpkg.mod"],
        &target,
    ));
    assert_eq!(code, 2);
    assert!(err.contains("--in-place"), "{err}");

    let (code, _, err) = run(&args(&["fix", inp, "--map", "old.mod=newpkg.mod"], &target));
    assert_eq!(code, 2, "OUT is required: {err}");

    let fixed = work.join("fixed.pkl");
    let (code, out, _) = run(&args(
        &[
            "fix",
            inp,
            "-o",
            fixed.to_str().unwrap(),
            "--map",
            "old.mod=newpkg.mod",
        ],
        &target,
    ));
    assert_eq!(code, 0, "{out}");
    let want: &[u8] =
        b"\x80\x04\x95\x19\x00\x00\x00\x00\x00\x00\x00\x8c\x0anewpkg.mod\x94\x8c\x05Thing\x94\x93)\x81.";
    assert_eq!(std::fs::read(&fixed).unwrap(), want);
    assert_eq!(std::fs::read(&input).unwrap(), OLD_THING, "input untouched");
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&fixed), mode(&input), "OUT gets the input's mode");
    }
    assert_eq!(
        files_in(&work),
        ["fixed.pkl", "model.pkl"],
        "no temp files left"
    );
    if let Some(python) = common::from_env("PICKLE_DOCTOR_PYTHON") {
        let o = Command::new(python)
            .args(["-I", "-c"])
            .arg("import sys, pickle; sys.path.insert(0, sys.argv[1]); print(type(pickle.load(open(sys.argv[2], 'rb'))).__module__)")
            .arg(dir.path().join("site"))
            .arg(&fixed)
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&o.stdout).trim(),
            "newpkg.mod",
            "{o:?}"
        );
    }

    let (code, out, _) = run(&args(
        &["fix", inp, "--in-place", "--map", "old.mod=newpkg.mod"],
        &target,
    ));
    assert_eq!(code, 0, "{out}");
    assert_eq!(std::fs::read(&input).unwrap(), want);
    assert_eq!(files_in(&work), ["fixed.pkl", "model.pkl"]);
}

/// A repair that still fails is not written (exit 1) unless --force, which writes it and
/// still exits 1; a malformed pickle is an error with its offset (exit 2), never a guess.
#[test]
fn refuses_to_write_what_would_still_fail_and_rejects_malformed_input() {
    let (dir, target) = target();
    let input = dir.path().join("model.pkl");
    std::fs::write(&input, OLD_THING).unwrap();
    let out = dir.path().join("out.pkl");
    let base = [
        "fix",
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--map",
        "old.mod=nowhere.mod",
    ];
    let (code, stdout, _) = run(&args(&base, &target));
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("refused: still fails: ModuleNotFoundError: No module named 'nowhere'"),
        "{stdout}"
    );
    assert!(!out.exists());
    let mut forced = base.to_vec();
    forced.push("--force");
    let (code, _, _) = run(&args(&forced, &target));
    assert_eq!(code, 1);
    assert!(out.exists(), "--force writes anyway");

    let broken = dir.path().join("broken.pkl");
    std::fs::write(&broken, &OLD_THING[..OLD_THING.len() - 3]).unwrap();
    let (code, _, err) = run(&args(
        &[
            "fix",
            broken.to_str().unwrap(),
            "--dry-run",
            "--map",
            "old.mod=newpkg.mod",
        ],
        &target,
    ));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("byte") && err.lines().count() == 1, "{err}");

    let (code, _, err) = run(&args(
        &[
            "fix",
            input.to_str().unwrap(),
            "--dry-run",
            "--map",
            "old.mod",
        ],
        &target,
    ));
    assert_eq!(code, 2);
    assert!(err.contains("expected FROM=TO"), "{err}");
}

fn refusal(file: &Path, target: &[String]) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mut a = vec![
        "fix".to_owned(),
        file.display().to_string(),
        "-o".to_owned(),
        out.display().to_string(),
        "--format".to_owned(),
        "json".to_owned(),
    ];
    a.extend(target.iter().cloned());
    let (code, stdout, stderr) = run(&a);
    assert_eq!(
        code,
        1,
        "{} should be refused: {stdout}{stderr}",
        file.display()
    );
    assert!(!out.exists(), "a refusal writes nothing");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert!(v["refusal"].is_object(), "{v}");
    v["refusal"].clone()
}

fn advice(r: &Value) -> String {
    r["advice"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

/// What no rename can repair is refused, with the reason and what to do instead:
/// - code pickled by value (cloudpickle) for another CPython minor: the bytecode is locked to
///   the minor that wrote it (real failure: `code expected at most 16 arguments, got 18`);
/// - a module scikit-learn removed (`_gb_losses`, gone in 1.4);
/// - a package the target does not have;
/// - a class from the writer's `__main__`, without a --map;
/// - a TorchScript archive, which carries compiled code naming the same classes.
#[test]
fn refuses_what_no_rename_can_repair_and_says_what_to_do() {
    let Some(m) = Matrix::load() else {
        return;
    };
    let purelib = |venv: &str| m.purelib(venv).display().to_string();
    let python = |venv: &str| vec!["--python".to_owned(), m.python(venv).display().to_string()];

    let r = refusal(
        &m.fixtures.join("current/cp-lambda.pkl"),
        &[
            "--site-packages".to_owned(),
            purelib("current"),
            "--python-version".to_owned(),
            "3.10".to_owned(),
        ],
    );
    assert!(
        r["reason"]
            .as_str()
            .unwrap()
            .contains("code expected at most 16 arguments, got 18"),
        "{r}"
    );
    assert!(advice(&r).contains("same CPython minor"), "{r}");
    assert!(advice(&r).contains("re-export"), "{r}");

    // GradientBoosting <= 1.3 (its `_gb_losses` objects) is repaired, not refused, since the
    // loss rebuild (`sklearn-gb-losses-removed`; proven by predictions in fix_usetime.rs).
    let gb_dir = tempfile::tempdir().unwrap();
    let mut a = vec![
        "fix".to_owned(),
        m.fixtures.join("old/sk-gb-p4.pkl").display().to_string(),
        "-o".to_owned(),
        gb_dir.path().join("out").display().to_string(),
        "--format".to_owned(),
        "json".to_owned(),
    ];
    a.extend(python("current"));
    let (code, stdout, stderr) = run(&a);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("\"sklearn-gb-losses-removed\""), "{stdout}");

    let r = refusal(
        &m.fixtures.join("current/sk-scaler-p4.pkl"),
        &python("bare"),
    );
    assert!(
        r["reason"]
            .as_str()
            .unwrap()
            .contains("No module named 'sklearn'"),
        "{r}"
    );
    assert!(advice(&r).contains("pip install"), "{r}");

    let r = refusal(
        &m.fixtures.join("current/main-point-p4.pkl"),
        &python("current"),
    );
    assert!(
        advice(&r).contains("--map __main__=<module that defines it>"),
        "{r}"
    );

    let scripted =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/torch/files/scripted.pt");
    let r = refusal(&scripted, &python("current"));
    assert!(r["reason"].as_str().unwrap().contains("TorchScript"), "{r}");
}

/// joblib files compressed with each of joblib's compressors: a rename that grows the pickle
/// (`numpy:dtype` → `numpy.core.multiarray:dtype`, the same object in numpy 1.24) moves every
/// inline array, so the alignment padding is recomputed; the file is recompressed with the
/// compressor it came with; the result really loads in the legacy venv (numpy 1.24, joblib
/// 1.2) and equals the original loaded where it was written.
#[test]
fn joblib_files_keep_their_compressor_and_realign_their_arrays() {
    let (Some(fixtures), Some(m)) = (common::fixtures_dir(), Matrix::load()) else {
        return;
    };
    let legacy = m.python("legacy");
    let writer = common::from_env("PICKLE_DOCTOR_PYTHON").unwrap();
    let dump = |python: &Path, file: &Path| {
        canonical(python, "joblib", file, None, None)
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()))
    };
    let dir = tempfile::tempdir().unwrap();
    for ext in ["", ".z", ".gz", ".bz2", ".lzma", ".xz"] {
        let src = fixtures.join(format!("joblib/arrays.joblib{ext}"));
        let out = dir.path().join(format!("arrays.joblib{ext}"));
        let (code, stdout, _) = run(&[
            "fix".to_owned(),
            src.display().to_string(),
            "-o".to_owned(),
            out.display().to_string(),
            "--map".to_owned(),
            "numpy:dtype=numpy.core.multiarray:dtype".to_owned(),
            "--python".to_owned(),
            legacy.display().to_string(),
        ]);
        assert_eq!(code, 0, "{ext}: {stdout}");
        let (a, b) = (std::fs::read(&src).unwrap(), std::fs::read(&out).unwrap());
        assert_ne!(a, b, "{ext}: nothing changed");
        let sniff = |d: &[u8]| format!("{:?}", container::sniff(d));
        assert_eq!(sniff(&a), sniff(&b), "{ext}: compressor changed");
        // Every inline array's data starts on joblib's 16-byte boundary again.
        let opened = container::open(&b, &container::Limits::default()).unwrap();
        let member = opened.pickles().next().unwrap();
        let mut hook = container::joblib::ArrayHook::new(&member.data);
        let _ = vm::run_hooked(&member.data, vm::Budgets::default(), &mut hook);
        assert!(!hook.arrays.is_empty());
        for arr in hook.arrays.iter().filter(|a| !a.object) {
            assert_eq!(
                arr.data_offset % 16,
                0,
                "{ext}: array data at {}",
                arr.data_offset
            );
        }
        assert_eq!(dump(&legacy, &out), dump(&writer, &src), "{ext}");
    }
}

/// A scikit-learn 1.3 forest *loads* in 1.9 (with only a version warning) but predicts from
/// class counts where 1.4+ expects fractions (scikit-learn #28229): the real load's
/// canonical dump differs from the original's. `fix` stores the fractions, and the repaired
/// file's predictions and probabilities equal the original's in its writer venv.
#[test]
fn silent_tree_value_break_is_repaired_for_files_that_load() {
    let Some(m) = Matrix::load() else {
        return;
    };
    let (current, old) = (m.python("current"), m.python("old"));
    let dump = |python: &Path, file: &Path| {
        canonical(python, "pickle", file, None, None)
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()))
    };
    let src = m.fixtures.join("old/sk-forest-p4.pkl");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("forest.pkl");
    let (code, stdout, _) = run(&[
        "fix".to_owned(),
        src.display().to_string(),
        "-o".to_owned(),
        out.display().to_string(),
        "--python".to_owned(),
        current.display().to_string(),
    ]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("sklearn-tree-values-fractions"), "{stdout}");
    let original = dump(&old, &src);
    assert_ne!(dump(&current, &src), original, "the break is real");
    // Predictions are compared; the parameters differ by design: `monotonic_cst`, a
    // hyper-parameter 1.4 added, is set to its default (sklearn-tree-monotonic-cst-added).
    let outputs = |d: String| serde_json::from_str::<Value>(&d).unwrap()["outputs"].clone();
    assert_eq!(
        outputs(dump(&current, &out)),
        outputs(original),
        "the repair removes it"
    );
}

/// numpy object arrays pickle their elements: in `.npy` and in `.npz` (stored or deflated)
/// written by numpy 2, `fix` for numpy 1.24 rewrites the pickle and keeps each member's npy
/// header byte for byte and its zip compression; numpy 1.24 really loads the result, equal to
/// the original loaded by numpy 2.
#[test]
fn npy_and_npz_keep_headers_and_compression() {
    let (Some(fixtures), Some(m)) = (common::fixtures_dir(), Matrix::load()) else {
        return;
    };
    let legacy = m.python("legacy");
    let writer = common::from_env("PICKLE_DOCTOR_PYTHON").unwrap();
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "v1-object.npy",
        "savez-object.npz",
        "savez-compressed-object.npz",
    ] {
        let src = fixtures.join("numpy").join(name);
        let out = dir.path().join(name);
        let (code, stdout, _) = run(&[
            "fix".to_owned(),
            src.display().to_string(),
            "-o".to_owned(),
            out.display().to_string(),
            "--python".to_owned(),
            legacy.display().to_string(),
        ]);
        assert_eq!(code, 0, "{name}: {stdout}");
        let (a, b) = (std::fs::read(&src).unwrap(), std::fs::read(&out).unwrap());
        assert_ne!(a, b, "{name}: nothing changed");
        let lim = container::Limits::default();
        let (oa, ob) = (
            container::open(&a, &lim).unwrap(),
            container::open(&b, &lim).unwrap(),
        );
        assert_eq!(oa.members.len(), ob.members.len());
        if name.ends_with(".npz") {
            let heads = |bytes: &[u8]| {
                let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
                (0..z.len())
                    .map(|i| {
                        let f = z.by_index(i).unwrap();
                        let mut head = Vec::new();
                        std::io::Read::read_to_end(&mut std::io::Read::take(f, 128), &mut head)
                            .unwrap();
                        head
                    })
                    .collect::<Vec<_>>()
            };
            let compression = |bytes: &[u8]| {
                let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
                (0..z.len())
                    .map(|i| z.by_index_raw(i).unwrap().compression())
                    .collect::<Vec<_>>()
            };
            assert_eq!(compression(&a), compression(&b), "{name}");
            // The npy headers (magic, version, header dict) are unchanged.
            for (ha, hb) in heads(&a).iter().zip(heads(&b)) {
                let len = 10 + usize::from(u16::from_le_bytes([ha[8], ha[9]]));
                assert_eq!(ha[..len.min(ha.len())], hb[..len.min(hb.len())], "{name}");
            }
        } else {
            let len = 10 + usize::from(u16::from_le_bytes([a[8], a[9]]));
            assert_eq!(a[..len], b[..len], "{name}: npy header");
        }
        let dump = |python: &Path, file: &Path| {
            canonical(python, "numpy", file, None, None)
                .unwrap_or_else(|e| panic!("{}: {e}", file.display()))
        };
        assert_eq!(dump(&legacy, &out), dump(&writer, &src), "{name}");
    }
}

/// `fix --format json` lists the troubles of its `before` and `after` predictions as `check`
/// does: a model whose `predict` reads an attribute only `fit` sets (the toy model of
/// `check.rs`, checked against a real load and call by the Python API tests) is refused, with
/// the use-time trouble in `after`.
#[test]
fn json_after_lists_troubles_like_check() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("model.pkl");
    std::fs::write(&file, common::toy::MODEL_V1_PICKLE).unwrap();
    let out = dir.path().join("fixed.pkl");
    let target = common::toy::target(dir.path());
    let f = file.display().to_string();
    let o = out.display().to_string();
    let (code, stdout, stderr) = run(&args(&["fix", &f, "-o", &o, "--format", "json"], &target));
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(!out.exists());
    let doc: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc["after"]["troubles"], doc["before"]["troubles"]);
    let check = common::run_cli(
        &args(&["check", &f, "--format", "json"], &target)
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        None,
    );
    let check: Value = serde_json::from_slice(&check.stdout).unwrap();
    assert_eq!(doc["after"]["troubles"], check["files"][0]["troubles"]);
    insta::assert_snapshot!(
        "fix_json_after_troubles",
        serde_json::to_string_pretty(&serde_json::json!({
            "after": doc["after"],
            "refusal": doc["refusal"],
        }))
        .unwrap()
    );
}

/// An AdaBoost model fitted with SAMME.R by scikit-learn 1.3.2
/// (`tests/fix/usetime/old/ada_samme_r.pkl`) for scikit-learn 1.9.1 (the fixtures venv):
/// its trees are repaired, but 1.6 removed SAMME.R, so `fix` refuses with the silent trouble
/// in `after` (`fix_usetime.rs` proves the outputs differ, forced); the same model fitted
/// with SAMME is written, with no trouble left that its repairs do not answer; and `check`
/// of the same models written by 1.4.2 finds the difference in the SAMME.R one only.
#[test]
fn json_after_holds_the_silent_trouble_that_refuses_a_samme_r_model() {
    let Some(python) = common::from_env("PICKLE_DOCTOR_PYTHON") else {
        return;
    };
    let repo = common::matrix::repo();
    let dir = tempfile::tempdir().unwrap();
    let mut docs = Vec::new();
    for name in ["ada_samme_r", "ada_samme"] {
        let src = repo.join(format!("tests/fix/usetime/old/{name}.pkl"));
        let out = dir.path().join(format!("{name}.pkl"));
        let (code, stdout, stderr) = run(&[
            "fix".to_owned(),
            src.display().to_string(),
            "-o".to_owned(),
            out.display().to_string(),
            "--python".to_owned(),
            python.display().to_string(),
            "--format".to_owned(),
            "json".to_owned(),
        ]);
        let doc: Value = serde_json::from_str(&stdout).unwrap_or(Value::Null);
        docs.push((name, code, out.exists(), doc, stderr));
    }
    let (_, code, written, doc, err) = &docs[0];
    assert_eq!((*code, *written), (1, false), "{doc}{err}");
    let codes = |d: &Value, side: &str| -> Vec<String> {
        let p = if side.is_empty() { d } else { &d[side] };
        p["troubles"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                format!(
                    "{} {}",
                    t["kind"].as_str().unwrap(),
                    t["code"].as_str().unwrap()
                )
            })
            .collect()
    };
    insta::assert_snapshot!(
        "fix_json_samme_r_refused",
        serde_json::to_string_pretty(&serde_json::json!({
            "after": {"verdict": doc["after"]["verdict"], "troubles": doc["after"]["troubles"]},
            "repairs": doc["repairs"].as_array().unwrap().iter().map(|r| r["id"].clone()).collect::<Vec<_>>(),
            "refusal": doc["refusal"],
        }))
        .unwrap()
    );
    // check says the same of models 1.4.2 wrote (nothing to repair): a silent trouble for the
    // SAMME.R one, none for the SAMME one (the atlas's class-wide AdaBoost entry, observed
    // with SAMME.R, does not apply to it).
    for (name, want) in [
        (
            "ada_samme_r",
            vec!["silent sklearn-adaboost-samme-r-removed".to_owned()],
        ),
        ("ada_samme", vec![]),
    ] {
        let src = repo.join(format!("tests/fix/usetime/sk14/{name}.pkl"));
        let o = common::run_cli(
            &[
                "check",
                src.to_str().unwrap(),
                "--python",
                python.to_str().unwrap(),
                "--format",
                "json",
            ],
            None,
        );
        let d: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(codes(&d["files"][0], ""), want, "{name}: {d}");
    }
    let (_, code, written, samme, err) = &docs[1];
    assert_eq!((*code, *written), (0, true), "{samme}{err}");
    // What is left is what the repairs answer (a silent break is found from the producer's
    // version, which a repair keeps).
    let repairs: Vec<&str> = samme["repairs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert!(
        samme["after"]["troubles"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| repairs.contains(&t["code"].as_str().unwrap())),
        "{samme}"
    );
    assert!(
        codes(samme, "before").contains(&"silent sklearn-tree-values-fractions".to_owned()),
        "{samme}"
    );
}
