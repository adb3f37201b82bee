//! The scan mode (`vm::Mode::Scan`, used by `scan`) agrees with the full value graph
//! (`vm::Mode::Full`, used by `show`, `check` and `fix`) on every finding:
//! - on random op streams from a seeded generator (memo, STACK_GLOBAL from memoized strings,
//!   REDUCE/BUILD/NEWOBJ_EX, nested containers and pickles, errors and budget overruns
//!   mid-stream);
//! - on the committed fuzz corpora (`scan_mode_differential`, `parse_vm`, `container`,
//!   `fuzz/regressions`) and the torch fixtures;
//! - on the hostile and benign corpora, when generated (`PICKLE_DOCTOR_HOSTILE`,
//!   `PICKLE_DOCTOR_FIXTURES`).

mod common;

use std::path::{Path, PathBuf};

use doctor::scan::fuzzing::{file_modes_agree, modes_agree, modes_agree_with};

use common::Rng;

/// Names the rules care about (callables, loaders, attributes Python calls implicitly) and
/// plain ones.
const NAMES: &[&str] = &[
    "builtins",
    "getattr",
    "eval",
    "exec",
    "os",
    "system",
    "posix",
    "functools",
    "partial",
    "pickle",
    "loads",
    "zlib",
    "decompress",
    "base64",
    "b64decode",
    "copyreg",
    "_reconstructor",
    "__newobj__",
    "collections",
    "OrderedDict",
    "numpy",
    "dtype",
    "__setstate__",
    "append",
    "extend",
    "__reduce__",
    "Foo",
    "x",
    "",
    "caf\u{e9}",
];

fn push_str(out: &mut Vec<u8>, s: &[u8]) {
    out.push(0x8c);
    out.push(s.len() as u8);
    out.extend_from_slice(s);
}

