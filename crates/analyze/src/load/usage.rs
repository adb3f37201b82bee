//! Breaks at first use: each object the pickle builds, its state's keys against what the
//! target's class reads in its public methods ([`pyenv::schema`]). An attribute that only
//! `fit` sets, missing from the state, makes the first method that reads it raise
//! `AttributeError` after a load that succeeded.

use std::collections::{HashMap, HashSet};

use pyenv::schema::{Schema, Step};
use pyenv::{Resolver, Schemas};
use vm::{CallKind, Node, Object, Trace, Value};

use super::{Trouble, TroubleKind};

/// scikit-learn's `check_is_fitted` message for the target's release, with the estimator's
/// class name (`messages.toml`: `sklearn-not-fitted`).
fn not_fitted(version: Option<&str>, name: &str) -> String {
    knowledge::Knowledge::get()
        .message("sklearn-not-fitted", version, name)
        .unwrap_or_else(|| "sklearn.exceptions.NotFittedError".to_owned())
}

/// The class an object is an instance of, and whether the loader called the class (so that
/// `__init__` ran) rather than `cls.__new__`.
pub(crate) fn class_of<'t>(trace: &'t Trace<'_>, o: &Object) -> Option<((&'t str, &'t str), bool)> {
    let callee = trace.as_global(o.callable)?.literal()?;
    let first_arg = || {
        let args = match trace.node(o.args)? {
            Node::Tuple(a) | Node::List(a) => a,
            _ => return None,
        };
        trace.as_global(*args.first()?)?.literal()
    };
    match callee {
        ("copyreg" | "copy_reg", "_reconstructor" | "__newobj__" | "__newobj_ex__") => {
            Some((first_arg()?, false))
        }
        _ => match o.kind {
            CallKind::NewObj | CallKind::NewObjEx => Some((callee, false)),
            CallKind::Reduce => Some((callee, true)),
            CallKind::Obj | CallKind::Inst => {
                let has_args = match trace.node(o.args) {
                    Some(Node::Tuple(a) | Node::List(a)) => !a.is_empty(),
                    _ => true,
                };
                Some((callee, has_args))
            }
        },
    }
}

/// The `_sklearn_version` an object's dict state records.
pub(crate) fn sklearn_version(trace: &Trace<'_>, o: &Object) -> Option<String> {
    o.state.iter().find_map(|s| {
        let items = match trace.node(*s)? {
            Node::Dict(items) => items,
            Node::Tuple(t) => match t.first().and_then(|v| trace.node(*v)) {
                Some(Node::Dict(items)) => items,
                _ => return None,
            },
            _ => return None,
        };
        items
            .iter()
            .find_map(|(k, v)| match (trace.node(*k)?, trace.node(*v)?) {
                (Node::Str(k), Node::Str(v)) if k.as_ref() == b"_sklearn_version" => {
                    Some(String::from_utf8_lossy(v).into_owned())
                }
                _ => None,
            })
    })
}

/// The keys of a dict state (or of both dicts of a `(state, slotstate)` pair); `None` when the
/// state is anything else or a key is not a literal string.
pub(crate) fn state_keys(
    trace: &Trace<'_>,
    state: Value,
    keys: &mut HashSet<String>,
) -> Option<()> {
    let dict_keys = |v: Value, keys: &mut HashSet<String>| -> Option<()> {
        match trace.node(v) {
            Some(Node::Dict(items)) => {
                for (k, _) in items {
                    match trace.node(*k) {
                        Some(Node::Str(s)) => {
                            keys.insert(String::from_utf8_lossy(s).into_owned());
                        }
                        _ => return None,
                    }
                }
                Some(())
            }
            // `None` in a `(None, slots)` pair.
            None if v == Value::None => Some(()),
            _ => None,
        }
    };
    match trace.node(state)? {
        Node::Dict(_) => dict_keys(state, keys),
        Node::Tuple(t) if t.len() == 2 => {
            dict_keys(t[0], keys)?;
            dict_keys(t[1], keys)
        }
        _ => None,
    }
}

