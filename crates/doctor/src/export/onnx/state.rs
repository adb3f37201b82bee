//! A read-only view of a pickled scikit-learn estimator, over the symbolic run's value graph:
//! its class, its `__dict__` (the BUILD state), and typed getters for what converters need:
//! numbers (Python or numpy scalars), strings, lists, nested estimators and numpy arrays
//! (pickled inline by numpy, by `_frombuffer`, or written raw after joblib's
//! `NumpyArrayWrapper`; C or Fortran order; object, unicode and structured dtypes).
//!
//! Nothing is executed: an array's elements are decoded from the bytes the pickle carries.
//! Every getter fails with a [`Refusal`] naming the attribute, never panics.

use std::borrow::Cow;
use std::collections::HashMap;

use container::joblib::InlineArray;
use container::numpy::{self, str_of, tuple};
use vm::{CallKind, Node, Trace, Value};

/// Why a model (or one step of it) cannot be exported, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Where in the model: `steps[1] ('clf')`, `transformers[0] ('num')`, or empty for the
    /// root.
    pub path: String,
    /// Why.
    pub why: String,
    /// Whether the list of supported estimators helps (an unknown class).
    pub list_supported: bool,
}

impl Refusal {
    /// A refusal at no particular path yet (the caller's path is prefixed on the way up).
    pub fn new(why: impl Into<String>) -> Refusal {
        Refusal {
            path: String::new(),
            why: why.into(),
            list_supported: false,
        }
    }

    /// Prefixes the step `step` to the path.
    #[must_use]
    pub fn at(mut self, step: &str) -> Refusal {
        self.path = if self.path.is_empty() {
            step.to_owned()
        } else {
            format!("{step} > {}", self.path)
        };
        self
    }
}

/// Shorthand for converter results.
pub type Res<T> = std::result::Result<T, Refusal>;

/// What the pickle's arrays are made of, for one pickle member.
pub struct State<'t> {
    /// The symbolic run.
    pub trace: &'t Trace<'t>,
    /// The member's (decompressed) bytes, where joblib's inline arrays are.
    data: &'t [u8],
    /// joblib wrappers by node index.
    inline: HashMap<usize, &'t InlineArray>,
    /// For joblib object arrays: the root of the nested pickle holding the elements, by the
    /// wrapper's node index.
    nested: HashMap<usize, Value>,
}

impl<'t> State<'t> {
    /// A view over `trace`, whose member bytes are `data` and joblib arrays `arrays`.
    #[must_use]
    pub fn new(trace: &'t Trace<'t>, data: &'t [u8], arrays: &'t [InlineArray]) -> State<'t> {
        let inline = arrays
            .iter()
            .filter_map(|a| Some((a.wrapper.node()?.index(), a)))
            .collect();
        let nested = trace
            .pickles
            .iter()
            .filter_map(|p| {
                let (_, w) = p.parent?;
                Some((w.node()?.index(), p.root?))
            })
            .collect();
        State {
            trace,
            data,
            inline,
            nested,
        }
    }

    /// A view of any value.
    #[must_use]
    pub fn val(&'t self, v: Value) -> Val<'t> {
        Val { st: self, v }
    }

    /// The roots of the top-level pickles.
    #[must_use]
    pub fn roots(&'t self) -> Vec<Val<'t>> {
        self.trace
            .pickles
            .iter()
            .filter(|p| p.parent.is_none())
            .filter_map(|p| p.root)
            .map(|v| self.val(v))
            .collect()
    }
}

/// Any value of the graph.
#[derive(Clone, Copy)]
pub struct Val<'t> {
    st: &'t State<'t>,
    /// The value.
    pub v: Value,
}

fn global_in(trace: &Trace<'_>, v: Value, modules: &[&str], name: &str) -> bool {
    trace.as_global(v).is_some_and(|g| {
        g.name.literal() == Some(name) && g.module.literal().is_some_and(|m| modules.contains(&m))
    })
}

const MULTIARRAY: &[&str] = &[
    "numpy.core.multiarray",
    "numpy._core.multiarray",
    "numpy.core.numeric",
    "numpy._core.numeric",
];

impl<'t> Val<'t> {
    fn node(&self) -> Option<&'t Node<'t>> {
        match self.st.trace.node(self.v)? {
            Node::ReadOnly(inner) => self.st.trace.node(*inner),
            n => Some(n),
        }
    }

