//! Load prediction: would this pickle load in that environment, and if not, the exact error.
//!
//! Globals are resolved in load order the way `find_class` does: `_compat_pickle` names below
//! protocol 3, `__import__` of the module and every parent package, then `getattr` (or, from
//! protocol 4, a walk of the dotted qualname). The first failure in load order, whatever its
//! kind, is the error the loader raises, worded as that loader words it.

mod atlas;
mod breaks;
pub mod decoding;
mod loader;
mod usage;

use std::collections::BTreeMap;

use knowledge::Knowledge;
use pyenv::{Attr, Resolver};
use vm::{Name, Node, Trace};

pub use decoding::{Decoding, Encoding, Errors};
pub use loader::Loader;

/// The verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Every name resolves and nothing known breaks.
    Loads,
    /// The loader raises.
    Fails,
    /// Every name resolves as far as can be told, but something may still break.
    AtRisk,
}

impl Verdict {
    /// The name used in output.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Loads => "loads",
            Verdict::Fails => "fails",
            Verdict::AtRisk => "at-risk",
        }
    }
}

/// How one global resolves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Module and attribute exist.
    Found,
    /// The module (or a parent package) cannot be imported.
    ModuleMissing,
    /// The module imports but lacks the attribute.
    AttributeMissing,
    /// Cannot be decided statically.
    Unverified,
}

impl Status {
    /// The name used in output.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Found => "found",
            Status::ModuleMissing => "module-missing",
            Status::AttributeMissing => "attribute-missing",
            Status::Unverified => "unverified",
        }
    }
}

/// One global of the pickle.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct GlobalRow {
    /// Module as written.
    pub module: String,
    /// Name as written.
    pub name: String,
    /// The member it is in (empty for a whole-file pickle, `null` in JSON).
    #[serde(serialize_with = "crate::empty_as_null")]
    pub member: String,
    /// Offset of the op that named it.
    pub offset: u64,
    /// How it resolves.
    pub status: Status,
    /// `name version` of the distribution providing the module, if known.
    pub distribution: Option<String>,
    /// Why (how it was decided, or why it cannot be).
    pub reason: String,
}

/// Something that may break the load or the object.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Risk {
    /// Stable identifier.
    pub code: String,
    /// What, in one sentence a user understands.
    pub message: String,
    /// What to do.
    pub fix: String,
    /// The knowledge base's longer note: what changed and how it was verified, with its
    /// source (empty when there is none; text shows it with `--verbose`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub note: String,
}

/// What kind of repair a [`Fix`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FixKind {
    /// Point a global at where the target defines it (`fix` rewrites the file).
    Rename,
    /// Install a missing distribution.
    Install,
    /// Load torch files with `weights_only=False` (if trusted) or allow the classes.
    WeightsOnly,
    /// Load with another `encoding` (Python 2 `str`s the default ASCII cannot decode).
    Encoding,
}

impl FixKind {
    /// The name used in output.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            FixKind::Rename => "rename",
            FixKind::Install => "install",
            FixKind::WeightsOnly => "weights-only",
            FixKind::Encoding => "encoding",
        }
    }
}

impl std::fmt::Display for FixKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A repair.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Fix {
    /// What kind.
    pub kind: FixKind,
    /// For a rename: `module:Name` as written. For an install: the distribution.
    pub from: String,
    /// For a rename: `module:Name` that resolves in the target. For an install: a pip line.
    pub to: String,
}

/// When a trouble shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TroubleKind {
    /// The loader raises: nothing is returned.
    Load,
    /// The load succeeds, then the first call of a method raises.
    Use,
    /// Everything runs, but outputs differ from the producer's.
    Silent,
}

impl TroubleKind {
    /// The name used in output.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            TroubleKind::Load => "load",
            TroubleKind::Use => "use",
            TroubleKind::Silent => "silent",
        }
    }
}