/// Every use-time break of the objects of one stream.
pub(crate) fn detect(
    trace: &Trace<'_>,
    member: &str,
    resolver: &mut Resolver<'_>,
    schemas: &Schemas,
) -> Vec<Trouble> {
    let mut out: Vec<Trouble> = Vec::new();
    let mut seen: HashMap<(String, String, String), ()> = HashMap::new();
    let sklearn = super::target_version(resolver.env(), "scikit-learn");
    let roots: Vec<Value> = trace.pickles.iter().filter_map(|p| p.root).collect();
    for &id in &trace.calls {
        let Some(Node::Object(o)) = trace.nodes.get(id.index()) else {
            continue;
        };
        if o.state.is_empty() {
            continue;
        }
        // `get_params` is the user's call on the object the file holds; the library calls
        // nested objects' prediction methods, not that.
        let is_root = roots.contains(&Value::Node(id));
        let Some(((module, name), called)) = class_of(trace, o) else {
            continue;
        };
        let mut keys = HashSet::new();
        if o.state
            .iter()
            .any(|s| state_keys(trace, *s, &mut keys).is_none())
        {
            continue;
        }
        let schema = schemas.schema(resolver, module, name);
        let Schema::Known {
            name: short,
            uses,
            fitted,
        } = &*schema
        else {
            continue;
        };
        // Never fitted (a template estimator held as a parameter): not used as is.
        if !fitted.is_empty() && !fitted.iter().any(|a| keys.contains(a)) {
            continue;
        }
        for u in uses.iter().filter(|u| is_root || u.method != "get_params") {
            let failure = u.steps.iter().find_map(|step| match step {
                Step::Attr {
                    attr, from_init, ..
                } if !(keys.contains(attr) || *from_init && called) => Some((
                    "missing-attribute",
                    attr.clone(),
                    format!("AttributeError: '{short}' object has no attribute '{attr}'"),
                    if *from_init { "`__init__`" } else { "`fit`" },
                )),
                Step::Fitted(attrs) => attrs.iter().find(|a| !keys.contains(*a)).map(|a| {
                    (
                        "not-fitted",
                        a.clone(),
                        not_fitted(sklearn.as_deref(), short),
                        "`fit`",
                    )
                }),
                // Reads under a condition the source does not decide. Not counted: on the
                // atlas, treating them as "the error may be another" loses more certain
                // errors (24 rows) than it corrects (1).
                Step::Maybe(_) => None,
                Step::Attr { .. } => None,
            });
            let Some((code, attr, error, setter)) = failure else {
                continue;
            };
            let class = format!("{module}.{name}");
            if seen
                .insert((class.clone(), attr.clone(), code.to_owned()), ())
                .is_some()
            {
                continue;
            }
            let via = u
                .steps
                .iter()
                .find_map(|s| match s {
                    Step::Attr { attr: a, via, .. } if *a == attr => Some(via.clone()),
                    _ => None,
                })
                .unwrap_or_else(|| u.method.clone());
            let place = if via == u.method {
                String::new()
            } else {
                format!(" (read in `{via}`)")
            };
            out.push(Trouble {
                kind: TroubleKind::Use,
                code: code.to_owned(),
                member: member.to_owned(),
                offset: o.state_offset(),
                class: Some(class.clone()),
                method: Some(u.method.clone()),
                attribute: Some(attr.clone()),
                error: Some(error),
                message: format!(
                    "loads, then `{name}.{}` fails: the pickled state has no `{attr}`, which this version's `{name}` reads{place} and only sets in {setter}",
                    u.method
                ),
            });
        }
    }
    out
}

trait StateOffset {
    fn state_offset(&self) -> u64;
}

impl StateOffset for Object {
    /// The BUILD that gave the state, else the call.
    fn state_offset(&self) -> u64 {
        self.built_at.first().copied().unwrap_or(self.offset)
    }
}
