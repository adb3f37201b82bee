//! Command-line targets: `FILE` or `FILE:MEMBER`, and loading what they name.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use container::{Loader, Member, MemberKind, Opened, joblib::ArrayHook};
use vm::{Budgets, Trace};

/// Splits `model.pt:archive/data.pkl` into the file and the member. A path that exists as
/// given is a file even if it contains a colon.
pub(crate) fn split(arg: &Path) -> (PathBuf, Option<String>) {
    let s = arg.to_string_lossy();
    if arg.exists() || s == "-" {
        return (arg.to_path_buf(), None);
    }
    if let Some((file, member)) = s.rsplit_once(':')
        && Path::new(file).exists()
    {
        return (PathBuf::from(file), Some(member.to_owned()));
    }
    (arg.to_path_buf(), None)
}

/// Fails with the format's own explanation for files that cannot hold a model.
pub(crate) fn ensure_model(opened: &Opened<'_>, path: &str) -> Result<()> {
    if let Some(why) = opened.format.not_a_model() {
        bail!("{path}: {why}");
    }
    Ok(())
}

/// The members a command works on: the one asked for, else every pickle member.
pub(crate) fn select<'o, 'a>(
    opened: &'o Opened<'a>,
    member: Option<&str>,
    path: &str,
) -> Result<Vec<&'o Member<'a>>> {
    match member {
        Some(name) => match opened.member(name) {
            Some(m) => Ok(vec![m]),
            None => {
                let names: Vec<&str> = opened.members.iter().map(|m| m.name.as_str()).collect();
                bail!(
                    "{path} has no member {name:?}; members: {}",
                    names.join(", ")
                )
            }
        },
        None => Ok(opened.pickles().collect()),
    }
}

/// A pickle member run through the symbolic machine with its loader's rules.
pub(crate) struct Run<'a> {
    pub(crate) trace: Trace<'a>,
    pub(crate) arrays: Vec<container::joblib::InlineArray>,
    pub(crate) external_files: Vec<container::joblib::ExternalFile>,
}

/// Runs a member's pickle stream. joblib members skip inline array data.
pub(crate) fn run<'a>(member: &'a Member<'_>, budgets: Budgets) -> Run<'a> {
    let data: &'a [u8] = &member.data;
    if member.kind == MemberKind::Pickle(Loader::Joblib) {
        let mut hook = ArrayHook::new(data);
        let trace = vm::run_hooked(data, budgets, &mut hook);
        return Run {
            trace,
            arrays: hook.arrays,
            external_files: hook.external_files,
        };
    }
    Run {
        trace: vm::run_with(data, budgets),
        arrays: Vec::new(),
        external_files: Vec::new(),
    }
}

/// The display name of a member: `FILE:MEMBER`, or `FILE` for a whole-file pickle.
pub(crate) fn display(path: &str, member: &Member<'_>) -> String {
    if member.name.is_empty() {
        path.to_owned()
    } else {
        format!("{path}:{}", member.name)
    }
}