/// Something that goes wrong with the file in the target: at load, at first use, or silently.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Trouble {
    /// When it shows.
    pub kind: TroubleKind,
    /// Stable identifier: a knowledge-base break id, or `module-missing`,
    /// `attribute-missing`, `unpickling-error`, `missing-attribute`, `not-fitted`, ...
    pub code: String,
    /// The member it is in (empty for a whole-file pickle, `null` in JSON).
    #[serde(serialize_with = "crate::empty_as_null")]
    pub member: String,
    /// Offset of the op involved (the global, or the BUILD of the object's state).
    pub offset: u64,
    /// The class (or global) involved, `module.Name`.
    pub class: Option<String>,
    /// The method that raises or misbehaves (`load` for load-time troubles).
    pub method: Option<String>,
    /// The attribute involved, if one is.
    pub attribute: Option<String>,
    /// The exact error the user sees (`Type: message`); `null` for silent troubles.
    pub error: Option<String>,
    /// One sentence for a user.
    pub message: String,
}

/// The prediction for one file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Prediction {
    /// The loader assumed.
    pub loader: Loader,
    /// The verdict.
    pub verdict: Verdict,
    /// The first error in load order, in the loader's wording (`Type: message`).
    pub error: Option<String>,
    /// Every global, in load order.
    pub globals: Vec<GlobalRow>,
    /// Risks.
    pub risks: Vec<Risk>,
    /// Repairs.
    pub fixes: Vec<Fix>,
    /// What goes wrong, by when it shows: the load error, breaks at first use, silent
    /// differences.
    pub troubles: Vec<Trouble>,
}

impl Prediction {
    /// Whether torch's `weights_only` allowlist is the only reason the load fails: every name
    /// resolves, and `torch.load`'s default refuses the file's classes.
    #[must_use]
    pub fn only_weights_only_refuses(&self) -> bool {
        self.verdict == Verdict::Fails
            && self.fixes.iter().any(|f| f.kind == FixKind::WeightsOnly)
            && self
                .globals
                .iter()
                .all(|g| matches!(g.status, Status::Found | Status::Unverified))
    }

    /// Accepts a `weights_only` refusal that a repaired file shares with its original: torch
    /// 2.6 and later refuse custom classes by default, the original as much as the repaired
    /// file. That is how the file must be loaded, not something a rename changes, so the
    /// verdict becomes at-risk with a `weights-only` risk. Returns whether it applied.
    pub fn accept_weights_only(&mut self) -> bool {
        if !self.only_weights_only_refuses() {
            return false;
        }
        self.verdict = Verdict::AtRisk;
        self.risks.push(Risk {
            code: "weights-only".to_owned(),
            message: "every name resolves, but torch.load's default weights_only=True refuses this file's classes, as it refused the original".to_owned(),
            fix: "torch.load(f, weights_only=False) if you trust the file, or torch.serialization.add_safe_globals([...])".to_owned(),
            note: String::new(),
        });
        true
    }
}

/// One pickle stream of the file, as the loader reads it.
pub struct Stream<'t, 'a> {
    /// Member name (empty for a whole-file pickle).
    pub member: &'t str,
    /// Its trace.
    pub trace: &'t Trace<'a>,
}

/// Options that change how a load behaves.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The target's class schemas, for breaks at first use (`None`: not checked).
    pub schemas: Option<std::sync::Arc<pyenv::Schemas>>,
    /// The names a `__main__` script defines (`--main`), and its path.
    pub main: Option<(String, pyenv::names::Namespace)>,
    /// The kind of torch archive, for `torch.load`'s `weights_only` rules.
    pub torch_archive: Option<TorchArchive>,
    /// `encoding` and `errors` the loader is called with (pickle.load's meaning).
    pub decoding: Decoding,
    /// The pickles are `.npy` payloads (numpy's `read_array` wraps decoding errors).
    pub npy: bool,
}

/// Kinds of torch files, which `weights_only=True` treats differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TorchArchive {
    /// The zip format (torch >= 1.6).
    Zip,
    /// A TorchScript archive.
    Script,
    /// The legacy stacked-pickle format.
    Legacy,
    /// The 0.1.x tar format.
    Tar,
}

