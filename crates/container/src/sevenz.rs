//! 7z archives. PyTorch cannot load them, but models have been shipped 7z-compressed to slip
//! past scanners that only open zips (the "nullifAI" models), and any tool that unpacks the
//! archive and loads what is inside runs its pickles. Each entry is opened as a container of
//! its own and its members listed as `entry/member`.

use std::borrow::Cow;
use std::io::{Cursor, Read};

use sevenz_rust2::{ArchiveReader, Password};

use crate::compress::Limits;
use crate::error::OpenError;
use crate::{Format, Member, MemberKind, Opened};

/// `7z\xBC\xAF\x27\x1C`.
pub(crate) const MAGIC: &[u8] = b"7z\xbc\xaf\x27\x1c";

/// Memory the decoder may use for dictionaries (KiB).
const DECODER_MEMORY_KB: usize = 1 << 20;

pub(crate) fn open<'a>(
    data: &'a [u8],
    limits: &Limits,
    depth: usize,
) -> Result<Opened<'a>, OpenError> {
    let damaged = |e: sevenz_rust2::Error| OpenError::Damaged {
        what: "7z archive".to_owned(),
        offset: 0,
        reason: e.to_string(),
    };
    let mut reader = ArchiveReader::new_with_memory_limit(
        Cursor::new(data),
        Password::empty(),
        DECODER_MEMORY_KB,
    )
    .map_err(damaged)?;
    let mut entries: Vec<(String, Vec<u8>)> = Vec::new();
    let mut total: u64 = 0;
    let mut over = None;
    reader
        .for_each_entries(|entry, r| {
            if entry.is_directory() {
                return Ok(true);
            }
            let budget = limits.max_inflated_bytes.saturating_sub(total);
            let mut buf = Vec::new();
            r.take(budget.saturating_add(1)).read_to_end(&mut buf)?;
            total += buf.len() as u64;
            if buf.len() as u64 > budget {
                over = Some(entry.name().to_owned());
                return Ok(false);
            }
            entries.push((entry.name().to_owned(), buf));
            Ok(true)
        })
        .map_err(damaged)?;
    if let Some(name) = over {
        return Err(OpenError::Damaged {
            what: format!("7z entry {name}"),
            offset: 0,
            reason: format!(
                "inflates past {} bytes (--max-inflated-bytes)",
                limits.max_inflated_bytes
            ),
        });
    }
    let mut members = Vec::new();
    for (name, bytes) in entries {
        match crate::open_nested(&bytes, limits, depth + 1) {
            Ok(inner) if !inner.members.is_empty() => {
                members.extend(crate::nested_members(&name, None, inner));
            }
            _ => members.push(Member {
                name,
                kind: MemberKind::Raw,
                data: Cow::Owned(bytes),
                file_offset: None,
            }),
        }
    }
    Ok(Opened {
        format: Format::SevenZip,
        members,
        storages: Vec::new(),
        inventory: None,
    })
}
