//! `pickle-doctor show`.

use std::io::{BufWriter, Write};
use std::process::ExitCode;

use anyhow::Result;
use vm::Trace;

use crate::args::ShowArgs;
use crate::input;
use crate::render::{json, text::TextRenderer};

pub(crate) fn run(args: &ShowArgs) -> Result<ExitCode> {
    let data = input::open(&args.file)?;
    let trace = vm::run_with(&data, args.budgets.budgets());
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let path = args.file.display().to_string();
    if args.stats {
        write_stats(&mut out, &trace)?;
    } else if args.json {
        json::write_document(&mut out, &path, &trace, args.full)?;
    } else {
        write_text(&mut out, &trace, args.full)?;
    }
    out.flush()?;
    drop(out);
    let code = match trace.error() {
        Some(e) => {
            eprintln!("pickle-doctor: {path}: {e}");
            ExitCode::from(1)
        }
        None => ExitCode::SUCCESS,
    };
    // The process is about to exit: freeing millions of nodes one by one would only cost time.
    std::mem::forget(trace);
    Ok(code)
}

fn write_text(out: &mut impl Write, trace: &Trace<'_>, full: bool) -> Result<()> {
    let mut r = TextRenderer::new(trace, full);
    let several = trace.pickles.len() > 1;
    for (i, p) in trace.pickles.iter().enumerate() {
        if several {
            writeln!(out, "== pickle {i} at offset {} ==", p.start)?;
        }
        match p.root {
            Some(v) => writeln!(out, "{}", r.value(v, 0, 0))?,
            None => {
                writeln!(out, "<incomplete: the pickle stopped before STOP>")?;
            }
        }
    }
    Ok(())
}

fn write_stats(out: &mut impl Write, trace: &Trace<'_>) -> Result<()> {
    let protocols: Vec<String> = trace
        .pickles
        .iter()
        .map(|p| p.protocol.map_or("0/1".into(), |n| n.to_string()))
        .collect();
    let mut unique: Vec<String> = trace.globals.iter().map(vm::Global::dotted).collect();
    unique.sort();
    unique.dedup();
    writeln!(
        out,
        "pickles:      {} (protocol {})",
        trace.pickles.len(),
        protocols.join(", ")
    )?;
    writeln!(out, "ops:          {}", trace.ops)?;
    writeln!(out, "value nodes:  {}", trace.nodes.len())?;
    writeln!(out, "items:        {}", trace.items)?;
    writeln!(
        out,
        "memo entries: {}",
        trace.pickles.iter().map(|p| p.memo_entries).sum::<usize>()
    )?;
    writeln!(
        out,
        "globals:      {} ({} distinct)",
        trace.globals.len(),
        unique.len()
    )?;
    writeln!(out, "calls:        {}", trace.calls.len())?;
    match trace.error() {
        Some(e) => writeln!(out, "complete:     no: {e}")?,
        None => writeln!(out, "complete:     yes")?,
    }
    Ok(())
}