/// Predicts loading `streams` with `loader` in the resolver's environment.
pub fn predict(
    streams: &[Stream<'_, '_>],
    loader: Loader,
    resolver: &mut Resolver<'_>,
    knowledge: &Knowledge,
    options: &Options,
) -> Prediction {
    let mut out = Prediction {
        loader,
        verdict: Verdict::Loads,
        error: None,
        globals: Vec::new(),
        risks: Vec::new(),
        fixes: Vec::new(),
        troubles: Vec::new(),
    };
    // The loader's own package is imported before anything is read.
    if let Some(pkg) = loader.package()
        && let Err(f) = resolver.import(pkg)
    {
        out.error = Some(loader::module_not_found(&f.missing));
        out.verdict = Verdict::Fails;
        out.fixes.push(Fix {
            kind: FixKind::Install,
            from: pkg.to_owned(),
            to: format!("pip install {pkg}"),
        });
    }
    let mut first_error: Option<((usize, usize, u64), String, Origin)> = None;
    let mut note_error = |key: (usize, usize, u64), text: String, origin: Origin| {
        if first_error.as_ref().is_none_or(|(k, _, _)| key < *k) {
            first_error = Some((key, text, origin));
        }
    };
    for (si, s) in streams.iter().enumerate() {
        let trace = s.trace;
        let read = |p: usize| p == 0 || trace.pickles.get(p).is_some_and(|r| r.parent.is_some());
        for g in &trace.globals {
            if !read(g.pickle) {
                continue;
            }
            // find_class reads the protocol in effect at the op (the last PROTO before it).
            let protocol = g.protocol;
            let (Name::Literal(module), Name::Literal(name)) = (&g.module, &g.name) else {
                out.globals.push(GlobalRow {
                    module: g.module.literal().unwrap_or("<computed>").to_owned(),
                    name: g.name.literal().unwrap_or("<computed>").to_owned(),
                    member: s.member.to_owned(),
                    offset: g.offset,
                    status: Status::Unverified,
                    distribution: None,
                    reason: "the name is computed at load time".to_owned(),
                });
                continue;
            };
            if loader == Loader::Torch
                && let Some(file) = crate::torchscript_source(module)
            {
                // torch.load hands a TorchScript archive to torch.jit.load, which compiles
                // its code/ files into these classes: nothing is imported.
                out.globals.push(GlobalRow {
                    module: module.to_string(),
                    name: name.to_string(),
                    member: s.member.to_owned(),
                    offset: g.offset,
                    status: Status::Found,
                    distribution: None,
                    reason: format!(
                        "a TorchScript class, compiled by torch.jit.load from the archive's {file}, not a Python import"
                    ),
                });
                continue;
            }
            let row = resolve_global(resolver, knowledge, options, loader, protocol, module, name);
            if let Some(err) = &row.error {
                note_error(
                    (si, g.pickle, g.offset),
                    err.clone(),
                    Origin {
                        code: row.status.as_str().to_owned(),
                        member: s.member.to_owned(),
                        offset: g.offset,
                        class: Some(format!("{module}.{name}")),
                    },
                );
            }
            out.fixes.extend(row.fixes);
            out.globals.push(GlobalRow {
                module: module.to_string(),
                name: name.to_string(),
                member: s.member.to_owned(),
                offset: g.offset,
                status: row.status,
                distribution: row.distribution,
                reason: row.reason,
            });
        }
        // Stream-level errors: persistent ids without a persistent_load, broken streams.
        if matches!(loader, Loader::Pickle | Loader::Numpy | Loader::Pandas)
            && let Some(offset) = first_persistent_id(trace)
        {
            note_error(
                (si, 0, offset),
                "UnpicklingError: A load persistent id instruction was encountered,\nbut no persistent_load function was specified.".to_owned(),
                Origin::at("persistent-id", s.member, offset),
            );
        }
        if let Some(run) = trace.pickles.first()
            && let Some(e) = &run.error
        {
            if matches!(e.kind, vm::VmErrorKind::Budget { .. }) {
                // Our limit, not the loader's error: what follows was not analysed.
                out.risks.push(Risk {
                    code: "analysis-budget".to_owned(),
                    message: format!(
                        "The file was analysed only up to offset {}: {}.",
                        e.offset,
                        e.kind_message()
                    ),
                    fix: "raise the limits (--max-ops, --max-nodes, ...) to analyse all of it"
                        .to_owned(),
                    note: String::new(),
                });
            } else {
                note_error(
                    (si, 0, e.offset),
                    stream_error(e, run.start),
                    Origin::at("unpickling-error", s.member, e.offset),
                );
            }
        }
        // Python 2 strs the loader's encoding cannot decode.
        for (pi, run) in trace.pickles.iter().enumerate() {
            let Some(py2) = run.py2_non_ascii.filter(|_| read(pi)) else {
                continue;
            };
            let version_of = |dist: &str| target_version(resolver.env(), dist);
            if let Some(error) = decoding::decode_error(
                trace,
                py2,
                loader,
                options.decoding,
                options.npy,
                knowledge,
                &version_of,
            ) {
                note_error(
                    (si, pi, py2.offset),
                    error,
                    Origin::at("decoding", s.member, py2.offset),
                );
                out.fixes.push(decoding_fix(loader));
            }
        }
        for fired in breaks::detect(trace, resolver.env(), knowledge, loader) {
            let b = fired.brk;
            let note = breaks::note(b);
            if let Some(w) = fired.warning {
                out.risks.push(Risk {
                    code: b.id.clone(),
                    message: format!("the load warns: {}", breaks::first_sentence(&w)),
                    fix: b.fix.clone(),
                    note: format!("{w}\n{note}"),
                });
                if let Some((dist, v)) = fired.producer {
                    out.fixes.push(Fix {
                        kind: FixKind::Install,
                        from: dist.clone(),
                        to: format!("pip install '{dist}=={v}'"),
                    });
                }
                continue;
            }
            if let Some(e) = fired.use_error {
                out.risks.push(Risk {
                    code: b.id.clone(),
                    message: format!("loads, then its first use raises: {e}"),
                    fix: b.fix.clone(),
                    note,
                });
                continue;
            }
            let message = breaks::sentence(b, resolver.env());
            if let Some(error) = fired.error {
                note_error(
                    (si, 0, fired.offset),
                    breaks::finish(b, error, resolver),
                    Origin {
                        code: b.id.clone(),
                        member: s.member.to_owned(),
                        offset: fired.offset,
                        class: b.affects.first().map(|a| a.replace(':', ".")),
                    },
                );
            }
            out.risks.push(Risk {
                code: b.id.clone(),
                message,
                fix: b.fix.clone(),
                note,
            });
        }
    }
    if loader == Loader::Torch && out.error.is_none() {
        weights_only(streams, resolver, knowledge, options, &mut out);
    }
    if let Some((_, e, origin)) = first_error
        && out.error.is_none()
    {
        out.troubles.push(origin.trouble(&e));
        out.error = Some(e);
        out.verdict = Verdict::Fails;
    } else if let Some(e) = &out.error {
        // The loader's own package missing, or torch's weights_only refusal.
        let code = if out.fixes.iter().any(|f| f.kind == FixKind::WeightsOnly) {
            "weights-only"
        } else {
            "module-missing"
        };
        out.troubles
            .push(Origin::at(code, streams.first().map_or("", |s| s.member), 0).trouble(e));
    }
    // Breaks at first use and silent ones: what the objects the load builds then do.
    for s in streams {
        if let Some(schemas) = &options.schemas {
            out.troubles
                .extend(usage::detect(s.trace, s.member, resolver, schemas));
        }
        out.troubles.extend(breaks::detect_silent(
            s.trace,
            s.member,
            resolver.env(),
            knowledge,
        ));
        // What the atlas observed and the source does not show (an error already found
        // from source is not repeated, nor a second silent difference).
        for t in atlas::detect(s.trace, s.member, resolver.env(), knowledge) {
            // The atlas keys entries by class and versions only, so a source finding for the
            // same method (which sees this object's state) wins over it.
            let known = out.troubles.iter().any(|u| {
                u.kind == t.kind
                    && (u.error == t.error
                        || t.kind == TroubleKind::Silent
                        || (u.class == t.class && u.method == t.method))
            });
            if !known {
                out.troubles.push(t);
            }
        }
    }
    if out.verdict == Verdict::Loads && (!out.risks.is_empty() || !out.troubles.is_empty()) {
        out.verdict = Verdict::AtRisk;
    }
    if out.verdict == Verdict::Loads
        && let Some(g) = out.globals.iter().find(|g| g.status == Status::Unverified)
    {
        out.verdict = Verdict::AtRisk;
        out.risks.push(Risk {
            code: "unverified-global".to_owned(),
            message: format!(
                "`{}.{}` cannot be checked without running Python: {}.",
                g.module, g.name, g.reason
            ),
            fix: "load it once in the target environment to be sure".to_owned(),
            note: String::new(),
        });
    }
    dedupe(&mut out.fixes);
    out
}

