//! `check` reports as text and JSON.

use std::io::{self, Write};

use crate::check::CheckReport;

/// How the text report is written.
#[derive(Debug, Clone, Default)]
pub struct TextOptions {
    /// Also print each risk's fix and the knowledge base's note.
    pub verbose: bool,
    /// The target and loader arguments as given (`--python /p/bin/python`, ...), repeated in
    /// the `pickle-doctor fix` command printed for a repairable file.
    pub fix_args: Vec<String>,
}

/// The human-readable report: the verdict, the loader's error, each global, one sentence per
/// risk, then what to do, the `pickle-doctor fix` command first when it repairs the file.
///
/// # Errors
/// Writing fails.
pub fn text(out: &mut impl Write, reports: &[CheckReport], opts: &TextOptions) -> io::Result<()> {
    use analyze::load::FixKind;
    for r in reports {
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
        for t in &r.trailing {
            writeln!(out, "  note: {}", t.note())?;
        }
        for t in &p.troubles {
            let place = if t.member.is_empty() {
                format!("@{}", t.offset)
            } else {
                format!("{}@{}", t.member, t.offset)
            };
            let method = t
                .method
                .as_deref()
                .filter(|_| t.kind != analyze::load::TroubleKind::Load);
            let what = [t.class.as_deref(), method, t.attribute.as_deref()]
                .iter()
                .flatten()
                .copied()
                .collect::<Vec<_>>()
                .join(" ");
            let line = format!("  {}: [{}] {place} {what}", trouble_label(t.kind), t.code);
            writeln!(out, "{}", line.trim_end())?;
            match &t.error {
                Some(e) if t.kind != analyze::load::TroubleKind::Load => {
                    writeln!(out, "        {}", e.replace('\n', "\n        "))?;
                }
                _ => {}
            }
            if t.kind != analyze::load::TroubleKind::Load {
                writeln!(out, "        {}", t.message)?;
            }
        }
        for risk in &p.risks {
            writeln!(out, "  risk: {}", risk.message)?;
            if opts.verbose {
                writeln!(out, "        what to do: {}", risk.fix)?;
                if !risk.note.is_empty() {
                    writeln!(
                        out,
                        "        note: {}",
                        risk.note.replace('\n', "\n              ")
                    )?;
                }
            }
        }
        if r.repairable {
            writeln!(out, "  fix: {}", fix_command(&r.path, &opts.fix_args))?;
        }
        for f in &p.fixes {
            match f.kind {
                FixKind::Rename => writeln!(out, "  fix: rename {} -> {}", f.from, f.to)?,
                FixKind::Install | FixKind::WeightsOnly | FixKind::Encoding => {
                    writeln!(out, "  fix: {}", f.to)?;
                }
            }
        }
    }
    Ok(())
}

/// How a trouble is headed in text: when it shows.
fn trouble_label(kind: analyze::load::TroubleKind) -> &'static str {
    match kind {
        analyze::load::TroubleKind::Load => "fails at load",
        analyze::load::TroubleKind::Use => "fails at first use",
        analyze::load::TroubleKind::Silent => "silently different",
    }
}

/// `pickle-doctor fix FILE -o FILE.fixed.EXT ARGS...`, quoted for a POSIX shell.
#[must_use]
pub fn fix_command(path: &str, args: &[String]) -> String {
    let p = std::path::Path::new(path);
    let output = match (p.file_stem(), p.extension()) {
        (Some(stem), Some(ext)) => p.with_file_name(format!(
            "{}.fixed.{}",
            stem.to_string_lossy(),
            ext.to_string_lossy()
        )),
        _ => std::path::PathBuf::from(format!("{path}.fixed")),
    };
    let mut words = vec![
        "pickle-doctor".to_owned(),
        "fix".to_owned(),
        shell_quote(path),
        "-o".to_owned(),
        shell_quote(&output.display().to_string()),
    ];
    words.extend(args.iter().map(|a| shell_quote(a)));
    words.join(" ")
}

fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./:=@%+,".contains(c));
    if plain {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// `check --format json`: `{"environment": ..., "files": [...]}`.
#[must_use]
pub fn json(environment: &serde_json::Value, reports: &[CheckReport]) -> String {
    super::pretty(&serde_json::json!({"environment": environment, "files": reports}))
}
