//! PyTorch files against what torch itself reported when it wrote them.
//!
//! `tests/fixtures/torch/make_torch_fixtures.py` wrote the files in `tests/fixtures/torch/files/`
//! with real torch (CI has no torch, so they are committed) and recorded in `inventory.json`
//! the format, members, and every tensor: path, dtype, shape, stride, storage key and where
//! the storage's bytes are. These tests open the files by content and compare.

use std::fmt::Write as _;
use std::path::Path;

use container::Format;
use serde_json::Value as J;

mod common;

fn dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/torch")
}

fn inventory() -> J {
    serde_json::from_str(&std::fs::read_to_string(dir().join("inventory.json")).unwrap()).unwrap()
}

#[test]
fn torch_files_match_torch_inventory() {
    let inv = inventory();
    let mut failures = String::new();
    let files = inv["files"].as_object().unwrap();
    assert!(files.len() >= 10);
    for (name, want) in files {
        let data = std::fs::read(dir().join("files").join(name)).unwrap();
        let opened = match container::open(&data, &container::Limits::default()) {
            Ok(o) => o,
            Err(e) => {
                let _ = writeln!(failures, "{name}: {e}");
                continue;
            }
        };
        if opened.format.name() != want["format"] {
            let _ = writeln!(
                failures,
                "{name}: format {}, torch {}",
                opened.format.name(),
                want["format"]
            );
        }
        if let Format::TorchZip { prefix } | Format::TorchScript { prefix } = &opened.format
            && want["archive_prefix"] != prefix.as_str()
        {
            let _ = writeln!(
                failures,
                "{name}: prefix {prefix}, torch {}",
                want["archive_prefix"]
            );
        }
        let want_pickles: Vec<&str> = want["pickle_members"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(J::as_str)
            .collect();
        if !want_pickles.is_empty() {
            let mut got: Vec<&str> = opened.pickles().map(|m| m.name.as_str()).collect();
            let mut w = want_pickles.clone();
            got.sort_unstable();
            w.sort_unstable();
            if got != w {
                let _ = writeln!(failures, "{name}: pickle members {got:?}, torch {w:?}");
            }
        }
        // Every pickle member runs to STOP.
        for m in opened.pickles() {
            if let Some(e) = vm::run(&m.data).error() {
                let _ = writeln!(failures, "{name}:{}: {e}", m.name);
            }
        }
        let got = shown_tensors(&dir().join("files").join(name));
        let want_t = want["tensors"].as_array().unwrap();
        if got.len() != want_t.len() {
            let _ = writeln!(
                failures,
                "{name}: {} tensors, torch {}",
                got.len(),
                want_t.len()
            );
        }
        for (w, g) in want_t.iter().zip(&got) {
            let ints = |j: &J| -> Vec<i64> {
                j.as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_i64().unwrap())
                    .collect()
            };
            let mine = g;
            let same = w["path"] == mine["path"]
                && w["dtype"] == mine["dtype"]
                && ints(&w["shape"]) == ints(&mine["shape"])
                && ints(&w["stride"]) == ints(&mine["stride"])
                && w["storage_offset"] == mine["storage_offset"]
                && w["requires_grad"] == mine["requires_grad"]
                && w["quantized"] == mine["quantized"]
                && w["storage_key"] == mine["storage_key"]
                && w["data_offset"] == mine["data_offset"]
                && w["data_length"] == mine["data_length"];
            if !same {
                let _ = writeln!(failures, "{name}:\n  torch: {w}\n  ours:  {mine}");
            }
        }
    }
    assert!(failures.is_empty(), "{failures}");
}

type Row = doctor::show::LocatedTensor;

/// The tensors of a file, located by the function `show` lists them with.
fn tensors(data: &[u8]) -> Vec<Row> {
    doctor::show::locate_tensors(data, "test", &doctor::Limits::default()).unwrap()
}

/// The tensors `pickle-doctor show --json FILE` prints: the product itself.
fn shown_tensors(path: &Path) -> Vec<J> {
    let out = common::run_cli(&["show", "--json", path.to_str().unwrap()], None);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: J = serde_json::from_slice(&out.stdout).unwrap();
    doc["tensors"].as_array().unwrap().clone()
}

fn json_row(r: &Row) -> J {
    let t = &r.tensor;
    serde_json::json!({
        "path": t.path, "dtype": t.dtype, "shape": t.shape, "stride": t.stride,
        "storage_offset": t.storage_offset, "requires_grad": t.requires_grad,
        "quantized": t.quantized, "storage_key": t.storage.key,
        "data_offset": r.data.map(|d| d.start), "data_length": r.data.map(|d| d.len),
    })
}

