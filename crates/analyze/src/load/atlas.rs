//! Breaks at first use and silent ones that the break atlas observed (`data/atlas/breaks.toml`,
//! real loads and calls): for what source cannot show, such as Cython types whose state
//! layout changed (`Buffer dtype mismatch` in a HistGradientBoosting predictor) or outputs
//! that differ. An entry applies to an object of its class written by exactly a producer
//! version it was observed with and loaded by the matching target version; the producer
//! version must be in the data (scikit-learn's `_sklearn_version`).

use knowledge::{AtlasKind, Knowledge};
use vm::{Node, Trace};

use super::{Trouble, TroubleKind, target_version, usage};

/// Atlas troubles of the objects of one stream.
pub(crate) fn detect(
    trace: &Trace<'_>,
    member: &str,
    env: &pyenv::Environment,
    knowledge: &Knowledge,
) -> Vec<Trouble> {
    let mut out = Vec::new();
    let Some(target) = target_version(env, "scikit-learn") else {
        return out;
    };
    for p in &trace.pickles {
        let Some(root) = p.root.and_then(|r| r.node()) else {
            continue;
        };
        let Some(Node::Object(o)) = trace.nodes.get(root.index()) else {
            continue;
        };
        let Some(((module, name), _)) = usage::class_of(trace, o) else {
            continue;
        };
        let Some(producer) = usage::sklearn_version(trace, o) else {
            continue;
        };
        let class = format!("{module}:{name}");
        // What the state holds: an entry about a missing attribute does not apply once the
        // state has it (a file `fix` repaired keeps its producer's version string).
        let mut keys = std::collections::HashSet::new();
        let keys_known = o
            .state
            .iter()
            .all(|s| usage::state_keys(trace, *s, &mut keys).is_some());
        for e in knowledge.atlas_for("scikit-learn", &class, &producer, &target) {
            if !e.attribute.is_empty() && keys_known && keys.contains(&e.attribute) {
                continue;
            }
            // The error may name an object the model holds (an ensemble's trees): then it is
            // their states that must lack the attribute.
            if !e.attribute.is_empty()
                && let Some(holder) = named_class(&e.error)
                && holder != name
                && held_all_have(trace, holder, &e.attribute)
            {
                continue;
            }
            let kind = match e.kind {
                AtlasKind::Use => TroubleKind::Use,
                // A difference `breaks.toml` explains by a state value is checked there.
                AtlasKind::Silent
                    if super::breaks::atlas_silent_explained(
                        knowledge, &class, &producer, &target,
                    ) =>
                {
                    continue;
                }
                AtlasKind::Silent => TroubleKind::Silent,
                AtlasKind::Load => continue,
            };
            out.push(Trouble {
                kind,
                code: e.id.clone(),
                member: member.to_owned(),
                offset: o.built_at.first().copied().unwrap_or(o.offset),
                class: Some(format!("{module}.{name}")),
                method: (!e.method.is_empty()).then(|| e.method.clone()),
                attribute: (!e.attribute.is_empty()).then(|| e.attribute.clone()),
                error: (!e.error.is_empty()).then(|| e.error.clone()),
                message: match kind {
                    TroubleKind::Silent => format!(
                        "loads and runs, but `{}` gives other outputs than scikit-learn {producer} did (observed by the break atlas; cause: {})",
                        e.method,
                        if e.cause.is_empty() { "unknown" } else { &e.cause }
                    ),
                    _ => format!(
                        "loads, then `{name}.{}` fails (observed by the break atlas for scikit-learn {producer} -> {target}; source: {})",
                        e.method, e.source
                    ),
                },
            });
        }
    }
    out
}

/// The class an `AttributeError: 'X' object has no attribute 'a'` names.
fn named_class(error: &str) -> Option<&str> {
    let rest = error.strip_prefix("AttributeError: '")?;
    let (class, tail) = rest.split_once('\'')?;
    tail.starts_with(" object has no attribute '")
        .then_some(class)
}

/// Whether the stream builds fitted objects of a class named `class` and every one of their
/// states holds `attribute` (a repaired file: `fix` set it on each). Fitted as scikit-learn's
/// `check_is_fitted` decides it: some attribute ends with `_` (and does not start with `__`);
/// an unfitted template (a `ColumnTransformer`'s `transformers`) is never called.
fn held_all_have(trace: &Trace<'_>, class: &str, attribute: &str) -> bool {
    let mut seen = false;
    for &id in &trace.calls {
        let Some(Node::Object(o)) = trace.nodes.get(id.index()) else {
            continue;
        };
        if usage::class_of(trace, o).is_none_or(|((_, n), _)| n != class) {
            continue;
        }
        let mut keys = std::collections::HashSet::new();
        let known = o
            .state
            .iter()
            .all(|s| usage::state_keys(trace, *s, &mut keys).is_some());
        if !known || o.state.is_empty() {
            return false;
        }
        let fitted = keys
            .iter()
            .any(|k| k.ends_with('_') && !k.starts_with("__"));
        if !fitted {
            continue;
        }
        if !keys.contains(attribute) {
            return false;
        }
        seen = true;
    }
    seen
}