    fn object(&self) -> Option<&'t vm::Object> {
        match self.node()? {
            Node::Object(o) => Some(o),
            _ => None,
        }
    }

    /// Whether it is `None`.
    #[must_use]
    pub fn is_none(&self) -> bool {
        self.v == Value::None
    }

    /// A Python or numpy float or int, as f64.
    #[must_use]
    pub fn as_f64(&self) -> Option<f64> {
        match self.v {
            Value::Float(x) => Some(x),
            Value::Int(i) => Some(i as f64),
            Value::Bool(b) => Some(f64::from(u8::from(b))),
            _ => {
                let (descr, bytes) = self.numpy_scalar()?;
                decode_f64(&descr, &bytes, 0)
            }
        }
    }

    /// A Python or numpy int (or bool), as i64.
    #[must_use]
    pub fn as_i64(&self) -> Option<i64> {
        match self.v {
            Value::Int(i) => Some(i),
            Value::Bool(b) => Some(i64::from(b)),
            Value::Float(_) | Value::None => None,
            _ => {
                let (descr, bytes) = self.numpy_scalar()?;
                decode_i64(&descr, &bytes, 0)
            }
        }
    }

    /// A Python or numpy bool.
    #[must_use]
    pub fn as_bool(&self) -> Option<bool> {
        match self.v {
            Value::Bool(b) => Some(b),
            _ => {
                let (descr, bytes) = self.numpy_scalar()?;
                descr
                    .ends_with("b1")
                    .then(|| bytes.first().map(|b| *b != 0))
                    .flatten()
            }
        }
    }

    /// A str.
    #[must_use]
    pub fn as_str(&self) -> Option<String> {
        match self.node()? {
            Node::Str(s) => Some(String::from_utf8_lossy(s).into_owned()),
            _ => None,
        }
    }

    /// The items of a list or tuple.
    #[must_use]
    pub fn as_list(&self) -> Option<Vec<Val<'t>>> {
        match self.node()? {
            Node::List(items) | Node::Tuple(items) => {
                Some(items.iter().map(|&v| self.st.val(v)).collect())
            }
            Node::Object(o) if o.items.is_empty() => None,
            Node::Object(o) => Some(o.items.iter().map(|&v| self.st.val(v)).collect()),
            _ => None,
        }
    }

    /// The key/value pairs of a dict (or an `OrderedDict`-like object's set items).
    #[must_use]
    pub fn as_dict(&self) -> Option<Vec<(Val<'t>, Val<'t>)>> {
        let pairs: &[(Value, Value)] = match self.node()? {
            Node::Dict(p) => p,
            Node::Object(o) => &o.dict_items,
            _ => return None,
        };
        Some(
            pairs
                .iter()
                .map(|&(k, v)| (self.st.val(k), self.st.val(v)))
                .collect(),
        )
    }

    /// `(module, name)` of the global this value is, or of the class/callable that made it.
    #[must_use]
    pub fn class(&self) -> Option<(&'t str, &'t str)> {
        if let Some(g) = self.st.trace.as_global(self.v) {
            return g.literal();
        }
        let o = self.object()?;
        let callable = self.st.trace.as_global(o.callable)?;
        let (m, n) = callable.literal()?;
        // copyreg.__newobj__ / _reconstructor: the class is the first argument.
        if m == "copyreg" && (n == "__newobj__" || n == "_reconstructor") {
            let first = *tuple(self.st.trace, o.args)?.first()?;
            return self.st.trace.as_global(first)?.literal();
        }
        Some((m, n))
    }

    /// Whether this is a global (a function or class, not an instance).
    #[must_use]
    pub fn is_global(&self) -> bool {
        self.st.trace.as_global(self.v).is_some()
    }

    /// Views it as an estimator (an instance with a state dict).
    #[must_use]
    pub fn as_estimator(&self) -> Option<Estimator<'t>> {
        let (module, name) = self.class()?;
        let o = self.object()?;
        let dict = o
            .state
            .iter()
            .rev()
            .find_map(|&s| match self.st.trace.node(s)? {
                Node::Dict(pairs) => Some(pairs.as_slice()),
                Node::Tuple(parts) => parts.iter().find_map(|&p| match self.st.trace.node(p)? {
                    Node::Dict(pairs) => Some(pairs.as_slice()),
                    _ => None,
                }),
                _ => None,
            });
        Some(Estimator {
            st: self.st,
            v: self.v,
            module,
            name,
            dict: dict.unwrap_or(&[]),
        })
    }

    /// `(descr, bytes)` of a numpy scalar (`numpy.core.multiarray.scalar(dtype, bytes)`).
    fn numpy_scalar(&self) -> Option<(String, Cow<'t, [u8]>)> {
        let o = self.object()?;
        if !global_in(self.st.trace, o.callable, MULTIARRAY, "scalar") {
            return None;
        }
        let args = tuple(self.st.trace, o.args)?;
        let dt = numpy::dtype(self.st.trace, *args.first()?)?;
        let bytes = self.st.bytes_of(*args.get(1)?)?;
        Some((dt.str, bytes))
    }

    /// Views it as a numpy array.
    #[must_use]
    pub fn as_array(&self) -> Option<Array<'t>> {
        self.st.array(self.v)
    }
}

