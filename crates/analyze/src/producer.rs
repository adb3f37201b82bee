//! Which releases wrote a pickle, read from its structure when it records no version.
//!
//! numpy and pandas pickles carry no version string (scikit-learn's `_sklearn_version` is the
//! exception). What they name still shows the writer's major version: numpy 1 names
//! `numpy.core.*`, numpy 2 `numpy._core.*`; pandas < 3 names its classes by their defining
//! module (`pandas.core.series.Series`), pandas 3 by the public one (`pandas.Series`). Those
//! markers are data (`producers.toml`, the entries with `module_prefix` or `globals` and a
//! `spec`); this module intersects the ranges of every marker a pickle shows. The break
//! atlas's numpy and pandas entries then apply by that range and by the pickle's
//! [`Layout`] (`load/atlas.rs`).

use knowledge::{Knowledge, Version};
use vm::{Node, Trace};

/// The producer versions of one distribution a pickle's structure implies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inferred {
    /// The distribution (`numpy`, `pandas`).
    pub dist: String,
    /// `since <= v < until`; `""` = open end.
    pub since: String,
    /// See `since`.
    pub until: String,
    /// The `producers.toml` entries that decided it, with their reasons, in file order.
    pub evidence: Vec<(String, String)>,
}

impl Inferred {
    /// Whether `version` is inside the range.
    #[must_use]
    pub fn contains(&self, version: &str) -> bool {
        knowledge::in_range(version, &self.since, &self.until)
    }

    /// The range in words: `numpy < 2`, `pandas >= 3`, `numpy >= 1.5, < 2`.
    #[must_use]
    pub fn describe(&self) -> String {
        match (self.since.is_empty(), self.until.is_empty()) {
            (true, true) => format!("any {}", self.dist),
            (true, false) => format!("{} < {}", self.dist, self.until),
            (false, true) => format!("{} >= {}", self.dist, self.since),
            (false, false) => format!("{} >= {}, < {}", self.dist, self.since, self.until),
        }
    }
}

/// Per distribution, the producer range the literal globals of pickle `pickle` (its index in
/// the stream) imply, in `producers.toml` order of first evidence. A distribution whose
/// markers contradict each other (an empty intersection, e.g. a file a tool partly
/// rewrote) is left out: nothing is inferred for it.
#[must_use]
pub fn inferred(trace: &Trace<'_>, pickle: usize, knowledge: &Knowledge) -> Vec<Inferred> {
    let mut out: Vec<Inferred> = Vec::new();
    let mut contradicted: Vec<String> = Vec::new();
    for p in &knowledge.producers {
        let Some((since, until)) = p.implied_range() else {
            continue;
        };
        let shown = trace
            .globals
            .iter()
            .filter(|g| g.pickle == pickle)
            .filter_map(|g| g.literal())
            .any(|(m, n)| p.names_global(m, n));
        if !shown || contradicted.contains(&p.dist) {
            continue;
        }
        let reason = p
            .evidence
            .spec_and_reason()
            .map_or_else(String::new, |(_, r)| r.to_owned());
        match out.iter_mut().find(|i| i.dist == p.dist) {
            None => out.push(Inferred {
                dist: p.dist.clone(),
                since,
                until,
                evidence: vec![(p.id.clone(), reason)],
            }),
            Some(i) => {
                if later(&since, &i.since) {
                    i.since = since;
                }
                if !until.is_empty() && (i.until.is_empty() || later(&i.until, &until)) {
                    i.until = until;
                }
                i.evidence.push((p.id.clone(), reason));
                if !i.since.is_empty() && !i.until.is_empty() && !later(&i.until, &i.since) {
                    contradicted.push(p.dist.clone());
                }
            }
        }
    }
    out.retain(|i| !contradicted.contains(&i.dist));
    out
}

/// `a > b` as versions (`""` is the lowest).
fn later(a: &str, b: &str) -> bool {
    match (Version::parse(a), Version::parse(b)) {
        (Some(a), Some(b)) => a > b,
        (Some(_), None) => !a.is_empty(),
        _ => false,
    }
}

/// What a pickle names, as the break atlas records it for its numpy and pandas cases
/// (`tests/atlas/build.py` `layout`, `[[entry.layout]]` of `data/atlas/breaks.toml`): two
/// pickles with the same layout hold the same kind of object (same classes, same dtypes).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Layout {
    /// Every literal global, `module.name`, sorted, distinct; `numpy._core` written
    /// `numpy.core`.
    pub globals: Vec<String>,
    /// The descriptor strings passed to `numpy.dtype`, sorted, distinct.
    pub dtypes: Vec<String>,
}

/// numpy 2's `numpy._core` as numpy 1's `numpy.core`.
fn normal_module(module: &str) -> std::borrow::Cow<'_, str> {
    match module.strip_prefix("numpy._core") {
        Some(rest) if rest.is_empty() || rest.starts_with('.') => {
            format!("numpy.core{rest}").into()
        }
        _ => module.into(),
    }
}

/// The layout of pickle `pickle` (its index in the stream).
#[must_use]
pub fn layout(trace: &Trace<'_>, pickle: usize) -> Layout {
    let mut globals: Vec<String> = trace
        .globals
        .iter()
        .filter(|g| g.pickle == pickle)
        .filter_map(|g| g.literal())
        .map(|(m, n)| format!("{}.{n}", normal_module(m)))
        .collect();
    globals.sort();
    globals.dedup();
    let run = trace.pickles.get(pickle);
    let mut dtypes: Vec<String> = trace
        .calls
        .iter()
        .filter_map(|id| match trace.nodes.get(id.index()) {
            Some(Node::Object(o)) => Some(o),
            _ => None,
        })
        .filter(|o| run.is_some_and(|r| (r.start..r.end).contains(&o.offset)))
        .filter(|o| {
            trace
                .as_global(o.callable)
                .and_then(|g| g.literal())
                .is_some_and(|g| g == ("numpy", "dtype"))
        })
        .filter_map(|o| match trace.node(o.args) {
            Some(Node::Tuple(a)) => match a.first().and_then(|v| trace.node(*v)) {
                Some(Node::Str(s)) => Some(String::from_utf8_lossy(s).into_owned()),
                _ => None,
            },
            _ => None,
        })
        .collect();
    dtypes.sort();
    dtypes.dedup();
    Layout { globals, dtypes }
}