/// Like torch's own reader, member data is found through the central directory: a wrong CRC,
/// unusual flag bits or a local header whose name disagrees with the central one do not stop
/// the archive from opening, and the tensors stay the same.
#[test]
fn tolerates_bad_crcs_flags_and_mismatched_local_names() {
    let path = dir().join("files/state_dict.pt");
    let good = std::fs::read(&path).unwrap();
    let want: Vec<J> = tensors(&good).iter().map(json_row).collect();
    let mut bad = good.clone();
    let mut at = 0;
    let mut locals = 0;
    while let Some(i) = bad[at..].windows(4).position(|w| w == b"PK\x03\x04") {
        let h = at + i;
        bad[h + 6] |= 0x40; // flag bit 6 (strong encryption) — ignored for stored data by torch
        bad[h + 14] ^= 0xff; // CRC-32
        let name_len = usize::from(u16::from_le_bytes([bad[h + 26], bad[h + 27]]));
        bad[h + 30 + name_len - 1] ^= 0x20; // last byte of the local name
        locals += 1;
        at = h + 4;
    }
    assert!(locals >= 4);
    container::open(&bad, &container::Limits::default()).unwrap();
    let got: Vec<J> = tensors(&bad).iter().map(json_row).collect();
    assert_eq!(got, want);
}

/// `torch.load(f)` with torch's default `weights_only=True`: what torch 2.15 said about each
/// fixture (`weights_only_truth.json`, recorded by `weights_only_truth.py` in the torch venv)
/// against what the knowledge data (its allowlist and error texts) predicts from the bytes.
#[test]
fn weights_only_refusals_match_torch() {
    use analyze::load::{Stream, TorchArchive, weights_only_refusal};
    let truth: J = serde_json::from_str(
        &std::fs::read_to_string(dir().join("weights_only_truth.json")).unwrap(),
    )
    .unwrap();
    let knowledge = knowledge::Knowledge::embedded();
    let files = truth["files"].as_object().unwrap();
    assert_eq!(files.len(), 10);
    let mut failures = String::new();
    for (name, want) in files {
        let data = std::fs::read(dir().join("files").join(name)).unwrap();
        let opened = container::open(&data, &container::Limits::default()).unwrap();
        let archive = match opened.format {
            Format::TorchZip { .. } => TorchArchive::Zip,
            Format::TorchScript { .. } => TorchArchive::Script,
            Format::TorchLegacy => TorchArchive::Legacy,
            Format::TorchTar => TorchArchive::Tar,
            _ => panic!("{name}: not a torch file"),
        };
        let traces: Vec<_> = opened
            .pickles()
            .filter(|m| m.name.ends_with("data.pkl") || m.name == "pickle")
            .map(|m| (m.name.clone(), vm::run(&m.data)))
            .collect();
        let streams: Vec<Stream<'_, '_>> = traces
            .iter()
            .map(|(n, t)| Stream {
                member: n,
                trace: t,
            })
            .collect();
        let got = weights_only_refusal(Some(archive), &streams, &knowledge).map(|(e, _)| e);
        let expected = match want["outcome"].as_str().unwrap() {
            "loads" => None,
            _ => Some(format!(
                "{}: {}",
                want["type"].as_str().unwrap(),
                want["message"].as_str().unwrap()
            )),
        };
        if got != expected {
            let _ = writeln!(failures, "{name}: got {got:?}\n  want {expected:?}");
        }
    }
    assert!(failures.is_empty(), "{failures}");
}

