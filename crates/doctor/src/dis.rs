//! The pickletools-identical listing of a file's pickles.

use std::io::Write;

use container::{Loader, MemberKind};
use pickle::{DisError, Skip};

use crate::error::{Error, Result};
use crate::{Limits, members, target};

/// A member whose listing stopped at a malformed op: `(FILE:MEMBER, error)`. The listing up
/// to the bad op was written.
pub type Malformed = Vec<(String, String)>;

/// Writes the listing of `data` (named `path`): what `python -m pickletools` prints for a
/// single pickle, with a `== MEMBER ==` heading per member of a container.
///
/// # Errors
/// The file cannot be opened or holds no model ([`Error::Open`], [`Error::NotAModel`]), has
/// no such member, or writing fails.
pub fn dis(
    out: &mut impl Write,
    data: &[u8],
    path: &str,
    member: Option<&str>,
    limits: &Limits,
) -> Result<Malformed> {
    let io = |e| Error::io("standard output", "write", e);
    let opened = container::open(data, &limits.inflate).map_err(|e| Error::open(path, e))?;
    members::ensure_model(&opened, path)?;
    if opened.format.stores_data_only() && member.is_none() {
        writeln!(
            out,
            "(not a pickle: a {} file stores data only; `show` lists its tensors)",
            opened.format.name()
        )
        .map_err(io)?;
        return Ok(Vec::new());
    }
    let selected = members::select(&opened, member, path)?;
    let whole_file = selected.len() == 1 && selected[0].name.is_empty();
    let mut malformed = Vec::new();
    for m in selected {
        if !whole_file {
            writeln!(out, "== {} ==", m.name).map_err(io)?;
        }
        let result = match m.kind {
            MemberKind::Pickle(Loader::Joblib) => dis_joblib(m, out, limits.budgets),
            MemberKind::Pickle(_) => dis_stream(&m.data, out),
            _ => writeln!(out, "(not a pickle: {} bytes)", m.data.len()).map_err(DisError::Io),
        };
        match result {
            Ok(()) => {}
            Err(DisError::Io(e)) => return Err(io(e)),
            Err(e) => malformed.push((target::place(path, &m.name), e.to_string())),
        }
    }
    Ok(malformed)
}

/// Disassembles every pickle in `data`. A single pickle prints exactly what `pickletools`
/// prints; several get a `== pickle N at offset X ==` heading each.
fn dis_stream(data: &[u8], out: &mut impl Write) -> Result<(), DisError> {
    let starts = pickle_starts(data);
    let several = starts.len() > 1;
    for (i, &start) in starts.iter().enumerate() {
        if several {
            writeln!(out, "== pickle {i} at offset {start} ==")?;
        }
        pickle::dis(data, start, out)?;
    }
    Ok(())
}

/// A joblib stream: the pickle, with each array's inline bytes replaced by a note, then the
/// nested pickles of object arrays.
fn dis_joblib(
    m: &container::Member<'_>,
    out: &mut impl Write,
    budgets: vm::Budgets,
) -> Result<(), DisError> {
    let run = members::run(m, budgets);
    let mut skips = Vec::new();
    let mut nested = Vec::new();
    for a in &run.arrays {
        if a.object {
            let end = run
                .trace
                .pickles
                .iter()
                .find(|p| p.parent.is_some_and(|(_, w)| w == a.wrapper))
                .map_or(a.data_offset, |p| p.end as usize);
            skips.push(Skip {
                at: a.build_end,
                to: end,
                note: format!(
                    "[object array {} {:?}: nested pickle at offsets {}..{}, listed below]",
                    a.dtype, a.shape, a.data_offset, end
                ),
            });
            nested.push((a.data_offset, end));
        } else {
            skips.push(Skip {
                at: a.build_end,
                to: a.data_offset + a.nbytes,
                note: format!(
                    "[array data: {} {:?} order {}, {} bytes at offset {}]",
                    a.dtype, a.shape, a.order, a.nbytes, a.data_offset
                ),
            });
        }
    }
    pickle::dis_with_skips(&m.data, 0, out, &skips)?;
    for (start, end) in nested {
        writeln!(out, "== nested pickle at offset {start} (to {end}) ==")?;
        pickle::dis(&m.data, start, out)?;
    }
    Ok(())
}

/// Offsets where each pickle of the stream starts: after each STOP, while bytes remain. The
/// last one may be malformed; the disassembler reports it.
fn pickle_starts(data: &[u8]) -> Vec<usize> {
    let mut starts = vec![0];
    let mut pos = 0;
    loop {
        let mut p = pickle::Parser::new(data, pos);
        let mut ok = true;
        for op in p.by_ref() {
            if op.is_err() {
                ok = false;
            }
        }
        let end = p.position();
        if !ok || end >= data.len() || end == pos {
            return starts;
        }
        starts.push(end);
        pos = end;
    }
}
