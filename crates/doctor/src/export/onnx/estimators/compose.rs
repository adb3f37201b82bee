//! compose converters.

use crate::export::onnx::registry::Entry;

/// The compose converters.
pub const CONVERTERS: &[Entry] = &[];
