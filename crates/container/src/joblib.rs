//! joblib: arrays written inline after their `NumpyArrayWrapper`.
//!
//! `joblib.dump` replaces each numpy array by a `joblib.numpy_pickle.NumpyArrayWrapper`
//! (built with NEWOBJ and BUILD, state `{'subclass', 'shape', 'order', 'dtype', 'allow_mmap',
//! 'numpy_array_alignment_bytes'}`), and right after that BUILD writes the array's bytes into
//! the stream: with alignment, one pad-length byte and that many `0xff` bytes first; for object
//! arrays, a complete nested pickle instead. [`ArrayHook`] tells the symbolic machine where the
//! pickle resumes, and records each array.

use vm::{Hooks, Node, Resume, Trace, Value};

use crate::numpy;

/// Modules that have held `NumpyArrayWrapper` and the older `NDArrayWrapper`.
const MODULES: &[&str] = &[
    "joblib.numpy_pickle",
    "sklearn.externals.joblib.numpy_pickle",
    "joblib.numpy_pickle_compat",
    "sklearn.externals.joblib.numpy_pickle_compat",
];

/// Whether the stream names joblib's array wrappers (a SIMD byte search before running it;
/// the first wrapper can sit anywhere, after megabytes of other objects).
#[must_use]
pub fn mentions_wrapper(data: &[u8]) -> bool {
    memchr::memmem::find(data, b"ArrayWrapper").is_some()
}

/// An array found inline in a joblib stream.
#[derive(Debug, Clone, PartialEq)]
pub struct InlineArray {
    /// The wrapper object in the trace.
    pub wrapper: Value,
    /// dtype string.
    pub dtype: String,
    /// Shape.
    pub shape: Vec<i64>,
    /// `C` or `F`.
    pub order: char,
    /// Offset just after the wrapper's BUILD, where the array's bytes (and any alignment
    /// padding) begin.
    pub build_end: usize,
    /// Offset of the first data byte in the (decompressed) stream.
    pub data_offset: usize,
    /// Data bytes (0 for object arrays, whose data is a nested pickle).
    pub nbytes: usize,
    /// Whether the elements are Python objects (a nested pickle follows).
    pub object: bool,
}

/// An old-style wrapper pointing at a sibling file that must be shipped with the dump.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalFile {
    /// The file name recorded in the pickle.
    pub filename: String,
}

/// The joblib hook: skips inline array data and records arrays and external files.
#[derive(Debug)]
pub struct ArrayHook<'d> {
    /// The stream the machine runs over (to read alignment pad bytes).
    data: &'d [u8],
    /// Arrays, in stream order.
    pub arrays: Vec<InlineArray>,
    /// Files an `NDArrayWrapper`/`ZNDArrayWrapper` needs next to the dump.
    pub external_files: Vec<ExternalFile>,
}

fn wrapper_name<'t>(trace: &'t Trace<'_>, v: Value) -> Option<&'t str> {
    let Node::Object(o) = trace.node(v)? else {
        return None;
    };
    let g = trace.as_global(o.callable)?;
    MODULES
        .contains(&g.module.literal()?)
        .then(|| g.name.literal())
        .flatten()
}

fn state_get(trace: &Trace<'_>, state: Value, key: &str) -> Option<Value> {
    let Node::Dict(pairs) = trace.node(state)? else {
        return None;
    };
    pairs
        .iter()
        .rev()
        .find(|(k, _)| numpy::str_of(trace, *k).as_deref() == Some(key))
        .map(|(_, v)| *v)
}

impl<'d> ArrayHook<'d> {
    /// A hook for the stream `data`.
    #[must_use]
    pub fn new(data: &'d [u8]) -> Self {
        ArrayHook {
            data,
            arrays: Vec::new(),
            external_files: Vec::new(),
        }
    }
}

impl<'a> Hooks<'a> for ArrayHook<'_> {
    fn after_build(&mut self, trace: &Trace<'a>, target: Value, pos: usize) -> Resume {
        let Some(name) = wrapper_name(trace, target) else {
            return Resume::Continue;
        };
        let Some(Node::Object(o)) = trace.node(target) else {
            return Resume::Continue;
        };
        let Some(&state) = o.state.last() else {
            return Resume::Continue;
        };
        if name == "NDArrayWrapper" || name == "ZNDArrayWrapper" {
            if let Some(f) =
                state_get(trace, state, "filename").and_then(|f| numpy::str_of(trace, f))
            {
                self.external_files.push(ExternalFile { filename: f });
            }
            return Resume::Continue;
        }
        if name != "NumpyArrayWrapper" {
            return Resume::Continue;
        }
        let dtype = state_get(trace, state, "dtype").and_then(|d| numpy::dtype(trace, d));
        let shape = state_get(trace, state, "shape").and_then(|s| numpy::shape(trace, s));
        let (Some(dtype), Some(shape)) = (dtype, shape) else {
            return Resume::Continue;
        };
        let order = state_get(trace, state, "order")
            .and_then(|o| numpy::str_of(trace, o))
            .and_then(|o| o.chars().next())
            .unwrap_or('C');
        let aligned = state_get(trace, state, "numpy_array_alignment_bytes")
            .is_some_and(|v| v != Value::None);
        let object = dtype.is_object();
        let count: i64 = shape.iter().product();
        let nbytes = if object {
            0
        } else {
            usize::try_from(count)
                .unwrap_or(usize::MAX)
                .saturating_mul(dtype.itemsize.unwrap_or(0) as usize)
        };
        // Object arrays are pickled, not written raw, so joblib does not pad them.
        let data_offset = if aligned && !object {
            // One byte giving the pad length, then that many 0xff bytes.
            match self.data.get(pos).copied() {
                Some(pad) => pos + 1 + usize::from(pad),
                None => pos + 1,
            }
        } else {
            pos
        };
        self.arrays.push(InlineArray {
            wrapper: target,
            dtype: dtype.str,
            shape,
            order,
            build_end: pos,
            data_offset,
            nbytes,
            object,
        });
        if object {
            Resume::NestedPickleAt(data_offset)
        } else {
            Resume::SkipTo(data_offset.saturating_add(nbytes))
        }
    }
}
