//! linear converters.

use crate::export::onnx::registry::Entry;

/// The linear converters.
pub const CONVERTERS: &[Entry] = &[];
