//! State-level breaks from `breaks.toml`: the pickle names classes that exist, but what it
//! passes to them no longer fits the target's version (numpy's BitGenerator argument,
//! pandas' `StringDtype` arity and array states, scikit-learn's tree node layout), plus the
//! producer/target version skew scikit-learn warns about.

use knowledge::{Break, BreakKind, Knowledge, in_range};
use vm::{Node, Object, Trace, Value};

use super::{Loader, target_version};

/// A break that fires, at an offset of the stream.
pub(crate) struct Fired<'k> {
    pub(crate) brk: &'k Break,
    pub(crate) offset: u64,
    /// The error text, placeholders filled where the trace allows.
    pub(crate) error: Option<String>,
    /// For warnings: the message.
    pub(crate) warning: Option<String>,
    /// A producer version found in the data, for an install fix.
    pub(crate) producer: Option<(String, String)>,
    /// For a use-time break: the error the first call raises.
    pub(crate) use_error: Option<String>,
}

/// Every break of the knowledge base that fires for this trace in this environment.
pub(crate) fn detect<'k>(
    trace: &Trace<'_>,
    env: &pyenv::Environment,
    knowledge: &'k Knowledge,
    loader: Loader,
) -> Vec<Fired<'k>> {
    let mut out = Vec::new();
    for brk in &knowledge.breaks {
        let Some(version) = target_version(env, &brk.dist) else {
            continue;
        };
        if !in_range(&version, &brk.since, &brk.until) {
            continue;
        }
        match brk.kind {
            BreakKind::Failure if brk.detect_str("arg0") == Some("CodeType") => {
                code_object(trace, brk, env, knowledge, &mut out);
            }
            BreakKind::Failure => detect_failure(trace, brk, loader, &mut out),
            BreakKind::Warning => detect_version_warning(trace, brk, &version, &mut out),
            BreakKind::UseTime => detect_use_time(trace, brk, &mut out),
            // Detected elsewhere (module-added by the resolver, container and loader policy
            // by the loader model), or not detectable at load (silent: `fix` acts on it).
            BreakKind::ModuleAdded
            | BreakKind::Container
            | BreakKind::LoaderPolicy
            | BreakKind::Silent => {}
        }
    }
    out
}

fn callee<'t>(trace: &'t Trace<'_>, o: &Object) -> Option<(&'t str, &'t str)> {
    trace.as_global(o.callable)?.literal()
}

/// `module:Name`, `a|b` alternatives, and a trailing `*` on the name.
fn matches_global(pattern: &str, module: &str, name: &str) -> bool {
    pattern.split('|').any(|p| {
        let Some((pm, pn)) = p.split_once(':') else {
            return false;
        };
        pm == module
            && match pn.strip_suffix('*') {
                Some(prefix) => name.starts_with(prefix),
                None => pn == name,
            }
    })
}

fn args<'t>(trace: &'t Trace<'_>, o: &Object) -> &'t [Value] {
    match trace.node(o.args) {
        Some(Node::Tuple(a) | Node::List(a)) => a,
        _ => &[],
    }
}

