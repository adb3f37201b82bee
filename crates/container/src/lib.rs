//! Model files: sniffing the format from content and opening it into members.
//!
//! # Brief overview
//!
//! [`open`] looks at the bytes (never the file name) and returns an [`Opened`] file: its
//! [`Format`] and its [`Member`]s. A member is a pickle stream, a raw blob (tensor storage,
//! array data) or something only listed (TorchScript code). Members borrow from the input
//! wherever the container stores them uncompressed (torch zips, npz savez, legacy torch), so a
//! multi-gigabyte checkpoint costs only its `data.pkl`; compressed streams are inflated under a
//! size [`Limits`] budget.
//!
//! Formats that store data only ([`safetensors`], [`gguf`], [`onnx`]) have no members: their
//! own header, parsed and validated, is the [`Opened::inventory`].
//!
//! ```
//! let opened = container::open(b"\x80\x04K\x01.", &container::Limits::default()).unwrap();
//! assert_eq!(opened.format, container::Format::Pickle);
//! assert_eq!(opened.members.len(), 1);
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod compress;
mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod gguf;
pub mod joblib;
pub mod npy;
pub mod numpy;
pub mod onnx;
pub mod safetensors;
mod sevenz;
mod sniff;
pub mod torch;
mod zip;

use std::borrow::Cow;

pub use compress::Limits;
pub use error::OpenError;
pub use sniff::{Compression, Sniffed, sniff};

/// What a file is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format {
    /// A raw pickle stream (one or several pickles).
    Pickle,
    /// A PyTorch zip checkpoint (`torch.save` since 1.6), with its top folder name.
    TorchZip {
        /// The archive's top folder (`archive` when saved to a buffer).
        prefix: String,
    },
    /// A TorchScript archive (`torch.jit.save`).
    TorchScript {
        /// The archive's top folder.
        prefix: String,
    },
    /// The legacy torch format: magic, protocol and sys-info pickles, the main pickle, the
    /// storage keys, then raw storages.
    TorchLegacy,
    /// The 0.1.x legacy torch tar.
    TorchTar,
    /// A joblib dump, possibly compressed as a whole.
    Joblib {
        /// The compressor, or `None`.
        compression: Option<Compression>,
    },
    /// A numpy `.npy` file.
    Npy,
    /// A numpy `.npz` archive.
    Npz,
    /// Any other zip archive; members whose bytes are pickles are read.
    Zip,
    /// A 7z archive; every entry is opened as a container.
    SevenZip,
    /// A Git-LFS pointer file: the real content was never downloaded.
    GitLfsPointer,
    /// An HTML page (a failed download).
    Html,
    /// An empty file.
    Empty,
    /// A safetensors file: a JSON header and raw tensor bytes, no pickle.
    Safetensors,
    /// A GGUF file (llama.cpp): binary metadata and tensors, no pickle.
    Gguf,
    /// An ONNX model: a protobuf graph and tensors (some maybe in external files), no pickle.
    Onnx,
}

impl Format {
    /// The short name used in JSON output.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Format::Pickle => "pickle",
            Format::TorchZip { .. } => "torch-zip",
            Format::TorchScript { .. } => "torchscript",
            Format::TorchLegacy => "torch-legacy",
            Format::TorchTar => "torch-tar",
            Format::Joblib { .. } => "joblib",
            Format::Npy => "npy",
            Format::Npz => "npz",
            Format::Zip => "zip",
            Format::SevenZip => "7z",
            Format::GitLfsPointer => "git-lfs-pointer",
            Format::Html => "html",
            Format::Empty => "empty",
            Format::Safetensors => "safetensors",
            Format::Gguf => "gguf",
            Format::Onnx => "onnx",
        }
    }

    /// Whether the format stores data only and its own readers never unpickle anything
    /// (safetensors, GGUF, ONNX): a file of this format has no pickle members.
    #[must_use]
    pub fn stores_data_only(&self) -> bool {
        matches!(self, Format::Safetensors | Format::Gguf | Format::Onnx)
    }

    /// Why a file of this format cannot hold a model, for formats that are not containers.
    #[must_use]
    pub fn not_a_model(&self) -> Option<&'static str> {
        match self {
            Format::GitLfsPointer => Some(
                "this is a Git-LFS pointer, not the file: run `git lfs pull` (pickle.load fails with \"invalid load key, 'v'\")",
            ),
            Format::Html => Some(
                "this is an HTML page, not a model: the download failed or needed a login (pickle.load fails with \"invalid load key, '<'\")",
            ),
            Format::Empty => {
                Some("the file is empty (pickle.load fails with \"Ran out of input\")")
            }
            _ => None,
        }
    }
}

