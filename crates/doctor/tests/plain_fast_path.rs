//! The plain-data pass (`vm::plain`, tried first by `scan` and `show --stats`) is proven
//! against the full machine: whenever it says a stream is plain, the full run reads it to the
//! end with no error, global, call or trailing bytes and the same counts, findings and
//! `show --stats` text (`doctor::scan::fuzzing::plain_agrees_with`):
//! - on thousands of seeded random streams of the pass's opcodes (valid data pickles written
//!   the many ways a pickler may, then mutated: flipped, dropped, inserted bytes, cut short);
//! - on the committed fuzz corpora and, when generated, the hostile and benign corpora,
//!   whole files included (`scan` reports and `show --stats` output byte-identical with and
//!   without the pass: `file_plain_agrees`);
//! - the small versions of the dense benchmark files take the pass, so a regression back to
//!   the machine is caught.

mod common;

use std::path::{Path, PathBuf};

use doctor::scan::fuzzing::{file_plain_agrees, modes_agree_with, plain_agrees_with};

use common::Rng;

/// Writes plain values the ways a pickler may (and a few it would not), memoizing some and
/// reusing them through the memo.
struct Writer<'r> {
    rng: &'r mut Rng,
    out: Vec<u8>,
    /// Memo indices written so far (the next MEMOIZE index is their count).
    memo: u32,
}

const TEXTS: &[&str] = &[
    "",
    "a",
    "id",
    "name",
    "caf\u{e9}",
    "\u{1f600}",
    "item-17",
    "tags",
];