fn detect_failure<'k>(trace: &Trace<'_>, brk: &'k Break, loader: Loader, out: &mut Vec<Fired<'k>>) {
    let template = match (loader, &brk.error_read_pickle) {
        (Loader::Pandas, Some(e)) => Some(e.clone()),
        _ => brk.error.clone(),
    };
    if let Some(pattern) = brk.detect_str("reduce_global") {
        let exclude = brk.detect_str("exclude");
        for &id in &trace.calls {
            let Some(Node::Object(o)) = trace.nodes.get(id.index()) else {
                continue;
            };
            let Some((m, n)) = callee(trace, o) else {
                continue;
            };
            if !matches_global(pattern, m, n) || exclude.is_some_and(|e| matches_global(e, m, n)) {
                continue;
            }
            let a = args(trace, o);
            if let Some(len) = brk.detect_int("args_len")
                && i64::try_from(a.len()).ok() != Some(len)
            {
                continue;
            }
            // `{name}`: the global the pickle names (one of several the break covers).
            let mut error = template.clone().map(|e| e.replace("{name}", n));
            if let Some(kind) = brk.detect_str("arg0_kind") {
                let first = a.first().copied();
                let arg_global = first.and_then(|v| trace.as_global(v));
                let ok = match kind {
                    "global" => arg_global.is_some(),
                    "str" => first
                        .and_then(|v| trace.node(v))
                        .is_some_and(|n| matches!(n, Node::Str(_))),
                    _ => true,
                };
                if !ok {
                    continue;
                }
                if let (Some(g), Some(e)) = (arg_global, &error) {
                    error =
                        Some(e.replace("{bit_generator!s}", &format!("<class '{}'>", g.dotted())));
                }
            }
            if let Some(arg0) = brk.detect_str("arg0") {
                let is = a
                    .first()
                    .and_then(|v| trace.node(*v))
                    .is_some_and(|n| matches!(n, Node::Str(s) if s.as_ref() == arg0.as_bytes()));
                if !is {
                    continue;
                }
            }
            let mut offset = o.offset;
            if let Some(kind) = brk.detect_str("state_kind") {
                let len = brk.detect_int("state_len");
                let hit = o
                    .state
                    .iter()
                    .zip(&o.built_at)
                    .find(|(s, _)| match trace.node(**s) {
                        Some(Node::Tuple(t)) => {
                            kind == "tuple"
                                && len.is_none_or(|l| i64::try_from(t.len()).ok() == Some(l))
                        }
                        Some(Node::Dict(_)) => kind == "dict",
                        _ => false,
                    });
                let Some((_, &at)) = hit else { continue };
                offset = at;
            }
            out.push(Fired {
                brk,
                offset,
                error,
                warning: None,
                use_error: None,
                producer: None,
            });
            break;
        }
    }
    if let Some(pattern) = brk.detect_str("build_global") {
        let key = brk.detect_str("state_key");
        for (o, _) in objects_of(trace, pattern) {
            for (&state, &at) in o.state.iter().zip(&o.built_at) {
                let Some(value) = key.and_then(|k| dict_value(trace, state, k)) else {
                    continue;
                };
                let has = |word: &str| mentions(trace, value, word.as_bytes(), 64);
                let fires = brk.detect_str("ndarray_names_have").is_none_or(has)
                    && brk.detect_str("ndarray_names_lack").is_none_or(|w| !has(w));
                if fires {
                    out.push(Fired {
                        brk,
                        offset: at,
                        error: template.clone(),
                        warning: None,
                        use_error: None,
                        producer: None,
                    });
                    return;
                }
            }
        }
    }
}

/// The objects the pickle makes by calling a class (or callable) that `pattern` names, with
/// that class's name.
fn objects_of<'t>(
    trace: &'t Trace<'_>,
    pattern: &'t str,
) -> impl Iterator<Item = (&'t Object, &'t str)> + 't {
    trace.calls.iter().filter_map(move |&id| {
        let Some(Node::Object(o)) = trace.nodes.get(id.index()) else {
            return None;
        };
        let (m, n) = callee(trace, o)?;
        matches_global(pattern, m, n).then_some((&**o, n))
    })
}

/// A use-time break: an object of a `build_global` class whose dict state lacks
/// `state_lacks` (and has `state_key`, when given). The load succeeds; the first method that
/// reads the attribute raises `error`, `{class}` filled with the class name.
fn detect_use_time<'k>(trace: &Trace<'_>, brk: &'k Break, out: &mut Vec<Fired<'k>>) {
    let (Some(pattern), Some(lacks)) = (
        brk.detect_str("build_global"),
        brk.detect_str("state_lacks"),
    ) else {
        return;
    };
    let has = brk.detect_str("state_key");
    // An attribute `fit` sets (private `_x`, or fitted `x_`), unlike a hyper-parameter that
    // every instance holds, is only read from a fitted object: an unfitted template (the
    // `transformers` a `ColumnTransformer` clones) never runs `transform`.
    let set_by_fit = lacks.starts_with('_') || lacks.ends_with('_');
    for (o, n) in objects_of(trace, pattern) {
        for (&state, &at) in o.state.iter().zip(&o.built_at) {
            if !matches!(trace.node(state), Some(Node::Dict(_)))
                || dict_value(trace, state, lacks).is_some()
                || has.is_some_and(|k| dict_value(trace, state, k).is_none())
                || (set_by_fit && !fitted(trace, state))
            {
                continue;
            }
            out.push(Fired {
                brk,
                offset: at,
                error: None,
                warning: None,
                use_error: brk.error.as_ref().map(|e| e.replace("{class}", n)),
                producer: None,
            });
            return;
        }
    }
}

