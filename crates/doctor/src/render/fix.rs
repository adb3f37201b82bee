//! `fix` outcomes as text and JSON. Advice is worded here, in the command line's vocabulary
//! (`--map`, `--main`), because this text is the CLI's and the binding's shared contract.

use std::io::{self, Write};

use analyze::load::Prediction;
use serde_json::json;

use crate::fix::{Advice, FixOutcome};

/// One piece of advice, worded for a command-line user.
#[must_use]
pub fn advice_text(a: &Advice) -> String {
    match a {
        Advice::Install { module, dist } => {
            format!("`{module}` is not installed in the target: pip install {dist}")
        }
        Advice::MapMain { name } => format!(
            "`__main__.{name}` was defined in the script that wrote the file: pass --map __main__=<module that defines it>, or check with --main SCRIPT"
        ),
        Advice::RenamedButUnresolved { global, reason } => format!(
            "`{global}` is renamed by the plan but the new name does not resolve either: {reason}"
        ),
        Advice::NoKnownRename { global, reason } => format!(
            "no known rename for `{global}` in this environment ({reason}); pass --map if you know where it lives now"
        ),
        Advice::Candidates {
            module,
            name,
            leaf,
            modules,
        } => format!(
            "no known rename for `{module}.{name}`, but `{leaf}` is defined in {}: if it is the same object, pass {}",
            modules.join(", "),
            modules
                .iter()
                .map(|m| format!("--map {module}:{name}={m}:{name}"))
                .collect::<Vec<_>>()
                .join(" or ")
        ),
        Advice::KnownBreak { global, id, fix } => format!("{global} (known break {id}): {fix}"),
        Advice::Suggested { kind, to } => format!("{kind}: {to}"),
        Advice::Risk { code, message, fix } => format!("{code}: {message} ({fix})"),
        Advice::Reexport => "otherwise: load it in the environment that wrote it and re-export there, or export the weights to safetensors (torch) or the model to ONNX (scikit-learn)".to_owned(),
    }
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

/// The human-readable outcome.
///
/// # Errors
/// Writing fails.
pub fn text(out: &mut impl Write, env: &pyenv::Environment, o: &FixOutcome) -> io::Result<()> {
    let (a, b, c) = env.version;
    writeln!(
        out,
        "{} (loader: {}, target Python {a}.{b}.{c})",
        o.path, o.before.loader
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
            writeln!(out, "    - {}", advice_text(a))?;
        }
    }
    match (&o.written, o.dry_run) {
        (Some(p), _) => writeln!(out, "  wrote {}", p.display())?,
        (None, true) => writeln!(out, "  dry run: nothing written")?,
        (None, false) => writeln!(out, "  nothing written")?,
    }
    Ok(())
}

/// A prediction as `check --format json` words it: its troubles (at load, at first use,
/// silent) with the same fields, so that a front end reads both documents alike.
fn prediction_json(p: &Prediction) -> serde_json::Value {
    json!({
        "loader": p.loader,
        "verdict": p.verdict,
        "error": p.error,
        "risks": p.risks,
        "troubles": p.troubles,
    })
}

/// `fix --format json`: one document.
#[must_use]
pub fn json(environment: &serde_json::Value, o: &FixOutcome) -> String {
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
        "environment": environment,
        "path": o.path,
        "output": o.written.as_ref().map(|p| p.display().to_string()),
        "dry_run": o.dry_run,
        "before": prediction_json(&o.before),
        "after": o.after.as_ref().map(prediction_json),
        "renames": renames,
        "repairs": repairs,
        "refusal": o.refusal.as_ref().map(|r| json!({
            "reason": r.reason.to_string(),
            "advice": r.advice.iter().map(advice_text).collect::<Vec<_>>(),
        })),
    });
    super::pretty(&doc)
}
