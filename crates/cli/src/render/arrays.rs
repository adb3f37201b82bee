//! Recognising numpy arrays in the value graph, so that large ones can be summarised.
//!
//! numpy pickles an array as `numpy.core.multiarray._reconstruct(ndarray, (0,), b'b')` followed
//! by BUILD with `(version, shape, dtype, is_fortran, data)` (protocols 0-4), or, from protocol
//! 5, as `numpy.core.numeric._frombuffer(buffer, dtype, shape, order)`. numpy 2 spells the
//! module `numpy._core`. The dtype is `numpy.dtype(typestr, False, True)` with BUILD state
//! `(version, byteorder, ...)`.

use vm::{CallKind, Node, Trace, Value};

/// What `show` prints instead of a large array's bytes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ArraySummary {
    pub(crate) dtype: String,
    pub(crate) shape: Vec<i64>,
    pub(crate) fortran_order: bool,
    pub(crate) nbytes: usize,
}

fn global_is(trace: &Trace<'_>, v: Value, modules: &[&str], name: &str) -> bool {
    trace.as_global(v).is_some_and(|g| {
        g.name.literal() == Some(name) && g.module.literal().is_some_and(|m| modules.contains(&m))
    })
}

fn tuple<'t>(trace: &'t Trace<'_>, v: Value) -> Option<&'t [Value]> {
    match trace.node(v)? {
        Node::Tuple(t) => Some(t),
        _ => None,
    }
}

fn shape(trace: &Trace<'_>, v: Value) -> Option<Vec<i64>> {
    tuple(trace, v)?
        .iter()
        .map(|x| match x {
            Value::Int(i) => Some(*i),
            _ => None,
        })
        .collect()
}

fn str_of(trace: &Trace<'_>, v: Value) -> Option<String> {
    match trace.node(v)? {
        Node::Str(s) => Some(String::from_utf8_lossy(s).into_owned()),
        _ => None,
    }
}

/// `numpy.dtype` object → its `str`, e.g. `<f8`, `|u1`, or `|V64` for structured dtypes.
pub(crate) fn dtype_str(trace: &Trace<'_>, v: Value) -> Option<String> {
    let Node::Object(o) = trace.node(v)? else {
        return None;
    };
    if !global_is(
        trace,
        o.callable,
        &["numpy", "numpy.core.multiarray", "numpy._core.multiarray"],
        "dtype",
    ) {
        return None;
    }
    let typestr = str_of(trace, *tuple(trace, o.args)?.first()?)?;
    let order = o
        .state
        .first()
        .and_then(|s| tuple(trace, *s))
        .and_then(|s| s.get(1).copied())
        .and_then(|b| str_of(trace, b))
        .unwrap_or_else(|| "|".to_owned());
    let order = if order == "=" { "<".to_owned() } else { order };
    Some(format!("{order}{typestr}"))
}

fn bytes_len(trace: &Trace<'_>, v: Value) -> Option<usize> {
    match trace.node(v)? {
        Node::Bytes(b) | Node::ByteArray(b) | Node::Str(b) => Some(b.len()),
        _ => None,
    }
}

/// Recognises an ndarray whose data is raw bytes.
pub(crate) fn summarize(trace: &Trace<'_>, v: Value) -> Option<ArraySummary> {
    let Node::Object(o) = trace.node(v)? else {
        return None;
    };
    if o.kind != CallKind::Reduce {
        return None;
    }
    const MODS: &[&str] = &[
        "numpy.core.multiarray",
        "numpy._core.multiarray",
        "numpy.core.numeric",
        "numpy._core.numeric",
    ];
    if global_is(trace, o.callable, MODS, "_reconstruct") {
        let state = tuple(trace, *o.state.first()?)?;
        let [_, shp, dtype, fortran, data] = state else {
            return None;
        };
        return Some(ArraySummary {
            dtype: dtype_str(trace, *dtype)?,
            shape: shape(trace, *shp)?,
            fortran_order: matches!(fortran, Value::Bool(true)),
            nbytes: bytes_len(trace, *data)?,
        });
    }
    if global_is(trace, o.callable, MODS, "_frombuffer") {
        let [buf, dtype, shp, order] = tuple(trace, o.args)? else {
            return None;
        };
        return Some(ArraySummary {
            dtype: dtype_str(trace, *dtype)?,
            shape: shape(trace, *shp)?,
            fortran_order: str_of(trace, *order).as_deref() == Some("F"),
            nbytes: bytes_len(trace, *buf)?,
        });
    }
    None
}
