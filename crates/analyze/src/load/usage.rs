//! Breaks at first use: each object the pickle builds, its state's keys against what the
//! target's class reads in its public methods ([`pyenv::schema`]). An attribute that only
//! `fit` sets, missing from the state, makes the first method that reads it raise
//! `AttributeError` after a load that succeeded.

use std::collections::{HashMap, HashSet};

use pyenv::cond::{Lit, StateValue};
use pyenv::schema::{Raises, Schema, State};
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

/// Whether an attribute marks its object fitted, as scikit-learn's `check_is_fitted` decides
/// it: the name ends with `_` and does not start with `__`.
pub(crate) fn fitted_attribute(name: &[u8]) -> bool {
    name.ends_with(b"_") && !name.starts_with(b"__")
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

/// What a dict state (or the dicts of a `(state, slotstate)` pair) holds for each key, as far
/// as a branch test of the source can use it: literals, and whether anything else is truthy.
fn state_values(trace: &Trace<'_>, state: Value, out: &mut HashMap<String, StateValue>) {
    let mut dict = |v: Value| {
        let Some(Node::Dict(items)) = trace.node(v) else {
            return;
        };
        for (k, v) in items {
            let Some(Node::Str(k)) = trace.node(*k) else {
                continue;
            };
            let value = match (*v, trace.node(*v)) {
                (Value::None, _) => StateValue::Lit(Lit::None),
                (Value::Bool(b), _) => StateValue::Lit(Lit::Bool(b)),
                (Value::Int(i), _) => StateValue::Lit(Lit::Int(i)),
                (Value::Float(f), _) => StateValue::Other {
                    truthy: Some(f != 0.0),
                },
                (_, Some(Node::Str(s))) => match std::str::from_utf8(s) {
                    Ok(s) => StateValue::Lit(Lit::Str(s.to_owned())),
                    Err(_) => StateValue::Other {
                        truthy: Some(!s.is_empty()),
                    },
                },
                (_, Some(Node::List(x) | Node::Tuple(x) | Node::Set(x) | Node::FrozenSet(x))) => {
                    StateValue::Other {
                        truthy: Some(!x.is_empty()),
                    }
                }
                (_, Some(Node::Dict(x))) => StateValue::Other {
                    truthy: Some(!x.is_empty()),
                },
                _ => StateValue::Other { truthy: None },
            };
            // A later duplicate key wins, as in a dict display.
            out.insert(String::from_utf8_lossy(k).into_owned(), value);
        }
    };
    match trace.node(state) {
        Some(Node::Tuple(t)) if t.len() == 2 => {
            dict(t[0]);
            dict(t[1]);
        }
        _ => dict(state),
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
    let mut seen: HashMap<(String, String, String, bool), ()> = HashMap::new();
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
        let mut values = HashMap::new();
        for s in &o.state {
            state_values(trace, *s, &mut values);
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
        let state = ObjectState {
            keys: &keys,
            values: &values,
            called,
        };
        let used = || uses.iter().filter(|u| is_root || u.method != "get_params");
        // Attributes the state lacks that some method reads on every call: whichever method
        // reads one first raises.
        let missing: HashSet<&str> = used().flat_map(|u| u.certainly_missing(&state)).collect();
        for u in used() {
            let not_found =
                |attr: &str| format!("AttributeError: '{short}' object has no attribute '{attr}'");
            // A method with no certain error that may read an attribute the state certainly
            // lacks (under a test of its input, such as `not issparse(X) and ...`) is named
            // for it; the certain error of a later method is still reported.
            let (code, attr, error, setter, via, maybe) = match u.first_error(&state, &missing) {
                None => continue,
                Some(Raises::Missing {
                    attr,
                    via,
                    from_init,
                }) => (
                    "missing-attribute",
                    attr,
                    not_found(attr),
                    if from_init { "`__init__`" } else { "`fit`" },
                    via,
                    false,
                ),
                Some(Raises::NotFitted(attr)) => (
                    "not-fitted",
                    attr,
                    not_fitted(sklearn.as_deref(), short),
                    "`fit`",
                    u.method.as_str(),
                    false,
                ),
                Some(Raises::MaybeMissing { attr, via }) => (
                    "missing-attribute",
                    attr,
                    not_found(attr),
                    "`fit`",
                    via,
                    true,
                ),
            };
            let attr = attr.to_owned();
            let class = format!("{module}.{name}");
            if seen
                .insert((class.clone(), attr.clone(), code.to_owned(), maybe), ())
                .is_some()
            {
                continue;
            }
            let place = if via == u.method {
                String::new()
            } else {
                format!(" (read in `{via}`)")
            };
            let message = if maybe {
                format!(
                    "loads, then `{name}.{}` fails unless a test of its input skips the read: the pickled state has no `{attr}`, which this version's `{name}` reads{place} under that test and other methods read on every call",
                    u.method
                )
            } else {
                format!(
                    "loads, then `{name}.{}` fails: the pickled state has no `{attr}`, which this version's `{name}` reads{place} and only sets in {setter}",
                    u.method
                )
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
                message,
            });
        }
    }
    out
}

/// An object's state as the schema's steps ask it.
struct ObjectState<'s> {
    keys: &'s HashSet<String>,
    values: &'s HashMap<String, StateValue>,
    /// The loader called the class, so `__init__` ran.
    called: bool,
}

impl State for ObjectState<'_> {
    fn lacks(&self, attr: &str, from_init: bool) -> bool {
        !(self.keys.contains(attr) || from_init && self.called)
    }

    fn value(&self, attr: &str) -> Option<StateValue> {
        self.values.get(attr).cloned()
    }
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
