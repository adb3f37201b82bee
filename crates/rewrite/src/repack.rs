//! Writing a container back with some pickle members replaced.
//!
//! Each format is written the way its own library writes it, so that its loader accepts it:
//! - files that store the pickle as is (raw pickles, legacy torch, `.npy`, uncompressed
//!   joblib): the new bytes are spliced in, everything around them is copied;
//! - compressed joblib: the whole stream is compressed again with the same compressor;
//! - torch zip: every record stored uncompressed with its data 64-byte aligned, the layout
//!   `torch.save` writes (`PyTorchStreamWriter`), in the original order;
//! - npz and other zips: changed members are written with their original compression,
//!   the others copied raw.

use std::collections::HashMap;
use std::io::{Cursor, Read, Seek, Write};

use container::{Format, Opened};
use zip::CompressionMethod;
use zip::write::SimpleFileOptions;

use crate::compress::compress;
use crate::error::RewriteError;

/// torch aligns record data to 64 bytes with an extra field tagged `FB`.
const TORCH_ALIGNMENT: u16 = 64;
const TORCH_PAD_HEADER_ID: u16 = u16::from_le_bytes(*b"FB");

fn io(e: impl std::fmt::Display) -> RewriteError {
    RewriteError::new(0, format!("cannot write the repaired file: {e}"))
}

/// Whether [`write`] can repack this format, and if not, why.
///
/// # Errors
/// The reason, in one line, with what to do instead.
pub fn supported(format: &Format) -> Result<(), String> {
    match format {
        Format::Pickle
        | Format::TorchLegacy
        | Format::Npy
        | Format::Joblib { .. }
        | Format::TorchZip { .. }
        | Format::Npz
        | Format::Zip => Ok(()),
        Format::TorchScript { .. } => Err(
            "TorchScript archives hold compiled code that names the same classes; re-save with torch.jit.save in an environment that has them".to_owned(),
        ),
        Format::TorchTar => Err(
            "torch 0.1.x tar checkpoints cannot be repacked; load with torch and save again (torch.save writes the zip format)".to_owned(),
        ),
        Format::Safetensors | Format::Gguf | Format::Onnx => Err(format!(
            "{} files hold no pickle: nothing in them names a class or function to rename, and their readers never unpickle",
            format.name()
        )),
        other => Err(format!("{} files cannot be repacked", other.name())),
    }
}

/// Writes `data` (opened as `opened`) to `out`, with the pickle members named in `changed`
/// replaced by their new bytes.
///
/// # Errors
/// An unsupported format, a changed member whose bytes are not stored where they can be
/// replaced, or an I/O error while writing.
pub fn write<W: Write + Seek>(
    data: &[u8],
    opened: &Opened<'_>,
    changed: &HashMap<String, Vec<u8>>,
    out: &mut W,
) -> Result<(), RewriteError> {
    supported(&opened.format).map_err(|m| RewriteError::new(0, m))?;
    if changed.is_empty() {
        return out.write_all(data).map_err(io);
    }
    match &opened.format {
        Format::Joblib {
            compression: Some(c),
        } => {
            let [(_, new)] = changed.iter().collect::<Vec<_>>()[..] else {
                return Err(RewriteError::new(0, "a joblib file holds one stream"));
            };
            out.write_all(&compress(new, *c)?).map_err(io)
        }
        Format::TorchZip { .. } => repack_zip(data, opened, changed, true, out),
        Format::Npz | Format::Zip => repack_zip(data, opened, changed, false, out),
        _ => splice(data, opened, changed, out),
    }
}

/// Replaces members stored as is in the file.
fn splice<W: Write>(
    data: &[u8],
    opened: &Opened<'_>,
    changed: &HashMap<String, Vec<u8>>,
    out: &mut W,
) -> Result<(), RewriteError> {
    let mut spans = Vec::new();
    for m in &opened.members {
        let Some(new) = changed.get(&m.name) else {
            continue;
        };
        let Some(start) = m.file_offset else {
            return Err(RewriteError::new(
                0,
                format!("member {:?} is not stored as is", m.name),
            ));
        };
        let start = start as usize;
        spans.push((start, start + m.data.len(), new));
    }
    spans.sort_by_key(|s| s.0);
    let mut pos = 0;
    for (start, end, new) in spans {
        if start < pos || end > data.len() {
            return Err(RewriteError::new(start as u64, "members overlap"));
        }
        out.write_all(&data[pos..start]).map_err(io)?;
        out.write_all(new).map_err(io)?;
        pos = end;
    }
    out.write_all(&data[pos..]).map_err(io)
}

fn repack_zip<W: Write + Seek>(
    data: &[u8],
    opened: &Opened<'_>,
    changed: &HashMap<String, Vec<u8>>,
    torch: bool,
    out: &mut W,
) -> Result<(), RewriteError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(data)).map_err(io)?;
    // Members inside an archive nested in this one cannot be replaced here.
    let names: std::collections::HashSet<String> = archive
        .file_names()
        .filter_map(|n| n.ok().map(|n| n.into_owned()))
        .collect();
    if let Some(n) = changed.keys().find(|n| !names.contains(n.as_str())) {
        return Err(RewriteError::new(
            0,
            format!("{n:?} is inside a nested archive; extract it and fix it on its own"),
        ));
    }
    let mut w = zip::ZipWriter::new(out);
    let comment = archive.comment().to_vec();
    for i in 0..archive.len() {
        let mut f = archive.by_index(i).map_err(io)?;
        let name = f.name().map_err(io)?.into_owned();
        let mut opts = SimpleFileOptions::default()
            .last_modified_time(f.last_modified().unwrap_or_default())
            .compression_method(if torch {
                CompressionMethod::Stored
            } else {
                f.compression()
            });
        if torch {
            opts = opts.with_alignment_and_header_id(TORCH_ALIGNMENT, TORCH_PAD_HEADER_ID);
        }
        if let Some(new) = changed.get(&name) {
            // An npz member keeps its npy header: the member's bytes are the entry's tail.
            let mut entry = Vec::new();
            f.read_to_end(&mut entry).map_err(io)?;
            let old_len = opened.member(&name).map_or(entry.len(), |m| m.data.len());
            let header = &entry[..entry.len().saturating_sub(old_len)];
            let len = (header.len() + new.len()) as u64;
            w.start_file(name, opts.large_file(len >= u64::from(u32::MAX)))
                .map_err(io)?;
            w.write_all(header).map_err(io)?;
            w.write_all(new).map_err(io)?;
        } else if torch {
            // Re-laid out so that every record stays aligned after the changed ones.
            let large = f.size() >= u64::from(u32::MAX);
            w.start_file(name, opts.large_file(large)).map_err(io)?;
            std::io::copy(&mut f, &mut w).map_err(io)?;
        } else {
            drop(f);
            w.raw_copy_file(archive.by_index_raw(i).map_err(io)?)
                .map_err(io)?;
        }
    }
    if !comment.is_empty() {
        w.set_raw_comment(comment.into_boxed_slice()).map_err(io)?;
    }
    w.finish().map_err(io)?;
    Ok(())
}
