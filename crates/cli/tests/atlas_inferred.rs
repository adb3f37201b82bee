//! The break atlas's numpy and pandas entries, which apply by the producer range inferred
//! from the pickle's structure (numpy and pandas record no version): `check --python
//! <atlas venv>` on pickles really written by known versions (`tests/atlas/fixtures/`,
//! `tests/atlas/producer-fixtures/pd-3.1/`, with their writers in `manifest.json`).
//! - A pickle written by the target's own major version never gets an atlas trouble
//!   (numpy 2.4 pickles in numpy 2.4, numpy 1.24/1.26 pickles in numpy 1.26, pandas 3.1
//!   pickles in pandas 3.1): the atlas saw no break there.
//! - A numpy 1 scalar in numpy 2.4 and a pandas 2.3 string series in pandas 3.1 get the
//!   atlas's silent trouble, whose message says the producer range was inferred and from what.
//!
//! `PICKLE_DOCTOR_ATLAS` names the atlas venvs (`tests/atlas/README.md`; scripts/test.sh
//! sets it). What happens in those venvs for real is `tests/atlas/truth.json`, checked by
//! `atlas_matrix` and re-run in CI by `tests/atlas/verify.py`.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::Value;

/// `check --format json --python <venv of target>` over `files` (relative to the repo).
fn check(envs: &BTreeMap<String, PathBuf>, target: &str, files: &[String]) -> Vec<Value> {
    let py = envs[target].display().to_string();
    let mut args = vec![
        "check", "--format", "json", "--loader", "pickle", "--python", &py,
    ];
    args.extend(files.iter().map(String::as_str));
    let out = common::run_cli(&args, None);
    let doc: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    doc["files"].as_array().unwrap().clone()
}

/// Every `.pkl` of a fixture directory, relative to the repo.
fn pickles(dir: &str) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(common::matrix::repo().join(dir))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".pkl"))
        .map(|n| format!("{dir}/{n}"))
        .collect();
    out.sort();
    assert!(out.len() >= 20, "{dir}");
    out
}

fn atlas_troubles(file: &Value) -> Vec<&Value> {
    file["troubles"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["code"].as_str().is_some_and(|c| c.starts_with("atlas-")))
        .collect()
}

#[test]
fn a_pickle_of_the_targets_own_major_version_gets_no_atlas_trouble() {
    let Some(envs) = common::atlas_envs() else {
        return;
    };
    for (target, dirs) in [
        ("np-2.4", &["tests/atlas/fixtures/np-2.4"][..]),
        (
            "np-1.26",
            &[
                "tests/atlas/fixtures/np-1.24",
                "tests/atlas/fixtures/np-1.26",
            ][..],
        ),
        ("pd-3.1", &["tests/atlas/producer-fixtures/pd-3.1"][..]),
    ] {
        for dir in dirs {
            let files = pickles(dir);
            for (f, p) in files.iter().zip(check(&envs, target, &files)) {
                let t = atlas_troubles(&p);
                assert!(t.is_empty(), "{f} in {target}: {t:?}");
            }
        }
    }
}

#[test]
fn the_atlas_trouble_says_the_producer_was_inferred_and_from_what() {
    let Some(envs) = common::atlas_envs() else {
        return;
    };
    for (target, file, code, said) in [
        (
            "np-2.4",
            "tests/atlas/fixtures/np-1.24/scalar_float64.pkl",
            "atlas-numpy-float64-silent-repr-",
            "written by numpy < 2 (inferred, the file records no version: its globals name numpy.core",
        ),
        (
            "np-1.26",
            "tests/atlas/fixtures/np-2.4/array_longdouble.pkl",
            "atlas-numpy-ndarray-silent-tolist-",
            "written by numpy >= 2 (inferred, the file records no version: the data names numpy._core",
        ),
        (
            "pd-3.1",
            "tests/atlas/fixtures/pd-2.3/Series_string.pkl",
            "atlas-pandas-Series-silent-astype_str-",
            "written by pandas < 3 (inferred, the file records no version: its globals name pandas classes by their defining module (pandas.core...)",
        ),
    ] {
        let p = &check(&envs, target, &[file.to_owned()])[0];
        let t = atlas_troubles(p);
        assert_eq!(t.len(), 1, "{file} in {target}: {t:?}");
        assert_eq!(t[0]["kind"], "silent", "{t:?}");
        assert!(t[0]["code"].as_str().unwrap().starts_with(code), "{t:?}");
        let message = t[0]["message"].as_str().unwrap();
        assert!(message.contains(said), "{message}");
        assert_eq!(p["verdict"], "at-risk", "{file} in {target}");
    }
}
