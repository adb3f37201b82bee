//! One module per family of scikit-learn estimators, each with a `CONVERTERS` table
//! ([`super::registry::Entry`]).

pub mod compose;
pub mod linear;
pub mod neighbors;
pub mod preprocessing;
pub mod trees;
