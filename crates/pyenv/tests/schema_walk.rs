//! The schema walk against CPython: small classes written as scikit-learn's are (a fit-only
//! attribute read under a test of the state's values, a parameter default deciding a branch
//! in a callee, a read at the end of an `and` chain on the input), objects made as unpickling
//! makes them (`cls.__new__` and the state as the instance dict), and every public method
//! called for real. The method's first `AttributeError` in Python must be the one the schema
//! predicts from the same state.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use pyenv::cond::{Lit, StateValue};
use pyenv::schema::{Raises, Schema, State, Step, USE_METHODS};
use pyenv::{Environment, Resolver, Schemas};

/// `SimpleImputer`'s shape: `_validate` reads `_fill_dtype` only for `strategy="constant"`
/// and only outside fit (`in_fit=False` passed as a literal), before `transform` reads
/// `stats_`, then `keep` only when the strategy is not "constant" (the right side of `or`).
/// `inverse_transform` rebinds its parameter and `score` assigns the attribute it tests: the
/// default and the state's value do not decide those tests.
const IMPUTER: &str = r#"
class Base:
    def _validate(self, X, in_fit):
        if in_fit and self.fill is not None:
            self._fill_dtype = type(self.fill)
        elif not in_fit:
            if self.strategy == "constant":
                self._fill_dtype
        return X


class Imputer(Base):
    def __init__(self, strategy="mean", fill=None, keep=False):
        self.strategy = strategy
        self.fill = fill
        self.keep = keep

    def fit(self, X):
        X = self._validate(X, in_fit=True)
        self._fill_dtype = float
        self.stats_ = X
        if self.strategy == "most_frequent":
            self.modes_ = X
        self.view_ = X
        self.slow_ = X
        return self

    def inverse_transform(self, X, copy=None):
        # The default is not what the test sees: the body rebinds `copy`.
        copy = not copy
        if not copy:
            return self.view_
        return X

    def score(self, X):
        # Nor is the state's `mode` what this test sees.
        self.mode = "fast"
        if self.mode == "slow":
            return self.slow_
        return 0

    def transform(self, X):
        X = self._validate(X, in_fit=False)
        s = self.stats_
        if self.strategy == "constant" or self.keep:
            return s
        if self.strategy not in ("mean", "median"):
            return self.modes_
        return X
"#;

/// `DecisionTree`'s shape (scikit-learn 1.4): `predict(X, check_input=True)` passes the
/// parameter on, the callee reads `n_features_in_` only when it is true, then reads
/// `monotonic_cst` at the end of `not issparse(X) and tags["allow_nan"] and ...`, a test of
/// the input no source decides; `get_params` reads it on every call. `apply` relies on the
/// callee's own default.
const TREE: &str = r#"
def issparse(x):
    return hasattr(x, "tocsr")


class Tree:
    def __init__(self, criterion="gini", monotonic_cst=None):
        self.criterion = criterion
        self.monotonic_cst = monotonic_cst

    def get_params(self):
        return {"criterion": self.criterion, "monotonic_cst": self.monotonic_cst}

    def fit(self, X):
        self.n_features_in_ = len(X[0])
        self.tree_ = [row[0] for row in X]
        return self

    def _tags(self):
        return {"allow_nan": self.criterion in ("gini", "entropy")}

    def _support_missing(self, X):
        return not issparse(X) and self._tags()["allow_nan"] and self.monotonic_cst is None

    def _validate_X(self, X, check_input=True):
        if check_input:
            if len(X[0]) != self.n_features_in_:
                raise ValueError("features")
            if self._support_missing(X):
                return X
        return X

    def predict(self, X, check_input=True):
        X = self._validate_X(X, check_input)
        return [self.tree_[0] for _ in X]

    def apply(self, X):
        X = self._validate_X(X)
        return [0 for _ in X]
"#;

fn python() -> Option<PathBuf> {
    let py =
        std::env::var_os("PICKLE_DOCTOR_PYTHON").map_or_else(|| "python3".into(), PathBuf::from);
    let ok = Command::new(&py)
        .arg("-c")
        .arg("import sys; assert sys.version_info >= (3, 8)")
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        Some(py)
    } else if std::env::var("PICKLE_DOCTOR_REQUIRE_FIXTURES").is_ok_and(|v| v == "1") {
        panic!("no Python to check the schema walk against");
    } else {
        eprintln!("skipped: no python3 (set PICKLE_DOCTOR_PYTHON)");
        None
    }
}

