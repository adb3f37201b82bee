//! `pickle-doctor scan` on hostile pickles assembled from raw opcode bytes (never loaded) and on
//! the benign committed files.

mod common;

use std::io::Write;
use std::process::{Command, Output};

fn scan(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut all = vec!["scan"];
    all.extend_from_slice(args);
    common::run_cli(&all, stdin)
}

fn json_of(data: &[u8]) -> serde_json::Value {
    let out = scan(&["--format", "json", "-"], Some(data));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn codes(v: &serde_json::Value) -> Vec<String> {
    v["files"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {} {}",
                f["code"].as_str().unwrap(),
                f["severity"].as_str().unwrap(),
                f["global"].as_str().unwrap_or("-")
            )
        })
        .collect()
}

fn short(s: &str) -> Vec<u8> {
    let mut v = vec![0x8c, s.len() as u8];
    v.extend_from_slice(s.as_bytes());
    v
}

#[test]
fn protocol_0_global_reduce() {
    let v = json_of(b"cposix\nsystem\n(S'id'\ntR.");
    assert_eq!(v["files"][0]["verdict"], "unsafe");
    assert_eq!(codes(&v), vec!["PD101 critical posix.system"]);
}

#[test]
fn python2_builtin_names_are_mapped() {
    // Below protocol 3 find_class maps `__builtin__` to `builtins` (CPython loads
    // `c__builtin__\nlen\n.` as `len`); from protocol 3 it imports `__builtin__` as written
    // and fails (`ModuleNotFoundError: No module named '__builtin__'`).
    let v = json_of(b"c__builtin__\neval\n(S'1'\ntR.");
    assert_eq!(codes(&v), vec!["PD101 critical builtins.eval"]);
    let message = v["files"][0]["findings"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("`builtins.eval` (written `__builtin__.eval`)"),
        "{message}"
    );
    let v = json_of(b"\x80\x03c__builtin__\neval\n(S'1'\ntR.");
    assert_eq!(codes(&v), vec!["PD103 high __builtin__.eval"]);
    let message = v["files"][0]["findings"][0]["message"].as_str().unwrap();
    assert!(message.contains("a Python 2 name"), "{message}");
}

#[test]
fn stack_global_through_the_memo_and_a_decoy_pop() {
    // 'os' memoized, a decoy string popped, 'system' fetched back from the memo.
    let mut p = b"\x80\x04".to_vec();
    p.extend(short("os"));
    p.push(0x94); // MEMOIZE 0
    p.extend(short("decoy"));
    p.push(b'0'); // POP
    p.extend(short("system"));
    p.push(0x94); // MEMOIZE 1
    p.push(b'0'); // POP
    p.extend(b"h\x00h\x01\x93"); // BINGET 0, BINGET 1, STACK_GLOBAL
    p.extend(short("id"));
    p.extend(b"\x85R0N."); // TUPLE1, REDUCE, POP (result discarded), NONE, STOP
    let v = json_of(&p);
    assert_eq!(codes(&v), vec!["PD101 critical os.system"]);
}

#[test]
fn dotted_names_are_checked_component_by_component() {
    let mut p = b"\x80\x04".to_vec();
    p.extend(short("builtins"));
    p.extend(short("getattr.__call__"));
    p.extend(b"\x93.");
    let v = json_of(&p);
    assert_eq!(codes(&v), vec!["PD101 critical builtins.getattr.__call__"]);
}

#[test]
fn computed_names_are_critical() {
    // module from a call result: builtins.str('os') then STACK_GLOBAL with 'system'.
    let mut p = b"\x80\x04".to_vec();
    p.extend(short("builtins"));
    p.extend(short("str"));
    p.push(0x93);
    p.extend(short("os"));
    p.extend(b"\x85R");
    p.extend(short("system"));
    p.extend(b"\x93.");
    let v = json_of(&p);
    let c = codes(&v);
    assert!(
        c.contains(&"PD102 critical <dynamic>.system".to_owned()),
        "{c:?}"
    );
    assert_eq!(v["files"][0]["verdict"], "unsafe");
}

