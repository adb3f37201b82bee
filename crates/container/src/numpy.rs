//! numpy knowledge shared by the npy reader, the joblib hook and the renderers: dtype strings,
//! item sizes, and recognising arrays in a pickle's value graph.
//!
//! numpy pickles an array as `numpy.core.multiarray._reconstruct(ndarray, (0,), b'b')` followed
//! by BUILD with `(version, shape, dtype, is_fortran, data)` (protocols 0-4), or, from protocol
//! 5, as `numpy.core.numeric._frombuffer(buffer, dtype, shape, order)`. numpy 2 spells the
//! module `numpy._core`. A dtype is `numpy.dtype(typestr, False, True)` with BUILD state
//! `(version, byteorder, subarray, names, fields, elsize, alignment, flags)`.

use vm::{CallKind, Node, Trace, Value};

/// A dtype as numpy's `dtype.str` spells it, with its item size when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dtype {
    /// `dtype.str`, e.g. `<f8`, `|u1`, `|V64` (structured), `|O`.
    pub str: String,
    /// Bytes per element.
    pub itemsize: Option<u64>,
}

impl Dtype {
    /// Whether elements are Python objects (stored as a nested pickle, not raw bytes).
    #[must_use]
    pub fn is_object(&self) -> bool {
        self.str.ends_with('O')
    }
}

/// Bytes per element of a typestr such as `<f8`, `|S5`, `<U10`, `<M8[ns]`, `|b1`.
#[must_use]
pub fn typestr_itemsize(t: &str) -> Option<u64> {
    let t = t.trim_start_matches(['<', '>', '|', '=']);
    let mut chars = t.chars();
    let kind = chars.next()?;
    let rest: String = chars.take_while(char::is_ascii_digit).collect();
    let n: u64 = rest.parse().ok()?;
    Some(if kind == 'U' { n * 4 } else { n })
}

fn global_is(trace: &Trace<'_>, v: Value, modules: &[&str], name: &str) -> bool {
    trace.as_global(v).is_some_and(|g| {
        g.name.literal() == Some(name) && g.module.literal().is_some_and(|m| modules.contains(&m))
    })
}

/// The items of a tuple node.
#[must_use]
pub fn tuple<'t>(trace: &'t Trace<'_>, v: Value) -> Option<&'t [Value]> {
    match trace.node(v)? {
        Node::Tuple(t) => Some(t),
        _ => None,
    }
}

/// A tuple of ints (a shape).
#[must_use]
pub fn shape(trace: &Trace<'_>, v: Value) -> Option<Vec<i64>> {
    tuple(trace, v)?
        .iter()
        .map(|x| match x {
            Value::Int(i) => Some(*i),
            _ => None,
        })
        .collect()
}

/// The text of a str node.
#[must_use]
pub fn str_of(trace: &Trace<'_>, v: Value) -> Option<String> {
    match trace.node(v)? {
        Node::Str(s) => Some(String::from_utf8_lossy(s).into_owned()),
        _ => None,
    }
}

/// A `numpy.dtype` object in the graph.
#[must_use]
pub fn dtype(trace: &Trace<'_>, v: Value) -> Option<Dtype> {
    let Node::Object(o) = trace.node(v)? else {
        return None;
    };
    const MODS: &[&str] = &["numpy", "numpy.core.multiarray", "numpy._core.multiarray"];
    if !global_is(trace, o.callable, MODS, "dtype") {
        return None;
    }
    let typestr = str_of(trace, *tuple(trace, o.args)?.first()?)?;
    let state = o.state.first().and_then(|s| tuple(trace, *s));
    let order = state
        .and_then(|s| s.get(1).copied())
        .and_then(|b| str_of(trace, b))
        .unwrap_or_else(|| "|".to_owned());
    let order = if order == "=" { "<".to_owned() } else { order };
    let elsize = state.and_then(|s| s.get(5).copied()).and_then(|e| match e {
        Value::Int(n) if n > 0 => Some(n as u64),
        _ => None,
    });
    let itemsize = elsize.or_else(|| typestr_itemsize(&typestr));
    let str = if typestr.starts_with('V')
        || state
            .and_then(|s| s.get(3))
            .is_some_and(|n| *n != Value::None)
    {
        format!("|V{}", itemsize.unwrap_or(0))
    } else if typestr == "O" || typestr.starts_with("O") {
        "|O".to_owned()
    } else {
        format!("{order}{typestr}")
    };
    Some(Dtype { str, itemsize })
}

/// What `show` prints instead of a large array's bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct ArraySummary {
    /// dtype string.
    pub dtype: String,
    /// Shape.
    pub shape: Vec<i64>,
    /// Fortran order.
    pub fortran_order: bool,
    /// Data bytes.
    pub nbytes: usize,
}

fn bytes_len(trace: &Trace<'_>, v: Value) -> Option<usize> {
    match trace.node(v)? {
        Node::Bytes(b) | Node::ByteArray(b) | Node::Str(b) => Some(b.len()),
        _ => None,
    }
}

/// Recognises an ndarray pickled by numpy whose data is raw bytes.
#[must_use]
pub fn array_summary(trace: &Trace<'_>, v: Value) -> Option<ArraySummary> {
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
        let [_, shp, dt, fortran, data] = state else {
            return None;
        };
        return Some(ArraySummary {
            dtype: dtype(trace, *dt)?.str,
            shape: shape(trace, *shp)?,
            fortran_order: matches!(fortran, Value::Bool(true)),
            nbytes: bytes_len(trace, *data)?,
        });
    }
    if global_is(trace, o.callable, MODS, "_frombuffer") {
        let [buf, dt, shp, order] = tuple(trace, o.args)? else {
            return None;
        };
        return Some(ArraySummary {
            dtype: dtype(trace, *dt)?.str,
            shape: shape(trace, *shp)?,
            fortran_order: str_of(trace, *order).as_deref() == Some("F"),
            nbytes: bytes_len(trace, *buf)?,
        });
    }
    None
}
