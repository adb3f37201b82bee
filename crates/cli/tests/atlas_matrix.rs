//! The break atlas as a test of `check` (issue 16): every (producer, target, case) row of
//! `tests/atlas/truth.json`, whose pickles were really loaded and used in the target venv
//! (`scripts/atlas.sh`), checked with `check --python <target>` against what happened:
//! - `load` rows (pickle.load raised): verdict `fails`, with the same error text (module
//!   reprs without their ` from '…'` path, exception types without their module);
//! - `use` rows (loaded, a call raised): a `use` trouble with the exact error text and, for
//!   the object the file holds, the method the atlas called first that raised;
//! - `silent` rows (every call ran, an output differs): a `silent` trouble;
//! - `ok` rows: no trouble at all (a version-skew risk alone is not one).
//!
//! `PICKLE_DOCTOR_ATLAS` names `envs.tsv` (atlas name, python, ...: `tests/atlas/README.md`).
//! The agreement counts are printed past libtest's capture; the test fails on any row whose
//! prediction claims something the truth contradicts (a false trouble or a wrong error).

mod common;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;

/// `<module 'x' from '/p/x.py'>` → `<module 'x'>`.
fn without_paths(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find(" from '") {
        out.push_str(&rest[..i]);
        let tail = &rest[i + 7..];
        match tail.find('\'') {
            Some(j) => rest = &tail[j + 1..],
            None => rest = "",
        }
    }
    out.push_str(rest);
    out
}

/// `_pickle.UnpicklingError: x` → `UnpicklingError: x` (the traceback qualifies exception
/// types outside builtins; the load errors of `check` name them as pickle's messages do).
fn unqualified(s: &str) -> String {
    let (head, rest) = s.split_once(": ").unwrap_or((s, ""));
    let ty = head.rsplit('.').next().unwrap_or(head);
    format!("{ty}: {rest}")
}

fn same_load_error(truth: &str, predicted: &str) -> bool {
    unqualified(&without_paths(truth)) == unqualified(&without_paths(predicted))
}

/// Rows where check agrees with the atlas, at least: every one of the 864.
const AGREE_AT_LEAST: usize = 864;
/// Of those, rows found without the atlas's own entries (from the target's source and
/// `breaks.toml`), at least.
const FROM_SOURCE_AT_LEAST: usize = 812;
/// Rows where check claims something the atlas contradicts, at most.
const WRONG_AT_MOST: usize = 0;

