//! `pickle-doctor fix`: plan renames from `check`, rewrite, verify with `check`, write.

use std::collections::HashMap;
use std::io::{BufWriter, IsTerminal as _, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use analyze::load::{Prediction, Status, Verdict};
use anyhow::{Context as _, Result, bail};
use rewrite::state::StateRepair;
use rewrite::{MemberFix, Plan, QualName, UserMap};
use serde_json::json;

use crate::args::{CheckFormat, FixArgs};
use crate::commands::check::{forced_loader, main_options, predict_opened};
use crate::{environment, input};

/// Rounds of plan → rewrite → check: a rename can reveal a global the first check could
/// not reach (a module that only exists under its new name).
const MAX_ROUNDS: usize = 3;

/// What `fix` decided for the file.
struct Outcome {
    before: Prediction,
    after: Option<Prediction>,
    members: Vec<MemberFix>,
    refusal: Option<Refusal>,
    written: Option<PathBuf>,
}

/// Why nothing (more) can be done, and what to do instead.
struct Refusal {
    reason: String,
    advice: Vec<String>,
}

pub(crate) fn run(args: &FixArgs) -> Result<ExitCode> {
    let maps = args
        .maps
        .iter()
        .map(|m| m.parse::<UserMap>().map_err(anyhow::Error::msg))
        .collect::<Result<Vec<_>>>()?;
    let env = environment::target(&args.target)?;
    let knowledge = knowledge::Knowledge::embedded();
    let forced = forced_loader(args.loader.as_deref())?;
    let options = main_options(args.main.as_deref())?;
    let mut resolver = pyenv::Resolver::new(&env);
    let limits = args.limits.limits();
    let budgets = args.limits.budgets();
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
        && same_file(&args.file, o)
    {
        bail!(
            "-o {} is the input; pass --in-place to replace it",
            o.display()
        );
    }

    let data = input::open(&args.file)?;
    let opened =
        container::open(&data, &limits).with_context(|| format!("{}", args.file.display()))?;
    let mut predict = |o: &container::Opened<'_>| {
        predict_opened(o, forced, &options, &mut resolver, &knowledge, budgets)
    };
    let before = predict(&opened).with_context(|| format!("{}", args.file.display()))?;
    let mut outcome = Outcome {
        before: before.clone(),
        after: None,
        members: Vec::new(),
        refusal: None,
        written: None,
    };
    if let Err(why) = rewrite::repack::supported(&opened.format) {
        outcome.refusal = Some(Refusal {
            reason: format!("cannot rewrite this file: {why}"),
            advice: Vec::new(),
        });
        return finish(args, &env, &outcome);
    }

    let mut plan = Plan::new(maps);
    add_known_renames(&mut plan, &before);
    let mut repairs = state_repairs(&before, &knowledge, &env);
    let mut fixed: Option<(tempfile::NamedTempFile, Prediction)> = None;
    for _ in 0..MAX_ROUNDS {
        let members = rewrite::fix_members(&opened, &plan, &repairs)
            .map_err(|(m, e)| anyhow::anyhow!("{}: {}", display(&args.file, &m), e))?;
        let changed: HashMap<String, Vec<u8>> = members
            .iter()
            .filter_map(|m| m.bytes.clone().map(|b| (m.member.clone(), b)))
            .collect();
        outcome.members = members;
        if changed.is_empty() && before.verdict == Verdict::Fails {
            break;
        }
        let tmp = write_temp(&data, &opened, &changed, out_path.as_deref(), args.dry_run)?;
        let written = input::open(tmp.path())?;
        let reopened = container::open(&written, &limits)
            .context("the rewritten file does not open again (please report)")?;
        let after = predict(&reopened)?;
        drop(reopened);
        drop(written);
        let mut grew = after.verdict == Verdict::Fails && add_known_renames(&mut plan, &after);
        if after.verdict == Verdict::Fails {
            for r in state_repairs(&after, &knowledge, &env) {
                if !repairs.contains(&r) {
                    repairs.push(r);
                    grew = true;
                }
            }
        }
        fixed = Some((tmp, after));
        if !grew {
            break;
        }
    }

    match fixed {
        None => {
            outcome.refusal = Some(refusal(&before, &plan, &mut resolver, &knowledge));
        }
        Some((tmp, mut after)) => {
            if only_weights_only_refuses(&after) {
                // torch >= 2.6 refuses custom classes by default, the original as much as the
                // repaired file: that is how the file must be loaded, not something a rename
                // changes. Every name resolves, so it loads with weights_only=False.
                after.verdict = Verdict::AtRisk;
                after.risks.push(analyze::load::Risk {
                    code: "weights-only".to_owned(),
                    message: "every name resolves, but torch.load's default weights_only=True refuses this file's classes, as it refused the original".to_owned(),
                    fix: "torch.load(f, weights_only=False) if you trust the file, or torch.serialization.add_safe_globals([...])".to_owned(),
                });
            }
            let fails = after.verdict == Verdict::Fails;
            if fails {
                outcome.refusal = Some(refusal(&after, &plan, &mut resolver, &knowledge));
            }
            outcome.after = Some(after);
            if !args.dry_run && (!fails || args.force) {
                let dest = out_path.clone().expect("OUT is required without --dry-run");
                // The temporary file is private (0600); the result gets the input's mode, as
                // a copy would.
                if let Ok(meta) = std::fs::metadata(&args.file) {
                    let _ = tmp.as_file().set_permissions(meta.permissions());
                }
                tmp.persist(&dest)
                    .with_context(|| format!("cannot write {}", dest.display()))?;
                outcome.written = Some(dest);
            }
        }
    }
    finish(args, &env, &outcome)
}