impl<'t> State<'t> {
    /// The bytes of a bytes/bytearray node, or of protocol 2's
    /// `_codecs.encode(text, 'latin1')`.
    fn bytes_of(&self, v: Value) -> Option<Cow<'t, [u8]>> {
        match self.trace.node(v)? {
            Node::Bytes(b) | Node::ByteArray(b) => Some(Cow::Borrowed(b.as_ref())),
            Node::ReadOnly(inner) => self.bytes_of(*inner),
            Node::Object(o) if global_in(self.trace, o.callable, &["_codecs"], "encode") => {
                let args = tuple(self.trace, o.args)?;
                let text = str_of(self.trace, *args.first()?)?;
                text.chars()
                    .map(|c| u8::try_from(u32::from(c)).ok())
                    .collect::<Option<Vec<u8>>>()
                    .map(Cow::Owned)
            }
            _ => None,
        }
    }

    fn array(&'t self, v: Value) -> Option<Array<'t>> {
        let id = v.node()?.index();
        if let Some(a) = self.inline.get(&id) {
            let dtype = numpy::dtype(self.trace, dtype_value(self.trace, v)?)?;
            let dtype_v = dtype_value(self.trace, v)?;
            let shape: Option<Vec<usize>> =
                a.shape.iter().map(|&d| usize::try_from(d).ok()).collect();
            let shape = shape?;
            if a.object {
                let root = *self.nested.get(&id)?;
                let inner = self.array(root)?;
                return Some(Array { shape, ..inner });
            }
            let end = a.data_offset.checked_add(a.nbytes)?;
            let raw = self.data.get(a.data_offset..end)?;
            return Some(Array {
                st: self,
                descr: dtype.str,
                dtype: dtype_v,
                itemsize: usize::try_from(dtype.itemsize?).ok()?,
                shape,
                fortran: a.order == 'F',
                data: Data::Raw(Cow::Borrowed(raw)),
            });
        }
        let Node::Object(o) = self.trace.node(v)? else {
            return None;
        };
        if o.kind != CallKind::Reduce {
            return None;
        }
        let (shape_v, dtype_v, fortran, data_v) =
            if global_in(self.trace, o.callable, MULTIARRAY, "_reconstruct") {
                let [_, shp, dt, fortran, data] = tuple(self.trace, *o.state.first()?)? else {
                    return None;
                };
                (*shp, *dt, matches!(fortran, Value::Bool(true)), *data)
            } else if global_in(self.trace, o.callable, MULTIARRAY, "_frombuffer") {
                let [buf, dt, shp, order] = tuple(self.trace, o.args)? else {
                    return None;
                };
                (
                    *shp,
                    *dt,
                    str_of(self.trace, *order).as_deref() == Some("F"),
                    *buf,
                )
            } else {
                return None;
            };
        let dtype = numpy::dtype(self.trace, dtype_v)?;
        let shape: Option<Vec<usize>> = numpy::shape(self.trace, shape_v)?
            .into_iter()
            .map(|d| usize::try_from(d).ok())
            .collect();
        let data = if dtype.is_object() {
            match self.trace.node(data_v)? {
                Node::List(items) | Node::Tuple(items) => Data::Objects(items.clone()),
                _ => return None,
            }
        } else {
            Data::Raw(self.bytes_of(data_v)?)
        };
        Some(Array {
            st: self,
            descr: dtype.str,
            dtype: dtype_v,
            itemsize: usize::try_from(dtype.itemsize.unwrap_or(0)).ok()?,
            shape: shape?,
            fortran,
            data,
        })
    }
}

