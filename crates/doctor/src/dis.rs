//! The pickletools-identical listing of a file's pickles.

use std::io::Write;

use container::{Loader, MemberKind};
use pickle::{DisError, Skip};

use crate::error::{Error, Result};
use crate::trailing::{self, TrailingBytes};
use crate::{Limits, members, target};

/// A member whose listing stopped at a malformed op: `(FILE:MEMBER, error)`. The listing up
/// to the bad op was written.
pub type Malformed = Vec<(String, String)>;

/// What a listing found besides the text it wrote.
#[derive(Debug, Default)]
pub struct Listed {
    /// Members whose listing stopped at a malformed op.
    pub malformed: Malformed,
    /// Bytes after the last pickle that are not a whole pickle, per member: not listed, as
    /// `pickletools` stops at STOP. A front end notes them apart from the listing.
    pub trailing: Vec<TrailingBytes>,
}

/// Writes the listing of `data` (named `path`): what `python -m pickletools` prints for a
/// single pickle, with a `== MEMBER ==` heading per member of a container. Bytes after the
/// last whole pickle are not listed (`pickletools` stops at STOP) but returned.
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
) -> Result<Listed> {
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
        return Ok(Listed::default());
    }
    let selected = members::select(&opened, member, path)?;
    let whole_file = selected.len() == 1 && selected[0].name.is_empty();
    let mut listed = Listed::default();
    for m in selected {
        if !whole_file {
            writeln!(out, "== {} ==", m.name).map_err(io)?;
        }
        let result = match m.kind {
            MemberKind::Pickle(Loader::Joblib) => dis_joblib(m, out, limits.budgets),
            MemberKind::Pickle(_) => dis_stream(&m.data, out, limits.budgets).map(|tail| {
                listed
                    .trailing
                    .extend(tail.map(|(offset, length, what)| TrailingBytes {
                        member: m.name.clone(),
                        offset,
                        file_offset: m.file_offset.map(|o| o + offset),
                        length,
                        what,
                    }));
            }),
            _ => writeln!(out, "(not a pickle: {} bytes)", m.data.len()).map_err(DisError::Io),
        };
        match result {
            Ok(()) => {}
            Err(DisError::Io(e)) => return Err(io(e)),
            Err(e) => listed
                .malformed
                .push((target::place(path, &m.name), e.to_string())),
        }
    }
    Ok(listed)
}

/// Disassembles every pickle in `data`. A single pickle prints exactly what `pickletools`
/// prints; several get a `== pickle N at offset X ==` heading each. Bytes after the last
/// whole pickle are returned as `(offset, length, what they are)`, not listed.
fn dis_stream(
    data: &[u8],
    out: &mut impl Write,
    budgets: vm::Budgets,
) -> Result<Option<(u64, u64, String)>, DisError> {
    let (starts, tail) = pickle_starts(data, budgets);
    let several = starts.len() > 1;
    for (i, &start) in starts.iter().enumerate() {
        if several {
            writeln!(out, "== pickle {i} at offset {start} ==")?;
        }
        pickle::dis(data, start, out)?;
    }
    Ok(tail)
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

/// Offsets where each pickle of the stream starts, and the bytes after the last whole one
/// (`(offset, length, what they are)`): a newline, padding, a cut-off or unloadable pickle. Which
/// further pickles are whole is what a loader reading on would find, so the symbolic machine
/// decides, as for `show`, `check` and `scan`; it only runs when bytes follow the first STOP.
/// A malformed first pickle is left to the disassembler to report.
fn pickle_starts(data: &[u8], budgets: vm::Budgets) -> (Vec<usize>, Option<(u64, u64, String)>) {
    let mut p = pickle::Parser::new(data, 0);
    let first_ok = p.by_ref().all(|op| op.is_ok());
    if !first_ok || p.position() >= data.len() {
        return (vec![0], None);
    }
    let trace = vm::run_with(data, budgets);
    let tail = trailing::tail(&trace, data.len());
    let tail_index = trailing::broken_tail(&trace);
    let starts = trace
        .pickles
        .iter()
        .enumerate()
        .filter(|&(i, r)| r.parent.is_none() && Some(i) != tail_index)
        .map(|(_, r)| r.start as usize)
        .collect();
    (starts, tail)
}
