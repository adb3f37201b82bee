//! Recognising a file's format from its first bytes. Names and extensions are never consulted:
//! a `model.bin` may be a torch zip, a joblib file, an HTML error page or a Git-LFS pointer.

/// Compression wrapping a whole joblib stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// `\x78` zlib stream.
    Zlib,
    /// `\x1f\x8b` gzip.
    Gzip,
    /// `BZh` bzip2.
    Bz2,
    /// `\x5d\x00\x00` lzma "alone".
    Lzma,
    /// `\xfd7zXZ\x00` xz.
    Xz,
    /// `\x04\x22\x4d\x18` LZ4 frame.
    Lz4,
    /// joblib's pre-0.9.3 `ZF` zfile: `ZF`, hex length padded to 19 bytes, zlib data.
    ZFile,
}

impl Compression {
    /// The name joblib uses for the compressor.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Compression::Zlib => "zlib",
            Compression::Gzip => "gzip",
            Compression::Bz2 => "bz2",
            Compression::Lzma => "lzma",
            Compression::Xz => "xz",
            Compression::Lz4 => "lz4",
            Compression::ZFile => "zfile",
        }
    }
}

/// What the first bytes say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniffed {
    /// Zero bytes.
    Empty,
    /// A pickle stream (PROTO, or any opcode a protocol 0/1 pickle starts with).
    Pickle,
    /// A zip archive (torch, TorchScript, npz, or generic).
    Zip,
    /// A 7z archive.
    SevenZip,
    /// A tar archive (legacy torch, 0.1.x era).
    Tar,
    /// numpy `.npy`.
    Npy,
    /// A compressed stream (joblib).
    Compressed(Compression),
    /// A Git-LFS pointer file instead of the real content.
    GitLfsPointer,
    /// An HTML page (a download that returned an error or login page).
    Html,
    /// A safetensors file (header length, then a JSON object).
    Safetensors,
    /// A GGUF file (magic `GGUF`).
    Gguf,
    /// An ONNX model (a protobuf `ModelProto`).
    Onnx,
    /// Nothing we know.
    Unknown,
}

/// Sniffs the format of `data` from its leading bytes.
#[must_use]
pub fn sniff(data: &[u8]) -> Sniffed {
    if data.is_empty() {
        return Sniffed::Empty;
    }
    if data.starts_with(b"PK\x03\x04") || data.starts_with(b"PK\x05\x06") {
        return Sniffed::Zip;
    }
    if data.starts_with(crate::npy::MAGIC) {
        return Sniffed::Npy;
    }
    // Before the compressors and pickles: a header length's low byte may be anything
    // (`\x1f\x8b`, `\x5d\x00\x00`, an opcode).
    if crate::safetensors::looks_like(data) {
        return Sniffed::Safetensors;
    }
    if crate::gguf::looks_like(data) {
        return Sniffed::Gguf;
    }
    if data.starts_with(crate::sevenz::MAGIC) {
        return Sniffed::SevenZip;
    }
    if data.starts_with(b"version https://git-lfs.github.com/spec/") {
        return Sniffed::GitLfsPointer;
    }
    if data.len() >= 262 && &data[257..262] == b"ustar" {
        return Sniffed::Tar;
    }
    if let Some(c) = compression(data) {
        return Sniffed::Compressed(c);
    }
    if looks_like_html(data) {
        return Sniffed::Html;
    }
    if crate::onnx::looks_like(data) {
        return Sniffed::Onnx;
    }
    match data[0] {
        // PROTO 2..5 (protocol 0 and 1 pickles have no PROTO).
        0x80 if data.get(1).is_some_and(|&p| p <= 5) => Sniffed::Pickle,
        b if pickle::Opcode::from_byte(b).is_some() => Sniffed::Pickle,
        _ => Sniffed::Unknown,
    }
}