/// Whether a dict state is a fitted scikit-learn estimator's
/// ([`super::usage::fitted_attribute`]).
fn fitted(trace: &Trace<'_>, state: Value) -> bool {
    let Some(Node::Dict(items)) = trace.node(state) else {
        return false;
    };
    items.iter().any(
        |(k, _)| matches!(trace.node(*k), Some(Node::Str(s)) if super::usage::fitted_attribute(s)),
    )
}

/// Code pickled by value (cloudpickle's `_builtin_type('CodeType')(...)`): the number of
/// arguments tells the producer's Python family, and `code()` of another family refuses them.
fn code_object<'k>(
    trace: &Trace<'_>,
    brk: &'k Break,
    env: &pyenv::Environment,
    knowledge: &'k Knowledge,
    out: &mut Vec<Fired<'k>>,
) {
    let Some(pattern) = brk.detect_str("reduce_global") else {
        return;
    };
    let target_minor = format!("{}.{}", env.version.0, env.version.1);
    let Some(target) = knowledge
        .codetypes
        .iter()
        .find(|c| c.python == target_minor)
    else {
        return;
    };
    for &id in &trace.calls {
        let Some(Node::Object(o)) = trace.nodes.get(id.index()) else {
            continue;
        };
        // The call whose callable is the result of `_builtin_type('CodeType')`.
        let Some(Node::Object(maker)) = trace.node(o.callable) else {
            continue;
        };
        let Some((m, n)) = callee(trace, maker) else {
            continue;
        };
        if !matches_global(pattern, m, n) {
            continue;
        }
        let is_code = args(trace, maker)
            .first()
            .and_then(|v| trace.node(*v))
            .is_some_and(|n| matches!(n, Node::Str(s) if s.as_ref() == b"CodeType"));
        if !is_code {
            continue;
        }
        let given = args(trace, o).len();
        if (target.required_args..=target.max_positional_args).contains(&given) {
            continue;
        }
        let variant = |key: &str| {
            brk.extra
                .get(key)
                .and_then(toml::Value::as_str)
                .map(str::to_owned)
        };
        let modern = knowledge::in_range(&target_minor, "3.11", "");
        let error = match (modern, given) {
            (true, 16) => variant("error_target_3_11plus_from_16"),
            (true, 15) => variant("error_target_3_11plus_from_15"),
            (false, 18) if target_minor == "3.10" => variant("error_target_3_10_from_18"),
            (false, 18) => variant("error_target_3_8_3_9_from_18"),
            _ => None,
        }
        .unwrap_or_else(|| {
            format!(
                "TypeError: code() takes {}..{} arguments in Python {target_minor}, the pickle gives {given}",
                target.required_args, target.max_positional_args
            )
        });
        out.push(Fired {
            brk,
            offset: o.offset,
            error: Some(error),
            warning: None,
            use_error: None,
            producer: None,
        });
        return;
    }
}

/// scikit-learn's `_sklearn_version` against the target's scikit-learn.
fn detect_version_warning<'k>(
    trace: &Trace<'_>,
    brk: &'k Break,
    target: &str,
    out: &mut Vec<Fired<'k>>,
) {
    let (Some(key), Some(prefix)) = (
        brk.detect_str("state_key"),
        brk.detect_str("build_global_module_prefix"),
    ) else {
        return;
    };
    for &id in &trace.calls {
        let Some(Node::Object(o)) = trace.nodes.get(id.index()) else {
            continue;
        };
        // copyreg._reconstructor(cls, ...) and NEWOBJ both leave the class in the call.
        let class = callee(trace, o)
            .filter(|(m, _)| m.starts_with(prefix))
            .or_else(|| {
                args(trace, o)
                    .first()
                    .and_then(|v| trace.as_global(*v))
                    .and_then(vm::Global::literal)
                    .filter(|(m, _)| m.starts_with(prefix))
            });
        let Some((_, name)) = class else { continue };
        for (&state, &at) in o.state.iter().zip(&o.built_at) {
            let Some(v) = dict_value(trace, state, key) else {
                continue;
            };
            let Some(Node::Str(s)) = trace.node(v) else {
                continue;
            };
            let producer = String::from_utf8_lossy(s).into_owned();
            if producer == target {
                continue;
            }
            out.push(Fired {
                brk,
                offset: at,
                error: None,
                warning: Some(format!(
                    "Trying to unpickle estimator {name} from version {producer} when using version {target}. This might lead to breaking code or invalid results. Use at your own risk."
                )),
                producer: Some((brk.dist.clone(), producer)),
                use_error: None,
            });
            return;
        }
    }
}