/// Where the first load error comes from, for its [`Trouble`].
struct Origin {
    code: String,
    member: String,
    offset: u64,
    class: Option<String>,
}

impl Origin {
    fn at(code: &str, member: &str, offset: u64) -> Origin {
        Origin {
            code: code.to_owned(),
            member: member.to_owned(),
            offset,
            class: None,
        }
    }

    fn trouble(self, error: &str) -> Trouble {
        let code = self.code;
        let first_line = error.lines().next().unwrap_or(error);
        Trouble {
            kind: TroubleKind::Load,
            code,
            member: self.member,
            offset: self.offset,
            class: self.class,
            method: Some("load".to_owned()),
            attribute: None,
            error: Some(error.to_owned()),
            message: format!("the load fails: {first_line}"),
        }
    }
}

/// What to do about a Python 2 `str` the loader cannot decode: load with latin-1 where the
/// loader takes an encoding (what Python 2 `str`s usually are: bytes, numpy array data, or
/// latin-1 text).
fn decoding_fix(loader: Loader) -> Fix {
    let to = match loader {
        Loader::Numpy => "numpy.load(f, allow_pickle=True, encoding='latin1')",
        Loader::Torch => "torch.load(f, encoding='latin1')",
        Loader::Joblib => {
            "joblib.load has no encoding option: load it once where it was written (Python 2) and dump it again"
        }
        _ => "pickle.load(f, encoding='latin1')",
    };
    Fix {
        kind: FixKind::Encoding,
        from: "encoding='ASCII'".to_owned(),
        to: to.to_owned(),
    }
}