fn py_literal(v: &StateValue) -> String {
    match v {
        StateValue::Lit(Lit::Str(s)) => format!("{s:?}"),
        StateValue::Lit(Lit::Int(i)) => i.to_string(),
        StateValue::Lit(Lit::Bool(b)) => if *b { "True" } else { "False" }.to_owned(),
        StateValue::Lit(Lit::None) => "None".to_owned(),
        StateValue::Other { .. } => "[[1.0, 2.0]]".to_owned(),
    }
}

struct Dict(HashMap<String, StateValue>);

impl State for Dict {
    fn lacks(&self, attr: &str, _from_init: bool) -> bool {
        !self.0.contains_key(attr)
    }

    fn value(&self, attr: &str) -> Option<StateValue> {
        self.0.get(attr).cloned()
    }
}

fn s(v: &str) -> StateValue {
    StateValue::Lit(Lit::Str(v.to_owned()))
}

fn b(v: bool) -> StateValue {
    StateValue::Lit(Lit::Bool(v))
}

fn arr() -> StateValue {
    StateValue::Other { truthy: Some(true) }
}

/// Writes package `toy` with `modules` under a fresh directory.
fn toy(name: &str, modules: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pd-walk-{name}-{}", std::process::id()));
    let pkg = dir.join("toy");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(pkg.join("__init__.py"), "").unwrap();
    for (m, src) in modules {
        std::fs::write(pkg.join(format!("{m}.py")), src).unwrap();
    }
    dir
}