/// Whether bytes without a PROTO opcode are a protocol 0/1 pickle rather than text that
/// happens to start with an opcode letter: parsing reaches a STOP, or meets a GLOBAL or INST
/// whose module and name are dotted identifiers. Looks at the first 1 MiB.
pub(crate) fn looks_like_text_pickle(data: &[u8]) -> bool {
    let head = &data[..data.len().min(1 << 20)];
    if head
        .first()
        .is_none_or(|&b| pickle::Opcode::from_byte(b).is_none())
    {
        return false;
    }
    let dotted = |s: &[u8]| {
        !s.is_empty()
            && s.split(|&b| b == b'.').all(|part| {
                part.first()
                    .is_some_and(|&c| c == b'_' || c.is_ascii_alphabetic())
                    && part.iter().all(|&c| c == b'_' || c.is_ascii_alphanumeric())
            })
    };
    for op in pickle::Parser::new(head, 0) {
        let Ok(op) = op else { return false };
        match (op.opcode, &op.arg) {
            (pickle::Opcode::STOP, _) => return true,
            (pickle::Opcode::GLOBAL | pickle::Opcode::INST, pickle::Arg::Lines(m, n))
                if dotted(m) && dotted(n) =>
            {
                return true;
            }
            _ => {}
        }
    }
    false
}

fn compression(data: &[u8]) -> Option<Compression> {
    if data.starts_with(b"\x1f\x8b") {
        Some(Compression::Gzip)
    } else if data.starts_with(b"BZh") {
        Some(Compression::Bz2)
    } else if data.starts_with(b"\xfd7zXZ\x00") {
        Some(Compression::Xz)
    } else if data.starts_with(b"\x04\x22\x4d\x18") {
        Some(Compression::Lz4)
    } else if data.starts_with(b"\x5d\x00\x00") {
        Some(Compression::Lzma)
    } else if data.starts_with(b"ZF") && data.len() > 21 {
        Some(Compression::ZFile)
    } else if data[0] == 0x78
        && data.len() >= 2
        && (u16::from(data[0]) << 8 | u16::from(data[1])) % 31 == 0
    {
        // zlib header: CMF 0x78 and a FLG byte that makes the pair a multiple of 31.
        Some(Compression::Zlib)
    } else {
        None
    }
}

fn looks_like_html(data: &[u8]) -> bool {
    let head = &data[..data.len().min(512)];
    let text = head.trim_ascii_start();
    let lower: Vec<u8> = text.iter().take(16).map(u8::to_ascii_lowercase).collect();
    lower.starts_with(b"<!doctype html")
        || lower.starts_with(b"<html")
        || lower.starts_with(b"<?xml")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_by_content() {
        assert_eq!(sniff(b""), Sniffed::Empty);
        assert_eq!(sniff(b"\x80\x04K\x01."), Sniffed::Pickle);
        assert_eq!(sniff(b"(lp0\n."), Sniffed::Pickle);
        assert_eq!(sniff(b"PK\x03\x04...."), Sniffed::Zip);
        assert_eq!(sniff(b"\x93NUMPY\x01\x00"), Sniffed::Npy);
        assert_eq!(
            sniff(b"version https://git-lfs.github.com/spec/v1\noid sha256:ab\nsize 12\n"),
            Sniffed::GitLfsPointer
        );
        assert_eq!(sniff(b"  <!DOCTYPE html><html>"), Sniffed::Html);
        assert_eq!(
            sniff(b"x\x9c\x01\x02"),
            Sniffed::Compressed(Compression::Zlib)
        );
        assert_eq!(
            sniff(b"\x1f\x8b\x08"),
            Sniffed::Compressed(Compression::Gzip)
        );
        assert_eq!(sniff(b"GGUF\x03\x00\x00\x00"), Sniffed::Gguf);
        // A safetensors header of 0x8b1f bytes starts like gzip, one of 0x5d bytes like lzma.
        for n in [0x8b1fu64, 0x5d, 0x80] {
            let mut f = n.to_le_bytes().to_vec();
            f.extend(b"{\"a\"");
            assert_eq!(sniff(&f), Sniffed::Safetensors);
        }
        let onnx = crate::onnx::testing::model(&[]);
        assert_eq!(sniff(&onnx), Sniffed::Onnx);
    }
}