/// Whether torch's `weights_only` allowlist is the only reason the load fails.
fn only_weights_only_refuses(p: &Prediction) -> bool {
    p.verdict == Verdict::Fails
        && p.fixes.iter().any(|f| f.kind == "weights-only")
        && p.globals
            .iter()
            .all(|g| matches!(g.status, Status::Found | Status::Unverified))
}

/// The state-level repairs the knowledge base holds for the breaks `check` found, plus the
/// silent ones (no error to detect) whose target range holds; each repair checks the
/// producer itself.
fn state_repairs(
    p: &Prediction,
    knowledge: &knowledge::Knowledge,
    env: &pyenv::Environment,
) -> Vec<StateRepair> {
    let mut out = Vec::new();
    for b in &knowledge.breaks {
        let Some(name) = b.extra.get("repair").and_then(|v| v.as_str()) else {
            continue;
        };
        let fired = p.risks.iter().any(|r| r.code == b.id);
        let silent = b.kind.as_deref() == Some("silent")
            && analyze::load::target_version(env, &b.dist)
                .is_some_and(|v| knowledge::in_range(&v, &b.since, &b.until));
        if !(fired || silent) {
            continue;
        }
        let producer_until = b
            .extra
            .get("producer_until")
            .and_then(|v| v.as_str())
            .unwrap_or_default();
        if let Some(r) = StateRepair::from_name(name, &b.id, producer_until)
            && !out.contains(&r)
        {
            out.push(r);
        }
    }
    out
}

