//! Whole-stream decompression under a size budget.

use std::io::Read;

use crate::error::OpenError;
use crate::sniff::Compression;

/// Budgets for opening containers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Maximum bytes one compressed stream or member may inflate to.
    pub max_inflated_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_inflated_bytes: 8 << 30,
        }
    }
}

/// Reads all of `r`, failing once more than `limit` bytes come out.
pub(crate) fn read_limited(
    r: impl Read,
    limit: u64,
    what: &str,
    compression: &'static str,
) -> Result<Vec<u8>, OpenError> {
    let mut out = Vec::new();
    r.take(limit.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| OpenError::Decompress {
            compression,
            reason: e.to_string(),
        })?;
    if out.len() as u64 > limit {
        return Err(OpenError::TooLarge {
            what: what.to_owned(),
            limit,
        });
    }
    Ok(out)
}

/// Inflates a joblib stream compressed as a whole.
pub(crate) fn inflate(data: &[u8], c: Compression, limits: &Limits) -> Result<Vec<u8>, OpenError> {
    let limit = limits.max_inflated_bytes;
    let name = c.name();
    let what = format!("the {name} stream");
    match c {
        Compression::Zlib => read_limited(flate2::read::ZlibDecoder::new(data), limit, &what, name),
        Compression::Gzip => {
            read_limited(flate2::read::MultiGzDecoder::new(data), limit, &what, name)
        }
        Compression::Bz2 => {
            read_limited(bzip2::read::MultiBzDecoder::new(data), limit, &what, name)
        }
        Compression::Lzma => {
            let mem_limit = u32::MAX;
            let r = lzma_rust2::LzmaReader::new_mem_limit(data, mem_limit, None).map_err(|e| {
                OpenError::Decompress {
                    compression: name,
                    reason: e.to_string(),
                }
            })?;
            read_limited(r, limit, &what, name)
        }
        Compression::Xz => read_limited(lzma_rust2::XzReader::new(data, true), limit, &what, name),
        Compression::Lz4 => {
            read_limited(lz4_flex::frame::FrameDecoder::new(data), limit, &what, name)
        }
        Compression::ZFile => {
            // joblib < 0.9.3: "ZF", then the uncompressed length in hex padded to 19 bytes,
            // then a zlib stream. joblib <= 0.8.4 on Python 2 padded to 20; joblib skips one
            // more space when present (a zlib stream never starts with a space).
            let mut body = data.get(21..).ok_or(OpenError::Damaged {
                what: "ZF header".into(),
                offset: 0,
                reason: "shorter than 21 bytes".into(),
            })?;
            if body.first() == Some(&b' ') {
                body = &body[1..];
            }
            read_limited(flate2::read::ZlibDecoder::new(body), limit, &what, name)
        }
    }
}
