//! Compressing a rewritten joblib stream back with the compressor it came with.
//!
//! joblib picks the decompressor from the file's magic bytes, so any valid stream of the same
//! kind loads; the level does not need to match the original.

use std::io::Write;

use container::Compression;

use crate::error::RewriteError;

fn io(e: impl std::fmt::Display) -> RewriteError {
    RewriteError::new(0, format!("cannot compress: {e}"))
}

/// `data` compressed the way joblib writes `compression`.
///
/// # Errors
/// An encoder failure (out of memory).
pub(crate) fn compress(data: &[u8], compression: Compression) -> Result<Vec<u8>, RewriteError> {
    let mut out = Vec::with_capacity(data.len() / 2 + 64);
    match compression {
        Compression::Zlib => {
            let mut e = flate2::write::ZlibEncoder::new(out, flate2::Compression::new(3));
            e.write_all(data).map_err(io)?;
            out = e.finish().map_err(io)?;
        }
        Compression::Gzip => {
            let mut e = flate2::write::GzEncoder::new(out, flate2::Compression::new(3));
            e.write_all(data).map_err(io)?;
            out = e.finish().map_err(io)?;
        }
        Compression::Bz2 => {
            let mut e = bzip2::write::BzEncoder::new(out, bzip2::Compression::new(3));
            e.write_all(data).map_err(io)?;
            out = e.finish().map_err(io)?;
        }
        Compression::Lzma => {
            // The "alone" format with an end marker, as Python's lzma.FORMAT_ALONE writes.
            let opts = lzma_rust2::LzmaOptions::with_preset(3);
            let mut e = lzma_rust2::LzmaWriter::new_use_header(out, &opts, None).map_err(io)?;
            e.write_all(data).map_err(io)?;
            out = e.finish().map_err(io)?;
        }
        Compression::Xz => {
            let opts = lzma_rust2::XzOptions::with_preset(3);
            let mut e = lzma_rust2::XzWriter::new(out, opts).map_err(io)?;
            e.write_all(data).map_err(io)?;
            out = e.finish().map_err(io)?;
        }
        Compression::Lz4 => {
            let mut e = lz4_flex::frame::FrameEncoder::new(out);
            e.write_all(data).map_err(io)?;
            out = e.finish().map_err(io)?;
        }
        Compression::ZFile => {
            // joblib < 0.9.3: "ZF", the length as `0x…` left-justified to 19 bytes, zlib data.
            out.extend_from_slice(b"ZF");
            out.extend_from_slice(format!("{:<19}", format!("{:#x}", data.len())).as_bytes());
            let mut e = flate2::write::ZlibEncoder::new(out, flate2::Compression::new(3));
            e.write_all(data).map_err(io)?;
            out = e.finish().map_err(io)?;
        }
    }
    Ok(out)
}
