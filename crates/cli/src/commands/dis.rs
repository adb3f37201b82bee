//! `pickle-doctor dis`.

use std::io::{BufWriter, Write};

use anyhow::Result;

use crate::args::DisArgs;
use crate::input;

pub(crate) fn run(args: &DisArgs) -> Result<u8> {
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut failed = false;
    let several_files = args.files.len() > 1;
    let limits = args.limits.limits();
    for arg in &args.files {
        let (path, member) = doctor::target::split_member(arg);
        let shown = path.display().to_string();
        if several_files {
            // pickletools' default preamble for several files.
            writeln!(out, "==> {} <==", arg.display())?;
        }
        let data = input::open(&path)?;
        let result = doctor::dis::dis(&mut out, &data, &shown, member.as_deref(), &limits);
        out.flush()?;
        match result {
            Ok(listed) => {
                for (place, e) in &listed.malformed {
                    eprintln!("pickle-doctor: {place}: {e}");
                }
                // Not listed, as pickletools does not list them: said on stderr so that stdout
                // stays pickletools' output.
                for t in &listed.trailing {
                    eprintln!("pickle-doctor: {shown}: note: {}", t.note());
                }
                failed |= !listed.malformed.is_empty();
            }
            Err(e @ (doctor::Error::Open { .. } | doctor::Error::NotAModel { .. })) => {
                eprintln!("pickle-doctor: {e}");
                failed = true;
            }
            Err(e) => return Err(e.into()),
        }
    }
    out.flush()?;
    Ok(u8::from(failed))
}
