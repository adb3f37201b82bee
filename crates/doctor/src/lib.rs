//! pickle-doctor's library facade: what every front end calls.
//!
//! The lower crates each do one step of the one-way flow (bytes → container → pickle ops → VM
//! trace → analyses → report). This crate strings them together into the jobs users have, with
//! owned, `Send`, serde-serializable results and one [`Error`] type, so that the CLI and the
//! Python binding are thin and cannot disagree:
//!
//! | job | call | result |
//! |---|---|---|
//! | will it load there? | [`Session::check`] | [`CheckReport`] |
//! | what does it need? | [`Session::requirements`] | [`Requirement`]s |
//! | make it load | [`Session::fix`] | [`FixOutcome`] |
//! | would it run code? | [`scan::scan_bytes`], [`scan::scan_paths`] | [`ScanReport`] |
//! | see inside | [`show`], [`dis`] | rendered text or JSON |
//!
//! [`render`] holds the output formats (text, JSON, SARIF, GitHub annotations) so that the
//! CLI's `--format json` and the binding's dictionaries are one contract (docs/json.md).
//!
//! Nothing here prints, exits, draws progress bars or memory-maps files without being asked:
//! those are the front end's decisions.

#![deny(missing_docs)]

pub mod check;
pub mod dis;
pub mod error;
pub mod export;
pub mod fix;
pub mod input;
pub mod members;
pub mod render;
pub mod requirements;
pub mod safe_load;
pub mod scan;
pub mod show;
pub mod target;
pub mod trailing;

pub use check::{CheckOptions, CheckReport};
pub use error::{Error, ErrorKind, Result};
pub use fix::{Advice, FixOptions, FixOutcome, Refusal};
pub use input::Input;
pub use requirements::Requirement;
pub use scan::{ScanOptions, ScanReport, ScanVerdict};
pub use target::TargetSpec;

/// Budgets for one run: how much may be inflated, and how far the symbolic machine may go.
#[derive(Debug, Clone, Copy, Default)]
pub struct Limits {
    /// Decompression limits.
    pub inflate: container::Limits,
    /// Symbolic-run budgets.
    pub budgets: vm::Budgets,
}

/// The knowledge base, parsed once per process.
#[must_use]
pub fn knowledge() -> &'static knowledge::Knowledge {
    knowledge::Knowledge::get()
}

/// A target environment with the knowledge base: what `check`, `requirements` and `fix` need.
pub struct Session {
    env: pyenv::Environment,
    limits: Limits,
    /// The target's class schemas (for breaks at first use), read once per session.
    schemas: std::sync::Arc<pyenv::Schemas>,
}

impl Session {
    /// Reads the target environment.
    ///
    /// # Errors
    /// [`Error::Environment`].
    pub fn new(target: &TargetSpec, limits: Limits) -> Result<Session> {
        Ok(Session::with_environment(target.environment()?, limits))
    }

    /// A session over an environment already read.
    #[must_use]
    pub fn with_environment(env: pyenv::Environment, limits: Limits) -> Session {
        Session {
            env,
            limits,
            schemas: std::sync::Arc::default(),
        }
    }

    /// The target environment.
    #[must_use]
    pub fn environment(&self) -> &pyenv::Environment {
        &self.env
    }

    /// The limits.
    #[must_use]
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The `environment` object of the JSON documents: `{"python": "3.11.7", "paths": [...]}`.
    #[must_use]
    pub fn environment_json(&self) -> serde_json::Value {
        let (a, b, c) = self.env.version;
        serde_json::json!({"python": format!("{a}.{b}.{c}"), "paths": self.env.path})
    }
}
