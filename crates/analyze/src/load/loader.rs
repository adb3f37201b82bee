//! The loaders a model file meets, and how each words its errors.
//!
//! `pickle.load` and `np.load` use the C unpickler; `joblib.load` and pandas' compat retry
//! subclass the pure-Python `pickle._Unpickler`; torch subclasses the C one. The two differ
//! in how a missing attribute is reported below protocol 4 (docs/design.md, "Loaders").

use std::fmt;

/// A loader.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Loader {
    /// `pickle.load`.
    Pickle,
    /// `joblib.load`.
    Joblib,
    /// `torch.load`.
    Torch,
    /// `numpy.load(allow_pickle=True)`.
    Numpy,
    /// `pandas.read_pickle`: `pickle.load`, then a retry through `pickle_compat`.
    Pandas,
    /// `safetensors.safe_open` / `load_file`: reads a safetensors file, unpickles nothing.
    Safetensors,
    /// A GGUF reader (llama.cpp, `gguf`): reads a GGUF file, unpickles nothing.
    Gguf,
    /// An ONNX runtime or `onnx.load`: reads a protobuf model, unpickles nothing.
    Onnx,
}

impl Loader {
    /// Name used in output and on the command line.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Loader::Pickle => "pickle",
            Loader::Joblib => "joblib",
            Loader::Torch => "torch",
            Loader::Numpy => "numpy",
            Loader::Pandas => "pandas",
            Loader::Safetensors => "safetensors",
            Loader::Gguf => "gguf",
            Loader::Onnx => "onnx",
        }
    }

    /// Parses the name of a pickle loader (`pickle`, `joblib`, `torch`, `numpy`, `pandas`):
    /// the loaders that can be forced on a file. The readers of data-only formats are chosen
    /// from content only.
    #[must_use]
    pub fn parse(s: &str) -> Option<Loader> {
        Some(match s {
            "pickle" => Loader::Pickle,
            "joblib" => Loader::Joblib,
            "torch" => Loader::Torch,
            "numpy" => Loader::Numpy,
            "pandas" => Loader::Pandas,
            _ => return None,
        })
    }

    /// The package the loader itself needs.
    #[must_use]
    pub fn package(self) -> Option<&'static str> {
        match self {
            Loader::Pickle => None,
            Loader::Joblib => Some("joblib"),
            Loader::Torch => Some("torch"),
            Loader::Numpy => Some("numpy"),
            Loader::Pandas => Some("pandas"),
            Loader::Safetensors => Some("safetensors"),
            // llama.cpp and onnxruntime are not necessarily Python packages: nothing to import.
            Loader::Gguf | Loader::Onnx => None,
        }
    }

    /// Whether the unpickler that reports errors is the pure-Python one.
    #[must_use]
    pub fn pure_python(self) -> bool {
        matches!(self, Loader::Joblib | Loader::Pandas)
    }

    /// The `AttributeError` message for `name` missing on `module_repr`.
    #[must_use]
    pub fn attribute_error(
        self,
        protocol: u8,
        module: &str,
        module_repr: &str,
        name: &str,
    ) -> String {
        // `module '%U' has no attribute '%U'` (the module object's getattr) prints the str;
        // `Can't get attribute %R` (`_pickle.c`, `pickle.py` from protocol 4) its repr.
        if self.pure_python() && protocol < 4 {
            format!("AttributeError: module '{module}' has no attribute '{name}'")
        } else {
            format!(
                "AttributeError: Can't get attribute {} on {module_repr}",
                py_repr(name)
            )
        }
    }
}

/// Python's `repr()` of a str: what `%R` / `{!r}` put in an error message (a name with a
/// carriage return reads `'__builtin__\r'`).
#[must_use]
pub(crate) fn py_repr(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    pickle::pyrepr::str_repr(&mut out, s.as_bytes());
    out
}

/// `ModuleNotFoundError: No module named %R` (importlib's `_ERR_MSG`, `{!r}`).
#[must_use]
pub(crate) fn module_not_found(missing: &str) -> String {
    format!("ModuleNotFoundError: No module named {}", py_repr(missing))
}

impl fmt::Display for Loader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
