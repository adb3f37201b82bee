//! One error type for every facade call. Each variant is one class of failure a caller can act
//! on differently (and one Python exception class): the file cannot be read, its content is not
//! what it claims, the target environment cannot be read, an argument is invalid, or a rewrite
//! failed. Messages are one line, say which file, and never name command-line flags: front ends
//! add their own vocabulary.

use std::fmt;
use std::io;

/// Why a facade call failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The file cannot be read.
    Io {
        /// What was being read, as the user named it.
        path: String,
        /// What was being done (`open`, `read`, `stat`, `write`, ...).
        action: &'static str,
        /// The operating system's error.
        source: io::Error,
    },
    /// The content cannot be opened: damaged container, unknown format, inflation budget.
    Open {
        /// The file.
        path: String,
        /// Why.
        source: container::OpenError,
    },
    /// The file is something that cannot hold a model (a Git LFS pointer, an HTML page, ...).
    NotAModel {
        /// The file.
        path: String,
        /// The format's own explanation.
        why: &'static str,
    },
    /// `FILE:MEMBER` names a member the file does not have.
    NoSuchMember {
        /// The file.
        path: String,
        /// The member asked for.
        name: String,
        /// The members there are.
        members: Vec<String>,
    },
    /// The target Python environment cannot be read.
    Environment(pyenv::EnvError),
    /// An argument is invalid (a loader name, a rename map, a policy, a version).
    Usage(String),
    /// A rewrite failed: the stream cannot be rewritten at this offset.
    Rewrite {
        /// The file and member.
        place: String,
        /// Why, with the offset.
        source: rewrite::RewriteError,
    },
    /// The caller asked to stop (Ctrl-C in the Python binding).
    Interrupted,
}

/// The class of an [`Error`], stable for bindings (`NativeError(kind, message)` in Python).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// [`Error::Io`].
    Io,
    /// [`Error::Open`], [`Error::NotAModel`], [`Error::NoSuchMember`].
    Input,
    /// [`Error::Environment`].
    Environment,
    /// [`Error::Usage`].
    Usage,
    /// [`Error::Rewrite`].
    Rewrite,
    /// [`Error::Interrupted`].
    Interrupted,
}

impl ErrorKind {
    /// The name bindings use.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Io => "io",
            ErrorKind::Input => "input",
            ErrorKind::Environment => "environment",
            ErrorKind::Usage => "usage",
            ErrorKind::Rewrite => "rewrite",
            ErrorKind::Interrupted => "interrupted",
        }
    }
}

impl Error {
    /// The class of this error.
    #[must_use]
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Io { .. } => ErrorKind::Io,
            Error::Open { .. } | Error::NotAModel { .. } | Error::NoSuchMember { .. } => {
                ErrorKind::Input
            }
            Error::Environment(_) => ErrorKind::Environment,
            Error::Usage(_) => ErrorKind::Usage,
            Error::Rewrite { .. } => ErrorKind::Rewrite,
            Error::Interrupted => ErrorKind::Interrupted,
        }
    }

    pub(crate) fn io(path: impl fmt::Display, action: &'static str, source: io::Error) -> Self {
        Error::Io {
            path: path.to_string(),
            action,
            source,
        }
    }

    pub(crate) fn open(path: impl fmt::Display, source: container::OpenError) -> Self {
        Error::Open {
            path: path.to_string(),
            source,
        }
    }

    /// Whether this is a broken pipe on output (a reader that went away is not an error).
    #[must_use]
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Io { source, .. } if source.kind() == io::ErrorKind::BrokenPipe)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io {
                path,
                action,
                source,
            } => write!(f, "cannot {action} {path}: {source}"),
            Error::Open { path, source } => write!(f, "{path}: {source}"),
            Error::NotAModel { path, why } => write!(f, "{path}: {why}"),
            Error::NoSuchMember {
                path,
                name,
                members,
            } => write!(
                f,
                "{path} has no member {name:?}; members: {}",
                members.join(", ")
            ),
            Error::Environment(e) => write!(f, "{e}"),
            Error::Usage(m) => f.write_str(m),
            Error::Rewrite { place, source } => write!(f, "{place}: {source}"),
            Error::Interrupted => f.write_str("interrupted"),
        }
    }
}

/// The message already includes each cause's text, so no `source()` is given: error
/// reporters that walk the chain (anyhow's `{:#}`) would print it twice.
impl std::error::Error for Error {}

impl From<pyenv::EnvError> for Error {
    fn from(e: pyenv::EnvError) -> Self {
        Error::Environment(e)
    }
}

/// The facade's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
