//! Analyses over the symbolic trace of a pickle.
//!
//! # Brief overview
//!
//! [`security`] turns a [`vm::Trace`] into findings: globals that would run code, read files or
//! reach the network when the pickle is loaded, names computed at load time, extension codes,
//! and streams that stop before STOP (whose prefix Python has already run). Each rule lives in
//! its own file under `security/rules/` and documents itself the way ruff documents rules;
//! `pickle-doctor rule CODE` prints that documentation. What counts as dangerous or harmless
//! is data (`data/security.toml`), not code.
//!
//! [`requirements`] lists the distributions a file needs, with the versions the target has
//! or the data shows.
//!
//! ```
//! let trace = vm::run(b"cposix\nsystem\n(S'id'\ntR.");
//! let findings = analyze::security::scan(&trace, &analyze::security::Policy::default());
//! assert_eq!(findings[0].code, "PD101");
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod load;
pub mod producer;
pub mod requirements;
pub mod security;

/// Serializes an empty string as JSON `null`: members are named by the empty string when the
/// whole file is one pickle, and reports write `"member": null` for them.
///
/// # Errors
/// The serializer's.
#[allow(clippy::ptr_arg, reason = "serde's serialize_with passes the field")]
pub fn empty_as_null<S: serde::Serializer>(s: &String, ser: S) -> Result<S::Ok, S::Error> {
    if s.is_empty() {
        ser.serialize_none()
    } else {
        ser.serialize_some(s)
    }
}

/// For a module under `__torch__` (the namespace TorchScript gives the classes it compiles),
/// the archive file that defines it: `__torch__.tinynet` is `code/__torch__/tinynet.py`.
/// `torch.jit.load` compiles those files; no Python module of that name exists
/// (https://github.com/pytorch/pytorch/blob/main/torch/csrc/jit/serialization/import.cpp).
#[must_use]
pub fn torchscript_source(module: &str) -> Option<String> {
    (module == "__torch__" || module.starts_with("__torch__."))
        .then(|| format!("code/{}.py", module.replace('.', "/")))
}