/// How a member's pickle is loaded, which decides how raw data interleaves with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loader {
    /// `pickle.load`.
    Pickle,
    /// `joblib.load`: arrays' raw bytes follow their `NumpyArrayWrapper` BUILD.
    Joblib,
    /// `torch.load`: persistent ids name storages in `data/`.
    Torch,
    /// `np.load(allow_pickle=True)` of an object array.
    Numpy,
}

/// What a member holds.
#[derive(Debug, Clone, PartialEq)]
pub enum MemberKind {
    /// A pickle stream, read with the given loader.
    Pickle(Loader),
    /// A numpy array stored as raw bytes (npy data, npz member).
    Array(npy::Header),
    /// Raw bytes (a tensor storage, a byte-order marker, a version file).
    Raw,
    /// TorchScript code or other text, listed but not read as a pickle.
    Code,
}

/// One member of a container.
#[derive(Debug, Clone)]
pub struct Member<'a> {
    /// The member's name inside the container (`archive/data.pkl`); the empty string for a
    /// file that is itself one pickle stream.
    pub name: String,
    /// What it holds.
    pub kind: MemberKind,
    /// Its bytes: borrowed from the input when stored uncompressed, owned when inflated.
    pub data: Cow<'a, [u8]>,
    /// Where `data` starts in the file, when it is stored as is.
    pub file_offset: Option<u64>,
}

/// The parsed header of a file that stores data only.
#[derive(Debug, Clone, PartialEq)]
pub enum Inventory {
    /// A safetensors header.
    Safetensors(safetensors::Header),
    /// A GGUF header.
    Gguf(gguf::Header),
    /// An ONNX model's tensors and external data references.
    Onnx(onnx::Model),
}

/// A sniffed and opened file.
#[derive(Debug, Clone)]
pub struct Opened<'a> {
    /// The format.
    pub format: Format,
    /// Its members, in container order.
    pub members: Vec<Member<'a>>,
    /// Storages of legacy torch files, by key: offset and length in the file.
    pub storages: Vec<torch::StorageBlob>,
    /// The header of a safetensors, GGUF or ONNX file; `None` for every other format.
    pub inventory: Option<Inventory>,
}

impl<'a> Opened<'a> {
    /// A file of `format` with these members and nothing else.
    #[must_use]
    pub fn new(format: Format, members: Vec<Member<'a>>) -> Self {
        Opened {
            format,
            members,
            storages: Vec::new(),
            inventory: None,
        }
    }

    /// A file that stores data only, described by its header.
    fn data_only(format: Format, inventory: Inventory) -> Self {
        Opened {
            inventory: Some(inventory),
            ..Opened::new(format, Vec::new())
        }
    }

    /// The pickle members.
    pub fn pickles(&self) -> impl Iterator<Item = &Member<'a>> {
        self.members
            .iter()
            .filter(|m| matches!(m.kind, MemberKind::Pickle(_)))
    }

    /// The member with this name.
    #[must_use]
    pub fn member(&self, name: &str) -> Option<&Member<'a>> {
        self.members.iter().find(|m| m.name == name)
    }
}

/// Opens `data`, sniffing the format from its content.
///
/// # Errors
/// A container that is damaged beyond what its own reader tolerates, or a decompression that
/// exceeds `limits`. Unknown content is an error that says what the first bytes look like.
pub fn open<'a>(data: &'a [u8], limits: &Limits) -> Result<Opened<'a>, OpenError> {
    open_nested(data, limits, 0)
}

/// Opens `data` the way a loader reads it: like [`open`], except that content in no known
/// format is a whole-file pickle. `pickle.load` reads any bytes, and fails on the first one
/// when it is not an opcode (`UnpicklingError: invalid load key, 'x'.`) before anything
/// runs: commands that say what loading does (`scan` of a named file, `check`, `show`)
/// report that, the same way everywhere.
///
/// # Errors
/// As [`open`], except for unknown content.
pub fn open_as_loader<'a>(data: &'a [u8], limits: &Limits) -> Result<Opened<'a>, OpenError> {
    match open(data, limits) {
        Err(OpenError::Unknown { .. }) => Ok(Opened::new(
            Format::Pickle,
            vec![Member {
                name: String::new(),
                kind: MemberKind::Pickle(Loader::Pickle),
                data: Cow::Borrowed(data),
                file_offset: Some(0),
            }],
        )),
        other => other,
    }
}

