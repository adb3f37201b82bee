//! `pickle-doctor export`.

use std::io::{BufWriter, Write};

use anyhow::{Result, bail};
use doctor::export::{ExportFormat, ExportOptions};

use crate::args::{ExportArgs, FixFormat};
use crate::input;

pub(crate) fn run(args: &ExportArgs) -> Result<u8> {
    let to = ExportFormat::parse(&args.to)?;
    if let Some(o) = &args.output
        && doctor::fix::same_file(&args.file, o)
    {
        bail!("-o {} is the input", o.display());
    }
    let opts = ExportOptions {
        to,
        output: if args.dry_run {
            None
        } else {
            args.output.clone()
        },
        duplicate_shared: args.duplicate_shared,
        force: args.force,
        float64: args.float64,
        target_opset: args.target_opset,
        limits: args.limits.limits(),
    };
    let data = input::open(&args.file)?;
    let report = doctor::export::export(&args.file, &data, &opts)?;
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    match args.format {
        FixFormat::Json => writeln!(out, "{}", doctor::render::pretty(&report))?,
        FixFormat::Text => doctor::render::export::text(&mut out, &report)?,
    }
    out.flush()?;
    Ok(u8::from(!report.ok()))
}
