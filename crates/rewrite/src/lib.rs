//! Repairs pickles without running them: `pickle-doctor fix`.
//!
//! # Brief overview
//!
//! Data flows one way, like the rest of the workspace:
//!
//! 1. [`plan`]: what to rename. The user's `--map` entries and the renames `check` found
//!    valid for the target's versions become one [`Plan`].
//! 2. [`stream`]: each pickle member is split into ops and raw gaps (joblib arrays).
//! 3. [`globals`] and [`state`]: the renames and state-level repairs become [`Edits`], whole
//!    ops replaced by new ones. Memo indices never move, and an op nobody asked to change is
//!    copied byte for byte.
//! 4. [`repack`]: the container is written back the way its library writes it.
//!
//! Proving that the result loads is the caller's job (`check` on the output): this crate only
//! knows bytes.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod compress;
mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod globals;
mod member;
pub mod plan;
pub mod repack;
pub mod state;
pub mod stream;

pub use error::RewriteError;
pub use globals::{How, Renamed};
pub use member::{MemberFix, fix_members, fix_members_with};
pub use plan::{Origin, Plan, QualName, UserMap};
pub use stream::{Edits, Gap, Stream};
