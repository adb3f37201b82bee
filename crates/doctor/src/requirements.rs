//! What a file needs installed: the distributions of its globals, with the version installed
//! in the target or the producer version found in the data.
//!
//! TEMPORARY: moves to `analyze::requirements` with its producer rules as data.

use std::collections::BTreeMap;

use vm::{Name, Node};

use crate::error::{Error, Result};
use crate::{Session, members};

/// One needed distribution.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Requirement {
    /// Distribution name.
    pub dist: String,
    /// `==1.2.3` or `>=2`, when known.
    pub spec: Option<String>,
    /// Where the version comes from.
    pub reason: String,
}

impl Requirement {
    /// The requirement line: `name==version  # why`.
    #[must_use]
    pub fn line(&self) -> String {
        format!(
            "{}{}  # {}",
            self.dist,
            self.spec.as_deref().unwrap_or(""),
            self.reason
        )
    }
}

impl Session {
    /// The distributions needed to load every file, merged (the first version found wins).
    ///
    /// # Errors
    /// A file cannot be opened.
    pub fn requirements(&self, files: &[(&str, &[u8])]) -> Result<Vec<Requirement>> {
        let env = &self.env;
        let knowledge = crate::knowledge();
        let mut needed: BTreeMap<String, Option<(String, &'static str)>> = BTreeMap::new();
        for (path, data) in files {
            let opened =
                container::open(data, &self.limits.inflate).map_err(|e| Error::open(path, e))?;
            for m in members::loaded_members(&opened) {
                let run = members::run(m, self.limits.budgets);
                let producer_sklearn = sklearn_version(&run.trace);
                for g in &run.trace.globals {
                    let Name::Literal(module) = &g.module else {
                        continue;
                    };
                    let top = module.split('.').next().unwrap_or(module);
                    if top == "__main__" || is_stdlib(env, top) {
                        continue;
                    }
                    let (dist, version) = match env.distribution_of(module) {
                        Some(d) => (
                            d.name.clone(),
                            Some((format!("=={}", d.version), "installed in the target")),
                        ),
                        None => {
                            let name = knowledge
                                .distribution_for(module)
                                .map_or_else(|| top.to_owned(), |d| d.dist.clone());
                            let v = match name.as_str() {
                                "scikit-learn" => producer_sklearn
                                    .clone()
                                    .map(|v| (format!("=={v}"), "producer version in the data")),
                                "numpy" if module.starts_with("numpy._core") => Some((
                                    ">=2".to_owned(),
                                    "the data names numpy._core: written by numpy 2",
                                )),
                                _ => None,
                            };
                            (name, v)
                        }
                    };
                    let slot = needed.entry(dist).or_insert(None);
                    if slot.is_none() {
                        *slot = version;
                    }
                }
            }
        }
        Ok(needed
            .into_iter()
            .map(|(dist, v)| match v {
                Some((spec, why)) => Requirement {
                    dist,
                    spec: Some(spec),
                    reason: why.to_owned(),
                },
                None => Requirement {
                    dist,
                    spec: None,
                    reason: "not installed in the target; version unknown".to_owned(),
                },
            })
            .collect())
    }
}

fn is_stdlib(env: &pyenv::Environment, top: &str) -> bool {
    let minor = u8::try_from(env.version.1).unwrap_or(u8::MAX);
    top == "builtins"
        || top == "__builtin__"
        || top == "copy_reg"
        || ruff_python_stdlib::sys::is_known_standard_library(minor, top)
}

fn sklearn_version(trace: &vm::Trace<'_>) -> Option<String> {
    trace.nodes.iter().find_map(|n| {
        let Node::Dict(items) = n else { return None };
        items.iter().find_map(|(k, v)| {
            let Some(Node::Str(key)) = trace.node(*k) else {
                return None;
            };
            if key.as_ref() != b"_sklearn_version" {
                return None;
            }
            match trace.node(*v) {
                Some(Node::Str(s)) => Some(String::from_utf8_lossy(s).into_owned()),
                _ => None,
            }
        })
    })
}