/// The dtype value of a joblib wrapper's state.
fn dtype_value(trace: &Trace<'_>, wrapper: Value) -> Option<Value> {
    let Node::Object(o) = trace.node(wrapper)? else {
        return None;
    };
    let Node::Dict(pairs) = trace.node(*o.state.last()?)? else {
        return None;
    };
    pairs
        .iter()
        .rev()
        .find(|(k, _)| str_of(trace, *k).as_deref() == Some("dtype"))
        .map(|(_, v)| *v)
}

enum Data<'t> {
    Raw(Cow<'t, [u8]>),
    Objects(Vec<Value>),
}

/// A numpy array of the pickle.
pub struct Array<'t> {
    st: &'t State<'t>,
    /// `dtype.str` (`<f8`, `|O`, `|V64`, `<U5`).
    pub descr: String,
    dtype: Value,
    /// Bytes per element.
    pub itemsize: usize,
    /// Shape.
    pub shape: Vec<usize>,
    /// Whether the bytes are in Fortran order.
    pub fortran: bool,
    data: Data<'t>,
}

/// One field of a structured dtype.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// Its name.
    pub name: String,
    /// Its `dtype.str`.
    pub descr: String,
    /// Byte offset in the record.
    pub offset: usize,
}

impl<'t> Array<'t> {
    /// Number of elements.
    #[must_use]
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// Whether it has no elements.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The element bytes in C order (`len * itemsize` bytes), or `None` for object arrays and
    /// short data.
    #[must_use]
    pub fn raw_c(&self) -> Option<Cow<'_, [u8]>> {
        let Data::Raw(raw) = &self.data else {
            return None;
        };
        let n = self.len();
        let want = n.checked_mul(self.itemsize)?;
        if raw.len() < want {
            return None;
        }
        if !self.fortran || self.shape.len() < 2 {
            return Some(Cow::Borrowed(&raw[..want]));
        }
        // Fortran order: element (i0, i1, ...) is at sum(i_k * f_stride_k).
        let rank = self.shape.len();
        let mut fstride = vec![1usize; rank];
        for k in 1..rank {
            fstride[k] = fstride[k - 1] * self.shape[k - 1];
        }
        let mut out = Vec::with_capacity(want);
        let mut idx = vec![0usize; rank];
        for _ in 0..n {
            let at: usize = idx.iter().zip(&fstride).map(|(i, s)| i * s).sum();
            out.extend_from_slice(&raw[at * self.itemsize..(at + 1) * self.itemsize]);
            for k in (0..rank).rev() {
                idx[k] += 1;
                if idx[k] < self.shape[k] {
                    break;
                }
                idx[k] = 0;
            }
        }
        Some(Cow::Owned(out))
    }

    /// The elements as f64 in C order (float, int, uint and bool dtypes, or an object array
    /// of numbers).
    #[must_use]
    pub fn f64s(&self) -> Option<Vec<f64>> {
        if let Data::Objects(items) = &self.data {
            return items.iter().map(|&v| self.st.val(v).as_f64()).collect();
        }
        let raw = self.raw_c()?;
        (0..self.len())
            .map(|i| decode_f64(&self.descr, &raw, i * self.itemsize))
            .collect()
    }

    /// The elements as i64 in C order (int, uint and bool dtypes; floats that are integral).
    #[must_use]
    pub fn i64s(&self) -> Option<Vec<i64>> {
        if let Data::Objects(items) = &self.data {
            return items.iter().map(|&v| self.st.val(v).as_i64()).collect();
        }
        let raw = self.raw_c()?;
        (0..self.len())
            .map(|i| decode_i64(&self.descr, &raw, i * self.itemsize))
            .collect()
    }

    /// The elements of an object array, in C order.
    #[must_use]
    pub fn objects(&self) -> Option<Vec<Val<'t>>> {
        let Data::Objects(items) = &self.data else {
            return None;
        };
        let n = self.len();
        if items.len() != n {
            return None;
        }
        if !self.fortran || self.shape.len() < 2 {
            return Some(items.iter().map(|&v| self.st.val(v)).collect());
        }
        // numpy pickles object arrays' elements in memory order: transpose.
        let rank = self.shape.len();
        let mut fstride = vec![1usize; rank];
        for k in 1..rank {
            fstride[k] = fstride[k - 1] * self.shape[k - 1];
        }
        let mut idx = vec![0usize; rank];
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let at: usize = idx.iter().zip(&fstride).map(|(i, s)| i * s).sum();
            out.push(self.st.val(*items.get(at)?));
            for k in (0..rank).rev() {
                idx[k] += 1;
                if idx[k] < self.shape[k] {
                    break;
                }
                idx[k] = 0;
            }
        }
        Some(out)
    }

    /// The elements as strings: an object array of `str`, or a numpy unicode (`<U`) array.
    #[must_use]
    pub fn strings(&self) -> Option<Vec<String>> {
        if let Data::Objects(_) = &self.data {
            return self.objects()?.iter().map(Val::as_str).collect();
        }
        let code = self.descr.trim_start_matches(['<', '>', '|', '=']);
        if !code.starts_with('U') {
            return None;
        }
        let big = self.descr.starts_with('>');
        let raw = self.raw_c()?;
        (0..self.len())
            .map(|i| {
                let item = raw.get(i * self.itemsize..(i + 1) * self.itemsize)?;
                item.chunks_exact(4)
                    .map(|c| {
                        let c: [u8; 4] = c.try_into().ok()?;
                        Some(if big {
                            u32::from_be_bytes(c)
                        } else {
                            u32::from_le_bytes(c)
                        })
                    })
                    .take_while(|c| *c != Some(0))
                    .map(|c| char::from_u32(c?))
                    .collect::<Option<String>>()
            })
            .collect()
    }

    /// The fields of a structured dtype, by offset (`None` when it is not structured).
    #[must_use]
    pub fn fields(&self) -> Option<Vec<Field>> {
        let trace = self.st.trace;
        let Node::Object(o) = trace.node(self.dtype)? else {
            return None;
        };
        let state = tuple(trace, *o.state.first()?)?;
        let Node::Dict(pairs) = trace.node(*state.get(4)?)? else {
            return None;
        };
        let mut out = Vec::new();
        for (k, v) in pairs {
            let name = str_of(trace, *k)?;
            let parts = tuple(trace, *v)?;
            let descr = numpy::dtype(trace, *parts.first()?)?.str;
            let Value::Int(offset) = *parts.get(1)? else {
                return None;
            };
            out.push(Field {
                name,
                descr,
                offset: usize::try_from(offset).ok()?,
            });
        }
        out.sort_by_key(|f| f.offset);
        Some(out)
    }
}