/// torch >= 2.6 loads with `weights_only=True` by default: globals outside its allowlist,
/// TorchScript archives and tar checkpoints are refused before anything is imported.
fn weights_only(
    streams: &[Stream<'_, '_>],
    resolver: &Resolver<'_>,
    knowledge: &Knowledge,
    options: &Options,
    out: &mut Prediction,
) {
    let wo = &knowledge.weights_only;
    let Some(torch) = resolver.env().distribution("torch") else {
        return;
    };
    if !knowledge::in_range(&torch.version, &wo.default_since, "") {
        return;
    }
    let refused = weights_only_refusal(options.torch_archive, streams, knowledge);
    let Some((error, global)) = refused else {
        return;
    };
    out.error = Some(error);
    out.verdict = Verdict::Fails;
    out.fixes.push(Fix {
        kind: FixKind::WeightsOnly,
        from: global.clone().unwrap_or_else(|| "torch.load(f)".to_owned()),
        to: match global {
            Some(g) => format!(
                "torch.serialization.add_safe_globals([{g}]) before torch.load, or torch.load(f, weights_only=False) if you trust the file"
            ),
            None => "torch.load(f, weights_only=False) if you trust the file".to_owned(),
        },
    });
}

/// What `torch.load(f)` with `weights_only=True` refuses, before importing anything: the
/// error in torch's words and the refused global, if any.
#[must_use]
pub fn weights_only_refusal(
    archive: Option<TorchArchive>,
    streams: &[Stream<'_, '_>],
    knowledge: &Knowledge,
) -> Option<(String, Option<String>)> {
    let wo = &knowledge.weights_only;
    match archive {
        Some(TorchArchive::Tar) => Some((wo.errors.legacy_tar.clone(), None)),
        Some(TorchArchive::Script) => Some((wo.errors.torchscript.clone(), None)),
        _ => streams.iter().find_map(|s| {
            s.trace.globals.iter().find_map(|g| {
                let (module, name) = g.literal()?;
                let (m, n) = knowledge.compat_map(module, name);
                (!wo.allows(&m, &n)).then(|| (wo.unsupported(&m, &n), Some(format!("{m}.{n}"))))
            })
        }),
    }
}

/// What resolving one global decided.
struct Resolved {
    status: Status,
    distribution: Option<String>,
    reason: String,
    error: Option<String>,
    fixes: Vec<Fix>,
}

