//! Why `fix` cannot make a file load, and what to do instead, as typed advice. Front ends word
//! it (the CLI names its flags; see `render::fix`).

use analyze::load::{FixKind, Prediction, Status};
use rewrite::Plan;

/// Why nothing (more) can be done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefusalReason {
    /// The container cannot be written back (TorchScript, the 0.1.x tar, ...).
    CannotRewrite(String),
    /// The repaired file (or the original, when nothing could be planned) still fails with
    /// this error (its first line).
    StillFails(String),
    /// The file fails, but with no error to repair.
    NothingToRepair,
    /// The repaired file loads, but its first use would raise this error.
    FailsAtUse(String),
    /// The repaired file loads and runs, but its outputs would differ from the writer's: a
    /// silent break no repair answers (what the model was fitted with, such as AdaBoost's
    /// SAMME.R, no longer means the same in the target).
    Differs(String),
}

impl std::fmt::Display for RefusalReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RefusalReason::CannotRewrite(why) => write!(f, "cannot rewrite this file: {why}"),
            RefusalReason::StillFails(e) => write!(f, "still fails: {e}"),
            RefusalReason::NothingToRepair => f.write_str("nothing to repair"),
            RefusalReason::FailsAtUse(e) => write!(f, "loads, then fails at first use: {e}"),
            RefusalReason::Differs(what) => {
                write!(
                    f,
                    "loads, but its outputs would differ from the writer's: {what}"
                )
            }
        }
    }
}

/// One piece of advice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Advice {
    /// The whole package is missing: no rename inside it can help.
    Install {
        /// The top-level module.
        module: String,
        /// The distribution that provides it.
        dist: String,
    },
    /// A class of the training script: map `__main__` to the module that defines it now, or
    /// give the script.
    MapMain {
        /// The name in `__main__`.
        name: String,
    },
    /// The plan renames the global, but the new name does not resolve either.
    RenamedButUnresolved {
        /// `module.name`.
        global: String,
        /// Why the new name does not resolve.
        reason: String,
    },
    /// No known rename; nothing of that name elsewhere in the package.
    NoKnownRename {
        /// `module.name`.
        global: String,
        /// Why it does not resolve.
        reason: String,
    },
    /// No known rename, but the same name is defined in other modules of the package: a
    /// candidate for a user map, not a fact.
    Candidates {
        /// The module as written.
        module: String,
        /// The name as written.
        name: String,
        /// The first part of the name.
        leaf: String,
        /// Modules that define `leaf`.
        modules: Vec<String>,
    },
    /// A known break of the knowledge base affects this global.
    KnownBreak {
        /// `module:name`.
        global: String,
        /// The break's id.
        id: String,
        /// The knowledge base's advice.
        fix: String,
    },
    /// A fix `check` proposed that is not a rename (install, weights-only).
    Suggested {
        /// Its kind.
        kind: FixKind,
        /// What to do.
        to: String,
    },
    /// A risk `check` found.
    Risk {
        /// Its code.
        code: String,
        /// What.
        message: String,
        /// What to do.
        fix: String,
    },
    /// Re-export in the writing environment, or leave pickle.
    Reexport,
}

/// Why the plan cannot make the file load, with advice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Why.
    pub reason: RefusalReason,
    /// What to do instead, most specific first.
    pub advice: Vec<Advice>,
}

/// Why the plan cannot make the file load, from the prediction's failing globals and risks.
pub(crate) fn refusal(
    p: &Prediction,
    plan: &Plan,
    resolver: &mut pyenv::Resolver<'_>,
    knowledge: &knowledge::Knowledge,
) -> Refusal {
    let reason = match &p.error {
        Some(e) => RefusalReason::StillFails(e.lines().next().unwrap_or_default().to_owned()),
        None => RefusalReason::NothingToRepair,
    };
    let mut advice = Vec::new();
    let push = |a: Advice, advice: &mut Vec<Advice>| {
        if !advice.contains(&a) {
            advice.push(a);
        }
    };
    for g in &p.globals {
        if !matches!(g.status, Status::ModuleMissing | Status::AttributeMissing) {
            continue;
        }
        let top = g.module.split('.').next().unwrap_or_default();
        let global = format!("{}.{}", g.module, g.name);
        let a = if g.status == Status::ModuleMissing
            && g.reason == format!("no module named '{top}' in the target")
        {
            let dist = knowledge
                .distribution_for(top)
                .map_or(top, |d| d.dist.as_str());
            Advice::Install {
                module: top.to_owned(),
                dist: dist.to_owned(),
            }
        } else if g.module == "__main__" {
            Advice::MapMain {
                name: g.name.clone(),
            }
        } else if plan.target(&g.module, &g.name).is_some() {
            Advice::RenamedButUnresolved {
                global,
                reason: g.reason.clone(),
            }
        } else {
            let leaf = g.name.split('.').next().unwrap_or_default();
            let elsewhere: Vec<String> = pyenv::definitions::defining_modules(resolver, top, leaf)
                .into_iter()
                .filter(|m| *m != g.module)
                .collect();
            if elsewhere.is_empty() {
                Advice::NoKnownRename {
                    global,
                    reason: g.reason.clone(),
                }
            } else {
                Advice::Candidates {
                    module: g.module.clone(),
                    name: g.name.clone(),
                    leaf: leaf.to_owned(),
                    modules: elsewhere,
                }
            }
        };
        push(a, &mut advice);
        // A known removal says why no rename exists and what to do instead.
        let here = format!("{}:{}", g.module, g.name);
        for b in knowledge
            .breaks
            .iter()
            .filter(|b| b.affects.contains(&here))
        {
            push(
                Advice::KnownBreak {
                    global: here.clone(),
                    id: b.id.clone(),
                    fix: b.fix.clone(),
                },
                &mut advice,
            );
        }
    }
    for f in p.fixes.iter().filter(|f| f.kind != FixKind::Rename) {
        advice.push(Advice::Suggested {
            kind: f.kind,
            to: f.to.clone(),
        });
    }
    for r in &p.risks {
        advice.push(Advice::Risk {
            code: r.code.clone(),
            message: r.message.clone(),
            fix: r.fix.clone(),
        });
    }
    advice.push(Advice::Reexport);
    Refusal { reason, advice }
}