/// `state[key]` for a dict state or the dict of a `(state, slotstate)` pair.
fn dict_value(trace: &Trace<'_>, state: Value, key: &str) -> Option<Value> {
    let items = match trace.node(state)? {
        Node::Dict(items) => items,
        Node::Tuple(t) => match t.first().and_then(|v| trace.node(*v)) {
            Some(Node::Dict(items)) => items,
            _ => return None,
        },
        _ => return None,
    };
    items.iter().find_map(|(k, v)| match trace.node(*k) {
        Some(Node::Str(s)) if s.as_ref() == key.as_bytes() => Some(*v),
        _ => None,
    })
}

/// Whether a string equal to `word` is reachable from `v` within `depth` steps.
fn mentions(trace: &Trace<'_>, v: Value, word: &[u8], depth: usize) -> bool {
    if depth == 0 {
        return false;
    }
    let Some(n) = trace.node(v) else { return false };
    let children: Vec<Value> = match n {
        Node::Str(s) => return s.as_ref() == word,
        Node::List(x) | Node::Tuple(x) | Node::Set(x) | Node::FrozenSet(x) => x.clone(),
        Node::Dict(items) => items.iter().flat_map(|(a, b)| [*a, *b]).collect(),
        Node::Object(o) => {
            let mut c = vec![o.args];
            c.extend(o.state.iter().copied());
            c.extend(o.items.iter().copied());
            c
        }
        _ => return false,
    };
    children
        .into_iter()
        .any(|c| mentions(trace, c, word, depth - 1))
}

/// One sentence for a user: which release of what cannot read what this file holds.
pub(crate) fn sentence(brk: &Break, env: &pyenv::Environment) -> String {
    let here = match target_version(env, &brk.dist) {
        Some(v) => format!("{} {v} here", brk.dist),
        None => brk.dist.clone(),
    };
    let what = brk.affects.first().map_or_else(
        || "this file's data".to_owned(),
        |a| format!("`{}`", a.replace(':', ".")),
    );
    let producer = brk.extra.get("producer_dist").and_then(|v| v.as_str());
    let (since, until) = brk.producer_range();
    let releases = match (since, until) {
        ("", "") => String::new(),
        (s, "") => format!(" {s} or later"),
        ("", u) => format!(" before {u}"),
        (s, u) => format!(" {s} to {u} (exclusive)"),
    };
    match producer {
        Some(p) => format!("{here} cannot load {what} as {p}{releases} wrote it."),
        None => format!("{here} cannot load {what} as this file holds it."),
    }
}

/// The first sentence of a message (a warning's text runs on over lines).
pub(crate) fn first_sentence(text: &str) -> &str {
    let line = text.lines().next().unwrap_or(text);
    match line.find(". ") {
        Some(i) => &line[..=i],
        None => line,
    }
}

/// The knowledge base's note on a break and its source, for `--verbose` and JSON.
pub(crate) fn note(brk: &Break) -> String {
    let note = brk.extra.get("note").and_then(|v| v.as_str()).unwrap_or("");
    if note.is_empty() {
        format!("Source: {}", brk.source)
    } else {
        format!("{note} Source: {}", brk.source)
    }
}

/// The first `{placeholder}` left in a knowledge-base message (`{expected_dtype}`), if any:
/// braces around an identifier (`{'names': ...}` in a filled dtype repr is not one).
#[must_use]
pub(crate) fn unfilled(text: &str) -> Option<&str> {
    let mut rest = text;
    while let Some(i) = rest.find('{') {
        let tail = &rest[i + 1..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '!'))
            .unwrap_or(tail.len());
        if end > 0
            && tail[end..].starts_with('}')
            && tail.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        {
            return Some(&tail[..end]);
        }
        rest = tail;
    }
    None
}