impl Writer<'_> {
    fn memoize(&mut self) {
        match self.rng.below(8) {
            0..=2 => {
                self.out.push(0x94);
                self.memo += 1;
            }
            3 => {
                // BINPUT of the next index, or of one already used or a little ahead.
                let i = match self.rng.below(4) {
                    0 => self.memo.saturating_sub(1),
                    1 => self.memo + 1 + self.rng.below(3) as u32,
                    _ => self.memo,
                };
                self.out.extend([b'q', i as u8]);
                self.memo = self.memo.max(i + 1);
            }
            4 => {
                self.out.push(b'r');
                self.out.extend(self.memo.to_le_bytes());
                self.memo += 1;
            }
            _ => {}
        }
    }

    fn text(&mut self) {
        let s = TEXTS[self.rng.below(TEXTS.len() as u64) as usize].as_bytes();
        let s: Vec<u8> = if self.rng.chance(40) {
            // Not UTF-8 (or a lone surrogate, which the machine takes and the pass leaves).
            if self.rng.chance(2) {
                vec![b'x', 0xff]
            } else {
                vec![0xed, 0xa0, 0x80]
            }
        } else {
            s.to_vec()
        };
        match self.rng.below(4) {
            0 => {
                self.out.push(b'X');
                self.out.extend((s.len() as u32).to_le_bytes());
            }
            1 => {
                self.out.push(0x8d);
                self.out.extend((s.len() as u64).to_le_bytes());
            }
            _ => self.out.extend([0x8c, s.len() as u8]),
        }
        self.out.extend(&s);
    }

    fn scalar(&mut self) {
        match self.rng.below(16) {
            0 => self.out.push(b'N'),
            1 => self.out.push(0x88),
            2 => self.out.push(0x89),
            3 => self.out.extend([b'K', self.rng.below(256) as u8]),
            4 => self.out.extend([b'M', 1, 2]),
            5 => self.out.extend([b'J', 0xff, 0xff, 0xff, 0xff]),
            6 => {
                self.out.push(b'G');
                self.out.extend(2.5f64.to_be_bytes());
            }
            7 => {
                let n = self.rng.below(12) as u8;
                self.out.extend([0x8a, n]);
                self.out.extend((0..n).map(|i| i.wrapping_mul(37)));
            }
            8 => {
                let n = self.rng.below(12) as u8;
                self.out.push(0x8b);
                self.out.extend(u32::from(n).to_le_bytes());
                self.out.extend((0..n).map(|i| i.wrapping_mul(91)));
            }
            9 => self.out.extend([b'C', 2, 0, 0xff]),
            10 => {
                self.out.push(b'B');
                self.out.extend(3u32.to_le_bytes());
                self.out.extend(b"abc");
            }
            11 => {
                self.out.push(0x8e);
                self.out.extend(1u64.to_le_bytes());
                self.out.push(7);
            }
            12 => {
                self.out.push(0x96);
                self.out.extend(2u64.to_le_bytes());
                self.out.extend(b"zz");
            }
            _ => self.text(),
        }
    }

    /// A value usable as a dict key or set item (or, now and then, one that is not).
    fn key(&mut self, depth: u32) {
        match self.rng.below(10) {
            0 if depth < 3 => {
                // A tuple of keys.
                let n = self.rng.below(4);
                if n == 0 {
                    self.out.push(b')');
                } else {
                    for _ in 0..n {
                        self.key(depth + 1);
                    }
                    self.out.push(0x84 + n as u8);
                }
            }
            1 if self.rng.chance(4) => self.value(depth + 1),
            2 if self.memo > 0 => self.get(),
            _ => {
                if self.rng.chance(3) {
                    self.scalar();
                } else {
                    self.text();
                }
            }
        }
        self.memoize();
    }

    fn get(&mut self) {
        let i = self.rng.below(u64::from(self.memo) + 1) as u32;
        if i < 256 && self.rng.chance(2) {
            self.out.extend([b'h', i as u8]);
        } else {
            self.out.push(b'j');
            self.out.extend(i.to_le_bytes());
        }
    }

    fn items(&mut self, depth: u32) -> u64 {
        let n = self.rng.below(5);
        for _ in 0..n {
            self.value(depth + 1);
        }
        n
    }

    fn value(&mut self, depth: u32) {
        if depth > 4 {
            self.scalar();
            return;
        }
        match self.rng.below(14) {
            0 | 1 => {
                // A list: EMPTY_LIST then APPEND(S), or MARK ... LIST.
                if self.rng.chance(3) {
                    self.out.push(b'(');
                    self.items(depth);
                    self.out.push(b'l');
                    self.memoize();
                } else {
                    self.out.push(b']');
                    self.memoize();
                    for _ in 0..self.rng.below(3) {
                        if self.rng.chance(2) {
                            self.value(depth + 1);
                            self.out.push(b'a');
                        } else {
                            self.out.push(b'(');
                            self.items(depth);
                            self.out.push(b'e');
                        }
                    }
                }
            }
            2 | 3 => {
                // A dict: EMPTY_DICT then SETITEM(S), or MARK ... DICT.
                let marked = self.rng.chance(3);
                if marked {
                    self.out.push(b'(');
                } else {
                    self.out.push(b'}');
                    self.memoize();
                }
                for _ in 0..self.rng.below(3) {
                    if !marked && self.rng.chance(2) {
                        self.key(depth + 1);
                        self.value(depth + 1);
                        self.out.push(b's');
                    } else {
                        if !marked {
                            self.out.push(b'(');
                        }
                        for _ in 0..self.rng.below(4) {
                            self.key(depth + 1);
                            self.value(depth + 1);
                        }
                        if self.rng.chance(30) {
                            self.scalar(); // an odd count
                        }
                        if !marked {
                            self.out.push(b'u');
                        }
                    }
                }
                if marked {
                    self.out.push(b'd');
                    self.memoize();
                }
            }
            4 | 5 => {
                // A tuple: EMPTY_TUPLE, TUPLE1-3 or MARK ... TUPLE.
                let n = self.rng.below(5);
                if n == 0 {
                    self.out.push(b')');
                } else if n <= 3 && self.rng.chance(2) {
                    for _ in 0..n {
                        self.value(depth + 1);
                    }
                    self.out.push(0x84 + n as u8);
                } else {
                    self.out.push(b'(');
                    for _ in 0..n {
                        self.value(depth + 1);
                    }
                    self.out.push(b't');
                }
                self.memoize();
            }
            6 => {
                // A set (EMPTY_SET, ADDITEMS) or a frozenset (MARK ... FROZENSET).
                if self.rng.chance(2) {
                    self.out.push(0x8f);
                    self.memoize();
                    self.out.push(b'(');
                    for _ in 0..self.rng.below(4) {
                        self.key(depth + 1);
                    }
                    self.out.push(0x90);
                } else {
                    self.out.push(b'(');
                    for _ in 0..self.rng.below(4) {
                        self.key(depth + 1);
                    }
                    self.out.push(0x91);
                    self.memoize();
                }
            }
            7 if self.memo > 0 => self.get(),
            8 => {
                // Stack ops a pickler does not write: DUP then POP, MARK then POP_MARK or
                // POP (which drops the MARK).
                self.value(depth + 1);
                match self.rng.below(3) {
                    0 => self.out.extend([b'2', b'0']),
                    1 => {
                        self.out.push(b'(');
                        self.items(depth);
                        self.out.push(b'1');
                    }
                    _ => self.out.extend([b'(', b'0']),
                }
            }
            _ => {
                self.scalar();
                self.memoize();
            }
        }
    }
}

