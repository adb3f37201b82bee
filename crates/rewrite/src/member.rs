//! Rewriting the pickle members of an opened container.

use container::joblib::ArrayHook;
use container::{Loader, Member, MemberKind, Opened};

use crate::error::RewriteError;
use crate::globals::{self, Renamed};
use crate::plan::Plan;
use crate::state::{self, Repaired, StateRepair};
use crate::stream::{Gap, Item, Stream};

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

/// A budget the rewrite ran out of, worded as the symbolic machine words it.
fn over_budget(offset: u64, budget: vm::Budget, limit: u64) -> RewriteError {
    RewriteError::new(
        offset,
        format!("budget exceeded: more than {limit} {}", budget.name()),
    )
}

/// Where a joblib stream's inline arrays sit, from the same run of the symbolic machine
/// that `show` and `check` use, under the caller's budgets.
///
/// A run stopped by a budget is an error: the arrays past that point would be unknown, and
/// their bytes read as ops. Other errors are left to [`Stream::parse`], which reports them
/// where the stream stops making sense.
fn joblib_gaps(member: &Member<'_>, budgets: vm::Budgets) -> Result<Vec<Gap>, RewriteError> {
    let mut hook = ArrayHook::new(&member.data);
    let trace = vm::run_hooked(&member.data, budgets, &mut hook);
    if let Some(e) = trace.error()
        && let vm::VmErrorKind::Budget { budget, limit } = e.kind
    {
        return Err(over_budget(e.offset, budget, limit));
    }
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
    Ok(gaps)
}

/// Counts a parsed member's ops and pickles against `max_ops` and `max_pickles`, as the
/// symbolic machine counts them. Everything else the rewrite builds (its op walk's stack,
/// memo and values) is at most one entry per op, so these two bound its work and memory.
fn check_stream_budgets(stream: &Stream<'_>, budgets: vm::Budgets) -> Result<(), RewriteError> {
    let (mut ops, mut pickles) = (0u64, 0usize);
    for item in stream.items() {
        match item {
            Item::Op(op) => {
                ops += 1;
                if ops > budgets.max_ops {
                    return Err(over_budget(op.offset, vm::Budget::Ops, budgets.max_ops));
                }
            }
            Item::PickleStart { at, .. } => {
                pickles += 1;
                if pickles > budgets.max_pickles {
                    return Err(over_budget(
                        *at as u64,
                        vm::Budget::Pickles,
                        budgets.max_pickles as u64,
                    ));
                }
            }
            Item::Gap(_) => {}
        }
    }
    Ok(())
}

/// Applies `plan` and `repairs` to every pickle member of `opened`, under the default
/// budgets ([`vm::Budgets::default`]). Prefer [`fix_members_with`] with the user's budgets.
///
/// # Errors
/// The member and why it cannot be rewritten (a malformed stream, a budget exceeded).
pub fn fix_members(
    opened: &Opened<'_>,
    plan: &Plan,
    repairs: &[StateRepair],
) -> Result<Vec<MemberFix>, (String, RewriteError)> {
    fix_members_with(opened, plan, repairs, vm::Budgets::default())
}

/// Applies `plan` and `repairs` to every pickle member of `opened`, bounded by `budgets`:
/// the joblib array pass runs the symbolic machine under them, and every member's ops and
/// pickles count against `max_ops` and `max_pickles`. Running out of one is an error that
/// names it, as it is in `check`.
///
/// # Errors
/// The member and why it cannot be rewritten (a malformed stream, a budget exceeded).
pub fn fix_members_with(
    opened: &Opened<'_>,
    plan: &Plan,
    repairs: &[StateRepair],
    budgets: vm::Budgets,
) -> Result<Vec<MemberFix>, (String, RewriteError)> {
    let mut out = Vec::new();
    for m in opened.pickles() {
        let fail = |e| (m.name.clone(), e);
        let gaps = if m.kind == MemberKind::Pickle(Loader::Joblib) {
            joblib_gaps(m, budgets).map_err(fail)?
        } else {
            Vec::new()
        };
        let stream = Stream::parse(&m.data, &gaps).map_err(fail)?;
        check_stream_budgets(&stream, budgets).map_err(fail)?;
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
