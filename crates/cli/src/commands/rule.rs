//! `pickle-doctor rule`.

use analyze::security::rules;
use anyhow::{Result, bail};

use crate::args::RuleArgs;

pub(crate) fn run(args: &RuleArgs) -> Result<u8> {
    match &args.code {
        None => {
            for r in rules::ALL {
                println!("{} {}", r.code, r.name);
            }
        }
        Some(code) => {
            let Some(r) = rules::by_code(code) else {
                let codes: Vec<&str> = rules::ALL.iter().map(|r| r.code).collect();
                bail!("unknown rule {code}; rules: {}", codes.join(", "));
            };
            println!("# {} ({})\n\n{}", r.name, r.code, r.doc);
        }
    }
    Ok(0)
}