/// A stream of one or more plain pickles, sometimes with framing, protocols 0-6 and bytes
/// after the last STOP.
fn stream(rng: &mut Rng) -> Vec<u8> {
    let mut out = Vec::new();
    let pickles = if rng.chance(6) { 2 + rng.below(2) } else { 1 };
    for _ in 0..pickles {
        let mut w = Writer {
            rng,
            out: Vec::new(),
            memo: 0,
        };
        w.value(0);
        let body = w.out;
        let proto = rng.below(8);
        if proto < 7 {
            out.extend([0x80, proto as u8]);
        }
        if rng.chance(2) {
            let len = if rng.chance(8) {
                body.len() as u64 + 1 + rng.below(1000)
            } else {
                body.len() as u64 + 1
            };
            out.push(0x95);
            out.extend(len.to_le_bytes());
        }
        out.extend(body);
        out.push(b'.');
    }
    if rng.chance(20) {
        out.push(b'\n');
    }
    out
}

/// Flips, drops, inserts or cuts bytes.
fn mutate(rng: &mut Rng, data: &mut Vec<u8>) {
    const OPS: &[u8] = b"().0124]}KNGJMXhjqrtlduseab\x85\x86\x87\x88\x89\x8a\x8b\x8c\x8d\x8e\x8f\x90\x91\x94\x95\x96\x80cR\x93";
    for _ in 0..=rng.below(3) {
        if data.is_empty() {
            return;
        }
        let at = rng.below(data.len() as u64) as usize;
        match rng.below(5) {
            0 => data[at] ^= 1 << rng.below(8),
            1 => {
                data.remove(at);
            }
            2 => data.insert(at, OPS[rng.below(OPS.len() as u64) as usize]),
            3 => data[at] = OPS[rng.below(OPS.len() as u64) as usize],
            _ => data.truncate(at),
        }
    }
}

#[test]
fn random_plain_streams_agree_with_the_full_machine() {
    let tiny = vm::Budgets {
        max_items: 12,
        max_nodes: 40,
        max_memo: 6,
        max_ops: 80,
        max_stack: 8,
        max_nesting: 3,
        max_pickles: 2,
    };
    let (mut plain, mut tiny_plain, mut mutated_plain) = (0, 0, 0);
    let total = 8000u64;
    for seed in 1..=total {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let mut data = stream(&mut rng);
        let mutated = rng.chance(3);
        if mutated {
            mutate(&mut rng, &mut data);
        }
        let check = std::panic::catch_unwind(|| {
            let p = plain_agrees_with(&data, vm::Budgets::default());
            let t = plain_agrees_with(&data, tiny);
            // The machine's two modes agree too (and this checks the pass again under the
            // small budgets of the fuzz targets).
            modes_agree_with(&data, vm::Budgets::small());
            (p, t)
        });
        let Ok((p, t)) = check else {
            panic!("seed {seed}: the plain pass disagrees with the machine on {data:?}");
        };
        plain += u64::from(p);
        tiny_plain += u64::from(t);
        mutated_plain += u64::from(p && mutated);
    }
    eprintln!(
        "plain: {plain}, under tiny budgets: {tiny_plain}, mutated: {mutated_plain} of {total}"
    );
    // The generator must exercise the pass, not only its refusals.
    assert!(
        plain > total / 3,
        "only {plain} of {total} streams were plain"
    );
    assert!(
        tiny_plain > total / 20,
        "only {tiny_plain} plain under tiny budgets"
    );
    assert!(
        mutated_plain > 50,
        "only {mutated_plain} mutated streams were plain"
    );
}

