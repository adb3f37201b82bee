//! Bytes after the pickle a loader reads. `pickle.load` (and `torch.load`, `joblib.load`,
//! `numpy.load` for object arrays) reads one pickle, stops at its STOP and ignores whatever
//! follows; writers often leave a newline there. `show`, `check` and `dis` note such bytes and
//! otherwise behave as if they were not there; `scan` still scans every further pickle.

use serde::Serialize;
use vm::Trace;

/// Bytes after the last pickle that reads to its STOP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrailingBytes {
    /// The member they are in (empty for a plain pickle file).
    pub member: String,
    /// Offset of the first of them (just past a STOP), within the member's data.
    pub offset: u64,
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
        format!(
            "{place}{} byte{plural} after STOP at offset {} ({}); the loader reads one pickle and ignores them",
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

/// The trailing bytes of a member's stream of `len` bytes, if any.
#[must_use]
pub fn of_trace(trace: &Trace<'_>, len: usize, member: &str) -> Option<TrailingBytes> {
    if let Some(t) = &trace.trailing {
        return Some(TrailingBytes {
            member: member.to_owned(),
            offset: t.offset,
            length: t.len,
            what: format!("not a pickle: {}", t.error),
        });
    }
    let i = broken_tail(trace)?;
    let p = &trace.pickles[i];
    let e = p.error.as_ref()?;
    Some(TrailingBytes {
        member: member.to_owned(),
        offset: p.start,
        length: (len as u64).saturating_sub(p.start),
        what: format!("a further pickle that stops early: {e}"),
    })
}

/// Everything a loader that reads one pickle ignores in a member's stream of `len` bytes:
/// further pickles, then trailing bytes. `check` notes it.
#[must_use]
pub fn ignored_by_loader(trace: &Trace<'_>, len: usize, member: &str) -> Option<TrailingBytes> {
    let tail = of_trace(trace, len, member);
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
        return tail;
    }
    let plural = if more == 1 { "" } else { "s" };
    let mut what = format!("{more} more pickle{plural}");
    if let Some(t) = &tail {
        what.push_str(&format!(
            ", then {} byte{} ({})",
            t.length,
            if t.length == 1 { "" } else { "s" },
            t.what
        ));
    }
    Some(TrailingBytes {
        member: member.to_owned(),
        offset: first.end,
        length: (len as u64).saturating_sub(first.end),
        what,
    })
}
