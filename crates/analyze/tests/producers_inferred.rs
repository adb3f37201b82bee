//! The writer markers of `producers.toml` against real pickles whose writers are known: the
//! break atlas's fixtures (`tests/atlas/fixtures/<producer>/`, written by `scripts/atlas.sh`)
//! and the pandas 3.1 ones (`tests/atlas/producer-fixtures/pd-3.1/`, written by
//! `scripts/atlas-producer-fixtures.sh`), each directory with its writer's versions in
//! `manifest.json`.
//! - Every range inferred from any fixture holds the fixture's real writer version.
//! - Every marker shows in some fixture (none is untested).
//! - The markers decide the writers of the numpy and pandas cases the atlas's silent entries
//!   need (numpy scalars, long-double arrays; pandas frames and nullable, string and
//!   timedelta series).
//! - The layouts the atlas data records (`[[entry.layout]]`, read with pickletools by
//!   `tests/atlas/build.py`) are what [`analyze::producer::layout`] reads from the same files.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use analyze::producer::{inferred, layout};
use knowledge::Knowledge;

fn atlas_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/atlas")
}

/// (fixture directory name, writer versions by distribution, case -> pickle bytes).
type Fixtures = Vec<(String, BTreeMap<String, String>, BTreeMap<String, Vec<u8>>)>;

fn fixtures() -> Fixtures {
    let mut out = Vec::new();
    for sub in ["fixtures", "producer-fixtures"] {
        let mut dirs: Vec<_> = std::fs::read_dir(atlas_dir().join(sub))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.join("manifest.json").is_file())
            .collect();
        dirs.sort();
        for dir in dirs {
            let manifest: serde_json::Value =
                serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
            let versions = manifest["versions"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                .collect();
            let mut cases = BTreeMap::new();
            for c in manifest["cases"].as_array().unwrap() {
                let name = c["name"].as_str().unwrap();
                cases.insert(
                    name.to_owned(),
                    std::fs::read(dir.join(format!("{name}.pkl"))).unwrap(),
                );
            }
            let name = dir.file_name().unwrap().to_string_lossy().into_owned();
            out.push((name, versions, cases));
        }
    }
    assert!(
        out.iter().any(|f| f.0 == "pd-3.1") && out.len() >= 13,
        "fixtures missing"
    );
    out
}

#[test]
fn every_inferred_range_holds_the_real_writer() {
    let k = Knowledge::get();
    let mut shown: BTreeSet<String> = BTreeSet::new();
    let mut decided: BTreeMap<(String, String), String> = BTreeMap::new();
    let mut checked = 0;
    for (dir, versions, cases) in fixtures() {
        for (case, data) in &cases {
            let trace = vm::run(data);
            assert!(trace.pickles[0].error.is_none(), "{dir}/{case}");
            for r in inferred(&trace, 0, k) {
                let real = versions.get(&r.dist).unwrap_or_else(|| {
                    panic!("{dir}/{case}: inferred {} but the writer has none", r.dist)
                });
                assert!(
                    r.contains(real),
                    "{dir}/{case}: inferred {} ({:?}), written by {} {real}",
                    r.describe(),
                    r.evidence,
                    r.dist
                );
                checked += 1;
                shown.extend(r.evidence.iter().map(|(id, _)| id.clone()));
                decided.insert((dir.clone(), case.clone()), r.describe());
            }
        }
    }
    assert!(checked > 100, "{checked}");
    for p in &k.producers {
        if p.implied_range().is_some() {
            assert!(shown.contains(&p.id), "no fixture shows {}", p.id);
        }
    }
    let want = |dir: &str, case: &str, range: &str| {
        assert_eq!(
            decided
                .get(&(dir.to_owned(), case.to_owned()))
                .map(String::as_str),
            Some(range),
            "{dir}/{case}"
        );
    };
    for case in [
        "scalar_bool",
        "scalar_float64",
        "scalar_int64",
        "array_longdouble",
    ] {
        want("np-1.24", case, "numpy < 2");
        want("np-1.26", case, "numpy < 2");
        want("np-2.4", case, "numpy >= 2");
    }
    for case in [
        "DataFrame_mixed",
        "Series_Int64_nullable",
        "Series_boolean_nullable",
        "Series_string",
        "Series_timedelta",
    ] {
        for dir in ["pd-1.5", "pd-2.1", "pd-2.3"] {
            want(dir, case, "pandas < 3");
        }
        want("pd-3.1", case, "pandas >= 3");
    }
}

#[test]
fn atlas_layouts_are_what_check_reads_from_the_same_files() {
    let k = Knowledge::get();
    let fixtures = fixtures();
    let mut compared = 0;
    for e in k.atlas.iter().filter(|e| !e.layouts.is_empty()) {
        for lay in &e.layouts {
            // Every writer of the layout's pairs wrote the case with this layout.
            let producers: BTreeSet<&str> = lay
                .version_pairs
                .iter()
                .filter_map(|p| knowledge::split_pair(p))
                .map(|(p, _)| p)
                .collect();
            for (dir, versions, cases) in fixtures.iter().filter(|f| f.0 != "pd-3.1") {
                if !versions
                    .get(&e.dist)
                    .is_some_and(|v| producers.contains(v.as_str()))
                {
                    continue;
                }
                let Some(data) = cases.get(&lay.case) else {
                    continue;
                };
                let got = layout(&vm::run(data), 0);
                assert_eq!(
                    (&got.globals, &got.dtypes),
                    (&lay.globals, &lay.dtypes),
                    "{} {dir}/{}",
                    e.id,
                    lay.case
                );
                compared += 1;
            }
        }
    }
    assert!(compared > 40, "{compared}");
}