/// The members of an archive found inside another, named `outer/member` (the outer name alone
/// for a whole-file member), owning their bytes. Offsets stay in file coordinates only when
/// both levels store their bytes as is.
pub(crate) fn nested_members(
    outer: &str,
    outer_offset: Option<u64>,
    inner: Opened<'_>,
) -> Vec<Member<'static>> {
    inner
        .members
        .into_iter()
        .map(|m| Member {
            name: if m.name.is_empty() {
                outer.to_owned()
            } else {
                format!("{outer}/{}", m.name)
            },
            kind: m.kind,
            file_offset: m.file_offset.zip(outer_offset).map(|(a, b)| a + b),
            data: Cow::Owned(m.data.into_owned()),
        })
        .collect()
}

/// How deep archives inside archives (zip in zip, zip in 7z) are opened.
pub(crate) const MAX_NESTING: usize = 3;

/// [`open`] for content found `depth` archives deep.
pub(crate) fn open_nested<'a>(
    data: &'a [u8],
    limits: &Limits,
    depth: usize,
) -> Result<Opened<'a>, OpenError> {
    let whole = |format, kind| {
        Opened::new(
            format,
            vec![Member {
                name: String::new(),
                kind,
                data: Cow::Borrowed(data),
                file_offset: Some(0),
            }],
        )
    };
    match sniff(data) {
        Sniffed::Empty => Ok(Opened::new(Format::Empty, Vec::new())),
        Sniffed::GitLfsPointer => Ok(Opened::new(Format::GitLfsPointer, Vec::new())),
        Sniffed::Html => Ok(Opened::new(Format::Html, Vec::new())),
        Sniffed::Safetensors => Ok(Opened::data_only(
            Format::Safetensors,
            Inventory::Safetensors(safetensors::parse(data)?),
        )),
        Sniffed::Gguf => Ok(Opened::data_only(
            Format::Gguf,
            Inventory::Gguf(gguf::parse(data)?),
        )),
        Sniffed::Onnx => Ok(Opened::data_only(
            Format::Onnx,
            Inventory::Onnx(onnx::parse(data)?),
        )),
        Sniffed::Zip => zip::open_at(data, limits, depth),
        Sniffed::SevenZip if depth < MAX_NESTING => sevenz::open(data, limits, depth),
        Sniffed::SevenZip => Err(OpenError::Damaged {
            what: "7z archive".to_owned(),
            offset: 0,
            reason: format!("nested more than {MAX_NESTING} archives deep"),
        }),
        Sniffed::Tar => torch::open_tar(data),
        Sniffed::Npy => npy::open(data),
        Sniffed::Compressed(c) => {
            let inflated = compress::inflate(data, c, limits)?;
            // Old joblib (`ZNDArrayWrapper`) keeps each array in a sibling file: a compressed
            // `.npy`, not a pickle.
            let member = if inflated.starts_with(npy::MAGIC) {
                npy::member(String::new(), Cow::Owned(inflated), None)?
            } else if matches!(sniff::sniff(&inflated), Sniffed::Unknown | Sniffed::Empty) {
                // ...or raw array bytes (or none). No loader can unpickle those: the first byte is
                // not an opcode, so nothing would run.
                Member {
                    name: String::new(),
                    kind: MemberKind::Raw,
                    data: Cow::Owned(inflated),
                    file_offset: None,
                }
            } else {
                Member {
                    name: String::new(),
                    kind: MemberKind::Pickle(Loader::Joblib),
                    data: Cow::Owned(inflated),
                    file_offset: None,
                }
            };
            Ok(Opened::new(
                Format::Joblib {
                    compression: Some(c),
                },
                vec![member],
            ))
        }
        Sniffed::Pickle => {
            if torch::is_legacy(data) {
                // A damaged legacy checkpoint is still a stream of pickles: scanned as one.
                if let Ok(opened) = torch::open_legacy(data) {
                    return Ok(opened);
                }
            }
            if joblib::mentions_wrapper(data) {
                return Ok(whole(
                    Format::Joblib { compression: None },
                    MemberKind::Pickle(Loader::Joblib),
                ));
            }
            Ok(whole(Format::Pickle, MemberKind::Pickle(Loader::Pickle)))
        }
        Sniffed::Unknown => Err(OpenError::Unknown {
            first_bytes: data[..data.len().min(8)].to_vec(),
        }),
    }
}