/// Reads a `$t` of `$n` bytes at byte offset `$at` of `$raw`, big-endian when `$big`;
/// returns `None` from the enclosing function when the bytes run out.
macro_rules! read_num {
    ($t:ty, $n:expr, $raw:expr, $at:expr, $big:expr) => {{
        let b: [u8; $n] = $raw.get($at..$at + $n)?.try_into().ok()?;
        if $big {
            <$t>::from_be_bytes(b)
        } else {
            <$t>::from_le_bytes(b)
        }
    }};
}

/// Reads element `at` (a byte offset) of a numeric dtype as f64.
#[must_use]
pub fn decode_f64(descr: &str, raw: &[u8], at: usize) -> Option<f64> {
    let big = descr.starts_with('>');
    let code = descr.trim_start_matches(['<', '>', '|', '=']);
    macro_rules! rd {
        ($t:ty, $n:expr) => {
            read_num!($t, $n, raw, at, big)
        };
    }
    Some(match code {
        "f8" => rd!(f64, 8),
        "f4" => f64::from(rd!(f32, 4)),
        "f2" => {
            let bits = rd!(u16, 2);
            half_to_f64(bits)
        }
        _ => decode_i64(descr, raw, at)? as f64,
    })
}

fn half_to_f64(h: u16) -> f64 {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = i32::from((h >> 10) & 0x1f);
    let frac = f64::from(h & 0x3ff);
    match exp {
        0 => sign * frac * 2f64.powi(-24),
        31 if frac == 0.0 => sign * f64::INFINITY,
        31 => f64::NAN,
        e => sign * (1.0 + frac / 1024.0) * 2f64.powi(e - 15),
    }
}

