//! `pickle-doctor requirements`.

use anyhow::Result;

use crate::args::RequirementsArgs;
use crate::input;

pub(crate) fn run(args: &RequirementsArgs) -> Result<u8> {
    let session = args.target.session(&args.limits)?;
    let inputs = input::open_all(&args.files)?;
    let files: Vec<(&str, &[u8])> = inputs.iter().map(|(p, d)| (p.as_str(), &d[..])).collect();
    for r in session.requirements(&files)? {
        println!("{}", r.line());
    }
    Ok(0)
}
