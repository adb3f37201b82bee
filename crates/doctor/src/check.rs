//! Will this file load in that environment? The loader its content calls for reads the members
//! it reads, each run through the symbolic machine, and `analyze::load` predicts the outcome.

use std::path::{Path, PathBuf};

use analyze::load::{self, Loader, Options, Prediction, Stream};
pub use analyze::load::{Decoding, Encoding, Errors};
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
    /// `encoding` and `errors` for Python 2 `str`s, with pickle.load's meaning (for the
    /// loaders that take them: pickle, numpy, torch).
    pub decoding: Decoding,
}

/// Parses `--encoding` (`ASCII`, `latin1`, `bytes`, or a Python alias of the first two).
///
/// # Errors
/// [`Error::Usage`] for any other codec.
pub fn parse_encoding(name: &str) -> Result<Encoding> {
    Encoding::parse(name).ok_or_else(|| {
        Error::Usage(format!(
            "unknown encoding {name:?} (ASCII, latin1 or bytes, as numpy.load accepts)"
        ))
    })
}

/// Parses `--errors` (a codec error handler).
///
/// # Errors
/// [`Error::Usage`] for an unknown handler.
pub fn parse_errors(name: &str) -> Result<Errors> {
    Errors::parse(name).ok_or_else(|| {
        Error::Usage(format!(
            "unknown error handler {name:?} (strict, ignore, replace, backslashreplace, surrogateescape)"
        ))
    })
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
    /// Whether `pickle-doctor fix` repairs the file for this target (its dry run is
    /// predicted to load).
    pub repairable: bool,
    /// Bytes after the pickle each loaded member's loader reads, which it ignores (a note:
    /// they change nothing in the prediction).
    pub trailing: Vec<crate::trailing::TrailingBytes>,
}

/// Whether `fix` has something to try: a rename that resolves in the target, or a break
/// with a tested state rewrite.
fn fix_candidates(p: &Prediction) -> bool {
    use analyze::load::{FixKind, Verdict};
    if p.verdict == Verdict::Loads {
        return false;
    }
    let knowledge = crate::knowledge();
    p.fixes
        .iter()
        .any(|f| f.kind == FixKind::Rename && !f.to.starts_with('<'))
        || p.risks.iter().any(|r| {
            knowledge
                .breaks
                .iter()
                .any(|b| b.id == r.code && b.fix_kind == knowledge::BreakFix::Rewrite)
        })
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
                schemas: None,
                torch_archive: None,
                decoding: opts.decoding,
                npy: false,
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
                let opened = container::open_as_loader(data, &self.limits.inflate)
                    .map_err(|e| Error::open(path, e))?;
                let mut trailing = Vec::new();
                let prediction = self.predict_opened_noting(
                    &opened,
                    path,
                    &prepared,
                    &mut resolver,
                    &mut trailing,
                )?;
                // Only a real dry run of `fix` says whether its repair loads.
                let repairable = fix_candidates(&prediction)
                    && self
                        .fix(
                            Path::new(path),
                            data,
                            &crate::FixOptions {
                                check: opts.clone(),
                                ..crate::FixOptions::default()
                            },
                            &mut |_| {},
                        )
                        .is_ok_and(|o| o.ok());
                Ok(CheckReport {
                    path: (*path).to_owned(),
                    format: opened.format.name().to_owned(),
                    prediction,
                    repairable,
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
        // joblib.load and pandas.read_pickle call the unpickler with its defaults: an
        // encoding asked for cannot apply.
        if !prepared.options.decoding.is_default() && !load::decoding::takes_encoding(loader) {
            return Err(Error::Usage(format!(
                "{path}: {loader} has no encoding option (--encoding/--errors apply to pickle, numpy and torch)"
            )));
        }
        let options = Options {
            schemas: Some(self.schemas.clone()),
            torch_archive: members::torch_archive(opened),
            npy: matches!(
                opened.format,
                container::Format::Npy | container::Format::Npz
            ),
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