/// Runs `check` on every file under `dirs`; returns (files, files where the pass applied).
fn replay(dirs: &[PathBuf], check: fn(&[u8]) -> bool) -> (usize, usize) {
    let mut all = Vec::new();
    for d in dirs {
        common::files(d, &mut all);
    }
    let mut applied = 0;
    for p in &all {
        let data = std::fs::read(p).unwrap();
        match std::panic::catch_unwind(|| check(&data)) {
            Ok(a) => applied += usize::from(a),
            Err(_) => panic!("{}: the plain pass disagrees with the machine", p.display()),
        }
    }
    (all.len(), applied)
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn fuzz_corpora_agree_with_the_full_machine() {
    let root = root();
    let dirs = [
        root.join("fuzz/corpus/plain_fast_path_differential"),
        root.join("fuzz/corpus/scan_mode_differential"),
        root.join("fuzz/corpus/parse_vm"),
        root.join("fuzz/regressions"),
    ];
    let (n, applied) = replay(&dirs, |d| {
        plain_agrees_with(d, vm::Budgets::default()) | plain_agrees_with(d, vm::Budgets::small())
    });
    assert!(n > 1000, "only {n} inputs replayed");
    assert!(applied > 0, "the pass applied to no corpus input");
    let dirs = [
        root.join("fuzz/corpus/container"),
        root.join("tests/fixtures/torch/files"),
        root.join("tests/fixtures/dense"),
    ];
    replay(&dirs, file_plain_agrees);
}

#[test]
fn hostile_and_benign_corpora_agree_with_the_full_machine() {
    let dirs = common::corpora();
    if dirs.is_empty() {
        return;
    }
    let (n, applied) = replay(&dirs, file_plain_agrees);
    assert!(n > 0, "no corpus file found");
    if std::env::var_os("PICKLE_DOCTOR_FIXTURES").is_some() {
        // `plain/` holds plain data at protocols 0-5; the binary protocols take the pass.
        assert!(
            applied > 100,
            "the pass applied to only {applied} of {n} files"
        );
    }
}

/// Small versions of the dense benchmark files (`tests/fixtures/dense/make_dense.py`, written
/// by CPython's pickle at protocol 4) are plain: `scan` and `show --stats` count them without
/// a value graph. Not timed: this catches a change that sends them back to the machine.
#[test]
fn dense_benchmark_recipes_take_the_plain_pass() {
    let dir = root().join("tests/fixtures/dense");
    for name in ["dicts-1000-p4.pkl", "mixed-1000-p4.pkl"] {
        let data = std::fs::read(dir.join(name)).unwrap();
        let trace = vm::run_scan(&data, vm::Budgets::default());
        assert_eq!(trace.mode, vm::Mode::Plain, "{name} left the plain pass");
        assert!(trace.nodes.is_empty());
        assert!(plain_agrees_with(&data, vm::Budgets::default()), "{name}");
        assert!(file_plain_agrees(&data), "{name}");
        // Through the front doors: the member run of `scan` and of `show --stats`.
        let opened = container::open_as_loader(&data, &doctor::Limits::default().inflate).unwrap();
        let member = opened.pickles().next().unwrap();
        let budgets = vm::Budgets::default();
        assert_eq!(
            doctor::members::run_for_scan(member, budgets).trace.mode,
            vm::Mode::Plain
        );
        assert_eq!(
            doctor::members::run_for_stats(member, budgets).trace.mode,
            vm::Mode::Plain
        );
    }
}

/// `scan` reports on a raw pickle of plain data from the plain-data pass alone, without
/// opening it as a container (which would search all of it for joblib's array wrapper).
/// Plain data names no global, so it is a pickle even when its text names the wrapper, in
/// both of `scan`'s paths; a real joblib file (written by joblib, committed) is still one.
#[test]
fn plain_pickles_scan_without_a_container_and_are_pickles() {
    let scan = |data: &[u8], full_graph: bool| {
        let opts = doctor::scan::ScanOptions {
            full_graph,
            ..doctor::scan::ScanOptions::default()
        };
        doctor::scan::scan_bytes(data, "f", &opts)
    };
    // What CPython 3.11 writes for `pickle.dumps(['NumpyArrayWrapper'], 4)`: text, not a
    // global.
    let mut text = vec![0x80, 4, 0x95];
    text.extend(24u64.to_le_bytes());
    text.extend(b"]\x94\x8c\x11NumpyArrayWrapper\x94a.");
    assert!(vm::plain::summarize(&text, vm::Budgets::default()).is_some());
    assert_eq!(
        container::open(&text, &doctor::Limits::default().inflate)
            .unwrap()
            .format
            .name(),
        "joblib",
        "the container's byte search calls it joblib"
    );
    for full_graph in [false, true] {
        let report = scan(&text, full_graph);
        assert_eq!(report.format, "pickle", "full graph: {full_graph}");
        assert!(report.findings.is_empty());
    }
    let joblib =
        std::fs::read(root().join("tests/fixtures/sklearn-onnx/1.6.1/ridge/model.joblib")).unwrap();
    for full_graph in [false, true] {
        assert_eq!(scan(&joblib, full_graph).format, "joblib");
    }
}

/// The memo edges of the pass, each checked against the machine: a PUT over an entry of a full
/// memo fails in the machine (its budget counts every PUT), so the pass must give up there; an
/// index past the memo's end (sparse, which no pickler writes) is left to the machine; dense
/// PUTs, MEMOIZE and overwrites below the budget take the pass.
#[test]
fn memo_edges_agree_with_the_full_machine() {
    let with_memo = |max_memo| vm::Budgets {
        max_memo,
        ..vm::Budgets::default()
    };
    // PROTO 4, NONE, MEMOIZE (entry 0), POP, NONE, BINPUT 0 (over entry 0), STOP.
    let overwrite = b"\x80\x04N\x940Nq\x00.";
    assert!(vm::run_with(overwrite, with_memo(1)).error().is_some());
    assert!(!plain_agrees_with(overwrite, with_memo(1)));
    assert!(plain_agrees_with(overwrite, with_memo(2)));
    assert_eq!(
        vm::run_plain(overwrite, with_memo(2)).unwrap().pickles[0].memo_entries,
        1
    );
    // NONE, BINPUT 3 (entries 0-2 never written), STOP: the machine reads it, the pass leaves
    // it to the machine.
    let sparse = b"\x80\x04Nq\x03.";
    assert!(
        vm::run_with(sparse, vm::Budgets::default())
            .error()
            .is_none()
    );
    assert!(!plain_agrees_with(sparse, vm::Budgets::default()));
    // Dense BINPUT 0, 1 then BINGET 0 and 1 in a tuple: the pass, with two entries.
    let dense = b"\x80\x04Nq\x00\x88q\x01h\x00h\x01\x86.";
    assert!(plain_agrees_with(dense, vm::Budgets::default()));
    assert_eq!(
        vm::run_plain(dense, vm::Budgets::default())
            .unwrap()
            .pickles[0]
            .memo_entries,
        2
    );
    // A memo grown as it fills, then one entry over a budget of 39: 40 MEMOIZEs.
    let mut long = b"\x80\x04(".to_vec();
    for _ in 0..40 {
        long.extend(b"N\x94");
    }
    long.extend(b"l.");
    assert!(plain_agrees_with(&long, vm::Budgets::default()));
    assert!(!plain_agrees_with(&long, with_memo(39)));
}