#[test]
#[allow(
    clippy::absurd_extreme_comparisons,
    reason = "WRONG_AT_MOST is a ratchet that may be 0"
)]
fn check_agrees_with_the_atlas_at_load_and_first_use() {
    let Some(envs) = common::atlas_envs() else {
        return;
    };
    let truth = common::atlas_truth();
    let rows = truth["rows"].as_array().unwrap();
    // One `check` per target over all its files.
    let mut by_target: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in rows {
        by_target
            .entry(r["target"].as_str().unwrap().to_owned())
            .or_default()
            .push(r["file"].as_str().unwrap().to_owned());
    }
    let mut predicted: BTreeMap<(String, String), Value> = BTreeMap::new();
    for (target, mut files) in by_target {
        files.sort();
        files.dedup();
        let py = envs[&target].display().to_string();
        let mut args = vec![
            "check", "--format", "json", "--loader", "pickle", "--python", &py,
        ];
        args.extend(files.iter().map(String::as_str));
        let out = common::run_cli(&args, None);
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "check {target}: {e}: {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        for (f, p) in files.iter().zip(doc["files"].as_array().unwrap()) {
            predicted.insert((target.clone(), f.clone()), p.clone());
        }
    }
    let mut counts: BTreeMap<(String, &str, &str), usize> = BTreeMap::new();
    let mut wrong = String::new();
    let mut missed = String::new();
    for r in rows {
        let target = r["target"].as_str().unwrap();
        let file = r["file"].as_str().unwrap();
        let p = &predicted[&(target.to_owned(), file.to_owned())];
        let verdict = p["verdict"].as_str().unwrap();
        let troubles = p["troubles"].as_array().unwrap();
        let is_atlas = |t: &Value| t["code"].as_str().is_some_and(|c| c.starts_with("atlas-"));
        let of_kind = |k: &'static str| troubles.iter().filter(move |t| t["kind"] == k);
        let family = r["family"].as_str().unwrap().to_owned();
        let truth_verdict = r["verdict"].as_str().unwrap();
        let root = r["class"].as_str().unwrap().replace(':', ".");
        // Whether the agreeing trouble came only from the atlas's own data (circular for this
        // test: counted apart) rather than from the source or breaks.toml.
        let mut from_atlas = false;
        // (agrees, claims something false)
        let (agrees, false_claim) = match truth_verdict {
            "load" => {
                let e = r["load"]["error"].as_str().unwrap();
                let same = p["error"].as_str().is_some_and(|pe| same_load_error(e, pe));
                (verdict == "fails" && same, verdict == "fails" && !same)
            }
            "use" => {
                let ff = &r["first_failure"];
                let e = ff["error"].as_str().unwrap_or_default();
                let call = ff["call"].as_str().unwrap_or_default();
                let matches = |t: &&Value| {
                    t["error"].as_str() == Some(e)
                        && (t["method"].as_str() == Some(call) || t["class"] != root.as_str())
                };
                let hit = of_kind("use").any(|t| matches(&t));
                from_atlas = hit && of_kind("use").filter(matches).all(is_atlas);
                let wrong_text = of_kind("use").any(|t| {
                    t["class"] == root.as_str()
                        && t["method"].as_str() == Some(call)
                        && t["error"].as_str() != Some(e)
                });
                (
                    verdict == "at-risk" && hit,
                    verdict == "fails" || wrong_text,
                )
            }
            "silent" => {
                let hit = of_kind("silent").next().is_some();
                from_atlas = hit && of_kind("silent").all(is_atlas);
                (
                    verdict == "at-risk" && hit,
                    verdict == "fails" || of_kind("use").next().is_some(),
                )
            }
            _ => {
                let none = troubles.is_empty() && verdict != "fails";
                (none, !none)
            }
        };
        let status = if false_claim {
            "wrong"
        } else if agrees && from_atlas {
            "agree (atlas data)"
        } else if agrees {
            "agree"
        } else {
            "missed"
        };
        *counts.entry((family, truth_verdict, status)).or_default() += 1;
        let line = format!(
            "{} -> {target} {}: truth {truth_verdict} {:?} {:?}\n    check {verdict} {:?} troubles {}\n",
            r["producer"].as_str().unwrap(),
            r["case"].as_str().unwrap(),
            r["first_failure"]["call"],
            r["first_failure"]["error"]
                .as_str()
                .or(r["load"]["error"].as_str()),
            p["error"],
            serde_json::to_string(
                &troubles
                    .iter()
                    .map(|t| format!(
                        "{} {} {} {}",
                        t["kind"].as_str().unwrap_or(""),
                        t["class"].as_str().unwrap_or(""),
                        t["method"].as_str().unwrap_or(""),
                        t["error"].as_str().unwrap_or("")
                    ))
                    .collect::<Vec<_>>()
            )
            .unwrap()
        );
        match status {
            "wrong" => wrong.push_str(&line),
            "missed" => missed.push_str(&line),
            _ => {}
        }
    }
    let mut report = String::from("atlas matrix (family, truth, check):\n");
    let total: usize = counts.values().sum();
    let agree: usize = counts
        .iter()
        .filter(|(k, _)| k.2.starts_with("agree"))
        .map(|(_, v)| v)
        .sum();
    for ((family, truth, status), n) in &counts {
        let _ = writeln!(report, "  {family:<8} {truth:<7} {status:<18} {n}");
    }
    let from_source = agree
        - counts
            .iter()
            .filter(|(k, _)| k.2 == "agree (atlas data)")
            .map(|(_, v)| v)
            .sum::<usize>();
    let _ = writeln!(
        report,
        "  agree {agree}/{total} ({from_source} without the atlas's own entries)"
    );
    common::say(&report);
    if std::env::var_os("PICKLE_DOCTOR_ATLAS_VERBOSE").is_some() {
        common::say(&format!("missed:\n{missed}"));
    }
    // Ratchet: what check gets right may only grow, what it claims wrongly only shrink.
    // None is known wrong: conditions on the state's values (SimpleImputer's
    // `self.strategy == "constant"` before `_fill_dtype`) are decided from the pickled state.
    let wrong_rows = wrong.lines().filter(|l| !l.starts_with(' ')).count();
    assert!(
        wrong_rows <= WRONG_AT_MOST,
        "check claims what the atlas contradicts ({wrong_rows} rows):\n{wrong}"
    );
    assert!(
        from_source >= FROM_SOURCE_AT_LEAST,
        "agreement without the atlas's entries fell below {FROM_SOURCE_AT_LEAST}: {from_source}"
    );
    assert!(
        agree >= AGREE_AT_LEAST,
        "agreement fell below {AGREE_AT_LEAST}: {agree}/{total}\n{wrong}"
    );
}
