//! `pickle-doctor dis`.

use std::io::{BufWriter, Write};
use std::process::ExitCode;

use anyhow::Result;
use container::{Loader, MemberKind};
use pickle::{DisError, Skip};

use crate::args::DisArgs;
use crate::{input, target};

pub(crate) fn run(args: &DisArgs) -> Result<ExitCode> {
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut failed = false;
    let several_files = args.files.len() > 1;
    let limits = args.limits.limits();
    for arg in &args.files {
        let (path, member) = target::split(arg);
        let shown = path.display().to_string();
        if several_files {
            // pickletools' default preamble for several files.
            writeln!(out, "==> {} <==", arg.display())?;
        }
        let data = input::open(&path)?;
        let opened = match container::open(&data, &limits) {
            Ok(o) => o,
            Err(e) => {
                out.flush()?;
                eprintln!("pickle-doctor: {shown}: {e}");
                failed = true;
                continue;
            }
        };
        if let Err(e) = target::ensure_model(&opened, &shown) {
            out.flush()?;
            eprintln!("pickle-doctor: {e}");
            failed = true;
            continue;
        }
        let members = target::select(&opened, member.as_deref(), &shown)?;
        let whole_file = members.len() == 1 && members[0].name.is_empty();
        for m in members {
            if !whole_file {
                writeln!(out, "== {} ==", m.name)?;
            }
            let result = match m.kind {
                MemberKind::Pickle(Loader::Joblib) => dis_joblib(m, &mut out, &args.limits),
                MemberKind::Pickle(_) => dis_stream(&m.data, &mut out),
                _ => {
                    writeln!(out, "(not a pickle: {} bytes)", m.data.len())?;
                    Ok(())
                }
            };
            if let Err(e) = result {
                if let DisError::Io(io) = e {
                    return Err(io.into());
                }
                out.flush()?;
                eprintln!("pickle-doctor: {}: {e}", target::display(&shown, m));
                failed = true;
            }
        }
    }
    out.flush()?;
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
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
    budgets: &crate::args::LimitArgs,
) -> Result<(), DisError> {
    let run = target::run(m, budgets.budgets());
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
