//! Bytes after the pickle a loader reads. `pickle.load` (and `torch.load`, `joblib.load`,
//! `numpy.load` for object arrays) reads one pickle, stops at its STOP and ignores whatever
//! follows; writers often leave a newline there. `show`, `check` and `dis` note such bytes and
//! otherwise behave as if they were not there; `scan` still scans every further pickle.

use container::Member;
use serde::Serialize;
use vm::Trace;

/// Bytes after the last pickle that reads to its STOP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrailingBytes {
    /// The member they are in (empty for a plain pickle file).
    pub member: String,
    /// Offset of the first of them (just past a STOP), within the member's pickle stream (as
    /// `scan` findings count).
    pub offset: u64,
    /// The same place in the file, when the member is stored as is (`null` when compressed).
    pub file_offset: Option<u64>,
    /// How many.
    pub length: u64,
    /// What they are: not a pickle (their first op fails), or a further pickle that stops
    /// before its STOP.
    pub what: String,
}

impl TrailingBytes {
    /// One line for people: `N bytes after STOP at offset X (...): pickle.load ignores them`.
    #[must_use]
    pub fn note(&self) -> String {
        let place = if self.member.is_empty() {
            String::new()
        } else {
            format!("{}: ", self.member)
        };
        let plural = if self.length == 1 { "" } else { "s" };
        let in_file = match self.file_offset {
            Some(f) if f != self.offset => format!(", file offset {f}"),
            _ => String::new(),
        };
        format!(
            "{place}{} byte{plural} after STOP at offset {}{in_file} ({}); the loader reads one pickle and ignores them",
            self.length, self.offset, self.what
        )
    }
}

/// The index in `trace.pickles` of a further top-level pickle that stops before its STOP,
/// after one that read to its STOP: a loader never gets there, so it is trailing bytes.
#[must_use]
pub fn broken_tail(trace: &Trace<'_>) -> Option<usize> {
    let top: Vec<usize> = (0..trace.pickles.len())
        .filter(|&i| trace.pickles[i].parent.is_none())
        .collect();
    let (&last, rest) = top.split_last()?;
    let first_ok = rest
        .first()
        .is_some_and(|&i| trace.pickles[i].error.is_none());
    (first_ok && trace.pickles[last].error.is_some()).then_some(last)
}

/// Bytes after the last whole pickle of a stream of `len` bytes: `(offset, length, what)`.
#[must_use]
pub fn tail(trace: &Trace<'_>, len: usize) -> Option<(u64, u64, String)> {
    if let Some(t) = &trace.trailing {
        return Some((t.offset, t.len, format!("not a pickle: {}", t.error)));
    }
    let p = &trace.pickles[broken_tail(trace)?];
    let e = p.error.as_ref()?;
    Some((
        p.start,
        (len as u64).saturating_sub(p.start),
        format!("a further pickle that stops early: {e}"),
    ))
}

fn located(member: &Member<'_>, offset: u64, length: u64, what: String) -> TrailingBytes {
    TrailingBytes {
        member: member.name.clone(),
        offset,
        file_offset: member.file_offset.map(|o| o + offset),
        length,
        what,
    }
}

/// The trailing bytes of a member run through the symbolic machine, if any.
#[must_use]
pub fn of_member(trace: &Trace<'_>, member: &Member<'_>) -> Option<TrailingBytes> {
    let (offset, length, what) = tail(trace, member.data.len())?;
    Some(located(member, offset, length, what))
}

/// Everything a loader that reads one pickle ignores in a member: further pickles, then
/// trailing bytes. `check` notes it.
#[must_use]
pub fn ignored_by_loader(trace: &Trace<'_>, member: &Member<'_>) -> Option<TrailingBytes> {
    let len = member.data.len();
    let tail = tail(trace, len);
    let tail_index = broken_tail(trace);
    let top: Vec<&vm::PickleRun> = trace
        .pickles
        .iter()
        .enumerate()
        .filter(|&(i, p)| p.parent.is_none() && Some(i) != tail_index)
        .map(|(_, p)| p)
        .collect();
    let first = top.first().filter(|p| p.error.is_none())?;
    let more = top.len() - 1;
    if more == 0 {
        let (offset, length, what) = tail?;
        return Some(located(member, offset, length, what));
    }
    let plural = if more == 1 { "" } else { "s" };
    let mut what = format!("{more} more pickle{plural}");
    if let Some((_, length, w)) = &tail {
        let s = if *length == 1 { "" } else { "s" };
        what.push_str(&format!(", then {length} byte{s} ({w})"));
    }
    let length = (len as u64).saturating_sub(first.end);
    Some(located(member, first.end, length, what))
}
