//! `analyze::requirements` over a static site-packages built in a temporary directory: the
//! lines `pickle-doctor requirements` prints, without any interpreter.

use std::path::PathBuf;

use analyze::requirements::{Requirement, RequirementSource, requirements};
use knowledge::Knowledge;

/// A static site-packages, removed on drop.
struct Site(PathBuf);

impl Site {
    /// `installed`: `(distribution, version, top-level package)`.
    fn new(name: &str, installed: &[(&str, &str, &str)]) -> Site {
        let dir = std::env::temp_dir().join(format!(
            "analyze-requirements-{}-{name}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        for (dist, version, top) in installed {
            let pkg = dir.join(top);
            std::fs::create_dir_all(&pkg).unwrap();
            std::fs::write(pkg.join("__init__.py"), "").unwrap();
            let info = dir.join(format!("{}-{version}.dist-info", dist.replace('-', "_")));
            std::fs::create_dir_all(&info).unwrap();
            std::fs::write(
                info.join("METADATA"),
                format!("Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n\n"),
            )
            .unwrap();
            std::fs::write(info.join("RECORD"), format!("{top}/__init__.py,,\n")).unwrap();
        }
        std::fs::create_dir_all(&dir).unwrap();
        Site(dir)
    }

    fn env(&self) -> pyenv::Environment {
        pyenv::Environment::from_site_packages(std::slice::from_ref(&self.0), (3, 11)).unwrap()
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A protocol 2 pickle of a tuple of `module\nname` globals.
fn globals(names: &[&str]) -> Vec<u8> {
    let mut p = b"\x80\x02(".to_vec();
    for n in names {
        let (m, a) = n.split_once(':').unwrap();
        p.extend_from_slice(format!("c{m}\n{a}\n").as_bytes());
    }
    p.extend_from_slice(b"t.");
    p
}

/// `sklearn.linear_model._logistic.LogisticRegression` built with
/// `{'_sklearn_version': version}` (protocol 2, NEWOBJ + BUILD).
fn estimator(version: &str) -> Vec<u8> {
    let mut p = b"\x80\x02csklearn.linear_model._logistic\nLogisticRegression\n)\x81}".to_vec();
    p.extend_from_slice(b"X\x10\x00\x00\x00_sklearn_version");
    p.push(b'X');
    p.extend_from_slice(&u32::try_from(version.len()).unwrap().to_le_bytes());
    p.extend_from_slice(version.as_bytes());
    p.extend_from_slice(b"sb.");
    p
}

fn lines(pickles: &[&[u8]], env: &pyenv::Environment) -> Vec<String> {
    let traces: Vec<vm::Trace<'_>> = pickles.iter().map(|p| vm::run(p)).collect();
    for t in &traces {
        assert!(t.error().is_none(), "{:?}", t.error());
    }
    let refs: Vec<&vm::Trace<'_>> = traces.iter().collect();
    requirements(&refs, env, Knowledge::get())
        .iter()
        .map(Requirement::line)
        .collect()
}

#[test]
fn installed_distributions_give_their_version() {
    let site = Site::new(
        "installed",
        &[
            ("numpy", "1.26.4", "numpy"),
            ("scikit-learn", "1.3.2", "sklearn"),
        ],
    );
    let env = site.env();
    let p = globals(&[
        "numpy._core.multiarray:_reconstruct",
        "sklearn.tree._classes:DecisionTreeClassifier",
    ]);
    assert_eq!(
        lines(&[&p, &estimator("1.2.2")], &env),
        [
            "numpy==1.26.4  # installed in the target",
            "scikit-learn==1.3.2  # installed in the target",
        ]
    );
}

#[test]
fn producer_facts_in_the_data_give_versions_of_what_is_missing() {
    let site = Site::new("producers", &[]);
    let env = site.env();
    let p = globals(&["numpy._core.multiarray:_reconstruct"]);
    assert_eq!(
        lines(&[&p, &estimator("1.2.2")], &env),
        [
            "numpy>=2  # the data names numpy._core: written by numpy 2",
            "scikit-learn==1.2.2  # producer version in the data",
        ]
    );
}

#[test]
fn missing_distributions_without_producer_facts_have_no_version() {
    let site = Site::new("unknown", &[]);
    let env = site.env();
    // numpy.core is what numpy 1 writes: no producer fact; yaml's distribution is PyYAML;
    // an unknown module is its own distribution; no _sklearn_version in this pickle.
    let p = globals(&[
        "numpy.core.multiarray:_reconstruct",
        "yaml.nodes:ScalarNode",
        "mypkg.models:Net",
        "sklearn.tree._classes:DecisionTreeClassifier",
    ]);
    assert_eq!(
        lines(&[&p], &env),
        [
            "PyYAML  # not installed in the target; version unknown",
            "mypkg  # not installed in the target; version unknown",
            "numpy  # not installed in the target; version unknown",
            "scikit-learn  # not installed in the target; version unknown",
        ]
    );
}

#[test]
fn main_and_the_standard_library_are_not_requirements() {
    let site = Site::new("stdlib", &[]);
    let env = site.env();
    let p = globals(&[
        "__main__:Net",
        "collections:OrderedDict",
        "copy_reg:_reconstructor",
        "__builtin__:set",
        "builtins:object",
        "os.path:join",
        "torch._utils:_rebuild_tensor_v2",
    ]);
    assert_eq!(
        lines(&[&p], &env),
        ["torch  # not installed in the target; version unknown"]
    );
    // A computed global names no module: `str('numpy')` as STACK_GLOBAL's module.
    let computed = b"\x80\x04cbuiltins\nstr\n(X\x05\x00\x00\x00numpytRX\x05\x00\x00\x00zeros\x93.";
    assert!(lines(&[computed], &env).is_empty());
}

#[test]
fn the_first_version_found_wins() {
    let site = Site::new("first", &[]);
    let env = site.env();
    // An unknown version is replaced by a later known one; a known one stays.
    let old_numpy = globals(&["numpy.core.multiarray:_reconstruct"]);
    let new_numpy = globals(&["numpy._core.multiarray:_reconstruct"]);
    assert_eq!(
        lines(
            &[
                &old_numpy,
                &new_numpy,
                &estimator("1.2.2"),
                &estimator("1.3.0")
            ],
            &env
        ),
        [
            "numpy>=2  # the data names numpy._core: written by numpy 2",
            "scikit-learn==1.2.2  # producer version in the data",
        ]
    );
    // The producer version comes from the same trace as the global.
    let bare = globals(&["sklearn.tree._classes:DecisionTreeClassifier"]);
    let version_only = b"\x80\x02}X\x10\x00\x00\x00_sklearn_versionX\x03\x00\x00\x001.0s.";
    assert_eq!(
        lines(&[&bare, version_only], &env),
        ["scikit-learn  # not installed in the target; version unknown"]
    );
}

#[test]
fn requirements_are_typed_and_serialize_with_their_reason() {
    let site = Site::new("typed", &[("numpy", "1.26.4", "numpy")]);
    let env = site.env();
    let p = globals(&[
        "numpy:ndarray",
        "sklearn.base:BaseEstimator",
        "yaml:YAMLObject",
    ]);
    let e = estimator("1.3.2");
    let q = globals(&["pandas._core:X"]);
    let traces = [vm::run(&p), vm::run(&e), vm::run(&q)];
    let refs: Vec<&vm::Trace<'_>> = traces.iter().collect();
    let got = requirements(&refs, &env, Knowledge::get());
    let sources: Vec<(&str, Option<&str>, &RequirementSource)> = got
        .iter()
        .map(|r| (r.dist.as_str(), r.spec.as_deref(), &r.source))
        .collect();
    assert_eq!(
        sources,
        [
            ("PyYAML", None, &RequirementSource::Unknown),
            ("numpy", Some("==1.26.4"), &RequirementSource::Installed),
            ("pandas", None, &RequirementSource::Unknown),
            (
                "scikit-learn",
                Some("==1.3.2"),
                &RequirementSource::ProducerState {
                    key: "_sklearn_version".into()
                }
            ),
        ]
    );
    let got = &got[3];
    assert_eq!(got.reason(), "producer version in the data");
    let table = toml::Value::try_from(got).unwrap();
    assert_eq!(table["dist"].as_str(), Some("scikit-learn"));
    assert_eq!(table["spec"].as_str(), Some("==1.3.2"));
    assert_eq!(
        table["reason"].as_str(),
        Some("producer version in the data")
    );
    let unknown = Requirement {
        dist: "x".into(),
        spec: None,
        source: RequirementSource::Unknown,
    };
    assert_eq!(
        unknown.line(),
        "x  # not installed in the target; version unknown"
    );
    let module = RequirementSource::ProducerModule {
        prefix: "numpy._core".into(),
        reason: "the data names numpy._core: written by numpy 2".into(),
    };
    assert_eq!(
        module.reason(),
        "the data names numpy._core: written by numpy 2"
    );
}
