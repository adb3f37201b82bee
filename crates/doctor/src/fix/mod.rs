//! Make it load: plan renames from `check`, rewrite, verify with `check`, write atomically.
//!
//! The loop runs up to [`MAX_ROUNDS`] times because a rename can reveal a global the first
//! check could not reach (a module that only exists under its new name). The output is written
//! to a temporary file next to its destination, checked, and renamed onto it only when the
//! result is predicted to load (or the caller forces it).

mod refusal;

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use analyze::load::{FixKind, Prediction, Status, Verdict};
use rewrite::state::StateRepair;
use rewrite::{MemberFix, Plan, QualName, UserMap};

pub use refusal::{Advice, Refusal, RefusalReason};

use crate::check::{CheckOptions, Prepared};
use crate::error::{Error, Result};
use crate::scan::ReadMode;
use crate::{Session, target};

/// Rounds of plan → rewrite → check.
pub const MAX_ROUNDS: usize = 3;

/// What `fix` is asked to do.
#[derive(Debug, Clone, Default)]
pub struct FixOptions {
    /// How the file will be loaded (as for `check`).
    pub check: CheckOptions,
    /// The user's renames; they win over the knowledge base.
    pub maps: Vec<UserMap>,
    /// Where to write; `None` writes nothing (a dry run).
    pub output: Option<PathBuf>,
    /// Allow `output` to be the input file itself.
    pub replace_input: bool,
    /// Write even when the result is still predicted to fail.
    pub force: bool,
    /// How the rewritten file is read back for its check.
    pub read: ReadMode,
}

/// Progress of the write, for front ends that show it (copying a large checkpoint takes
/// seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteProgress {
    /// Writing `bytes` of input into the repaired file.
    Started {
        /// Size of the input.
        bytes: u64,
    },
    /// Done.
    Finished,
}

/// What `fix` decided for the file.
#[derive(Debug, Clone)]
pub struct FixOutcome {
    /// The file as named.
    pub path: String,
    /// The prediction for the input.
    pub before: Prediction,
    /// The prediction for the repaired file, when one was written (to a temporary file at
    /// least).
    pub after: Option<Prediction>,
    /// What was done to each member.
    pub members: Vec<MemberFix>,
    /// Why nothing (more) can be done, and what to do instead.
    pub refusal: Option<Refusal>,
    /// Where the repaired file was written.
    pub written: Option<PathBuf>,
    /// Whether this was a dry run (no output asked for).
    pub dry_run: bool,
}

impl FixOutcome {
    /// Whether the repaired file is predicted to load and nothing was refused.
    #[must_use]
    pub fn ok(&self) -> bool {
        self.refusal.is_none()
            && self
                .after
                .as_ref()
                .is_some_and(|a| a.verdict != Verdict::Fails)
    }
}

/// Whether two paths name the same existing file.
#[must_use]
pub fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