#[test]
fn extension_codes_are_high() {
    let v = json_of(b"\x80\x02\x82\x01)R.");
    assert_eq!(codes(&v), vec!["PD104 high -"]);
}

#[test]
fn broken_tail_after_a_call_is_never_clean() {
    let v = json_of(b"cposix\nsystem\n(S'id'\ntR(K");
    let c = codes(&v);
    assert_eq!(c[0], "PD101 critical posix.system");
    assert!(c.iter().any(|x| x.starts_with("PD105 high")), "{c:?}");
    assert_eq!(v["files"][0]["verdict"], "unsafe");
}

#[test]
fn hostile_pickle_inside_a_torch_zip_is_found_with_its_member() {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        z.start_file("model/data.pkl", opts).unwrap();
        z.write_all(b"\x80\x02cposix\nsystem\nq\x00X\x02\x00\x00\x00id\x85R.")
            .unwrap();
        z.start_file("model/version", opts).unwrap();
        z.write_all(b"3\n").unwrap();
        z.finish().unwrap();
    }
    let v = json_of(&buf.into_inner());
    assert_eq!(v["files"][0]["format"], "torch-zip");
    let f = &v["files"][0]["findings"][0];
    assert_eq!(f["member"], "model/data.pkl");
    assert_eq!(f["offset"], 2);
    assert_eq!(f["global"], "posix.system");
}

#[test]
fn hostile_pickle_inside_compressed_joblib_is_found() {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(b"\x80\x04\x8c\x02os\x8c\x06system\x93\x8c\x02id\x85R.")
        .unwrap();
    let v = json_of(&e.finish().unwrap());
    assert_eq!(v["files"][0]["format"], "joblib");
    assert_eq!(codes(&v), vec!["PD101 critical os.system"]);
}

#[test]
fn committed_models_are_clean() {
    let out = scan(&["samples", "tests/fixtures/torch", "tests/data"], None);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    // The torch folder also holds the generator scripts and JSON: skipped as not models.
    assert!(
        text.starts_with("tests/") || text.starts_with("32 files"),
        "{text}"
    );
    let summary = text.lines().last().unwrap_or_default();
    assert!(
        summary.starts_with("32 files scanned (")
            && summary.ends_with("): 0 unsafe, 32 clean, 0 errors"),
        "{text}"
    );
}

#[test]
fn text_output_like_ruff() {
    let out = scan(&["-"], Some(b"cposix\nsystem\n(S'id'\ntR."));
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!(String::from_utf8_lossy(&out.stdout));
}

