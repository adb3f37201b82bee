//! `pickle-doctor requirements`.

use std::collections::BTreeMap;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use vm::{Name, Node};

use crate::args::RequirementsArgs;
use crate::{environment, input, target};

pub(crate) fn run(args: &RequirementsArgs) -> Result<ExitCode> {
    let env = environment::target(&args.target)?;
    let knowledge = knowledge::Knowledge::embedded();
    // distribution → (version, where the version comes from)
    let mut needed: BTreeMap<String, Option<(String, &'static str)>> = BTreeMap::new();
    for path in &args.files {
        let data = input::open(path)?;
        let opened = container::open(&data, &args.limits.limits())
            .with_context(|| format!("{}", path.display()))?;
        for m in environment::loaded_members(&opened) {
            let run = target::run(m, args.limits.budgets());
            let producer_sklearn = sklearn_version(&run.trace);
            for g in &run.trace.globals {
                let Name::Literal(module) = &g.module else {
                    continue;
                };
                let top = module.split('.').next().unwrap_or(module);
                if top == "__main__" || is_stdlib(&env, top) {
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
                            // numpy 2 renamed numpy.core to numpy._core; pickles name it.
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
    for (dist, version) in &needed {
        match version {
            Some((v, why)) => println!("{dist}{v}  # {why}"),
            None => println!("{dist}  # not installed in the target; version unknown"),
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn is_stdlib(env: &pyenv::Environment, top: &str) -> bool {
    let minor = u8::try_from(env.version.1).unwrap_or(u8::MAX);
    top == "builtins"
        || top == "__builtin__"
        || top == "copy_reg"
        || ruff_python_stdlib::sys::is_known_standard_library(minor, top)
}

/// `_sklearn_version` from any estimator state in the trace.
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