impl Session {
    /// Repairs `data` (read from `input`, which gives the output its file mode) for the
    /// target.
    ///
    /// # Errors
    /// The file cannot be opened, holds no model, or cannot be rewritten; the output cannot
    /// be written.
    pub fn fix(
        &self,
        input: &Path,
        data: &[u8],
        opts: &FixOptions,
        on_write: &mut dyn FnMut(WriteProgress),
    ) -> Result<FixOutcome> {
        let shown = input.display().to_string();
        if let Some(o) = &opts.output
            && !opts.replace_input
            && same_file(input, o)
        {
            return Err(Error::Usage(format!(
                "the output {} is the input; replacing it must be asked for explicitly",
                o.display()
            )));
        }
        let knowledge = crate::knowledge();
        let prepared = Prepared::new(&opts.check)?;
        let mut resolver = pyenv::Resolver::new(&self.env);
        let opened =
            container::open(data, &self.limits.inflate).map_err(|e| Error::open(&shown, e))?;
        let before = self.predict_opened(&opened, &shown, &prepared, &mut resolver)?;
        let mut outcome = FixOutcome {
            path: shown.clone(),
            before: before.clone(),
            after: None,
            members: Vec::new(),
            refusal: None,
            written: None,
            dry_run: opts.output.is_none(),
        };
        if let Err(why) = rewrite::repack::supported(&opened.format) {
            outcome.refusal = Some(Refusal {
                reason: RefusalReason::CannotRewrite(why),
                advice: Vec::new(),
            });
            return Ok(outcome);
        }

        let mut plan = Plan::new(opts.maps.clone());
        add_known_renames(&mut plan, &before);
        let mut repairs = state_repairs(&before, knowledge, &self.env);
        let mut fixed: Option<(tempfile::NamedTempFile, Prediction)> = None;
        for _ in 0..MAX_ROUNDS {
            let members = rewrite::fix_members_with(&opened, &plan, &repairs, self.limits.budgets)
                .map_err(|(m, e)| Error::Rewrite {
                    place: target::place(&shown, &m),
                    source: e,
                })?;
            let changed: HashMap<String, Vec<u8>> = members
                .iter()
                .filter_map(|m| m.bytes.clone().map(|b| (m.member.clone(), b)))
                .collect();
            outcome.members = members;
            if changed.is_empty() && before.verdict == Verdict::Fails {
                break;
            }
            let tmp = write_temp(data, &opened, &changed, opts.output.as_deref(), on_write)?;
            let written = opts.read.input(tmp.path())?;
            let reopened = container::open(&written, &self.limits.inflate).map_err(|e| {
                Error::open(
                    "the rewritten file (please report: it does not open again)",
                    e,
                )
            })?;
            let after = self.predict_opened(&reopened, &shown, &prepared, &mut resolver)?;
            drop(reopened);
            drop(written);
            let mut grew = after.verdict == Verdict::Fails && add_known_renames(&mut plan, &after);
            if after.verdict != Verdict::Loads {
                for r in state_repairs(&after, knowledge, &self.env) {
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
                outcome.refusal = Some(refusal::refusal(&before, &plan, &mut resolver, knowledge));
            }
            Some((tmp, mut after)) => {
                after.accept_weights_only();
                let at_use = fails_at_use(&after, knowledge, &repairs);
                let fails = after.verdict == Verdict::Fails || at_use.is_some();
                if after.verdict == Verdict::Fails {
                    outcome.refusal =
                        Some(refusal::refusal(&after, &plan, &mut resolver, knowledge));
                } else if let Some((reason, known)) = at_use {
                    let mut r = refusal::refusal(&after, &plan, &mut resolver, knowledge);
                    r.reason = reason;
                    // The knowledge base's word on the break comes first.
                    if let Some(a) = known {
                        r.advice.insert(0, a);
                    }
                    outcome.refusal = Some(r);
                }
                outcome.after = Some(after);
                if let Some(dest) = &opts.output
                    && (!fails || opts.force)
                {
                    // The temporary file is private (0600); the result gets the input's mode,
                    // as a copy would.
                    if let Ok(meta) = std::fs::metadata(input) {
                        let _ = tmp.as_file().set_permissions(meta.permissions());
                    }
                    tmp.persist(dest)
                        .map_err(|e| Error::io(dest.display(), "write", e.error))?;
                    outcome.written = Some(dest.clone());
                }
            }
        }
        Ok(outcome)
    }
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
        let Some(name) = b.repair.as_deref() else {
            continue;
        };
        // A risk of its id, or a global it names that does not resolve (a removed module is
        // reported by the resolver, not as a risk).
        let fired = p.risks.iter().any(|r| r.code == b.id)
            || p.globals.iter().any(|g| {
                matches!(g.status, Status::ModuleMissing | Status::AttributeMissing)
                    && b.affects.contains(&format!("{}:{}", g.module, g.name))
            });
        let silent = b.kind == knowledge::BreakKind::Silent
            && analyze::load::target_version(env, &b.dist)
                .is_some_and(|v| knowledge::in_range(&v, &b.since, &b.until));
        if !(fired || silent) {
            continue;
        }
        let _ = name;
        if let Some(r) = StateRepair::from_break(b)
            && !out.contains(&r)
        {
            out.push(r);
        }
    }
    out
}