/// A break's error as the loader prints it: placeholders the trace filled stay filled;
/// `<module 'm' from '{path}'>` becomes the target module's repr; what is still unfilled is
/// taken from the entry's `error_example` when that is the exact text of the case the entry
/// detects (a load test, no elided `...`), else the loader's own first line is kept and the
/// unknown parts read `…`. Never a `{placeholder}`.
pub(crate) fn finish(brk: &Break, error: String, resolver: &mut pyenv::Resolver<'_>) -> String {
    let mut error = error;
    while let Some(i) = error.find("<module '") {
        let tail = &error[i + 9..];
        let Some(j) = tail.find("' from '{path}'>") else {
            break;
        };
        let module = tail[..j].to_owned();
        let Ok(m) = resolver.import(&module) else {
            break;
        };
        let whole = format!("<module '{module}' from '{{path}}'>");
        error = error.replacen(&whole, &m.repr(), 1);
    }
    if unfilled(&error).is_none() {
        return error;
    }
    if let Some(example) = &brk.error_example
        && !example.contains("...")
        && unfilled(example).is_none()
    {
        return example.clone();
    }
    let mut out = error;
    while let Some(name) = unfilled(&out) {
        let name = format!("{{{name}}}");
        out = out.replace(&name, "…");
    }
    out
}

/// Silent breaks (`kind = "silent"`): the file loads and runs, and gives other outputs. One
/// fires when the target is in its range, an object of its `build_global` has its
/// `state_key`, and a producer version in the data (`_sklearn_version`) is in its producer
/// range. Without a producer version it does not fire: nothing says the data is old.
pub(crate) fn detect_silent(
    trace: &Trace<'_>,
    member: &str,
    env: &pyenv::Environment,
    knowledge: &Knowledge,
) -> Vec<super::Trouble> {
    let mut out = Vec::new();
    for brk in knowledge
        .breaks
        .iter()
        .filter(|b| b.kind == BreakKind::Silent)
    {
        let Some(version) = target_version(env, &brk.dist) else {
            continue;
        };
        if !in_range(&version, &brk.since, &brk.until) {
            continue;
        }
        let (Some(pattern), Some(key)) =
            (brk.detect_str("build_global"), brk.detect_str("state_key"))
        else {
            continue;
        };
        let (since, until) = brk.producer_range();
        let old_producer = producer_versions(trace).any(|v| in_range(&v, since, until));
        if !old_producer {
            continue;
        }
        // `owner_suffix`: only objects held under `owner_key` by an object whose class name
        // ends so (a classifier's `tree_`; regressor trees store values, not counts).
        let owned = owned_by(trace, brk);
        // `state_value`: the break depends on what the model was fitted with (AdaBoost's
        // `algorithm`), so the key must hold that string.
        let wanted = brk.detect_str("state_value");
        let hit = trace.calls.iter().find_map(|&id| {
            let Some(Node::Object(o)) = trace.nodes.get(id.index()) else {
                return None;
            };
            let ((m, n), _) = super::usage::class_of(trace, o)?;
            if !matches_global(pattern, m, n) {
                return None;
            }
            if owned.as_ref().is_some_and(|ids| !ids.contains(&id)) {
                return None;
            }
            o.state
                .iter()
                .zip(&o.built_at)
                .find(|(s, _)| {
                    dict_value(trace, **s, key).is_some_and(|v| {
                        wanted.is_none_or(|w| {
                            matches!(trace.node(v), Some(Node::Str(x)) if x.as_ref() == w.as_bytes())
                        })
                    })
                })
                .map(|(_, &at)| at)
        });
        let Some(offset) = hit else { continue };
        let what = brk
            .error
            .as_deref()
            .unwrap_or("")
            .trim_start_matches("(no error: ")
            .trim_end_matches(')');
        out.push(super::Trouble {
            kind: super::TroubleKind::Silent,
            code: brk.id.clone(),
            member: member.to_owned(),
            offset,
            class: brk.affects.first().map(|a| a.replace(':', ".")),
            method: brk
                .extra
                .get("method")
                .and_then(|v| v.as_str())
                .map(str::to_owned),
            attribute: Some(key.to_owned()),
            error: None,
            message: format!("loads and runs, but outputs differ: {what}"),
        });
    }
    out
}