/// Reads element `at` (a byte offset) of an integer or bool dtype as i64.
#[must_use]
pub fn decode_i64(descr: &str, raw: &[u8], at: usize) -> Option<i64> {
    let big = descr.starts_with('>');
    let code = descr.trim_start_matches(['<', '>', '|', '=']);
    macro_rules! rd {
        ($t:ty, $n:expr) => {
            read_num!($t, $n, raw, at, big)
        };
    }
    Some(match code {
        "b1" | "u1" => i64::from(*raw.get(at)?),
        "i1" => i64::from(*raw.get(at)? as i8),
        "i2" => i64::from(rd!(i16, 2)),
        "u2" => i64::from(rd!(u16, 2)),
        "i4" => i64::from(rd!(i32, 4)),
        "u4" => i64::from(rd!(u32, 4)),
        "i8" => rd!(i64, 8),
        "u8" => i64::try_from(rd!(u64, 8)).ok()?,
        "f8" | "f4" | "f2" => {
            let x = decode_f64(descr, raw, at)?;
            if x.fract() != 0.0 || !x.is_finite() || x.abs() > 9.0e15 {
                return None;
            }
            x as i64
        }
        _ => return None,
    })
}

/// An instance of a class with its pickled `__dict__`.
#[derive(Clone, Copy)]
pub struct Estimator<'t> {
    st: &'t State<'t>,
    /// The instance.
    pub v: Value,
    /// The class's module (`sklearn.linear_model._logistic`).
    pub module: &'t str,
    /// The class's name (`LogisticRegression`).
    pub name: &'t str,
    dict: &'t [(Value, Value)],
}

impl<'t> Estimator<'t> {
    /// `module.name`.
    #[must_use]
    pub fn dotted(&self) -> String {
        format!("{}.{}", self.module, self.name)
    }