#[test]
fn rule_prints_its_documentation() {
    let out = Command::new(common::bin())
        .args(["rule", "PD102"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("# dynamic-global (PD102)"), "{text}");
    assert!(text.contains("## Why is this bad?"));
    let out = Command::new(common::bin())
        .args(["rule", "PD999"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// `pickle.loads(zlib.decompress(b'...'))` and `pickle.loads(base64.b64decode(...))`: the
/// payload is scanned too.
#[test]
fn nested_pickles_are_scanned_through_zlib_and_base64() {
    let inner = b"cposix\nsystem\n(S'id'\ntR.";
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(inner).unwrap();
    let zipped = z.finish().unwrap();
    let mut p = b"\x80\x03cpickle\nloads\nczlib\ndecompress\nC".to_vec();
    p.push(zipped.len() as u8);
    p.extend(&zipped);
    p.extend(b"\x85R\x85R.");
    let v = json_of(&p);
    let c = codes(&v);
    assert!(
        c.contains(&"PD106 critical posix.system".to_owned()),
        "{c:?}"
    );
    let nested = v["files"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "PD106" && f["global"] == "posix.system")
        .unwrap();
    assert!(
        nested["message"]
            .as_str()
            .unwrap()
            .starts_with("nested pickle passed to `pickle.loads`: PD101 at its offset")
    );

    let b64 = b"Y3Bvc2l4CnN5c3RlbQooUydpZCcKdFIu"; // base64 of the inner pickle
    let mut p = b"\x80\x03cpickle\nloads\ncbase64\nb64decode\nC".to_vec();
    p.push(b64.len() as u8);
    p.extend(b64);
    p.extend(b"\x85R\x85R.");
    let c = codes(&json_of(&p));
    assert!(
        c.contains(&"PD106 critical posix.system".to_owned()),
        "{c:?}"
    );
}

#[test]
fn policies_strict_and_from_a_file() {
    let module = "tests/fixtures/torch/files/module.pt";
    // Default: an unknown class that is instantiated is medium, so the file is clean.
    assert_eq!(scan(&[module], None).status.code(), Some(0));
    // Strict: medium findings make it unsafe.
    assert_eq!(
        scan(&["--policy", "strict", module], None).status.code(),
        Some(1)
    );
    // A policy file can allow the project's own classes, or deny more.
    let dir = std::env::temp_dir().join(format!("pd-policy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let allow = dir.join("allow.toml");
    std::fs::write(&allow, "allow = [\"tinynet.*\"]\n").unwrap();
    let out = scan(
        &[
            "--format",
            "json",
            "--policy",
            allow.to_str().unwrap(),
            module,
        ],
        None,
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["files"][0]["findings"].as_array().unwrap().len(), 0);
    let deny = dir.join("deny.toml");
    std::fs::write(
        &deny,
        "[[deny]]\npattern = \"tinynet\"\nseverity = \"critical\"\nwhy = \"not ours\"\nsource = \"https://example.invalid\"\n",
    )
    .unwrap();
    assert_eq!(
        scan(&["--policy", deny.to_str().unwrap(), module], None)
            .status
            .code(),
        Some(1)
    );
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, "[[deny]]\npattern = 1\n").unwrap();
    let out = scan(&["--policy", bad.to_str().unwrap(), module], None);
    assert_eq!(out.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A fresh scratch directory for one test.
fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("pickle-doctor-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const HOSTILE: &[u8] = b"cposix\nsystem\n(S'id'\ntR.";

/// Hidden files are scanned, `.git` is skipped, a symlink loop is a warning (its files are
/// reached anyway), and text files met while walking are skipped.
#[cfg(unix)]
#[test]
fn directory_walk_hidden_files_git_and_symlink_loops() {
    let dir = scratch("walk");
    std::fs::create_dir_all(dir.join("a/.hidden")).unwrap();
    std::fs::create_dir_all(dir.join(".git/objects")).unwrap();
    std::fs::write(dir.join("a/.hidden/.model.pkl"), HOSTILE).unwrap();
    std::fs::write(dir.join(".git/objects/payload"), HOSTILE).unwrap();
    std::fs::write(dir.join("README.md"), "# a model\n").unwrap();
    std::os::unix::fs::symlink("..", dir.join("a/loop")).unwrap();
    let out = scan(&["--format", "json", dir.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let paths: Vec<&str> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths.len(), 1, "{paths:?}");
    assert!(paths[0].ends_with("a/.hidden/.model.pkl"), "{paths:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("symlink loop"), "{stderr}");
    // Text mode ends with the summary line.
    let out = scan(&[dir.to_str().unwrap()], None);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.ends_with(
            "1 file scanned (1 skipped: not model files): 1 unsafe, 0 clean, 0 errors\n"
        ),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A Hugging Face cache: `snapshots/<rev>/NAME` links into `blobs/<hash>`. Each file is
/// scanned once, under its snapshot name.
#[cfg(unix)]
#[test]
fn hugging_face_cache_is_scanned_once_under_snapshot_names() {
    let dir = scratch("hf");
    let repo = dir.join("hub/models--org--model");
    std::fs::create_dir_all(repo.join("blobs")).unwrap();
    std::fs::create_dir_all(repo.join("refs")).unwrap();
    std::fs::create_dir_all(repo.join("snapshots/0123abc")).unwrap();
    std::fs::write(repo.join("refs/main"), "0123abc").unwrap();
    std::fs::write(repo.join("blobs/9f86d081884c7d65"), HOSTILE).unwrap();
    let clean = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../samples/logistic-regression.pkl"
    ))
    .unwrap();
    std::fs::write(repo.join("blobs/2c26b46b68ffc68f"), clean).unwrap();
    std::os::unix::fs::symlink(
        "../../blobs/9f86d081884c7d65",
        repo.join("snapshots/0123abc/pytorch_model.bin"),
    )
    .unwrap();
    std::os::unix::fs::symlink(
        "../../blobs/2c26b46b68ffc68f",
        repo.join("snapshots/0123abc/sklearn_model.joblib"),
    )
    .unwrap();
    let out = scan(&["--format", "json", dir.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut got: Vec<(String, String)> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let p = f["path"].as_str().unwrap();
            let short = p.rsplit_once("models--org--model/").unwrap().1.to_owned();
            (short, f["verdict"].as_str().unwrap().to_owned())
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            (
                "snapshots/0123abc/pytorch_model.bin".to_owned(),
                "unsafe".to_owned()
            ),
            (
                "snapshots/0123abc/sklearn_model.joblib".to_owned(),
                "clean".to_owned()
            ),
        ]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Files named on the command line are reported even when they are not models: a text file
/// is read as `pickle.load` reads it, fails on its first byte, and is not a pickle (a low
/// note, clean); a missing one is an error (exit 2 when nothing is unsafe).
#[test]
fn explicit_non_models_and_missing_files_are_errors() {
    let out = scan(&["README.md", "does-not-exist.pkl"], None);
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("README.md@0: PD105 [low] not a pickle: pickle.load fails on its first op with `UnpicklingError: invalid load key, '#'.`"),
        "{text}"
    );
    assert!(text.contains("does-not-exist.pkl: error:"), "{text}");
    assert!(text.contains("1 clean, 1 error"), "{text}");
}

/// `--jobs 1` and the default give the same report.
#[test]
fn parallel_and_serial_scans_agree() {
    let a = scan(
        &["--format", "json", "-j", "1", "crates/cli/tests/data/scan"],
        None,
    );
    let b = scan(&["--format", "json", "crates/cli/tests/data/scan"], None);
    assert_eq!(a.stdout, b.stdout);
    assert_eq!(a.status.code(), Some(1));
}

/// Binary files that sit in model folders and start with an opcode byte (0x89 is NEWFALSE:
/// PNG images, Keras HDF5 weights) stop being pickle ops before anything could run: while
/// walking they are not model files. Named explicitly, a file is still judged as a pickle, and
/// a damaged pickle that named a global before its break is still reported while walking.
#[test]
fn binary_files_in_a_folder_are_not_broken_pickles() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("logo.png");
    std::fs::write(&png, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10").unwrap();
    std::fs::write(
        dir.path().join("tf_model.h5"),
        b"\x89HDF\r\n\x1a\n\x00\x00\x00\x00\x00\x08\x08\x00",
    )
    .unwrap();
    // A protocol-0 pickle cut after its global: what loaded before the break imports `os`.
    std::fs::write(dir.path().join("cut.pkl"), b"cos\nsystem\n(S'true'\n").unwrap();
    let out = scan(&["--format", "json", dir.path().to_str().unwrap()], None);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let files = doc["files"].as_array().unwrap();
    assert_eq!(files.len(), 1, "{doc}");
    assert!(files[0]["path"].as_str().unwrap().ends_with("cut.pkl"));
    assert_eq!(files[0]["verdict"], "unsafe");
    let explicit = scan(&["--format", "json", png.to_str().unwrap()], None);
    let doc: serde_json::Value = serde_json::from_slice(&explicit.stdout).unwrap();
    assert_eq!(doc["files"][0]["verdict"], "unsafe", "{doc}");
}

/// A file whose first op cannot be decoded (or fails at once) ran nothing: it is "not a
/// pickle" (PD105, low, verdict clean) whether scanned alone or in a folder, in text, JSON and
/// SARIF, and `show` and `check` say the same thing in `pickle.load`'s own words. Those words
/// come from real CPython: `pickle.loads` of every first byte that is not an opcode, and of a
/// truncated PROTO and an unsupported protocol.
#[test]
fn a_file_whose_first_op_fails_is_not_a_pickle_everywhere() {
    let Some(python) = common::from_env("PICKLE_DOCTOR_PYTHON") else {
        return;
    };
    let mut inputs: Vec<Vec<u8>> = (0..=255u8)
        .filter(|&b| pickle::Opcode::from_byte(b).is_none())
        .map(|b| vec![b, b'y', b'z', b'\n'])
        .collect();
    inputs.push(b"\x80".to_vec());
    inputs.push(b"\x80\x09.".to_vec());
    let script = "import pickle, sys, json\n\
        out = []\n\
        for h in json.load(sys.stdin):\n\
        \x20   try:\n\
        \x20       pickle.loads(bytes.fromhex(h)); out.append(None)\n\
        \x20   except Exception as e:\n\
        \x20       out.append('%s: %s' % (type(e).__name__, e))\n\
        json.dump(out, sys.stdout)\n";
    let hex: Vec<String> = inputs
        .iter()
        .map(|d| d.iter().map(|b| format!("{b:02x}")).collect())
        .collect();
    let mut child = Command::new(&python)
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(&hex).unwrap().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let raised: Vec<Option<String>> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(raised.len(), inputs.len());
    let dir = std::env::temp_dir().join(format!("pd-not-a-pickle-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut paths = Vec::new();
    for (i, data) in inputs.iter().enumerate() {
        let path = dir.join(format!("f{i:03}.pkl"));
        std::fs::write(&path, data).unwrap();
        paths.push(path.to_str().unwrap().to_owned());
    }
    let args: Vec<&str> = paths.iter().map(String::as_str).collect();
    // Named, in JSON: clean, one low note in pickle.load's words.
    let (code, v) = common::scan_json(&args);
    assert_eq!(code, Some(0));
    let files = v["files"].as_array().unwrap();
    assert_eq!(files.len(), inputs.len());
    for ((file, data), raised) in files.iter().zip(&inputs).zip(&raised) {
        let raised = raised.as_deref().expect("CPython loads none of these");
        assert_eq!(file["verdict"], "clean", "{data:02x?}: {file}");
        let findings = file["findings"].as_array().unwrap();
        assert_eq!(findings.len(), 1, "{data:02x?}: {file}");
        assert_eq!(findings[0]["code"], "PD105");
        assert_eq!(findings[0]["severity"], "low");
        assert_eq!(
            findings[0]["message"].as_str().unwrap(),
            format!(
                "not a pickle: pickle.load fails on its first op with `{raised}`; nothing would run"
            ),
        );
    }
    // check says what pickle.load says; show says it is not a pickle, in the same words.
    for (p, raised) in paths.iter().zip(&raised).step_by(37) {
        let raised = raised.as_deref().unwrap();
        let check = common::run_cli(&["check", p], None);
        assert_eq!(check.status.code(), Some(1));
        let text = String::from_utf8_lossy(&check.stdout);
        assert!(text.contains(&format!("error: {raised}\n")), "{text}");
        let show = common::run_cli(&["show", p], None);
        assert_eq!(show.status.code(), Some(1));
        let text = String::from_utf8_lossy(&show.stdout);
        assert!(text.contains(&format!("with {raised}>")), "{text}");
    }
    // In text and SARIF: every file clean, one low note each.
    let mut text_args = vec!["--format", "text"];
    text_args.extend(&args);
    let out = scan(&text_args, None);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        text.matches("PD105 [low] not a pickle").count(),
        paths.len()
    );
    let mut sarif_args = vec!["--format", "sarif"];
    sarif_args.extend(&args);
    let out = scan(&sarif_args, None);
    assert_eq!(out.status.code(), Some(0));
    let sarif: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), paths.len());
    assert!(
        results
            .iter()
            .all(|r| r["ruleId"] == "PD105" && r["level"] == "note"),
        "{results:?}"
    );
    // A folder walk of the same files: each is skipped (its content is not a model) or
    // reported the same way, never unsafe.
    let (code, v) = common::scan_json(&[dir.to_str().unwrap()]);
    assert_eq!(code, Some(0));
    for f in v["files"].as_array().unwrap() {
        assert_eq!(f["verdict"], "clean");
        assert_eq!(f["findings"][0]["code"], "PD105");
        assert_eq!(f["findings"][0]["severity"], "low");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
