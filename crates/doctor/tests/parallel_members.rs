//! Members scanned in parallel give the same report, byte for byte, as members scanned one
//! after the other: the same findings, in the same order, with the same offsets.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use doctor::scan::{ParallelMembers, ScanOptions, scan_bytes, scan_file};

fn options(parallel: ParallelMembers) -> ScanOptions {
    ScanOptions {
        parallel_members: parallel,
        ..ScanOptions::default()
    }
}

fn json(report: doctor::ScanReport) -> String {
    let mut out = Vec::new();
    doctor::render::scan_json(&mut out, &[report]).unwrap();
    String::from_utf8(out).unwrap()
}

/// A stored zip holding `members` in order.
fn zip(members: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, data) in members {
        w.start_file(name.as_str(), opts).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// Protocol 2 pickles, written op by op: a benign list, one that calls `os.system` (only ever
/// read, never loaded), and one cut off half way.
fn member(i: usize) -> Vec<u8> {
    match i % 4 {
        0 => {
            // [i, "row-i"] six thousand times, so that the whole zip passes the byte threshold.
            let mut p = b"\x80\x02]q\x00(".to_vec();
            for k in 0..6000u32 {
                p.push(b'J');
                p.extend_from_slice(&(k * 7 + i as u32).to_le_bytes());
                let s = format!("row-{k}");
                p.push(b'X');
                p.extend_from_slice(&(s.len() as u32).to_le_bytes());
                p.extend_from_slice(s.as_bytes());
            }
            p.extend_from_slice(b"e.");
            p
        }
        1 => [
            b"\x80\x02cos\nsystem\nq\x00X\x05\x00\x00\x00echo".as_slice(),
            &[b'0' + (i % 10) as u8],
            b"\x85R.",
        ]
        .concat(),
        2 => b"\x80\x02cbuiltins\neval\nX\x04\x00\x00\x001+12\x85R.".to_vec(),
        _ => b"\x80\x02]q\x00(K\x01K\x02".to_vec(),
    }
}

#[test]
fn a_zip_of_many_pickles_scans_the_same_in_parallel_and_in_sequence() {
    let mut members: Vec<(String, Vec<u8>)> = (0..48)
        .map(|i| (format!("archive/m{i:02}.pkl"), member(i)))
        .collect();
    // A nested zip with pickles of its own.
    let inner: Vec<(String, Vec<u8>)> = (0..8).map(|i| (format!("in{i}.pkl"), member(i))).collect();
    members.push(("nested.zip".to_owned(), zip(&inner)));
    let data = zip(&members);
    assert!(
        data.len() >= doctor::scan::PARALLEL_MIN_BYTES,
        "below the threshold"
    );

    let seq = json(scan_bytes(
        &data,
        "many.zip",
        &options(ParallelMembers::Never),
    ));
    let par = json(scan_bytes(
        &data,
        "many.zip",
        &options(ParallelMembers::Always),
    ));
    let auto = json(scan_bytes(
        &data,
        "many.zip",
        &options(ParallelMembers::Auto),
    ));
    assert_eq!(seq, par);
    assert_eq!(seq, auto);
    // The report is not vacuous: the os.system members are found, in member order.
    let found: Vec<usize> = (0..48)
        .filter(|i| i % 4 == 1)
        .map(|i| {
            seq.find(&format!("archive/m{i:02}.pkl"))
                .expect("member reported")
        })
        .collect();
    assert!(
        found.windows(2).all(|w| w[0] < w[1]),
        "members out of order"
    );
    assert!(seq.contains("os.system") || seq.contains("system"), "{seq}");
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file())
        .map(walkdir::DirEntry::into_path)
        .collect();
    out.sort();
    out
}

/// Every file of the fixture corpus (torch zips, npz, joblib, nested zips) and of the hostile
/// corpus: parallel and sequential member scans agree. Skipped when the corpora are not
/// generated (scripts/test.sh sets the variables and requires them).
#[test]
fn fixture_and_hostile_corpora_scan_the_same_in_parallel_and_in_sequence() {
    let required = std::env::var("PICKLE_DOCTOR_REQUIRE_FIXTURES").is_ok_and(|v| v == "1");
    let mut checked = 0;
    for var in ["PICKLE_DOCTOR_FIXTURES", "PICKLE_DOCTOR_HOSTILE"] {
        let Some(dir) = std::env::var_os(var).map(PathBuf::from) else {
            assert!(!required, "{var} is not set");
            eprintln!("skipped: {var} is not set");
            continue;
        };
        for path in files_under(&dir) {
            let seq = scan_file(&path, true, &options(ParallelMembers::Never)).map(json);
            let par = scan_file(&path, true, &options(ParallelMembers::Always)).map(json);
            assert_eq!(seq, par, "{}", path.display());
            checked += 1;
        }
    }
    assert!(!required || checked > 1000, "only {checked} files");
}
