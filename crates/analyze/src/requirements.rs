//! What a file needs installed to load: the distributions of the globals it names, each with
//! the version installed in the target, or else what the data says about its producer.
//!
//! Which producer facts are read from the data is knowledge, not code: `producers.toml`
//! ([`knowledge::Producer`]) holds scikit-learn's `_sklearn_version` state key and the
//! `numpy._core` modules only numpy 2 writes.
//!
//! ```
//! # let dir = std::env::temp_dir().join(format!("requirements-doctest-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir).unwrap();
//! let env = pyenv::Environment::from_site_packages(&[dir.clone()], (3, 11)).unwrap();
//! let trace = vm::run(b"\x80\x02cnumpy._core.multiarray\n_reconstruct\n.");
//! let needed = analyze::requirements::requirements(&[&trace], &env, knowledge::Knowledge::get());
//! assert_eq!(needed[0].line(), "numpy>=2  # the data names numpy._core: written by numpy 2");
//! # std::fs::remove_dir_all(&dir).unwrap();
//! ```

use std::collections::{BTreeMap, HashMap};

use knowledge::{Evidence, Knowledge};
use vm::{Name, Node, Trace};

/// Where a requirement's version comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequirementSource {
    /// The distribution is installed in the target: its version.
    Installed,
    /// Not installed; a dict in the data holds the producer's version under `key`
    /// (`_sklearn_version`).
    ProducerState {
        /// The state key the version was read from.
        key: String,
    },
    /// Not installed; the data names a module that only some releases have.
    ProducerModule {
        /// The module prefix of the knowledge entry (`numpy._core`).
        prefix: String,
        /// The entry's reason, in one line.
        reason: String,
    },
    /// Not installed, and nothing in the data says which version.
    Unknown,
}

impl RequirementSource {
    /// Why the version is what it is, as the `requirements` comment says it.
    #[must_use]
    pub fn reason(&self) -> String {
        match self {
            RequirementSource::Installed => "installed in the target".to_owned(),
            RequirementSource::ProducerState { .. } => "producer version in the data".to_owned(),
            RequirementSource::ProducerModule { reason, .. } => reason.clone(),
            RequirementSource::Unknown => "not installed in the target; version unknown".to_owned(),
        }
    }
}

/// One distribution a file needs.
///
/// Serializes as `{"dist": "numpy", "spec": ">=2", "reason": "..."}` (`spec` is `null` when
/// the version is unknown; `reason` is [`RequirementSource::reason`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    /// The distribution's name: as installed, from the knowledge base, or the module's
    /// top-level name.
    pub dist: String,
    /// `==1.2.3` or `>=2`, when known.
    pub spec: Option<String>,
    /// Where `spec` comes from.
    pub source: RequirementSource,
}

impl Requirement {
    /// Why the version is what it is ([`RequirementSource::reason`]).
    #[must_use]
    pub fn reason(&self) -> String {
        self.source.reason()
    }

    /// The line `requirements` prints: `name==version  # why`, or `name  # why` without a
    /// version.
    #[must_use]
    pub fn line(&self) -> String {
        format!(
            "{}{}  # {}",
            self.dist,
            self.spec.as_deref().unwrap_or(""),
            self.reason()
        )
    }
}

impl serde::Serialize for Requirement {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        let mut st = s.serialize_struct("Requirement", 3)?;
        st.serialize_field("dist", &self.dist)?;
        st.serialize_field("spec", &self.spec)?;
        st.serialize_field("reason", &self.reason())?;
        st.end()
    }
}

/// The distributions needed to load the pickles of `traces` in `env`, sorted by name.
///
/// Every global with a literal module counts, except `__main__` and the standard library
/// ([`pyenv::Environment::is_stdlib`]). A module installed in the target gives its
/// distribution and version. Otherwise the distribution comes from the knowledge base
/// (`distributions.toml`, else the top-level name), and its version from the first
/// `producers.toml` entry for it that the data shows: a `state_key` found in any dict of the
/// same trace, or a `module_prefix` the module starts with. Over all globals of all traces,
/// the first version found for a distribution wins.
#[must_use]
pub fn requirements(
    traces: &[&Trace<'_>],
    env: &pyenv::Environment,
    knowledge: &Knowledge,
) -> Vec<Requirement> {
    let mut needed: BTreeMap<String, Option<(String, RequirementSource)>> = BTreeMap::new();
    for trace in traces {
        // State keys looked up in this trace, each scanned once.
        let mut states: HashMap<&str, Option<String>> = HashMap::new();
        for g in &trace.globals {
            let Name::Literal(module) = &g.module else {
                continue;
            };
            let top = module.split('.').next().unwrap_or(module);
            if top == "__main__" || env.is_stdlib(top) {
                continue;
            }
            let (dist, version) = match env.distribution_of(module) {
                Some(d) => (
                    d.name.clone(),
                    Some((format!("=={}", d.version), RequirementSource::Installed)),
                ),
                None => {
                    let name = knowledge
                        .distribution_for(module)
                        .map_or_else(|| top.to_owned(), |d| d.dist.clone());
                    let version = knowledge
                        .producers_of(&name)
                        .filter(|p| p.requires)
                        .find_map(|p| match &p.evidence {
                            Evidence::StateKey(key) => states
                                .entry(key.as_str())
                                .or_insert_with(|| state_string(trace, key))
                                .clone()
                                .map(|v| {
                                    (
                                        format!("=={v}"),
                                        RequirementSource::ProducerState { key: key.clone() },
                                    )
                                }),
                            Evidence::ModulePrefix {
                                prefix,
                                spec,
                                reason,
                            } => p.names_module(module).then(|| {
                                (
                                    spec.clone(),
                                    RequirementSource::ProducerModule {
                                        prefix: prefix.clone(),
                                        reason: reason.clone(),
                                    },
                                )
                            }),
                            // Writer markers only (`requires = false`), filtered above.
                            Evidence::Globals { .. } => None,
                        });
                    (name, version)
                }
            };
            let slot = needed.entry(dist).or_insert(None);
            if slot.is_none() {
                *slot = version;
            }
        }
    }
    needed
        .into_iter()
        .map(|(dist, version)| match version {
            Some((spec, source)) => Requirement {
                dist,
                spec: Some(spec),
                source,
            },
            None => Requirement {
                dist,
                spec: None,
                source: RequirementSource::Unknown,
            },
        })
        .collect()
}

/// The string value of `key` in the first dict of the trace (in node order) that maps it to a
/// string.
fn state_string(trace: &Trace<'_>, key: &str) -> Option<String> {
    trace.nodes.iter().find_map(|n| {
        let Node::Dict(items) = n else { return None };
        items.iter().find_map(|(k, v)| {
            let Some(Node::Str(k)) = trace.node(*k) else {
                return None;
            };
            if k.as_ref() != key.as_bytes() {
                return None;
            }
            match trace.node(*v) {
                Some(Node::Str(s)) => Some(String::from_utf8_lossy(s).into_owned()),
                _ => None,
            }
        })
    })
}
