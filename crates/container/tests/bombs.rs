//! Decompression budgets: a stream that inflates past the limit is refused with a clear error
//! instead of exhausting memory.

use std::io::Write;

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

#[test]
fn zlib_bomb_hits_the_inflate_budget() {
    let bomb = zlib(&vec![0u8; 8 << 20]);
    assert!(bomb.len() < 64 << 10);
    let limits = container::Limits {
        max_inflated_bytes: 1 << 20,
    };
    let err = container::open(&bomb, &limits).unwrap_err();
    assert!(matches!(err, container::OpenError::TooLarge { limit, .. } if limit == 1 << 20));
    assert_eq!(
        err.to_string(),
        "the zlib stream inflates past the 1048576-byte budget (raise it with --max-inflated-bytes if the file is trusted)"
    );
}

#[test]
fn zip_member_bomb_hits_the_inflate_budget() {
    let mut buf = std::io::Cursor::new(Vec::new());
    let mut z = zip::ZipWriter::new(&mut buf);
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    z.start_file("a.npy", opts).unwrap();
    z.write_all(b"\x93NUMPY\x01\x00").unwrap();
    z.write_all(&vec![b' '; 4 << 20]).unwrap();
    z.finish().unwrap();
    let data = buf.into_inner();
    let limits = container::Limits {
        max_inflated_bytes: 1 << 20,
    };
    assert!(matches!(
        container::open(&data, &limits),
        Err(container::OpenError::TooLarge { .. })
    ));
}

#[test]
fn not_a_model_files_say_what_they_are() {
    let limits = container::Limits::default();
    let lfs = b"version https://git-lfs.github.com/spec/v1\noid sha256:4d7a\nsize 1234\n";
    let o = container::open(lfs, &limits).unwrap();
    assert_eq!(o.format, container::Format::GitLfsPointer);
    assert!(o.format.not_a_model().unwrap().contains("git lfs pull"));
    let html = b"<!DOCTYPE html><html><body>Sign in</body></html>";
    assert_eq!(
        container::open(html, &limits).unwrap().format,
        container::Format::Html
    );
    assert_eq!(
        container::open(b"", &limits).unwrap().format,
        container::Format::Empty
    );
    let err = container::open(b"\x00\x01garbage", &limits).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("unknown format: first bytes are")
    );
}

#[test]
fn xz_bomb_hits_the_inflate_budget() {
    let mut w =
        lzma_rust2::XzWriter::new(Vec::new(), lzma_rust2::XzOptions::with_preset(6)).unwrap();
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..2 {
        w.write_all(&zeros).unwrap();
    }
    let bomb = w.finish().unwrap();
    assert!(bomb.len() < 64 << 10, "{}", bomb.len());
    let limits = container::Limits {
        max_inflated_bytes: 1 << 20,
    };
    let err = container::open(&bomb, &limits).unwrap_err();
    assert!(
        matches!(err, container::OpenError::TooLarge { .. }),
        "{err}"
    );
}

#[test]
fn generic_zip_finds_pickles_by_magic() {
    let mut buf = std::io::Cursor::new(Vec::new());
    let mut z = zip::ZipWriter::new(&mut buf);
    let opts = zip::write::SimpleFileOptions::default();
    z.start_file("readme.txt", opts).unwrap();
    z.write_all(b"hello").unwrap();
    z.start_file("weights.bin", opts).unwrap();
    z.write_all(b"\x80\x04K\x2a.").unwrap();
    z.finish().unwrap();
    let data = buf.into_inner();
    let o = container::open(&data, &container::Limits::default()).unwrap();
    assert_eq!(o.format, container::Format::Zip);
    let pickles: Vec<&str> = o.pickles().map(|m| m.name.as_str()).collect();
    assert_eq!(pickles, vec!["weights.bin"]);
}