/// `fix` on torch checkpoints whose training code moved (`tinynet` → `pdmodels.tinynet`).
/// `verify_repairs.py` ran this repair with real torch, loaded the results without `tinynet`
/// on the path and found every tensor and class equal to the original; `repairs.json` holds
/// the sha256 of the bytes torch accepted. Here `fix` must write exactly those bytes again
/// (`--force`: CI has no torch, so the result cannot be verified against this target),
/// laid out as torch writes: the original records in order, stored, data 64-byte aligned;
/// and the tensors must sit where the original's tensors sit in the new file.
#[test]
fn fix_repacks_torch_zips_the_way_torch_accepted() {
    let record: J =
        serde_json::from_str(&std::fs::read_to_string(dir().join("repairs.json")).unwrap())
            .unwrap();
    let map = record["map"].as_str().unwrap();
    let cases = record["cases"].as_object().unwrap();
    assert_eq!(cases.len(), 2);
    let tmp = tempfile::tempdir().unwrap();
    // The training code moved into a package: tinynet.py as pdmodels/tinynet.py.
    let moved = tmp.path().join("moved");
    std::fs::create_dir_all(moved.join("pdmodels")).unwrap();
    std::fs::write(moved.join("pdmodels/__init__.py"), "").unwrap();
    std::fs::copy(dir().join("tinynet.py"), moved.join("pdmodels/tinynet.py")).unwrap();
    for (name, want) in cases {
        let src = dir().join("files").join(name);
        let out = tmp.path().join(name);
        let o = common::run_cli(
            &[
                "fix",
                src.to_str().unwrap(),
                "-o",
                out.to_str().unwrap(),
                "--map",
                map,
                "--force",
                "--site-packages",
                moved.to_str().unwrap(),
                "--python-version",
                "3.11",
            ],
            None,
        );
        assert!(
            out.exists(),
            "{name}: {}",
            String::from_utf8_lossy(&o.stdout)
        );
        let data = std::fs::read(&out).unwrap();
        let sha = sha256_hex(&data);
        assert_eq!(
            sha,
            want["sha256"].as_str().unwrap(),
            "{name}: bytes differ from those torch loaded"
        );

        // Layout: same records in the same order, stored, each record's data 64-byte aligned.
        let original = std::fs::read(&src).unwrap();
        let names = |bytes: &[u8]| {
            let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
            (0..z.len())
                .map(|i| {
                    let f = z.by_index_raw(i).unwrap();
                    (
                        f.name().unwrap().to_string(),
                        f.compression(),
                        f.data_start().unwrap(),
                    )
                })
                .collect::<Vec<_>>()
        };
        let (before, after) = (names(&original), names(&data));
        assert_eq!(
            before.iter().map(|r| &r.0).collect::<Vec<_>>(),
            after.iter().map(|r| &r.0).collect::<Vec<_>>()
        );
        for (n, method, start) in &after {
            assert_eq!(*method, zip::CompressionMethod::Stored, "{name}:{n}");
            assert_eq!(start % 64, 0, "{name}:{n} data at {start}");
        }
        // The tensors are the same, and their bytes are the original's bytes.
        let (ta, tb) = (tensors(&original), tensors(&data));
        assert_eq!(ta.len(), tb.len());
        for (x, y) in ta.iter().zip(&tb) {
            let strip = |r: &Row| {
                let mut j = json_row(r);
                j.as_object_mut().unwrap().remove("data_offset");
                j
            };
            assert_eq!(strip(x), strip(y), "{name}");
            let (xa, ya) = (x.data.unwrap(), y.data.unwrap());
            assert_eq!(
                original[xa.start as usize..(xa.start + xa.len) as usize],
                data[ya.start as usize..(ya.start + ya.len) as usize]
            );
        }
    }
}

fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Names under `__torch__` in a TorchScript archive are the classes `torch.jit.load` compiles
/// from the archive's `code/` files (torch wrote `scripted.pt` with `torch.jit.save`; its
/// inventory lists those files, and `torch.load` of it dispatches to `torch.jit.load`, whose
/// module type is `__torch__.tinynet.ScriptNet` with no `__torch__` in `sys.modules`). `scan`
/// says so at low severity, naming a code file the archive really has, and `check` does not
/// call them missing Python modules.
#[test]
fn torchscript_classes_are_not_python_imports() {
    let inv = inventory();
    let entry = &inv["files"]["scripted.pt"];
    let code_files: Vec<&str> = entry["code_files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    let prefix = entry["archive_prefix"].as_str().unwrap();
    let path = dir().join("files/scripted.pt");
    let (code, v) = common::scan_json(&["--policy", "strict", path.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{v}");
    let mut seen = 0;
    for f in v["files"][0]["findings"].as_array().unwrap() {
        let global = f["global"].as_str().unwrap_or_default();
        if !global.starts_with("__torch__.") {
            continue;
        }
        seen += 1;
        assert_eq!(f["code"], "PD103");
        assert_eq!(f["severity"], "low");
        let message = f["message"].as_str().unwrap();
        assert!(message.contains("is a TorchScript class"), "{message}");
        let file = message
            .split("archive's `")
            .nth(1)
            .and_then(|m| m.split('`').next())
            .unwrap();
        assert!(
            code_files.contains(&format!("{prefix}/{file}").as_str()),
            "{file} not in {code_files:?}"
        );
    }
    assert_eq!(seen, 3);
    let out = common::run_cli(&["check", "--format", "json", path.to_str().unwrap()], None);
    let doc: J = serde_json::from_slice(&out.stdout).unwrap();
    let rows = doc.to_string();
    assert!(
        rows.contains("a TorchScript class, compiled by torch.jit.load"),
        "{rows}"
    );
    assert!(!rows.contains("no module named '__torch__'"), "{rows}");
}
