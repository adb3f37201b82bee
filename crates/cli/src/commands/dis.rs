//! `pickle-doctor dis`.

use std::io::{BufWriter, Write};
use std::process::ExitCode;

use anyhow::Result;
use pickle::DisError;

use crate::args::DisArgs;
use crate::input;

pub(crate) fn run(args: &DisArgs) -> Result<ExitCode> {
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut failed = false;
    let several_files = args.files.len() > 1;
    for path in &args.files {
        if several_files {
            // pickletools' default preamble for several files.
            writeln!(out, "==> {} <==", path.display())?;
        }
        let data = input::open(path)?;
        if let Err(e) = dis_stream(&data, &mut out) {
            if let DisError::Io(io) = e {
                return Err(io.into());
            }
            out.flush()?;
            eprintln!("pickle-doctor: {}: {e}", path.display());
            failed = true;
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
