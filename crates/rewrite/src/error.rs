//! Why a file cannot be rewritten.

/// A rewrite that cannot be done safely, with the offset that decided it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RewriteError {
    /// Byte offset in the stream (or file) where the problem is.
    pub offset: u64,
    /// What is wrong, in one line.
    pub message: String,
}

impl RewriteError {
    pub(crate) fn new(offset: u64, message: impl Into<String>) -> Self {
        RewriteError {
            offset,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for RewriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (at byte {})", self.message, self.offset)
    }
}

impl std::error::Error for RewriteError {}
