//! Shared helpers for the facade's randomized tests.
#![allow(dead_code, reason = "each test binary uses a different subset")]

/// xorshift64*: a tiny deterministic generator, so a failing seed reproduces.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    pub(crate) fn chance(&mut self, one_in: u64) -> bool {
        self.below(one_in) == 0
    }
    pub(crate) fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len() as u64) as usize]
    }
}

/// Every file under `dir`, recursively, appended to `out` (an unreadable folder adds none).
pub(crate) fn files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else if p.is_file() {
            out.push(p);
        }
    }
}

/// The hostile and benign corpora `scripts/test.sh` generates (`PICKLE_DOCTOR_HOSTILE`,
/// `PICKLE_DOCTOR_FIXTURES`), those that are set.
pub(crate) fn corpora() -> Vec<std::path::PathBuf> {
    ["PICKLE_DOCTOR_HOSTILE", "PICKLE_DOCTOR_FIXTURES"]
        .iter()
        .filter_map(|v| std::env::var_os(v).map(std::path::PathBuf::from))
        .collect()
}