/// One valid-ish op stream: mostly ops a pickler writes, in orders a pickler would not.
fn stream(rng: &mut Rng, len: usize, depth: u32) -> Vec<u8> {
    let mut out = vec![0x80, [2u8, 4, 5][rng.below(3) as usize]];
    for _ in 0..len {
        match rng.below(56) {
            // Fragments a pickler writes: a global named through memoized strings, a dict
            // of (maybe implicitly called) names, an object made and given state.
            48 | 49 => {
                push_str(&mut out, rng.pick(NAMES).as_bytes());
                out.push(0x94);
                push_str(&mut out, rng.pick(NAMES).as_bytes());
                out.push(0x94);
                out.push(0x93);
            }
            50 | 51 => {
                out.extend([b'}', b'(']);
                push_str(&mut out, rng.pick(NAMES).as_bytes());
            }
            52 => {
                out.extend([b'c']);
                out.extend(b"os\nsystem\n");
                out.extend([b')', 0x81]);
            }
            53 => {
                // An object given a state that may plant a callable: `obj`, then
                // `(None, {key: value, ...})` BUILD.
                out.extend(b"c__main__\nObj\n)\x81");
                out.extend([b'N', b'}', b'(']);
                for _ in 0..=rng.below(3) {
                    let key = if rng.below(2) == 0 {
                        "__setstate__"
                    } else {
                        rng.pick(NAMES)
                    };
                    push_str(&mut out, key.as_bytes());
                    match rng.below(3) {
                        0 => out.extend(b"cbuiltins\nexec\n"),
                        1 => push_str(&mut out, rng.pick(NAMES).as_bytes()),
                        _ => out.extend([b'K', 1]),
                    }
                }
                out.extend([b'u', 0x86, b'b']);
            }
            54 => out.extend([0x86, b'b']),
            55 => out.extend([b'u', b'b']),
            0 => out.push(b'N'),
            1 => out.push(0x88),
            2 => out.extend([b'K', rng.below(256) as u8]),
            3 => {
                out.push(b'G');
                out.extend(1.5f64.to_be_bytes());
            }
            4 => out.extend([0x8a, 9, 1, 2, 3, 4, 5, 6, 7, 8, 0x7f]),
            5..=9 => push_str(&mut out, rng.pick(NAMES).as_bytes()),
            10 => {
                out.push(b'C');
                if depth < 2 && rng.below(2) == 0 {
                    let inner = stream(rng, 12, depth + 1);
                    let inner = &inner[..inner.len().min(255)];
                    out.push(inner.len() as u8);
                    out.extend_from_slice(inner);
                } else {
                    out.extend([3, b'a', b'b', b'c']);
                }
            }
            11 => out.extend([b'U', 2, b'h', 0xe9]),
            12 | 13 => out.push(0x94),
            14 => out.extend([b'q', rng.below(8) as u8]),
            15..=17 => out.extend([b'h', rng.below(8) as u8]),
            18..=20 => out.push(b'('),
            21 => out.push(b']'),
            22 => out.push(b'}'),
            23 => out.push(b')'),
            24 => out.push(0x8f),
            25 => out.push([0x85, 0x86, 0x87][rng.below(3) as usize]),
            26 => out.push(b't'),
            27 => out.push(b'l'),
            28 => out.push(b'd'),
            29 => out.push(0x91),
            30 => out.push(b'a'),
            31 => out.push(b'e'),
            32 => out.push(b's'),
            33 => out.push(b'u'),
            34 => out.push(0x90),
            35 | 36 => out.push(0x93),
            37 => {
                out.push(b'c');
                out.extend(rng.pick(NAMES).as_bytes());
                out.push(b'\n');
                out.extend(rng.pick(NAMES).as_bytes());
                out.push(b'\n');
            }
            38 | 39 => out.push(b'R'),
            40 => out.push(b'b'),
            41 => out.push(0x81),
            42 => out.push(0x92),
            43 => out.push(if rng.below(2) == 0 { b'o' } else { b'0' }),
            44 => out.push([b'2', b'1', b'Q', 0x97, 0x98][rng.below(5) as usize]),
            45 => out.extend([0x82, 1 + rng.below(255) as u8]),
            46 => out.push(b'.'),
            _ => out.push(rng.below(256) as u8),
        }
    }
    if rng.below(4) != 0 {
        out.push(b'.');
    }
    out
}

#[test]
fn random_op_streams_give_the_same_findings_in_both_modes() {
    let tiny = vm::Budgets {
        max_items: 12,
        max_nodes: 40,
        max_memo: 6,
        max_ops: 80,
        ..vm::Budgets::small()
    };
    for seed in 1..=6000u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let len = 4 + rng.below(90) as usize;
        let data = stream(&mut rng, len, 0);
        let check = std::panic::catch_unwind(|| {
            modes_agree(&data);
            modes_agree_with(&data, tiny);
        });
        assert!(check.is_ok(), "seed {seed}: the modes disagree on {data:?}");
    }
}

fn replay(dirs: &[PathBuf], check: fn(&[u8])) -> usize {
    let mut all = Vec::new();
    for d in dirs {
        common::files(d, &mut all);
    }
    for p in &all {
        let data = std::fs::read(p).unwrap();
        let r = std::panic::catch_unwind(|| check(&data));
        assert!(r.is_ok(), "{}: the modes disagree", p.display());
    }
    all.len()
}

#[test]
fn fuzz_corpora_give_the_same_findings_in_both_modes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dirs = [
        root.join("fuzz/corpus/scan_mode_differential"),
        root.join("fuzz/corpus/parse_vm"),
        root.join("fuzz/corpus/container"),
        root.join("fuzz/regressions"),
        root.join("tests/fixtures/torch/files"),
    ];
    let n = replay(&dirs, modes_agree);
    assert!(n > 1000, "only {n} inputs replayed");
}

#[test]
fn hostile_and_benign_corpora_give_the_same_findings_in_both_modes() {
    let dirs = common::corpora();
    if dirs.is_empty() {
        return;
    }
    let n = replay(&dirs, file_modes_agree);
    assert!(n > 0, "no corpus file found");
}
