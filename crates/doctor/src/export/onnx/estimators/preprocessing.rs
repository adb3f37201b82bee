//! preprocessing converters.

use crate::export::onnx::registry::Entry;

/// The preprocessing converters.
pub const CONVERTERS: &[Entry] = &[];
