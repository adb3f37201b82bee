//! Formats that store data only: safetensors, GGUF and ONNX. `show` lists what they hold,
//! `scan` reports them as what they are (clean, unless an ONNX model reads external data
//! outside its folder, or the bytes are also a pickle that imports something), `check` predicts
//! their own reader, and a Hugging Face snapshot folder is covered file by file.
//!
//! Inputs: `tests/data/tiny.*` and `external.onnx` (written by safetensors, gguf and onnx:
//! `tests/data/make_safe_formats.py`), the safetensors files of the generated fixture corpus
//! with what `safe_open` read back, and folders built here.

mod common;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Output;

use container::{Format, Inventory};
use serde_json::Value as J;
use sha2::{Digest, Sha256};

fn run(args: &[&str]) -> Output {
    common::run_cli(args, None)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn json(out: &Output) -> J {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", text(&out.stdout), text(&out.stderr)))
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pickle-doctor-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[test]
fn show_safetensors_text() {
    let out = run(&["show", "tests/data/tiny.safetensors"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    insta::assert_snapshot!(text(&out.stdout));
}

#[test]
fn show_safetensors_json_offsets_point_at_the_bytes() {
    let out = run(&["show", "--json", "tests/data/tiny.safetensors"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v = json(&out);
    assert_eq!(v["format"], "safetensors");
    assert_eq!(v["metadata"], serde_json::json!({"format": "pt"}));
    let data = std::fs::read(repo().join("tests/data/tiny.safetensors")).unwrap();
    let embed = v["tensors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["path"] == "embed.weight")
        .unwrap();
    assert_eq!(embed["dtype"], "F32");
    assert_eq!(embed["shape"], serde_json::json!([3, 4]));
    let start = embed["data_offset"].as_u64().unwrap() as usize;
    let len = embed["data_length"].as_u64().unwrap() as usize;
    let floats: Vec<f32> = data[start..start + len]
        .chunks(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    assert_eq!(floats, (0..12).map(|i| i as f32).collect::<Vec<_>>());
    insta::assert_json_snapshot!(v["tensors"]);
}

#[test]
fn show_gguf_text_and_json() {
    let out = run(&["show", "tests/data/tiny.gguf"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let t = text(&out.stdout);
    assert!(
        t.starts_with("format: gguf (version 3, little-endian, alignment 32"),
        "{t}"
    );
    assert!(
        t.contains("general.architecture: string = \"llama\""),
        "{t}"
    );
    assert!(
        t.contains("tokenizer.ggml.tokens: array = [4 string items]"),
        "{t}"
    );
    assert!(
        t.contains("blk.0.attn_q.weight: Q8_0 [32, 1] 34 bytes at"),
        "{t}"
    );
    let v = json(&run(&["show", "--json", "tests/data/tiny.gguf"]));
    assert_eq!(v["format"], "gguf");
    let names: Vec<&str> = v["tensors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "token_embd.weight",
            "output_norm.weight",
            "blk.0.attn_q.weight"
        ]
    );
    // gguf-py stores numpy's (2, 4) as ggml's [4, 2]; its bytes are where show says.
    let data = std::fs::read(repo().join("tests/data/tiny.gguf")).unwrap();
    let t0 = &v["tensors"][0];
    assert_eq!(t0["shape"], serde_json::json!([4, 2]));
    let start = t0["data_offset"].as_u64().unwrap() as usize;
    let floats: Vec<f32> = data[start..start + 32]
        .chunks(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    assert_eq!(floats, [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]);
    let meta = v["metadata"].as_array().unwrap();
    assert!(
        meta.iter()
            .any(|kv| kv["key"] == "general.name" && kv["value"] == "tiny")
    );
}

#[test]
fn show_onnx_initializers_and_external_data() {
    let t = text(&run(&["show", "tests/data/tiny.onnx"]).stdout);
    assert!(t.starts_with("format: onnx (ir_version 8"), "{t}");
    assert!(
        t.contains("w: FLOAT [2, 2] initializer, 16 bytes at"),
        "{t}"
    );
    let v = json(&run(&["show", "--json", "tests/data/external.onnx"]));
    assert_eq!(v["format"], "onnx");
    assert_eq!(v["model"]["producer_name"], "pickle-doctor-tests");
    let big = &v["tensors"][1];
    assert_eq!(big["path"], "big");
    assert_eq!(big["external"]["location"], "external.onnx.data");
    assert_eq!(big["external"]["length"], 64);
    assert_eq!(big["external"]["outside_folder"], false);
}

#[test]
fn dis_and_members_of_data_only_files() {
    let out = run(&["dis", "tests/data/tiny.safetensors"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("not a pickle: a safetensors file stores data only"));
    let out = run(&["show", "tests/data/tiny.gguf:x"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("has no member \"x\""));
}

#[test]
fn scan_reports_each_format_clean() {
    let out = run(&[
        "scan",
        "--format",
        "json",
        "tests/data/tiny.safetensors",
        "tests/data/tiny.gguf",
        "tests/data/tiny.onnx",
        "tests/data/external.onnx",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let v = json(&out);
    let got: Vec<(&str, &str)> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            assert!(f["error"].is_null(), "{f}");
            assert_eq!(f["findings"], serde_json::json!([]), "{f}");
            (
                f["format"].as_str().unwrap(),
                f["verdict"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("safetensors", "clean"),
            ("gguf", "clean"),
            ("onnx", "clean"),
            ("onnx", "clean")
        ]
    );
}

#[test]
fn onnx_external_data_outside_its_folder_is_unsafe() {
    let dir = scratch("onnx-escape");
    let model = std::fs::read(repo().join("tests/data/external.onnx")).unwrap();
    let at = model
        .windows(18)
        .position(|w| w == b"external.onnx.data")
        .unwrap();
    for (name, location, unsafe_) in [
        ("up.onnx", b"../../../../x.data", true),
        ("abs.onnx", b"/etc/passwd.x.data", true),
        ("sub.onnx", b"sub/dir/../x..data", false),
    ] {
        let mut m = model.clone();
        m[at..at + 18].copy_from_slice(location);
        std::fs::write(dir.join(name), m).unwrap();
        let out = run(&["scan", "--format", "json", dir.join(name).to_str().unwrap()]);
        let v = json(&out);
        let f = &v["files"][0];
        assert_eq!(f["format"], "onnx");
        if unsafe_ {
            assert_eq!(out.status.code(), Some(1), "{name}");
            assert_eq!(f["verdict"], "unsafe");
            let finding = &f["findings"][0];
            assert_eq!(finding["code"], "PD109");
            assert_eq!(finding["severity"], "high");
            let msg = finding["message"].as_str().unwrap();
            assert!(msg.contains("tensor \"big\""), "{msg}");
            assert!(
                msg.contains(std::str::from_utf8(location).unwrap()),
                "{msg}"
            );
            // The offset is the TensorProto's, in the file.
            let off = finding["offset"].as_u64().unwrap() as usize;
            assert!(off < at, "{off} {at}");
        } else {
            assert_eq!(out.status.code(), Some(0), "{name}");
            assert_eq!(f["verdict"], "clean");
        }
    }
    // The text output names the file offset, and `rule` documents the code.
    let out = run(&["scan", dir.join("up.onnx").to_str().unwrap()]);
    assert!(
        text(&out.stdout).contains("PD109 [high]"),
        "{}",
        text(&out.stdout)
    );
    let out = run(&["rule", "PD109"]);
    assert_eq!(out.status.code(), Some(0));
    let doc = text(&out.stdout);
    assert!(
        doc.starts_with("# external-data-outside-folder (PD109)"),
        "{doc}"
    );
    assert!(
        doc.contains("## Why is this bad?") && doc.contains("CVE-2024-27318"),
        "{doc}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn damaged_data_only_files_are_errors_named_for_their_format() {
    let dir = scratch("damaged");
    let st = std::fs::read(repo().join("tests/data/tiny.safetensors")).unwrap();
    std::fs::write(dir.join("cut.safetensors"), &st[..st.len() - 1]).unwrap();
    let mut huge = (200_000_000u64).to_le_bytes().to_vec();
    huge.extend(b"{\"a\":{}}");
    std::fs::write(dir.join("huge.safetensors"), huge).unwrap();
    let gg = std::fs::read(repo().join("tests/data/tiny.gguf")).unwrap();
    std::fs::write(dir.join("cut.gguf"), &gg[..100]).unwrap();
    let out = run(&["scan", "--format", "json", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    let v = json(&out);
    let mut got: Vec<(String, String, String)> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let p = f["path"].as_str().unwrap();
            (
                p.rsplit('/').next().unwrap().to_owned(),
                f["format"].as_str().unwrap().to_owned(),
                f["error"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!(got[0].1, "gguf");
    assert!(got[0].2.contains("damaged GGUF file"), "{got:?}");
    assert_eq!(got[1].1, "safetensors");
    assert!(
        got[1]
            .2
            .contains("the tensors cover 75 bytes after the header, but the file has 74"),
        "{got:?}"
    );
    assert_eq!(got[2].1, "safetensors");
    assert!(
        got[2]
            .2
            .contains("over the 100000000-byte limit (at offset 0)"),
        "{got:?}"
    );
    // show says the same, exit 1.
    let out = run(&["show", dir.join("cut.safetensors").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("damaged safetensors file"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// `check` predicts the file's own reader: safetensors loads where the `safetensors` package
/// imports, and fails with the import error where it does not; nothing is unpickled, so no
/// global is listed. A forced pickle loader does not apply to a file with no pickle.
#[test]
fn check_predicts_the_formats_own_reader() {
    let dir = scratch("check-st");
    let site = dir.join("site-packages");
    std::fs::create_dir_all(site.join("safetensors")).unwrap();
    std::fs::write(site.join("safetensors/__init__.py"), "").unwrap();
    let empty = dir.join("empty-site");
    std::fs::create_dir_all(&empty).unwrap();
    let check = |site: &Path, file: &str| {
        let out = run(&[
            "check",
            "--format",
            "json",
            "--site-packages",
            site.to_str().unwrap(),
            "--python-version",
            "3.11",
            "--loader",
            "pickle",
            file,
        ]);
        (out.status.code(), json(&out)["files"][0].clone())
    };
    let (code, f) = check(&site, "tests/data/tiny.safetensors");
    assert_eq!(code, Some(0), "{f}");
    assert_eq!(
        (&f["format"], &f["loader"], &f["verdict"]),
        (
            &J::from("safetensors"),
            &J::from("safetensors"),
            &J::from("loads")
        )
    );
    assert_eq!(f["globals"], serde_json::json!([]));
    let (code, f) = check(&empty, "tests/data/tiny.safetensors");
    assert_eq!(code, Some(1), "{f}");
    assert_eq!(f["verdict"], "fails");
    assert_eq!(
        f["error"],
        "ModuleNotFoundError: No module named 'safetensors'"
    );
    for file in ["tests/data/tiny.gguf", "tests/data/tiny.onnx"] {
        let (code, f) = check(&empty, file);
        assert_eq!(code, Some(0), "{f}");
        assert_eq!(f["verdict"], "loads");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A Hugging Face model folder as `snapshot_download` leaves it: every file is covered
/// (scanned or skipped as not a model file), nothing is an error, and the weights are
/// reported as what they are.
#[test]
fn hugging_face_snapshot_folder_is_covered() {
    let dir = scratch("hf-snapshot");
    let data = repo().join("tests/data");
    let copy = |from: &Path, to: &str| {
        std::fs::copy(from, dir.join(to)).unwrap();
    };
    copy(
        &data.join("tiny.safetensors"),
        "model-00001-of-00002.safetensors",
    );
    copy(
        &data.join("tiny.safetensors"),
        "model-00002-of-00002.safetensors",
    );
    copy(&data.join("tiny.gguf"), "model-Q8_0.gguf");
    std::fs::create_dir_all(dir.join("onnx")).unwrap();
    copy(&data.join("external.onnx"), "onnx/external.onnx");
    copy(&data.join("external.onnx.data"), "onnx/external.onnx.data");
    copy(
        &repo().join("tests/fixtures/torch/files/state_dict.pt"),
        "pytorch_model.bin",
    );
    let texts: [(&str, &str); 10] = [
        (
            "config.json",
            "{\"architectures\": [\"LlamaForCausalLM\"], \"hidden_size\": 4}\n",
        ),
        (
            "model.safetensors.index.json",
            "{\"metadata\": {\"total_size\": 150}, \"weight_map\": {\"embed.weight\": \"model-00001-of-00002.safetensors\"}}\n",
        ),
        (
            "tokenizer.json",
            "{\"version\": \"1.0\", \"model\": {\"type\": \"BPE\"}}",
        ),
        ("tokenizer_config.json", "{\"bos_token\": \"<s>\"}"),
        ("special_tokens_map.json", "{\"eos_token\": \"</s>\"}"),
        ("generation_config.json", "{\"do_sample\": true}"),
        (
            "README.md",
            "---\nlicense: mit\ntags:\n- text-generation\n---\n# tiny\n",
        ),
        (
            ".gitattributes",
            "*.bin filter=lfs diff=lfs merge=lfs -text\n*.safetensors filter=lfs diff=lfs merge=lfs -text\n",
        ),
        ("merges.txt", "#version: 0.2\na b\n"),
        ("vocab.txt", "[PAD]\n[UNK]\nthe\n"),
    ];
    for (name, body) in texts {
        std::fs::write(dir.join(name), body).unwrap();
    }
    let out = run(&["scan", "--format", "json", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let v = json(&out);
    let mut got: Vec<(String, String, String)> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            assert!(f["error"].is_null(), "{f}");
            let p = f["path"].as_str().unwrap();
            (
                p.rsplit_once("hf-snapshot-")
                    .unwrap()
                    .1
                    .split_once('/')
                    .unwrap()
                    .1
                    .to_owned(),
                f["format"].as_str().unwrap().to_owned(),
                f["verdict"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    got.sort();
    let want: Vec<(String, String, String)> = [
        ("model-00001-of-00002.safetensors", "safetensors"),
        ("model-00002-of-00002.safetensors", "safetensors"),
        ("model-Q8_0.gguf", "gguf"),
        ("onnx/external.onnx", "onnx"),
        ("pytorch_model.bin", "torch-zip"),
    ]
    .into_iter()
    .map(|(p, f)| (p.to_owned(), f.to_owned(), "clean".to_owned()))
    .collect();
    assert_eq!(got, want);
    // Every other file was met and skipped as not a model file: all 16 are accounted for.
    let out = run(&["scan", dir.to_str().unwrap()]);
    let t = text(&out.stdout);
    assert!(
        t.ends_with("5 files scanned (11 skipped: not model files): 0 unsafe, 5 clean, 0 errors\n"),
        "{t}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A file that is a valid safetensors file and also a pickle that calls `posix.system`
/// (`torch.load` unpickles any file that is not a zip): the pickle's findings are reported.
/// The first op skips into the JSON header, where a metadata string holds `B` and four spaces:
/// BINBYTES of 0x20202020 bytes, which lands in the tensor data, where the payload is. The file
/// is sparse: only its header and payload are written.
#[cfg(unix)]
#[test]
fn safetensors_pickle_polyglot_is_unsafe() {
    let dir = scratch("polyglot");
    let prefix = br#"{"__metadata__":{"k":""#;
    let skip = prefix.len() as u64 + 8 - 6; // NONE, BINBYTES over bytes 2..6+skip
    let n: u64 = u64::from_le_bytes([b'N', b'B', skip as u8, 0, 0, 0, 0, 0]);
    let landing = 6 + skip; // = 8 + prefix.len(): the 'B' in the metadata string
    let payload_at = landing + 5 + 0x2020_2020;
    let payload: &[u8] = b"\x80\x02cposix\nsystem\nX\x02\x00\x00\x00id\x85R.";
    let data_start = 8 + n;
    let total = payload_at + payload.len() as u64;
    let tensor_len = total - data_start;
    let mut header = prefix.to_vec();
    header.extend(b"B    \"},");
    header.extend(
        format!(r#""w":{{"dtype":"U8","shape":[{tensor_len}],"data_offsets":[0,{tensor_len}]}}}}"#)
            .as_bytes(),
    );
    assert!(header.len() as u64 <= n);
    header.resize(n as usize, b' ');
    let path = dir.join("pytorch_model.bin");
    let mut f = std::fs::File::create(&path).unwrap();
    use std::io::{Seek, SeekFrom, Write};
    f.write_all(&n.to_le_bytes()).unwrap();
    f.write_all(&header).unwrap();
    f.seek(SeekFrom::Start(payload_at)).unwrap();
    f.write_all(payload).unwrap();
    drop(f);
    assert_eq!(std::fs::metadata(&path).unwrap().len(), total);
    let out = run(&["scan", "--format", "json", path.to_str().unwrap()]);
    let v = json(&out);
    let f = &v["files"][0];
    assert_eq!(f["format"], "safetensors", "{f}");
    assert_eq!(f["verdict"], "unsafe", "{f}");
    assert_eq!(out.status.code(), Some(1));
    let codes: Vec<&str> = f["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"PD101"), "{f}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The safetensors files of the fixture corpus, written by the safetensors package: every
/// tensor's name, dtype, shape and bytes (sha256) and the metadata are what `safe_open` and
/// `deserialize` read, and `show --json` points at the same bytes.
#[test]
fn safetensors_match_the_safetensors_package() {
    let Some(root) = common::fixtures_dir() else {
        return;
    };
    let dir = root.join("safetensors");
    let mut failures = String::new();
    let mut checked = 0;
    let mut dtypes = std::collections::BTreeSet::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "safetensors"))
        .collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let inv: J = serde_json::from_str(
            &std::fs::read_to_string(common::sibling(&path, ".inventory.json")).unwrap(),
        )
        .unwrap();
        let data = std::fs::read(&path).unwrap();
        let opened = container::open(&data, &container::Limits::default()).unwrap();
        assert_eq!(opened.format, Format::Safetensors, "{name}");
        let Some(Inventory::Safetensors(h)) = &opened.inventory else {
            panic!("{name}: no header");
        };
        let meta: J = h.metadata.as_ref().map_or(J::Null, |m| {
            m.iter()
                .map(|(k, v)| (k.clone(), J::from(v.as_str())))
                .collect::<serde_json::Map<_, _>>()
                .into()
        });
        if meta != inv["metadata"] {
            let _ = writeln!(failures, "{name}: metadata {meta} != {}", inv["metadata"]);
        }
        let mut ours: Vec<_> = h.tensors.iter().collect();
        ours.sort_by(|a, b| a.name.cmp(&b.name));
        let want = inv["tensors"].as_array().unwrap();
        if ours.len() != want.len() {
            let _ = writeln!(
                failures,
                "{name}: {} tensors, want {}",
                ours.len(),
                want.len()
            );
            continue;
        }
        for (t, w) in ours.iter().zip(want) {
            let got = serde_json::json!({
                "name": t.name, "dtype": t.dtype.name(), "shape": t.shape,
                "nbytes": t.len(), "sha256": hex(&Sha256::digest(t.bytes(&data))),
            });
            if &got != w {
                let _ = writeln!(failures, "{name}: {got} != {w}");
            }
            dtypes.insert(t.dtype.name());
        }
        // show --json lists the same bytes.
        let v = json(&run(&["show", "--json", path.to_str().unwrap()]));
        for row in v["tensors"].as_array().unwrap() {
            let t = h.tensors.iter().find(|t| t.name == row["path"]).unwrap();
            if row["data_offset"] != t.file_offset || row["data_length"] != t.len() {
                let _ = writeln!(failures, "{name}: show --json row {row}");
            }
        }
        let scan = run(&["scan", path.to_str().unwrap()]);
        if scan.status.code() != Some(0) {
            let _ = writeln!(failures, "{name}: scan {}", text(&scan.stdout));
        }
        checked += 1;
    }
    assert!(checked >= 4, "only {checked} safetensors files");
    assert!(failures.is_empty(), "{failures}");
    // Every dtype of the format but the two 6-bit floats, which the package cannot write.
    assert_eq!(dtypes.len(), 20, "{dtypes:?}");
}
