//! `pickle-doctor fix`: the facade plans, rewrites and verifies; this prints and writes the
//! spinner.

use std::io::{BufWriter, IsTerminal as _, Write};
use std::path::PathBuf;

use anyhow::{Result, bail};
use doctor::FixOptions;
use doctor::fix::WriteProgress;
use rewrite::UserMap;

use crate::args::{FixArgs, FixFormat};
use crate::input;

pub(crate) fn run(args: &FixArgs) -> Result<u8> {
    let maps = args
        .maps
        .iter()
        .map(|m| {
            m.parse::<UserMap>()
                .map_err(|e| anyhow::anyhow!("--map {m:?}: {e}"))
        })
        .collect::<Result<Vec<_>>>()?;
    if args.file.as_os_str() == "-" && (args.in_place || args.output.is_none()) {
        bail!("standard input can only be fixed into -o OUT");
    }
    let out_path: Option<PathBuf> = if args.in_place {
        Some(args.file.clone())
    } else {
        args.output.clone()
    };
    if let Some(o) = &out_path
        && !args.in_place
        && doctor::fix::same_file(&args.file, o)
    {
        bail!(
            "-o {} is the input; pass --in-place to replace it",
            o.display()
        );
    }
    let session = args.target.session(&args.limits)?;
    let opts = FixOptions {
        check: super::check::options(
            args.loader.as_deref(),
            args.main.as_deref(),
            args.encoding.as_deref(),
            args.errors.as_deref(),
        )?,
        maps,
        output: if args.dry_run { None } else { out_path },
        replace_input: args.in_place,
        force: args.force,
        read: input::read_mode(),
    };
    let data = input::open(&args.file)?;
    // Repacking a large checkpoint copies every tensor: say so on a terminal.
    let mut spinner: Option<indicatif::ProgressBar> = None;
    let mut on_write = |p: WriteProgress| match p {
        WriteProgress::Started { bytes }
            if bytes > (64 << 20) && std::io::stderr().is_terminal() =>
        {
            let s = indicatif::ProgressBar::new_spinner();
            s.set_message(format!("writing {} MB", bytes >> 20));
            s.enable_steady_tick(std::time::Duration::from_millis(120));
            spinner = Some(s);
        }
        WriteProgress::Finished => {
            if let Some(s) = spinner.take() {
                s.finish_and_clear();
            }
        }
        WriteProgress::Started { .. } => {}
    };
    let outcome = session.fix(&args.file, &data, &opts, &mut on_write)?;
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    match args.format {
        FixFormat::Text => doctor::render::fix::text(&mut out, session.environment(), &outcome)?,
        FixFormat::Json => writeln!(
            out,
            "{}",
            doctor::render::fix::json(&session.environment_json(), &outcome)
        )?,
    }
    out.flush()?;
    Ok(u8::from(!outcome.ok()))
}
