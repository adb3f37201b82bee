//! `pickle-doctor show`.

use std::io::{BufWriter, Write};

use anyhow::Result;
use doctor::show::{ShowFormat, ShowOptions};

use crate::args::ShowArgs;
use crate::input;

pub(crate) fn run(args: &ShowArgs) -> Result<u8> {
    let (path, member) = doctor::target::split_member(&args.file);
    let shown = path.display().to_string();
    let data = input::open(&path)?;
    let opts = ShowOptions {
        member,
        format: if args.stats {
            ShowFormat::Stats
        } else if args.json {
            ShowFormat::Json
        } else {
            ShowFormat::Text
        },
        full: args.full,
        limits: args.limits.limits(),
        // The process is about to exit: freeing millions of nodes one by one would only cost
        // time.
        forget_on_return: true,
        full_graph: false,
    };
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let result = doctor::show::show(&mut out, &data, &shown, &opts);
    out.flush()?;
    drop(out);
    match result {
        Ok(incomplete) => {
            for (place, e) in &incomplete {
                // Only a member's first pickle starts at offset 0.
                match analyze::security::not_a_pickle(e, 0) {
                    Some(raised) => eprintln!(
                        "pickle-doctor: {place}: not a pickle: pickle.load fails on its first op with {raised} (at offset 0)"
                    ),
                    None => eprintln!("pickle-doctor: {place}: {e}"),
                }
            }
            Ok(u8::from(!incomplete.is_empty()))
        }
        // A damaged or non-model file is a finding about the file (exit 1), not a usage error.
        Err(e @ (doctor::Error::Open { .. } | doctor::Error::NotAModel { .. })) => {
            eprintln!("pickle-doctor: {e}");
            Ok(1)
        }
        Err(e) => Err(e.into()),
    }
}
