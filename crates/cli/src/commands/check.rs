//! `pickle-doctor check`.

use std::io::{BufWriter, Write};
use std::process::ExitCode;

use analyze::load::{self, Loader, Options, Prediction, Stream, Verdict};
use anyhow::{Context as _, Result, bail};
use serde_json::json;

use crate::args::{CheckArgs, CheckFormat};
use crate::{environment, input, target};

struct FileResult {
    path: String,
    format: &'static str,
    prediction: Prediction,
}

/// Predicts loading an opened file: the loader its content calls for (or `forced`), the
/// members that loader reads, each run through the symbolic machine. `fix` verifies its
/// output with the same call.
pub(crate) fn predict_opened(
    opened: &container::Opened<'_>,
    forced: Option<Loader>,
    options: &Options,
    resolver: &mut pyenv::Resolver<'_>,
    knowledge: &knowledge::Knowledge,
    budgets: vm::Budgets,
) -> Result<Prediction> {
    if let Some(why) = opened.format.not_a_model() {
        bail!("{why}");
    }
    let loader = forced.unwrap_or_else(|| environment::loader_for(opened));
    let options = Options {
        torch_archive: environment::torch_archive(opened),
        ..options.clone()
    };
    let members = environment::loaded_members(opened);
    let runs: Vec<_> = members
        .iter()
        .map(|m| (m.name.as_str(), target::run(m, budgets)))
        .collect();
    let streams: Vec<Stream<'_, '_>> = runs
        .iter()
        .map(|(name, run)| Stream {
            member: name,
            trace: &run.trace,
        })
        .collect();
    Ok(load::predict(
        &streams, loader, resolver, knowledge, &options,
    ))
}

/// The `--loader` flag.
pub(crate) fn forced_loader(loader: Option<&str>) -> Result<Option<Loader>> {
    loader
        .map(|l| {
            Loader::parse(l).with_context(|| {
                format!("unknown loader {l:?} (pickle, joblib, torch, numpy, pandas)")
            })
        })
        .transpose()
}

/// The `--main` flag: the script's path and the names it defines.
pub(crate) fn main_options(main: Option<&std::path::Path>) -> Result<Options> {
    Ok(Options {
        main: match main {
            Some(p) => {
                let src = std::fs::read_to_string(p)
                    .with_context(|| format!("cannot read --main {}", p.display()))?;
                Some((
                    p.display().to_string(),
                    pyenv::names::analyse(&src, "__main__", false),
                ))
            }
            None => None,
        },
        torch_archive: None,
    })
}

pub(crate) fn run(args: &CheckArgs) -> Result<ExitCode> {
    let env = environment::target(&args.target)?;
    let knowledge = knowledge::Knowledge::embedded();
    let forced = forced_loader(args.loader.as_deref())?;
    let options = main_options(args.main.as_deref())?;
    let mut resolver = pyenv::Resolver::new(&env);
    let mut results = Vec::new();
    for path in &args.files {
        let data = input::open(path)?;
        let opened = container::open(&data, &args.limits.limits())
            .with_context(|| format!("{}", path.display()))?;
        let prediction = predict_opened(
            &opened,
            forced,
            &options,
            &mut resolver,
            &knowledge,
            args.limits.budgets(),
        )
        .with_context(|| format!("{}", path.display()))?;
        results.push(FileResult {
            path: path.display().to_string(),
            format: opened.format.name(),
            prediction,
        });
    }
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    match args.format {
        CheckFormat::Text => write_text(&mut out, &results)?,
        CheckFormat::Json => write_json(&mut out, &env, &results)?,
    }
    out.flush()?;
    let fails = results
        .iter()
        .any(|r| r.prediction.verdict == Verdict::Fails);
    let at_risk = results
        .iter()
        .any(|r| r.prediction.verdict == Verdict::AtRisk);
    Ok(ExitCode::from(u8::from(fails || (args.strict && at_risk))))
}

fn write_text(out: &mut impl Write, results: &[FileResult]) -> Result<()> {
    for r in results {
        let p = &r.prediction;
        writeln!(
            out,
            "{}: {} (loader: {})",
            r.path,
            p.verdict.as_str(),
            p.loader
        )?;
        if let Some(e) = &p.error {
            writeln!(out, "  error: {}", e.replace('\n', "\n         "))?;
        }
        for g in &p.globals {
            let place = if g.member.is_empty() {
                format!("@{}", g.offset)
            } else {
                format!("{}@{}", g.member, g.offset)
            };
            writeln!(
                out,
                "  {place:<16} {:<18} {}.{}  [{}] {}",
                g.status.as_str(),
                g.module,
                g.name,
                g.distribution.as_deref().unwrap_or("-"),
                g.reason
            )?;
        }
        for risk in &p.risks {
            writeln!(out, "  risk: {} ({})", risk.message, risk.fix)?;
        }
        for f in &p.fixes {
            writeln!(out, "  fix: {} {} -> {}", f.kind, f.from, f.to)?;
        }
    }
    Ok(())
}

fn write_json(
    out: &mut impl Write,
    env: &pyenv::Environment,
    results: &[FileResult],
) -> Result<()> {
    let (a, b, c) = env.version;
    let files: Vec<serde_json::Value> = results
        .iter()
        .map(|r| {
            let p = &r.prediction;
            json!({
                "path": r.path,
                "format": r.format,
                "loader": p.loader.name(),
                "verdict": p.verdict.as_str(),
                "error": p.error,
                "globals": p.globals.iter().map(|g| json!({
                    "module": g.module, "name": g.name,
                    "member": if g.member.is_empty() { None } else { Some(&g.member) },
                    "offset": g.offset, "status": g.status.as_str(),
                    "distribution": g.distribution, "reason": g.reason,
                })).collect::<Vec<_>>(),
                "risks": p.risks.iter().map(|r| json!({"code": r.code, "message": r.message, "fix": r.fix})).collect::<Vec<_>>(),
                "fixes": p.fixes.iter().map(|f| json!({"kind": f.kind, "from": f.from, "to": f.to})).collect::<Vec<_>>(),
            })
        })
        .collect();
    let doc = json!({
        "environment": {"python": format!("{a}.{b}.{c}"), "paths": env.path},
        "files": files,
    });
    writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
    Ok(())
}