/// Adds the renames `check` proposed; returns whether any is new.
fn add_known_renames(plan: &mut Plan, p: &Prediction) -> bool {
    let mut grew = false;
    for f in p.fixes.iter().filter(|f| f.kind == "rename") {
        if let (Some(from), Some(to)) = (QualName::parse(&f.from), QualName::parse(&f.to)) {
            grew |= plan.add_known(from, to);
        }
    }
    grew
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Writes the repaired file to a temporary file next to its destination (so that the final
/// rename is atomic), or in the temp folder for a dry run.
fn write_temp(
    data: &[u8],
    opened: &container::Opened<'_>,
    changed: &HashMap<String, Vec<u8>>,
    out: Option<&Path>,
    dry_run: bool,
) -> Result<tempfile::NamedTempFile> {
    let dir = match out {
        Some(o) if !dry_run => match o.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        },
        _ => std::env::temp_dir(),
    };
    // Repacking a large checkpoint copies every tensor: say so on a terminal.
    let spinner = if data.len() > (64 << 20) && std::io::stderr().is_terminal() {
        let s = indicatif::ProgressBar::new_spinner();
        s.set_message(format!("writing {} MB", data.len() >> 20));
        s.enable_steady_tick(std::time::Duration::from_millis(120));
        s
    } else {
        indicatif::ProgressBar::hidden()
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".pickle-doctor-fix-")
        .tempfile_in(&dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    {
        let mut w = std::io::BufWriter::new(tmp.as_file_mut());
        rewrite::repack::write(data, opened, changed, &mut w).map_err(anyhow::Error::msg)?;
        w.flush()?;
    }
    tmp.as_file().sync_all()?;
    spinner.finish_and_clear();
    Ok(tmp)
}

/// Why the plan cannot make the file load, from the prediction's failing globals and risks.
fn refusal(
    p: &Prediction,
    plan: &Plan,
    resolver: &mut pyenv::Resolver<'_>,
    knowledge: &knowledge::Knowledge,
) -> Refusal {
    let reason = match &p.error {
        Some(e) => format!("still fails: {}", e.lines().next().unwrap_or_default()),
        None => "nothing to repair".to_owned(),
    };
    let mut advice = Vec::new();
    for g in &p.globals {
        if !matches!(g.status, Status::ModuleMissing | Status::AttributeMissing) {
            continue;
        }
        let top = g.module.split('.').next().unwrap_or_default();
        let line = if g.status == Status::ModuleMissing
            && g.reason == format!("no module named '{top}' in the target")
        {
            // The whole package is missing: no rename inside it can help.
            let dist = knowledge
                .distribution_for(top)
                .map_or(top, |d| d.dist.as_str());
            format!("`{top}` is not installed in the target: pip install {dist}")
        } else if g.module == "__main__" {
            format!(
                "`__main__.{}` was defined in the script that wrote the file: pass --map __main__=<module that defines it>, or check with --main SCRIPT",
                g.name
            )
        } else if plan.target(&g.module, &g.name).is_some() {
            format!(
                "`{}.{}` is renamed by the plan but the new name does not resolve either: {}",
                g.module, g.name, g.reason
            )
        } else {
            // The same name defined elsewhere in the package is a candidate, not a fact: the
            // user decides whether it is the same class.
            let top = g.module.split('.').next().unwrap_or_default();
            let leaf = g.name.split('.').next().unwrap_or_default();
            let elsewhere: Vec<String> = pyenv::definitions::defining_modules(resolver, top, leaf)
                .into_iter()
                .filter(|m| *m != g.module)
                .collect();
            match elsewhere.as_slice() {
                [] => format!(
                    "no known rename for `{}.{}` in this environment ({}); pass --map if you know where it lives now",
                    g.module, g.name, g.reason
                ),
                found => format!(
                    "no known rename for `{}.{}`, but `{leaf}` is defined in {}: if it is the same object, pass {}",
                    g.module,
                    g.name,
                    found.join(", "),
                    found
                        .iter()
                        .map(|m| format!("--map {}:{}={m}:{}", g.module, g.name, g.name))
                        .collect::<Vec<_>>()
                        .join(" or ")
                ),
            }
        };
        if !advice.contains(&line) {
            advice.push(line);
        }
        // A known removal says why no rename exists and what to do instead.
        let here = format!("{}:{}", g.module, g.name);
        for b in knowledge
            .breaks
            .iter()
            .filter(|b| b.affects.contains(&here))
        {
            let line = format!("{} (known break {}): {}", here, b.id, b.fix);
            if !advice.contains(&line) {
                advice.push(line);
            }
        }
    }
    for f in p.fixes.iter().filter(|f| f.kind != "rename") {
        advice.push(format!("{}: {}", f.kind, f.to));
    }
    for r in &p.risks {
        advice.push(format!("{}: {} ({})", r.code, r.message, r.fix));
    }
    advice.push(
        "otherwise: load it in the environment that wrote it and re-export there, or export the weights to safetensors (torch) or the model to ONNX (scikit-learn)".to_owned(),
    );
    Refusal { reason, advice }
}

fn display(file: &Path, member: &str) -> String {
    if member.is_empty() {
        file.display().to_string()
    } else {
        format!("{}:{member}", file.display())
    }
}

fn finish(args: &FixArgs, env: &pyenv::Environment, o: &Outcome) -> Result<ExitCode> {
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    match args.format {
        CheckFormat::Text => write_text(&mut out, args, env, o)?,
        CheckFormat::Json => write_json(&mut out, args, env, o)?,
    }
    out.flush()?;
    let ok = o.refusal.is_none()
        && o.after
            .as_ref()
            .is_some_and(|a| a.verdict != Verdict::Fails);
    Ok(ExitCode::from(u8::from(!ok)))
}

fn verdict_line(p: &Prediction) -> String {
    match &p.error {
        Some(e) => format!(
            "{}: {}",
            p.verdict.as_str(),
            e.lines().next().unwrap_or_default()
        ),
        None => p.verdict.as_str().to_owned(),
    }
}

fn write_text(
    out: &mut impl Write,
    args: &FixArgs,
    env: &pyenv::Environment,
    o: &Outcome,
) -> Result<()> {
    let (a, b, c) = env.version;
    writeln!(
        out,
        "{} (loader: {}, target Python {a}.{b}.{c})",
        args.file.display(),
        o.before.loader
    )?;
    writeln!(out, "  before: {}", verdict_line(&o.before))?;
    for m in &o.members {
        let at = |off: u64| {
            if m.member.is_empty() {
                format!("@{off}")
            } else {
                format!("{}@{off}", m.member)
            }
        };
        for r in &m.renamed {
            let strings = if r.string_offsets.is_empty() {
                String::new()
            } else {
                let offs: Vec<String> = r.string_offsets.iter().map(|s| format!("@{s}")).collect();
                format!(" strings {}", offs.join(","))
            };
            writeln!(
                out,
                "  rename {:<14} {} -> {}  ({}{strings}; {})",
                at(r.offset),
                r.from,
                r.to,
                r.how.as_str(),
                r.origin
            )?;
        }
        for r in &m.repaired {
            writeln!(out, "  repair {:<14} {}: {}", at(r.offset), r.id, r.what)?;
        }
    }
    if let Some(a) = &o.after {
        writeln!(out, "  after:  {}", verdict_line(a))?;
        for r in &a.risks {
            writeln!(out, "  risk: {} ({})", r.message, r.fix)?;
        }
    }
    if let Some(r) = &o.refusal {
        writeln!(out, "  refused: {}", r.reason)?;
        for a in &r.advice {
            writeln!(out, "    - {a}")?;
        }
    }
    match (&o.written, args.dry_run) {
        (Some(p), _) => writeln!(out, "  wrote {}", p.display())?,
        (None, true) => writeln!(out, "  dry run: nothing written")?,
        (None, false) => writeln!(out, "  nothing written")?,
    }
    Ok(())
}

fn prediction_json(p: &Prediction) -> serde_json::Value {
    json!({
        "loader": p.loader.name(),
        "verdict": p.verdict.as_str(),
        "error": p.error,
        "risks": p.risks.iter().map(|r| json!({"code": r.code, "message": r.message, "fix": r.fix})).collect::<Vec<_>>(),
    })
}

fn write_json(
    out: &mut impl Write,
    args: &FixArgs,
    env: &pyenv::Environment,
    o: &Outcome,
) -> Result<()> {
    let (a, b, c) = env.version;
    let mut renames = Vec::new();
    let mut repairs = Vec::new();
    for m in &o.members {
        let member = (!m.member.is_empty()).then_some(&m.member);
        for r in &m.renamed {
            renames.push(json!({
                "member": member, "offset": r.offset, "string_offsets": r.string_offsets,
                "from": r.from.to_string(), "to": r.to.to_string(),
                "how": r.how.as_str(), "origin": r.origin.to_string(),
            }));
        }
        for r in &m.repaired {
            repairs.push(json!({"member": member, "id": r.id, "offset": r.offset, "what": r.what}));
        }
    }
    let doc = json!({
        "environment": {"python": format!("{a}.{b}.{c}"), "paths": env.path},
        "path": args.file.display().to_string(),
        "output": o.written.as_ref().map(|p| p.display().to_string()),
        "dry_run": args.dry_run,
        "before": prediction_json(&o.before),
        "after": o.after.as_ref().map(prediction_json),
        "renames": renames,
        "repairs": repairs,
        "refusal": o.refusal.as_ref().map(|r| json!({"reason": r.reason, "advice": r.advice})),
    });
    writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
    Ok(())
}
