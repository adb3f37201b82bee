//! Zip archives: torch checkpoints, TorchScript archives, npz files and generic zips.
//!
//! The central directory gives names, sizes and local-header offsets; member data is sliced
//! straight from the input when stored (torch always stores), so reading a multi-GB
//! checkpoint touches only the records we look at. CRCs are not checked, as torch's own reader
//! does not check them either.

use std::borrow::Cow;
use std::io::Cursor;

use ::zip::{CompressionMethod, ZipArchive};

use crate::compress::{Limits, read_limited};
use crate::error::OpenError;
use crate::{Format, Loader, Member, MemberKind, Opened, npy};

/// One central-directory entry with where its data lies.
struct Entry {
    name: String,
    start: u64,
    compressed: u64,
    method: CompressionMethod,
}

fn entries(data: &[u8]) -> Result<Vec<Entry>, OpenError> {
    let mut zip = ZipArchive::new(Cursor::new(data)).map_err(|e| OpenError::Zip(e.to_string()))?;
    let mut out = Vec::with_capacity(zip.len());
    for i in 0..zip.len() {
        let f = zip
            .by_index_raw(i)
            .map_err(|e| OpenError::Zip(format!("entry {i}: {e}")))?;
        let name = String::from_utf8_lossy(f.name_raw()).into_owned();
        if f.is_dir() {
            continue;
        }
        let start = f
            .data_start()
            .ok_or_else(|| OpenError::Zip(format!("{name}: no data offset")))?;
        out.push(Entry {
            name,
            start,
            compressed: f.compressed_size(),
            method: f.compression(),
        });
    }
    Ok(out)
}

fn member_bytes<'a>(
    data: &'a [u8],
    e: &Entry,
    limits: &Limits,
) -> Result<Cow<'a, [u8]>, OpenError> {
    let raw = usize::try_from(e.start)
        .ok()
        .zip(usize::try_from(e.compressed).ok())
        .and_then(|(s, n)| data.get(s..s.checked_add(n)?))
        .ok_or_else(|| OpenError::Damaged {
            what: format!("zip member {}", e.name),
            offset: e.start,
            reason: format!(
                "{} bytes of data run past the end of the file",
                e.compressed
            ),
        })?;
    match e.method {
        CompressionMethod::Stored => Ok(Cow::Borrowed(raw)),
        CompressionMethod::Deflated => Ok(Cow::Owned(read_limited(
            flate2::read::DeflateDecoder::new(raw),
            limits.max_inflated_bytes,
            &format!("zip member {}", e.name),
            "deflate",
        )?)),
        other => Err(OpenError::Damaged {
            what: format!("zip member {}", e.name),
            offset: e.start,
            reason: format!("unsupported compression method {other:?}"),
        }),
    }
}

/// The torch archive prefix: the first entry's name up to the first `/`, as torch's reader
/// takes it.
fn torch_prefix(entries: &[Entry]) -> Option<String> {
    let first = entries.first()?;
    let (prefix, _) = first.name.split_once('/')?;
    let has = |suffix: &str| {
        entries.iter().any(|e| {
            e.name
                .strip_prefix(prefix)
                .and_then(|r| r.strip_prefix('/'))
                == Some(suffix)
        })
    };
    (has("data.pkl") || has("version") || has("constants.pkl")).then(|| prefix.to_owned())
}

/// Whether a member holds a pickle: protocol 2+ by its PROTO, protocol 0/1 by parsing (see
/// [`crate::sniff::looks_like_text_pickle`]).
fn is_pickle(b: &[u8]) -> bool {
    (b.len() >= 2 && b[0] == 0x80 && (2..=5).contains(&b[1]))
        || crate::sniff::looks_like_text_pickle(b)
}

/// Opens a zip archive `depth` archives deep and classifies it.
pub(crate) fn open_at<'a>(
    data: &'a [u8],
    limits: &Limits,
    depth: usize,
) -> Result<Opened<'a>, OpenError> {
    let entries = entries(data)?;
    if let Some(prefix) = torch_prefix(&entries) {
        let script = entries.iter().any(|e| {
            e.name.starts_with(&format!("{prefix}/code/"))
                || e.name == format!("{prefix}/constants.pkl")
        });
        let mut members = Vec::with_capacity(entries.len());
        for e in &entries {
            let rel = e
                .name
                .strip_prefix(&prefix)
                .and_then(|r| r.strip_prefix('/'))
                .unwrap_or(&e.name);
            let bytes = member_bytes(data, e, limits)?;
            // torch unpickles `data.pkl` (and TorchScript its other `.pkl`s); storages under
            // `data/` are read as raw bytes and never unpickled. Any other member that starts
            // like a pickle is scanned too: a payload must not hide behind a name.
            let kind = if rel.ends_with(".pkl") || rel.ends_with(".debug_pkl") {
                MemberKind::Pickle(Loader::Torch)
            } else if rel.starts_with("code/") || rel.ends_with(".py") {
                MemberKind::Code
            } else if !rel.starts_with("data/") && is_pickle(&bytes) {
                MemberKind::Pickle(Loader::Pickle)
            } else {
                MemberKind::Raw
            };
            members.push(Member {
                name: e.name.clone(),
                kind,
                data: bytes,
                file_offset: (e.method == CompressionMethod::Stored).then_some(e.start),
            });
        }
        let format = if script {
            Format::TorchScript { prefix }
        } else {
            Format::TorchZip { prefix }
        };
        return Ok(Opened {
            format,
            members,
            storages: Vec::new(),
            inventory: None,
        });
    }
    let npz = !entries.is_empty() && entries.iter().all(|e| e.name.ends_with(".npy"));
    let mut members = Vec::with_capacity(entries.len());
    for e in &entries {
        let bytes = member_bytes(data, e, limits)?;
        let offset = (e.method == CompressionMethod::Stored).then_some(e.start);
        if bytes.starts_with(crate::npy::MAGIC) {
            members.push(npy::member(e.name.clone(), bytes, offset)?);
            continue;
        }
        if (bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(crate::sevenz::MAGIC))
            && depth < crate::MAX_NESTING
        {
            // An archive inside a zip (a zipped model folder holding a checkpoint): its
            // members are listed as `outer/inner.zip/member`.
            if let Ok(inner) = crate::open_nested(&bytes, limits, depth + 1) {
                members.extend(crate::nested_members(&e.name, offset, inner));
                continue;
            }
        }
        let kind = if is_pickle(&bytes) {
            MemberKind::Pickle(Loader::Pickle)
        } else {
            MemberKind::Raw
        };
        members.push(Member {
            name: e.name.clone(),
            kind,
            data: bytes,
            file_offset: offset,
        });
    }
    Ok(Opened {
        format: if npz { Format::Npz } else { Format::Zip },
        members,
        storages: Vec::new(),
        inventory: None,
    })
}