/// Per public method, the attribute of the first `AttributeError` CPython raises (or `None`)
/// on an object made from `state` as unpickling makes it.
fn cpython(py: &Path, dir: &Path, module: &str, class: &str, state: &Dict) -> Vec<Option<String>> {
    let items: Vec<String> = state
        .0
        .iter()
        .map(|(k, v)| format!("{k:?}: {}", py_literal(v)))
        .collect();
    let methods: Vec<String> = USE_METHODS.iter().map(|m| format!("{m:?}")).collect();
    let script = format!(
        "import json, sys\nsys.path.insert(0, {dir:?})\nfrom toy.{module} import {class} as C\nout = []\nfor m in [{methods}]:\n    if not any(m in k.__dict__ for k in C.__mro__[:-1]):\n        continue\n    o = C.__new__(C)\n    o.__dict__.update({{{items}}})\n    try:\n        f = getattr(o, m)\n        f() if m == 'get_params' else f([[1.0, 2.0]])\n        out.append(None)\n    except AttributeError as e:\n        out.append(e.name)\nprint(json.dumps(out))\n",
        dir = dir.display().to_string(),
        methods = methods.join(", "),
        items = items.join(", "),
    );
    let out = Command::new(py)
        .args(["-I", "-c", &script])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// What the schema predicts, per public method, for the same state.
fn predicted(schema: &Schema, state: &Dict) -> Vec<Option<String>> {
    let Schema::Known { uses, .. } = schema else {
        panic!("{schema:?}");
    };
    let missing: HashSet<&str> = uses
        .iter()
        .flat_map(|u| u.certainly_missing(state))
        .collect();
    uses.iter()
        .map(|u| {
            u.first_error(state, &missing).map(|r| match r {
                Raises::Missing { attr, .. } | Raises::MaybeMissing { attr, .. } => attr.to_owned(),
                Raises::NotFitted(a) => format!("not fitted: {a}"),
            })
        })
        .collect()
}

fn schema(dir: &Path, module: &str, class: &str) -> Schema {
    let env = Environment::from_site_packages(&[dir.to_path_buf()], (3, 11)).unwrap();
    let mut r = Resolver::new(&env);
    (*Schemas::new().schema(&mut r, &format!("toy.{module}"), class)).clone()
}

fn state(items: &[(&str, StateValue)]) -> Dict {
    Dict(
        items
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect(),
    )
}

/// Reads in the order they run, each under the tests of the state's values it runs under:
/// the state decides which attribute `transform` misses first.
#[test]
fn value_tests_decide_the_first_missing_attribute_as_python_does() {
    let Some(py) = python() else { return };
    let dir = toy("imputer", &[("imputer", IMPUTER)]);
    let schema = schema(&dir, "imputer", "Imputer");
    let cases = [
        // strategy="constant": `_fill_dtype` (in `_validate`) before `keep`.
        state(&[
            ("strategy", s("constant")),
            ("fill", StateValue::Lit(Lit::Int(0))),
            ("stats_", arr()),
        ]),
        // "mean": `_fill_dtype` is never read; `keep` is, after `stats_`.
        state(&[
            ("strategy", s("mean")),
            ("fill", StateValue::Lit(Lit::None)),
            ("stats_", arr()),
        ]),
        state(&[
            ("strategy", s("mean")),
            ("fill", StateValue::Lit(Lit::None)),
        ]),
        // keep=True: the `or` stops before `not in`, so `modes_` is never read.
        state(&[
            ("strategy", s("most_frequent")),
            ("keep", b(true)),
            ("stats_", arr()),
        ]),
        // keep=False, "most_frequent" not in ("mean", "median"): `modes_`.
        state(&[
            ("strategy", s("most_frequent")),
            ("keep", b(false)),
            ("stats_", arr()),
        ]),
        state(&[
            ("strategy", s("median")),
            ("keep", b(false)),
            ("stats_", arr()),
            ("_fill_dtype", arr()),
        ]),
        // The stale default (`copy=None`) and the stale `mode` would name `view_`, `slow_`.
        state(&[
            ("strategy", s("mean")),
            ("keep", b(true)),
            ("mode", s("slow")),
            ("stats_", arr()),
        ]),
    ];
    let mut seen = Vec::new();
    for st in &cases {
        let truth = cpython(&py, &dir, "imputer", "Imputer", st);
        assert_eq!(predicted(&schema, st), truth, "state {:?}", st.0);
        seen.push(truth);
    }
    // The cases tell the attributes apart (the test checks order, not one answer).
    let firsts: HashSet<_> = seen.iter().map(|t| t[0].clone()).collect();
    assert_eq!(firsts.len(), 5, "{seen:?}");
    assert!(seen.iter().all(|t| t[1..] == [None, None]), "{seen:?}");
    // The shape: `_fill_dtype` is read under `strategy == "constant"`, before `stats_`.
    let Schema::Known { uses, .. } = &schema else {
        unreachable!()
    };
    let order: Vec<(&str, usize)> = uses[0]
        .steps
        .iter()
        .filter_map(|s| match s {
            Step::Attr { attr, when, .. } => Some((attr.as_str(), when.len())),
            _ => None,
        })
        .collect();
    let pos = |a: &str| order.iter().position(|(x, _)| *x == a).unwrap();
    assert!(
        pos("_fill_dtype") < pos("stats_") && pos("stats_") < pos("keep"),
        "{order:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A parameter's default decides a callee's branch (passed on by name, or the callee's own
/// default), and a read at the end of an `and` chain on the input names the method when the
/// attribute is certainly missing.
#[test]
fn defaults_and_input_tests_name_the_method_python_fails_in() {
    let Some(py) = python() else { return };
    let dir = toy("tree", &[("tree", TREE)]);
    let schema = schema(&dir, "tree", "Tree");
    let cases = [
        // A 1.3 state: no `monotonic_cst`; `predict` raises it, not only `get_params`.
        state(&[
            ("criterion", s("gini")),
            ("n_features_in_", StateValue::Lit(Lit::Int(2))),
            ("tree_", arr()),
        ]),
        // No `n_features_in_`: read under `check_input`, which the default makes true.
        state(&[
            ("criterion", s("gini")),
            ("monotonic_cst", StateValue::Lit(Lit::None)),
            ("tree_", arr()),
        ]),
        state(&[("criterion", s("gini")), ("tree_", arr())]),
        state(&[
            ("criterion", s("gini")),
            ("monotonic_cst", StateValue::Lit(Lit::None)),
            ("n_features_in_", StateValue::Lit(Lit::Int(2))),
            ("tree_", arr()),
        ]),
    ];
    for st in &cases {
        let truth = cpython(&py, &dir, "tree", "Tree", st);
        assert_eq!(predicted(&schema, st), truth, "state {:?}", st.0);
    }
    // `n_features_in_` is a certain step of `predict` and `apply` (not a `Maybe`).
    let Schema::Known { uses, .. } = &schema else {
        unreachable!()
    };
    for u in uses.iter().filter(|u| u.method != "get_params") {
        assert!(
            u.steps.iter().any(|s| matches!(s, Step::Attr { attr, when, .. } if attr == "n_features_in_" && when.is_empty())),
            "{u:?}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