/// Why the repaired file would still go wrong after it loads: a use-time break of the
/// knowledge base that `check` still finds (its risk message names the error), or a silent
/// one no applied repair answers. Every kind of use-time and silent trouble `check` reports
/// belongs here, so that `fix` never writes a file whose first `predict` fails or differs.
/// With it, the knowledge base's advice on the break, when it is one of its breaks.
fn fails_at_use(
    p: &Prediction,
    knowledge: &knowledge::Knowledge,
    applied: &[StateRepair],
) -> Option<(RefusalReason, Option<Advice>)> {
    // The schema diff against the target's source and the atlas's observed breaks: a method
    // that raises, or outputs that differ from the writer's. A silent break is detected from
    // the producer's version and the state's values, which a repair leaves as they were: only
    // the repair that answers it settles it (a default `fix` writes for a missing attribute
    // is not what the model was fitted with, so it never settles a difference).
    if let Some(t) = p.troubles.iter().find(|t| {
        t.kind == analyze::load::TroubleKind::Use
            || (t.kind == analyze::load::TroubleKind::Silent
                && !applied.iter().any(|r| r.id() == t.code))
    }) {
        let known = knowledge
            .breaks
            .iter()
            .find(|b| b.id == t.code)
            .map(|b| Advice::KnownBreak {
                global: b.affects.first().cloned().unwrap_or_default(),
                id: b.id.clone(),
                fix: b.fix.clone(),
            });
        let reason = match t.kind {
            analyze::load::TroubleKind::Silent => {
                let what = t
                    .message
                    .strip_prefix("loads and runs, but ")
                    .unwrap_or(&t.message);
                let what = what.strip_prefix("outputs differ: ").unwrap_or(what);
                RefusalReason::Differs(format!("[{}] {what}", t.code))
            }
            _ => RefusalReason::FailsAtUse(t.error.clone().unwrap_or_else(|| t.message.clone())),
        };
        return Some((reason, known));
    }
    p.risks.iter().find_map(|r| {
        let b = knowledge.breaks.iter().find(|b| b.id == r.code)?;
        (b.kind == knowledge::BreakKind::UseTime).then(|| {
            let error = r
                .message
                .split_once(": ")
                .map_or(r.message.as_str(), |(_, e)| e)
                .to_owned();
            (RefusalReason::FailsAtUse(error), None)
        })
    })
}

/// Adds the renames `check` proposed; returns whether any is new.
fn add_known_renames(plan: &mut Plan, p: &Prediction) -> bool {
    let mut grew = false;
    for f in p.fixes.iter().filter(|f| f.kind == FixKind::Rename) {
        if let (Some(from), Some(to)) = (QualName::parse(&f.from), QualName::parse(&f.to)) {
            grew |= plan.add_known(from, to);
        }
    }
    grew
}

/// Writes the repaired file to a temporary file next to its destination (so that the final
/// rename is atomic), or in the temp folder for a dry run.
fn write_temp(
    data: &[u8],
    opened: &container::Opened<'_>,
    changed: &HashMap<String, Vec<u8>>,
    out: Option<&Path>,
    on_write: &mut dyn FnMut(WriteProgress),
) -> Result<tempfile::NamedTempFile> {
    let dir = match out {
        Some(o) => match o.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        },
        None => std::env::temp_dir(),
    };
    let shown = dir.display().to_string();
    on_write(WriteProgress::Started {
        bytes: data.len() as u64,
    });
    let mut tmp = tempfile::Builder::new()
        .prefix(".pickle-doctor-fix-")
        .tempfile_in(&dir)
        .map_err(|e| Error::io(format!("a temporary file in {shown}"), "create", e))?;
    {
        let mut w = std::io::BufWriter::new(tmp.as_file_mut());
        rewrite::repack::write(data, opened, changed, &mut w).map_err(|e| Error::Rewrite {
            place: shown.clone(),
            source: e,
        })?;
        w.flush().map_err(|e| Error::io(&shown, "write", e))?;
    }
    tmp.as_file()
        .sync_all()
        .map_err(|e| Error::io(&shown, "write", e))?;
    on_write(WriteProgress::Finished);
    Ok(tmp)
}