    /// The value of attribute `key`, if pickled.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<Val<'t>> {
        self.dict
            .iter()
            .rev()
            .find(|(k, _)| str_of(self.st.trace, *k).as_deref() == Some(key))
            .map(|&(_, v)| self.st.val(v))
    }

    /// Whether attribute `key` is pickled.
    #[must_use]
    pub fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// The positional arguments the instance was created with (a `Tree`'s
    /// `(n_features, n_classes, n_outputs)`).
    #[must_use]
    pub fn args(&self) -> Vec<Val<'t>> {
        let Some(Node::Object(o)) = self.st.trace.node(self.v) else {
            return Vec::new();
        };
        let items: &[Value] = match self.st.trace.node(o.args) {
            Some(Node::Tuple(t) | Node::List(t)) => t,
            _ => return Vec::new(),
        };
        // copyreg.__newobj__(cls, *args): skip the class.
        let skip = usize::from(
            self.st
                .trace
                .as_global(o.callable)
                .and_then(|g| g.literal())
                .is_some_and(|(m, n)| m == "copyreg" && n == "__newobj__"),
        );
        items.iter().skip(skip).map(|&v| self.st.val(v)).collect()
    }

    fn need(&self, key: &str) -> Res<Val<'t>> {
        self.get(key).ok_or_else(|| {
            Refusal::new(format!(
                "{} has no attribute {key:?} in its pickled state (not fitted?)",
                self.name
            ))
        })
    }

    fn bad(&self, key: &str, what: &str) -> Refusal {
        Refusal::new(format!("{}.{key} is not {what}", self.name))
    }

    /// A number attribute.
    ///
    /// # Errors
    /// Missing or not a number.
    pub fn f64(&self, key: &str) -> Res<f64> {
        self.need(key)?
            .as_f64()
            .ok_or_else(|| self.bad(key, "a number"))
    }

    /// An int attribute.
    ///
    /// # Errors
    /// Missing or not an int.
    pub fn i64(&self, key: &str) -> Res<i64> {
        self.need(key)?
            .as_i64()
            .ok_or_else(|| self.bad(key, "an int"))
    }

    /// A bool attribute.
    ///
    /// # Errors
    /// Missing or not a bool.
    pub fn bool(&self, key: &str) -> Res<bool> {
        self.need(key)?
            .as_bool()
            .ok_or_else(|| self.bad(key, "a bool"))
    }

    /// A str attribute.
    ///
    /// # Errors
    /// Missing or not a str.
    pub fn str(&self, key: &str) -> Res<String> {
        self.need(key)?
            .as_str()
            .ok_or_else(|| self.bad(key, "a string"))
    }

    /// A str attribute, or `None` when absent or not a str.
    #[must_use]
    pub fn str_opt(&self, key: &str) -> Option<String> {
        self.get(key)?.as_str()
    }

    /// Whether attribute `key` is absent or `None`.
    #[must_use]
    pub fn is_none(&self, key: &str) -> bool {
        self.get(key).is_none_or(|v| v.is_none())
    }

    /// An array attribute.
    ///
    /// # Errors
    /// Missing or not a numpy array this reader can decode.
    pub fn array(&self, key: &str) -> Res<Array<'t>> {
        self.need(key)?
            .as_array()
            .ok_or_else(|| self.bad(key, "a numpy array this exporter can read"))
    }

    /// A numeric array attribute as f64 in C order, with its shape.
    ///
    /// # Errors
    /// Missing, not an array, or not numeric.
    pub fn f64s(&self, key: &str) -> Res<(Vec<f64>, Vec<usize>)> {
        let a = self.array(key)?;
        let v = a.f64s().ok_or_else(|| self.bad(key, "a numeric array"))?;
        Ok((v, a.shape))
    }

    /// An integer array attribute in C order, with its shape.
    ///
    /// # Errors
    /// Missing, not an array, or not integral.
    pub fn i64s(&self, key: &str) -> Res<(Vec<i64>, Vec<usize>)> {
        let a = self.array(key)?;
        let v = a.i64s().ok_or_else(|| self.bad(key, "an integer array"))?;
        Ok((v, a.shape))
    }

    /// A list or tuple attribute.
    ///
    /// # Errors
    /// Missing or not a list.
    pub fn list(&self, key: &str) -> Res<Vec<Val<'t>>> {
        self.need(key)?
            .as_list()
            .ok_or_else(|| self.bad(key, "a list"))
    }

    /// A nested estimator attribute.
    ///
    /// # Errors
    /// Missing or not an instance.
    pub fn estimator(&self, key: &str) -> Res<Estimator<'t>> {
        self.need(key)?
            .as_estimator()
            .ok_or_else(|| self.bad(key, "an estimator"))
    }

    /// The attribute names pickled, in order.
    #[must_use]
    pub fn keys(&self) -> Vec<String> {
        self.dict
            .iter()
            .filter_map(|(k, _)| str_of(self.st.trace, *k))
            .collect()
    }

    /// `feature_names_in_`, when fitted on a DataFrame.
    #[must_use]
    pub fn feature_names(&self) -> Option<Vec<String>> {
        self.get("feature_names_in_")?.as_array()?.strings()
    }

    /// The number of input features (`n_features_in_`).
    #[must_use]
    pub fn n_features(&self) -> Option<usize> {
        usize::try_from(self.get("n_features_in_")?.as_i64()?).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_elements_decode_in_both_byte_orders() {
        let le = 1.5f64.to_le_bytes();
        let be = 1.5f64.to_be_bytes();
        assert_eq!(decode_f64("<f8", &le, 0), Some(1.5));
        assert_eq!(decode_f64(">f8", &be, 0), Some(1.5));
        assert_eq!(decode_f64("<f4", &0.25f32.to_le_bytes(), 0), Some(0.25));
        // float16 1.0 is 0x3c00.
        assert_eq!(decode_f64("<f2", &[0x00, 0x3c], 0), Some(1.0));
        assert_eq!(decode_i64("<i4", &(-7i32).to_le_bytes(), 0), Some(-7));
        assert_eq!(decode_i64("|b1", &[1], 0), Some(1));
        // An integral float reads as an int; a fractional one does not.
        assert_eq!(decode_i64("<f8", &3.0f64.to_le_bytes(), 0), Some(3));
        assert_eq!(decode_i64("<f8", &3.5f64.to_le_bytes(), 0), None);
        // Short data is not read past.
        assert_eq!(decode_f64("<f8", &le[..4], 0), None);
        assert_eq!(decode_i64("|O", &le, 0), None);
    }

    #[test]
    fn refusal_paths_nest_outermost_first() {
        let r = Refusal::new("x").at("steps[0] ('a')").at("steps[2] ('ct')");
        assert_eq!(r.path, "steps[2] ('ct') > steps[0] ('a')");
    }
}
