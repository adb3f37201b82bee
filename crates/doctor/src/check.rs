//! Will this file load in that environment? The loader its content calls for reads the members
//! it reads, each run through the symbolic machine, and `analyze::load` predicts the outcome.

use std::path::{Path, PathBuf};

use analyze::load::{self, Loader, Options, Prediction, Stream};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::{Session, members};

/// How the file will be loaded.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// The loader to assume; `None` chooses it from the content.
    pub loader: Option<Loader>,
    /// The script that is `__main__` at load time; without it, `__main__` names fail as in a
    /// fresh interpreter.
    pub main: Option<PathBuf>,
}

/// Parses a loader name: `pickle`, `joblib`, `torch`, `numpy` or `pandas`.
///
/// # Errors
/// [`Error::Usage`] for any other name.
pub fn parse_loader(name: &str) -> Result<Loader> {
    Loader::parse(name).ok_or_else(|| {
        Error::Usage(format!(
            "unknown loader {name:?} (pickle, joblib, torch, numpy, pandas)"
        ))
    })
}

/// The prediction for one file, with where it is and what it is: one element of the
/// `files` array of `check --format json`.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    /// The file as named.
    pub path: String,
    /// Its format (`pickle`, `torch-zip`, `joblib`, ...).
    pub format: String,
    /// The prediction.
    #[serde(flatten)]
    pub prediction: Prediction,
    /// Bytes after the pickle each loaded member's loader reads, which it ignores (a note:
    /// they change nothing in the prediction).
    pub trailing: Vec<crate::trailing::TrailingBytes>,
}

/// What `check` has prepared once for many files: the `__main__` script's names.
pub(crate) struct Prepared {
    pub(crate) forced: Option<Loader>,
    pub(crate) options: Options,
}

impl Prepared {
    pub(crate) fn new(opts: &CheckOptions) -> Result<Prepared> {
        Ok(Prepared {
            forced: opts.loader,
            options: Options {
                main: match &opts.main {
                    Some(p) => Some((p.display().to_string(), main_names(p)?)),
                    None => None,
                },
                torch_archive: None,
            },
        })
    }
}

fn main_names(path: &Path) -> Result<pyenv::names::Namespace> {
    let src = std::fs::read_to_string(path).map_err(|e| Error::io(path.display(), "read", e))?;
    Ok(pyenv::names::analyse(&src, "__main__", false))
}

impl Session {
    /// Predicts loading `data` (named `path` in the report).
    ///
    /// # Errors
    /// The file cannot be opened or holds no model; the `__main__` script cannot be read.
    pub fn check(&self, data: &[u8], path: &str, opts: &CheckOptions) -> Result<CheckReport> {
        self.check_many(&[(path, data)], opts)
            .map(|mut v| v.remove(0))
    }

    /// Predicts loading each file with one resolver (whose caches the files share).
    ///
    /// # Errors
    /// The first file that cannot be opened or holds no model.
    pub fn check_many(
        &self,
        files: &[(&str, &[u8])],
        opts: &CheckOptions,
    ) -> Result<Vec<CheckReport>> {
        let prepared = Prepared::new(opts)?;
        let mut resolver = pyenv::Resolver::new(&self.env);
        files
            .iter()
            .map(|(path, data)| {
                let opened = container::open(data, &self.limits.inflate)
                    .map_err(|e| Error::open(path, e))?;
                let mut trailing = Vec::new();
                let prediction = self.predict_opened_noting(
                    &opened,
                    path,
                    &prepared,
                    &mut resolver,
                    &mut trailing,
                )?;
                Ok(CheckReport {
                    path: (*path).to_owned(),
                    format: opened.format.name().to_owned(),
                    prediction,
                    trailing,
                })
            })
            .collect()
    }

    /// Predicts loading an opened file: the loader its content calls for (or the forced one),
    /// the members that loader reads, each run through the symbolic machine. `fix` verifies
    /// its output with the same call.
    pub(crate) fn predict_opened(
        &self,
        opened: &container::Opened<'_>,
        path: &str,
        prepared: &Prepared,
        resolver: &mut pyenv::Resolver<'_>,
    ) -> Result<Prediction> {
        self.predict_opened_noting(opened, path, prepared, resolver, &mut Vec::new())
    }

    /// [`Session::predict_opened`], also collecting each loaded member's trailing bytes.
    fn predict_opened_noting(
        &self,
        opened: &container::Opened<'_>,
        path: &str,
        prepared: &Prepared,
        resolver: &mut pyenv::Resolver<'_>,
        trailing: &mut Vec<crate::trailing::TrailingBytes>,
    ) -> Result<Prediction> {
        members::ensure_model(opened, path)?;
        // A data-only file (safetensors, GGUF, ONNX) is read by its own reader whatever loader
        // is forced: it has no pickle, so the prediction is whether that reader imports.
        let loader = match prepared.forced {
            Some(forced) if !opened.format.stores_data_only() => forced,
            _ => members::loader_for(opened),
        };
        let options = Options {
            torch_archive: members::torch_archive(opened),
            ..prepared.options.clone()
        };
        let runs: Vec<_> = members::loaded_members(opened)
            .into_iter()
            .map(|m| (m, members::run(m, self.limits.budgets)))
            .collect();
        trailing.extend(
            runs.iter()
                .filter_map(|(m, run)| crate::trailing::ignored_by_loader(&run.trace, m)),
        );
        let streams: Vec<Stream<'_, '_>> = runs
            .iter()
            .map(|(m, run)| Stream {
                member: &m.name,
                trace: &run.trace,
            })
            .collect();
        Ok(load::predict(
            &streams,
            loader,
            resolver,
            crate::knowledge(),
            &options,
        ))
    }
}
