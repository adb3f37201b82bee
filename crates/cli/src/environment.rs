//! `--python` / `--site-packages` / default → the target environment.

use anyhow::{Context as _, Result, bail};
use container::{Format, Loader as ContainerLoader, Member, MemberKind, Opened};

use crate::args::TargetArgs;

pub(crate) fn target(args: &TargetArgs) -> Result<pyenv::Environment> {
    if !args.site_packages.is_empty() {
        let v = args.python_version.as_deref().unwrap_or_default();
        let Some((major, minor)) = v
            .split_once('.')
            .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)))
        else {
            bail!("--python-version must look like 3.11, not {v:?}");
        };
        return pyenv::Environment::from_site_packages(&args.site_packages, (major, minor))
            .context("static target");
    }
    match &args.python {
        Some(py) => pyenv::Environment::from_interpreter(py).context("target interpreter"),
        None => pyenv::Environment::default_target()
            .context("default target ($VIRTUAL_ENV or python3; pass --python or --site-packages)"),
    }
}

/// The loader a file's content calls for.
pub(crate) fn loader_for(opened: &Opened<'_>) -> analyze::load::Loader {
    use analyze::load::Loader;
    match opened.format {
        Format::TorchZip { .. }
        | Format::TorchScript { .. }
        | Format::TorchLegacy
        | Format::TorchTar => Loader::Torch,
        Format::Joblib { .. } => Loader::Joblib,
        Format::Npy | Format::Npz => Loader::Numpy,
        _ => match opened.pickles().next().map(|m| &m.kind) {
            Some(MemberKind::Pickle(ContainerLoader::Joblib)) => Loader::Joblib,
            _ => Loader::Pickle,
        },
    }
}

/// The members the loader unpickles: torch reads `data.pkl` (and legacy its object pickle),
/// every other loader every pickle member.
pub(crate) fn loaded_members<'o, 'a>(opened: &'o Opened<'a>) -> Vec<&'o Member<'a>> {
    let pickles: Vec<&Member<'a>> = opened.pickles().collect();
    let torch_data: Vec<&Member<'a>> = pickles
        .iter()
        .copied()
        .filter(|m| m.name == "data.pkl" || m.name.ends_with("/data.pkl") || m.name == "pickle")
        .collect();
    if matches!(
        opened.format,
        Format::TorchZip { .. }
            | Format::TorchScript { .. }
            | Format::TorchLegacy
            | Format::TorchTar
    ) && !torch_data.is_empty()
    {
        return torch_data;
    }
    pickles
}

/// The torch archive kind, for `weights_only`.
pub(crate) fn torch_archive(opened: &Opened<'_>) -> Option<analyze::load::TorchArchive> {
    use analyze::load::TorchArchive;
    match opened.format {
        Format::TorchZip { .. } => Some(TorchArchive::Zip),
        Format::TorchScript { .. } => Some(TorchArchive::Script),
        Format::TorchLegacy => Some(TorchArchive::Legacy),
        Format::TorchTar => Some(TorchArchive::Tar),
        _ => None,
    }
}
