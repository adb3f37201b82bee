//! neighbors converters.

use crate::export::onnx::registry::Entry;

/// The neighbors converters.
pub const CONVERTERS: &[Entry] = &[];