/// Whether the break atlas's class-wide silent entries for `class` (`module:Name`), written
/// by `producer` and loaded by `target`, are known to depend on the object's state: a silent
/// break of `breaks.toml` with `explains_atlas_silent` and a `state_value` condition covers
/// the pair. Then those breaks, which [`detect_silent`] checks against the state, replace
/// the atlas entry: an object none of them fires on (an AdaBoost model fitted with SAMME)
/// does not get the atlas's difference (a SAMME.R model's).
pub(crate) fn atlas_silent_explained(
    knowledge: &Knowledge,
    class: &str,
    producer: &str,
    target: &str,
) -> bool {
    knowledge.breaks.iter().any(|b| {
        b.kind == BreakKind::Silent
            && b.extra
                .get("explains_atlas_silent")
                .and_then(toml::Value::as_bool)
                == Some(true)
            && b.detect_str("state_value").is_some()
            && b.affects.iter().any(|a| a == class)
            && in_range(target, &b.since, &b.until)
            && {
                let (since, until) = b.producer_range();
                in_range(producer, since, until)
            }
    })
}

/// With `owner_suffix`/`owner_key` in a break's `detect`: the nodes held under that key by
/// objects whose class name ends with that suffix (`None` when the break has no owner rule).
fn owned_by(trace: &Trace<'_>, brk: &Break) -> Option<Vec<vm::NodeId>> {
    let (Some(suffix), Some(key)) = (brk.detect_str("owner_suffix"), brk.detect_str("owner_key"))
    else {
        return None;
    };
    let mut out = Vec::new();
    for &id in &trace.calls {
        let Some(Node::Object(o)) = trace.nodes.get(id.index()) else {
            continue;
        };
        let class = callee(trace, o)
            .filter(|_| matches!(o.kind, vm::CallKind::NewObj))
            .or_else(|| {
                args(trace, o)
                    .first()
                    .and_then(|v| trace.as_global(*v))
                    .and_then(vm::Global::literal)
            });
        let Some((_, name)) = class else { continue };
        if !name.ends_with(suffix) {
            continue;
        }
        for s in &o.state {
            if let Some(v) = dict_value(trace, *s, key).and_then(Value::node) {
                out.push(v);
            }
        }
    }
    Some(out)
}

/// Every `_sklearn_version` string of the trace's dict states.
fn producer_versions<'t>(trace: &'t Trace<'_>) -> impl Iterator<Item = String> + 't {
    trace.calls.iter().filter_map(move |&id| {
        let Some(Node::Object(o)) = trace.nodes.get(id.index()) else {
            return None;
        };
        o.state.iter().find_map(|s| {
            let v = dict_value(trace, *s, "_sklearn_version")?;
            match trace.node(v) {
                Some(Node::Str(s)) => Some(String::from_utf8_lossy(s).into_owned()),
                _ => None,
            }
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_identifiers_in_braces() {
        assert_eq!(unfilled("a {expected_dtype} b"), Some("expected_dtype"));
        assert_eq!(unfilled("{bit_generator!s}"), Some("bit_generator!s"));
        assert_eq!(unfilled("{'names': ['a'], 'itemsize': 64}"), None);
        assert_eq!(unfilled("no braces"), None);
    }

    /// Every failure entry's error, rendered with nothing the trace could fill and a target
    /// where no module resolves, still shows no `{placeholder}`: it is the entry's exact
    /// example or the loader's own words with `…` for what cannot be known.
    #[test]
    fn no_knowledge_message_shows_a_placeholder() {
        let dir = std::env::temp_dir().join(format!("pd-breaks-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let env =
            pyenv::Environment::from_site_packages(std::slice::from_ref(&dir), (3, 11)).unwrap();
        let mut resolver = pyenv::Resolver::new(&env);
        let k = Knowledge::get();
        let mut rendered = 0;
        for brk in &k.breaks {
            for template in [&brk.error, &brk.error_read_pickle].into_iter().flatten() {
                let text = finish(brk, template.clone(), &mut resolver);
                assert!(unfilled(&text).is_none(), "{}: {text}", brk.id);
                rendered += 1;
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
        assert!(rendered >= 30, "{rendered}");
    }
}