fn resolve_global(
    resolver: &mut Resolver<'_>,
    knowledge: &Knowledge,
    options: &Options,
    loader: Loader,
    protocol: u8,
    module: &str,
    name: &str,
) -> Resolved {
    // pandas' retry unpickler maps class locations first, then `pickle._Unpickler` applies
    // the `_compat_pickle` names below protocol 3.
    let (module, name) = match (loader, target_version(resolver.env(), "pandas")) {
        (Loader::Pandas, Some(v)) => knowledge
            .pandas_class_location(module, name, &v)
            .unwrap_or_else(|| (module.to_owned(), name.to_owned())),
        _ => (module.to_owned(), name.to_owned()),
    };
    let (module, name) = if protocol < 3 {
        knowledge.compat_map(&module, &name)
    } else {
        (module, name)
    };
    let distribution = resolver
        .env()
        .distribution_of(&module)
        .map(|d| format!("{} {}", d.name, d.version));
    let mut r = Resolved {
        status: Status::Found,
        distribution,
        reason: String::new(),
        error: None,
        fixes: Vec::new(),
    };
    if module == "__main__" {
        return main_global(options, loader, protocol, &name, r);
    }
    let m = match resolver.import(&module) {
        Ok(m) => m,
        Err(f) => {
            r.status = Status::ModuleMissing;
            r.reason = format!("no module named '{}' in the target", f.missing);
            r.error = Some(loader::module_not_found(&f.missing));
            r.fixes = renames(resolver, knowledge, &module, &name);
            return r;
        }
    };
    // Below protocol 4 a dotted name is one attribute, which never exists.
    let attr = if protocol < 4 && name.contains('.') {
        Attr::Missing("a dotted name below protocol 4 is looked up as one attribute")
    } else {
        resolver.attribute(&m, &name)
    };
    match attr {
        Attr::Found(how) => r.reason = how.to_owned(),
        Attr::Missing(how) => {
            r.status = Status::AttributeMissing;
            r.reason = how.to_owned();
            r.error = Some(loader.attribute_error(protocol, &module, &m.repr(), &name));
            r.fixes = renames(resolver, knowledge, &module, &name);
        }
        // A name the module's `__getattr__` refuses in this release (knowledge base): the
        // C unpickler's wording; the pure-Python one below protocol 4 would print the
        // module's own message, which is not known, so that stays unverified.
        Attr::Unverified(_)
            if (!loader.pure_python() || protocol >= 4)
                && knowledge
                    .refuses(&module, &name, &|d| target_version(resolver.env(), d))
                    .is_some() =>
        {
            r.status = Status::AttributeMissing;
            r.reason = "the module's `__getattr__` raises AttributeError for it in this release"
                .to_owned();
            r.error = Some(loader.attribute_error(protocol, &module, &m.repr(), &name));
            r.fixes = renames(resolver, knowledge, &module, &name);
        }
        Attr::Unverified(_) if shim_resolves(resolver, knowledge, &module, &name) => {
            r.reason =
                "served by numpy's numpy.core compatibility shim (DeprecationWarning)".to_owned();
        }
        Attr::Unverified(why) => {
            // torch builds its weights_only allowlist from its own attributes: a name on the
            // list of this torch release (or an older one) exists.
            let wo = &knowledge.weights_only;
            let listed = wo.allows(&module, &name)
                && resolver
                    .env()
                    .distribution("torch")
                    .is_some_and(|t| knowledge::in_range(&t.version, &wo.torch, ""));
            if listed {
                r.reason = format!("in torch {}'s weights_only allowlist", wo.torch);
            } else {
                r.status = Status::Unverified;
                r.reason = why;
            }
        }
    }
    r
}

/// numpy 2's `numpy.core.*` shims serve names of `numpy._core.*` through `__getattr__`.
fn shim_resolves(
    resolver: &mut Resolver<'_>,
    knowledge: &Knowledge,
    module: &str,
    name: &str,
) -> bool {
    let Some(numpy) = target_version(resolver.env(), "numpy") else {
        return false;
    };
    let Some(shim) = knowledge.shim_for(module, &numpy) else {
        return false;
    };
    let target = shim.target.clone();
    resolver
        .import(&target)
        .is_ok_and(|m| matches!(resolver.attribute(&m, name), Attr::Found(_)))
}

