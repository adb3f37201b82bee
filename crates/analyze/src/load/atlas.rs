//! Breaks at first use and silent ones that the break atlas observed (`data/atlas/breaks.toml`,
//! real loads and calls): for what source cannot show, such as Cython types whose state
//! layout changed (`Buffer dtype mismatch` in a HistGradientBoosting predictor) or outputs
//! that differ. An entry applies to an object of its class written by exactly a producer
//! version it was observed with and loaded by the matching target version; the producer
//! version must be in the data (scikit-learn's `_sklearn_version`).
//!
//! numpy and pandas pickles record no version: their entries apply by the producer range
//! inferred from the pickle's structure ([`crate::producer::inferred`]) and by its layout
//! ([`crate::producer::layout`]): an entry applies when a pickle of the same layout, written
//! by an atlas producer inside the inferred range, showed the break in the target version the
//! venv has, and no atlas producer inside that range was seen ok with that layout and target.
//! A pickle written by the target's own major version is thus never flagged (the atlas has no
//! such break).

use knowledge::{AtlasBreak, AtlasKind, AtlasLayout, Knowledge, split_pair};
use vm::{Node, Trace};

use super::{Trouble, TroubleKind, target_version, usage};
use crate::producer::{self, Inferred, Layout};

/// Whether `layout` of entry `e` applies to a pickle of layout `have` written inside
/// `range` and loaded by `target`: the atlas saw the break from a producer inside the range,
/// and saw no producer inside it ok. Returns the producers that broke.
fn layout_applies<'e>(
    lay: &'e AtlasLayout,
    have: &Layout,
    range: &Inferred,
    target: &str,
) -> Option<Vec<&'e str>> {
    if lay.globals != have.globals || lay.dtypes != have.dtypes {
        return None;
    }
    let inside = |pairs: &'e [String]| {
        pairs
            .iter()
            .filter_map(|p| split_pair(p))
            .filter(|(p, t)| *t == target && range.contains(p))
            .map(|(p, _)| p)
            .collect::<Vec<_>>()
    };
    let broke = inside(&lay.version_pairs);
    (!broke.is_empty() && inside(&lay.ok_version_pairs).is_empty()).then_some(broke)
}

/// The atlas troubles of numpy and pandas objects: by inferred producer range and layout.
fn inferred_troubles(
    trace: &Trace<'_>,
    member: &str,
    env: &pyenv::Environment,
    knowledge: &Knowledge,
    out: &mut Vec<Trouble>,
) {
    for (i, p) in trace.pickles.iter().enumerate() {
        let Some(root) = p.root.and_then(|r| r.node()) else {
            continue;
        };
        let offset = match trace.nodes.get(root.index()) {
            Some(Node::Object(o)) => o.built_at.first().copied().unwrap_or(o.offset),
            _ => continue,
        };
        let ranges = producer::inferred(trace, i, knowledge);
        if ranges.is_empty() {
            continue;
        }
        let have = producer::layout(trace, i);
        for range in &ranges {
            let Some(target) = target_version(env, &range.dist) else {
                continue;
            };
            let entries = knowledge
                .atlas
                .iter()
                .filter(|e: &&AtlasBreak| e.dist == range.dist && e.kind != AtlasKind::Load);
            for e in entries {
                let Some((lay, broke)) = e
                    .layouts
                    .iter()
                    .find_map(|l| layout_applies(l, &have, range, &target).map(|b| (l, b)))
                else {
                    continue;
                };
                let kind = if e.kind == AtlasKind::Use {
                    TroubleKind::Use
                } else {
                    TroubleKind::Silent
                };
                let why = range
                    .evidence
                    .iter()
                    .map(|(_, r)| r.as_str())
                    .collect::<Vec<_>>()
                    .join("; ");
                let seen = format!(
                    "observed by the break atlas for {} {} -> {target} with a pickle of the same layout, its case {}",
                    range.dist,
                    broke.join(", "),
                    lay.case
                );
                let inferred = format!(
                    "written by {} (inferred, the file records no version: {why})",
                    range.describe()
                );
                out.push(Trouble {
                    kind,
                    code: e.id.clone(),
                    member: member.to_owned(),
                    offset,
                    class: Some(e.class.replace(':', ".")),
                    method: (!e.method.is_empty()).then(|| e.method.clone()),
                    attribute: (!e.attribute.is_empty()).then(|| e.attribute.clone()),
                    error: (!e.error.is_empty()).then(|| e.error.clone()),
                    message: match kind {
                        TroubleKind::Silent => format!(
                            "loads and runs, but `{}` gives other outputs than in the release that wrote it: {inferred}; {seen}; cause: {}",
                            e.method,
                            if e.cause.is_empty() { "unknown" } else { &e.cause }
                        ),
                        _ => format!(
                            "loads, then `{}` fails: {inferred}; {seen}; source: {}",
                            e.method, e.source
                        ),
                    },
                });
            }
        }
    }
}

/// Atlas troubles of the objects of one stream.
pub(crate) fn detect(
    trace: &Trace<'_>,
    member: &str,
    env: &pyenv::Environment,
    knowledge: &Knowledge,
) -> Vec<Trouble> {
    let mut out = Vec::new();
    inferred_troubles(trace, member, env, knowledge, &mut out);
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
/// `check_is_fitted` decides it ([`usage::fitted_attribute`]); an unfitted template (a `ColumnTransformer`'s `transformers`) is never called.
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
        if !keys.iter().any(|k| usage::fitted_attribute(k.as_bytes())) {
            continue;
        }
        if !keys.contains(attribute) {
            return false;
        }
        seen = true;
    }
    seen
}
