//! `pickle-doctor check`.

use std::io::{BufWriter, Write};

use analyze::load::Verdict;
use anyhow::Result;
use doctor::CheckOptions;

use crate::args::{CheckArgs, CheckFormat};
use crate::input;

/// The `--loader`, `--main`, `--encoding` and `--errors` flags.
pub(super) fn options(
    loader: Option<&str>,
    main: Option<&std::path::Path>,
    encoding: Option<&str>,
    errors: Option<&str>,
) -> Result<CheckOptions> {
    let mut decoding = analyze::load::Decoding::default();
    if let Some(e) = encoding {
        decoding.encoding = doctor::check::parse_encoding(e)?;
    }
    if let Some(e) = errors {
        decoding.errors = doctor::check::parse_errors(e)?;
    }
    Ok(CheckOptions {
        loader: loader.map(doctor::check::parse_loader).transpose()?,
        main: main.map(std::path::Path::to_path_buf),
        decoding,
    })
}

pub(crate) fn run(args: &CheckArgs) -> Result<u8> {
    let session = args.target.session(&args.limits)?;
    let opts = options(
        args.loader.as_deref(),
        args.main.as_deref(),
        args.encoding.as_deref(),
        args.errors.as_deref(),
    )?;
    let inputs = input::open_all(&args.files)?;
    let files: Vec<(&str, &[u8])> = inputs.iter().map(|(p, d)| (p.as_str(), &d[..])).collect();
    let reports = session.check_many(&files, &opts)?;
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    match args.format {
        CheckFormat::Text => doctor::render::check::text(
            &mut out,
            &reports,
            &doctor::render::check::TextOptions {
                verbose: args.verbose,
                fix_args: fix_args(args),
            },
        )?,
        CheckFormat::Json => writeln!(
            out,
            "{}",
            doctor::render::check::json(&session.environment_json(), &reports)
        )?,
        CheckFormat::Github => doctor::render::github::check(&mut out, &reports)?,
    }
    out.flush()?;
    let any = |v: Verdict| reports.iter().any(|r| r.prediction.verdict == v);
    Ok(u8::from(
        any(Verdict::Fails) || (args.strict && any(Verdict::AtRisk)),
    ))
}

/// The arguments `check` was given that `fix` needs to repair for the same target and load.
fn fix_args(args: &CheckArgs) -> Vec<String> {
    let mut out = Vec::new();
    let t = &args.target;
    if let Some(py) = &t.python {
        out.extend(["--python".to_owned(), py.display().to_string()]);
    }
    if !t.site_packages.is_empty() {
        out.push("--site-packages".to_owned());
        out.extend(t.site_packages.iter().map(|d| d.display().to_string()));
    }
    if let Some(v) = &t.python_version {
        out.extend(["--python-version".to_owned(), v.clone()]);
    }
    let flags = [
        (
            "--main",
            args.main.as_ref().map(|m| m.display().to_string()),
        ),
        ("--loader", args.loader.clone()),
        ("--encoding", args.encoding.clone()),
        ("--errors", args.errors.clone()),
    ];
    for (flag, value) in flags {
        if let Some(v) = value {
            out.extend([flag.to_owned(), v]);
        }
    }
    out
}