/// `__main__` names: defined by the `--main` script, else missing as in a fresh interpreter.
fn main_global(
    options: &Options,
    loader: Loader,
    protocol: u8,
    name: &str,
    mut r: Resolved,
) -> Resolved {
    let first = name.split('.').next().unwrap_or(name);
    let (repr, defined) = match &options.main {
        Some((path, ns)) => (
            format!("<module '__main__' from '{path}'>"),
            ns.binds(first),
        ),
        None => ("<module '__main__' (built-in)>".to_owned(), false),
    };
    if defined {
        r.reason = "defined by the given __main__ script".to_owned();
        return r;
    }
    r.status = Status::AttributeMissing;
    r.reason = "`__main__` is whatever script loads the file; it must define this name".to_owned();
    r.error = Some(loader.attribute_error(protocol, "__main__", &repr, name));
    r.fixes.push(Fix {
        kind: FixKind::Rename,
        from: format!("__main__:{name}"),
        // Not a name that parses: a placeholder for the user to fill in (`fix` with a
        // map of `__main__` to the module that defines it now).
        to: format!("<module that defines it>:{name}"),
    });
    r
}

/// Knowledge-base renames, valid for the target's versions, whose target resolves there.
fn renames(
    resolver: &mut Resolver<'_>,
    knowledge: &Knowledge,
    module: &str,
    name: &str,
) -> Vec<Fix> {
    let env = resolver.env();
    let version_of = |dist: &str| target_version(env, dist);
    let candidates: Vec<(String, String)> = knowledge
        .renames_for(module, name, &version_of)
        .map(|(_, to)| to)
        .collect();
    let mut out = Vec::new();
    for (to_module, to_name) in candidates {
        let ok = resolver
            .import(&to_module)
            .is_ok_and(|m| matches!(resolver.attribute(&m, &to_name), Attr::Found(_)));
        if ok {
            out.push(Fix {
                kind: FixKind::Rename,
                from: format!("{module}:{name}"),
                to: format!("{to_module}:{to_name}"),
            });
            break;
        }
    }
    out
}

/// The installed version of `dist` in the target (`python`: the interpreter's).
pub fn target_version(env: &pyenv::Environment, dist: &str) -> Option<String> {
    if dist == "python" {
        let (a, b, c) = env.version;
        return Some(format!("{a}.{b}.{c}"));
    }
    env.distribution(dist).map(|d| d.version.clone())
}

fn first_persistent_id(trace: &Trace<'_>) -> Option<u64> {
    trace.nodes.iter().find_map(|n| match n {
        Node::PersistentId { offset, .. } => Some(*offset),
        _ => None,
    })
}

/// The C unpickler's words for a broken stream.
pub(crate) fn stream_error(e: &vm::VmError, start: u64) -> String {
    use pickle::ErrorKind;
    match &e.kind {
        vm::VmErrorKind::Parse(p) => match p.kind {
            ErrorKind::MissingStop if e.offset == start => "EOFError: Ran out of input".to_owned(),
            ErrorKind::MissingStop | ErrorKind::Truncated { .. } => {
                "UnpicklingError: pickle data was truncated".to_owned()
            }
            ErrorKind::UnknownOpcode(b) => {
                format!("UnpicklingError: {}", pickle::invalid_load_key(b))
            }
            _ => format!("UnpicklingError: {e}"),
        },
        vm::VmErrorKind::UnsupportedProtocol(p) => {
            format!("ValueError: unsupported pickle protocol: {p}")
        }
        vm::VmErrorKind::MemoMissing(i) => {
            format!("UnpicklingError: Memo value not found at index {i}")
        }
        vm::VmErrorKind::StackUnderflow => "UnpicklingError: unpickling stack underflow".to_owned(),
        vm::VmErrorKind::MarkMissing => "UnpicklingError: could not find MARK".to_owned(),
        vm::VmErrorKind::FrameTruncated { .. } => {
            "UnpicklingError: pickle data was truncated".to_owned()
        }
        // The machine's own words, without its op name and offset (those are notes, shown
        // by `dis`): the loader's text is not known for these.
        vm::VmErrorKind::BadArgument(m) | vm::VmErrorKind::Type(m) => {
            format!("UnpicklingError: {m}")
        }
        _ => format!("UnpicklingError: {}", e.kind_message()),
    }
}

fn dedupe(fixes: &mut Vec<Fix>) {
    let mut seen = BTreeMap::new();
    fixes.retain(|f| {
        seen.insert((f.kind, f.from.clone(), f.to.clone()), ())
            .is_none()
    });
}
