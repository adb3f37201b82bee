//! Rewriting the pickle members of an opened container.

use container::joblib::ArrayHook;
use container::{Loader, Member, MemberKind, Opened};

use crate::error::RewriteError;
use crate::globals::{self, Renamed};
use crate::plan::Plan;
use crate::state::{self, Repaired, StateRepair};
use crate::stream::{Gap, Stream};

/// joblib's `NUMPY_ARRAY_ALIGNMENT_BYTES`.
const JOBLIB_ALIGNMENT: u8 = 16;

/// What was done to one member.
#[derive(Debug, Clone)]
pub struct MemberFix {
    /// The member (empty for a whole-file pickle).
    pub member: String,
    /// Globals renamed.
    pub renamed: Vec<Renamed>,
    /// State-level repairs applied.
    pub repaired: Vec<Repaired>,
    /// The new bytes, when anything changed.
    pub bytes: Option<Vec<u8>>,
}

/// Where a joblib stream's inline arrays sit, from the same run of the symbolic machine
/// that `show` and `check` use.
fn joblib_gaps(member: &Member<'_>) -> Vec<Gap> {
    let mut hook = ArrayHook::new(&member.data);
    let _ = vm::run_hooked(&member.data, vm::Budgets::default(), &mut hook);
    let mut gaps: Vec<Gap> = hook
        .arrays
        .iter()
        .map(|a| {
            if a.object {
                Gap::NestedPickle { at: a.data_offset }
            } else if a.data_offset > a.build_end {
                Gap::AlignedArray {
                    pad_at: a.build_end,
                    data_start: a.data_offset,
                    data_end: a.data_offset + a.nbytes,
                    align: JOBLIB_ALIGNMENT,
                }
            } else {
                Gap::Raw {
                    start: a.build_end,
                    end: a.build_end + a.nbytes,
                }
            }
        })
        .collect();
    gaps.sort_by_key(Gap::start);
    gaps
}

/// Applies `plan` and `repairs` to every pickle member of `opened`.
///
/// # Errors
/// The member and why it cannot be rewritten (a malformed stream).
pub fn fix_members(
    opened: &Opened<'_>,
    plan: &Plan,
    repairs: &[StateRepair],
) -> Result<Vec<MemberFix>, (String, RewriteError)> {
    let mut out = Vec::new();
    for m in opened.pickles() {
        let gaps = if m.kind == MemberKind::Pickle(Loader::Joblib) {
            joblib_gaps(m)
        } else {
            Vec::new()
        };
        let stream = Stream::parse(&m.data, &gaps).map_err(|e| (m.name.clone(), e))?;
        let (mut edits, renamed) = globals::rename(&stream, plan);
        let (state_edits, repaired) = state::apply(&stream, repairs);
        edits.merge(state_edits);
        let bytes = (!edits.is_empty()).then(|| stream.emit(&edits));
        out.push(MemberFix {
            member: m.name.clone(),
            renamed,
            repaired,
            bytes,
        });
    }
    Ok(out)
}
