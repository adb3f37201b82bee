//! Which members of an opened file a command reads, which loader reads them, and their
//! symbolic runs.

use container::{Format, Loader as ContainerLoader, Member, MemberKind, Opened, joblib::ArrayHook};
use vm::{Budgets, Trace};

use crate::error::{Error, Result};

/// Fails with the format's own explanation for files that cannot hold a model.
///
/// # Errors
/// [`Error::NotAModel`].
pub fn ensure_model(opened: &Opened<'_>, path: &str) -> Result<()> {
    match opened.format.not_a_model() {
        Some(why) => Err(Error::NotAModel {
            path: path.to_owned(),
            why,
        }),
        None => Ok(()),
    }
}

/// The members a command works on: the one asked for, else every pickle member.
///
/// # Errors
/// [`Error::NoSuchMember`].
pub fn select<'o, 'a>(
    opened: &'o Opened<'a>,
    member: Option<&str>,
    path: &str,
) -> Result<Vec<&'o Member<'a>>> {
    match member {
        Some(name) => match opened.member(name) {
            Some(m) => Ok(vec![m]),
            None => Err(Error::NoSuchMember {
                path: path.to_owned(),
                name: name.to_owned(),
                members: opened.members.iter().map(|m| m.name.clone()).collect(),
            }),
        },
        None => Ok(opened.pickles().collect()),
    }
}

/// The loader a file's content calls for.
#[must_use]
pub fn loader_for(opened: &Opened<'_>) -> analyze::load::Loader {
    use analyze::load::Loader;
    match opened.format {
        Format::TorchZip { .. }
        | Format::TorchScript { .. }
        | Format::TorchLegacy
        | Format::TorchTar => Loader::Torch,
        Format::Joblib { .. } => Loader::Joblib,
        Format::Npy | Format::Npz => Loader::Numpy,
        Format::Safetensors => Loader::Safetensors,
        Format::Gguf => Loader::Gguf,
        Format::Onnx => Loader::Onnx,
        _ => match opened.pickles().next().map(|m| &m.kind) {
            Some(MemberKind::Pickle(ContainerLoader::Joblib)) => Loader::Joblib,
            _ => Loader::Pickle,
        },
    }
}

/// Whether the format is one of torch's.
#[must_use]
pub fn is_torch(format: &Format) -> bool {
    matches!(
        format,
        Format::TorchZip { .. }
            | Format::TorchScript { .. }
            | Format::TorchLegacy
            | Format::TorchTar
    )
}

/// The members the loader unpickles: torch reads `data.pkl` (and legacy its object pickle),
/// every other loader every pickle member.
#[must_use]
pub fn loaded_members<'o, 'a>(opened: &'o Opened<'a>) -> Vec<&'o Member<'a>> {
    let pickles: Vec<&Member<'a>> = opened.pickles().collect();
    let torch_data: Vec<&Member<'a>> = pickles
        .iter()
        .copied()
        .filter(|m| m.name == "data.pkl" || m.name.ends_with("/data.pkl") || m.name == "pickle")
        .collect();
    if is_torch(&opened.format) && !torch_data.is_empty() {
        return torch_data;
    }
    pickles
}

/// The torch archive kind, for `weights_only`.
#[must_use]
pub fn torch_archive(opened: &Opened<'_>) -> Option<analyze::load::TorchArchive> {
    use analyze::load::TorchArchive;
    match opened.format {
        Format::TorchZip { .. } => Some(TorchArchive::Zip),
        Format::TorchScript { .. } => Some(TorchArchive::Script),
        Format::TorchLegacy => Some(TorchArchive::Legacy),
        Format::TorchTar => Some(TorchArchive::Tar),
        _ => None,
    }
}

/// A pickle member run through the symbolic machine with its loader's rules.
pub struct MemberRun<'a> {
    /// The trace.
    pub trace: Trace<'a>,
    /// joblib's inline arrays, whose bytes the run skipped.
    pub arrays: Vec<container::joblib::InlineArray>,
    /// Files an old joblib dump needs beside it.
    pub external_files: Vec<container::joblib::ExternalFile>,
}

/// Runs a member's pickle stream. joblib members skip inline array data.
#[must_use]
pub fn run<'a>(member: &'a Member<'_>, budgets: Budgets) -> MemberRun<'a> {
    run_mode(member, budgets, vm::Mode::Full)
}

/// Like [`run`], building only what the security rules read: plain data is only counted
/// (`vm::Mode::Plain`, see `vm::plain`), anything else runs in `vm::Mode::Scan` from the
/// start. A joblib member that is not plain still runs in full: its array hook reads the
/// wrappers' states to find the raw bytes to skip (plain data has no BUILD for the hook to
/// act on).
#[must_use]
pub fn run_for_scan<'a>(member: &'a Member<'_>, budgets: Budgets) -> MemberRun<'a> {
    run_plain(member, budgets).unwrap_or_else(|| run_scan_mode(member, budgets))
}

/// The plain-data pass's counts-only run, when the member is plain data.
fn run_plain<'a>(member: &'a Member<'_>, budgets: Budgets) -> Option<MemberRun<'a>> {
    vm::run_plain(&member.data, budgets).map(|trace| MemberRun {
        trace,
        arrays: Vec::new(),
        external_files: Vec::new(),
    })
}

/// [`run_for_scan`] without the plain-data pass: the machine in `vm::Mode::Scan` (tests and
/// [`crate::scan::ScanOptions::full_graph`] compare the two).
#[must_use]
pub fn run_scan_mode<'a>(member: &'a Member<'_>, budgets: Budgets) -> MemberRun<'a> {
    run_mode(member, budgets, vm::Mode::Scan)
}

/// What `show --stats` counts: [`run_for_scan`]'s counts-only trace when the member is plain
/// data, else the full run of [`run`] (the counts of both are the same).
#[must_use]
pub fn run_for_stats<'a>(member: &'a Member<'_>, budgets: Budgets) -> MemberRun<'a> {
    run_plain(member, budgets).unwrap_or_else(|| run(member, budgets))
}

fn run_mode<'a>(member: &'a Member<'_>, budgets: Budgets, mode: vm::Mode) -> MemberRun<'a> {
    let data: &'a [u8] = &member.data;
    if member.kind == MemberKind::Pickle(ContainerLoader::Joblib) {
        let mut hook = ArrayHook::new(data);
        let trace = vm::run_hooked(data, budgets, &mut hook);
        return MemberRun {
            trace,
            arrays: hook.arrays,
            external_files: hook.external_files,
        };
    }
    MemberRun {
        trace: vm::run_mode(data, budgets, mode, &mut vm::NoHooks),
        arrays: Vec::new(),
        external_files: Vec::new(),
    }
}

/// Where bytes of the file are: stored as is at a range of the file, or in the (inflated)
/// data of a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bytes {
    /// In the input file, at this range.
    File(crate::show::ByteRange),
    /// In the data of `Opened::members[member]`, at this range of it.
    Member {
        /// Index into `Opened::members`.
        member: usize,
        /// Range within the member's data.
        range: crate::show::ByteRange,
    },
}

impl Bytes {
    /// The bytes at `range` of member `member`'s data, given where that data starts in the
    /// file when it is stored as is (`file_offset`).
    #[must_use]
    pub fn within(member: usize, file_offset: Option<u64>, range: crate::show::ByteRange) -> Bytes {
        match file_offset {
            Some(o) => Bytes::File(crate::show::ByteRange {
                start: o + range.start,
                len: range.len,
            }),
            None => Bytes::Member { member, range },
        }
    }
}

/// Where the bytes of torch storage `key`, named by the pickle member `pickle_member`, are:
/// its `data/<key>` record (zip), a storage of the legacy format, or a tar blob.
#[must_use]
pub fn torch_storage(
    opened: &Opened<'_>,
    pickle_member: &str,
    key: &str,
    tar: Option<&container::torch::TarTensors>,
) -> Option<Bytes> {
    use crate::show::ByteRange;
    let record = container::torch::storage_record(pickle_member, key);
    if let Some((i, m)) = opened
        .members
        .iter()
        .enumerate()
        .find(|(_, m)| m.name == record)
    {
        let len = m.data.len() as u64;
        return Some(match m.file_offset {
            Some(start) => Bytes::File(ByteRange { start, len }),
            None => Bytes::Member {
                member: i,
                range: ByteRange { start: 0, len },
            },
        });
    }
    opened
        .storages
        .iter()
        .find(|b| b.key == key)
        .or_else(|| tar.and_then(|t| t.blob(key)))
        .map(|b| {
            Bytes::File(ByteRange {
                start: b.offset,
                len: b.length,
            })
        })
}
