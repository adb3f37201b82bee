//! What every process pays before it reads a byte: the help texts the lazily built
//! subcommands print, the shared objects the binary loads, and the statically linked release
//! build.
//!
//! A scanner in a CI gate or on a model hub spawns one process per file, so start-up is part of
//! `scan`'s cost (docs/benchmarks.md). Three choices in the binary cut it, and each can break
//! something a user sees; these tests pin what they must keep.

mod common;

/// Every subcommand, in the order `--help` lists them.
const SUBCOMMANDS: [&str; 8] = [
    "dis",
    "show",
    "scan",
    "rule",
    "check",
    "requirements",
    "fix",
    "export",
];

/// Each subcommand's arguments are built only when it runs (`#[command(defer = true)]`). A
/// deferred subcommand takes its `about` from whatever is applied last, so a doc comment on a
/// flattened argument struct once replaced `scan --help`'s description. The snapshot holds the
/// root help and every subcommand's short and long help, as they were before deferring.
#[test]
fn help_texts_of_every_subcommand() {
    let mut all = String::new();
    let mut show = |args: &[&str]| {
        let out = common::run_cli(args, None);
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        all.push_str(&format!("$ pickle-doctor {}\n", args.join(" ")));
        all.push_str(&String::from_utf8_lossy(&out.stdout));
        all.push('\n');
    };
    show(&["--help"]);
    for sub in SUBCOMMANDS {
        show(&[sub, "-h"]);
        show(&[sub, "--help"]);
    }
    // The root help lists exactly these subcommands (and `help`).
    let root = common::run_cli(&["--help"], None);
    let listed: Vec<String> = String::from_utf8_lossy(&root.stdout)
        .lines()
        .skip_while(|l| *l != "Commands:")
        .skip(1)
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect();
    let mut want: Vec<String> = SUBCOMMANDS.iter().map(|s| (*s).to_owned()).collect();
    want.push("help".to_owned());
    assert_eq!(listed, want);
    insta::assert_snapshot!(all);
}

/// The unwinder is linked in statically (`crates/cli/src/main.rs`), so the binary must not
/// name libgcc_s as a needed library: loading it and running its `cpuid` constructor cost
/// about 0.1 ms of every process. DT_NEEDED names live in the binary's dynamic string table,
/// so the library's soname appears nowhere in the file when it is not needed.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn the_binary_does_not_load_libgcc_s() {
    let bytes = std::fs::read(common::bin()).unwrap();
    assert!(
        ElfSegments::read(&bytes).is_some(),
        "not an ELF64 file: {}",
        common::bin()
    );
    assert!(
        !bytes.windows(12).any(|w| w == b"libgcc_s.so."),
        "{} still needs libgcc_s.so",
        common::bin()
    );
}

/// The release binary (`scripts/build-release.sh`, the one the benchmarks time) is linked
/// static-pie on linux-gnu: there is no ld.so, and no shared library to map, relocate and
/// bind, which took 0.4 ms of every process. It must stay position-independent, so that ASLR
/// still places it, keep its relocations read-only after start-up (RELRO), and print what the
/// dev build prints, byte for byte and with the same exit code: scans of every corpus, the
/// listings, an error, and `check`, which spawns the target Python from the static binary.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn the_release_build_is_static_pie_and_agrees_with_the_dev_build() {
    let Some(release) = common::from_env("PICKLE_DOCTOR_RELEASE_BIN") else {
        return;
    };
    let (Some(python), Some(hostile)) = (
        common::from_env("PICKLE_DOCTOR_PYTHON"),
        common::from_env("PICKLE_DOCTOR_HOSTILE"),
    ) else {
        return;
    };
    let bytes = std::fs::read(&release).unwrap();
    let elf = ElfSegments::read(&bytes).unwrap_or_else(|| panic!("not ELF64: {release:?}"));
    assert_eq!(elf.kind, ET_DYN, "{release:?} is not position-independent");
    assert!(
        !elf.segments.contains(&PT_INTERP),
        "{release:?} names a dynamic loader: not static"
    );
    assert!(
        elf.segments.contains(&PT_GNU_RELRO),
        "{release:?} has no RELRO"
    );

    let (python, hostile) = (python.to_str().unwrap(), hostile.to_str().unwrap());
    let lr = "samples/logistic-regression.pkl";
    let runs: [&[&str]; 9] = [
        &[
            "scan",
            "--format",
            "json",
            "samples",
            "tests/fixtures/torch/files",
        ],
        &["scan", "--format", "json", hostile],
        &["show", "--stats", lr],
        &["show", "samples/array-p5.pkl"],
        &["dis", lr],
        &["rule", "PD101"],
        &["check", lr, "--python", python, "--format", "json"],
        &["requirements", lr, "--python", python],
        &["scan", "no/such/file.pkl"],
    ];
    for args in runs {
        let dev = common::run_cli(args, None);
        let rel = common::run_bin(&release, args, None);
        assert_eq!(
            dev.status.code(),
            rel.status.code(),
            "exit code of {args:?}"
        );
        assert!(dev.stdout == rel.stdout, "stdout of {args:?} differs");
        assert!(dev.stderr == rel.stderr, "stderr of {args:?} differs");
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
const ET_DYN: u16 = 3;
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const PT_INTERP: u32 = 3;
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const PT_GNU_RELRO: u32 = 0x6474_e552;

/// An ELF64 little-endian file's type and the types of its program headers: all the test
/// needs to tell a static-pie binary (`ET_DYN`, no `PT_INTERP`) from a dynamic one.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
struct ElfSegments {
    kind: u16,
    segments: Vec<u32>,
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
impl ElfSegments {
    fn read(b: &[u8]) -> Option<Self> {
        let u16_at = |o: usize| Some(u16::from_le_bytes(b.get(o..o + 2)?.try_into().ok()?));
        let u32_at = |o: usize| Some(u32::from_le_bytes(b.get(o..o + 4)?.try_into().ok()?));
        let u64_at = |o: usize| Some(u64::from_le_bytes(b.get(o..o + 8)?.try_into().ok()?));
        // Magic, ELFCLASS64, ELFDATA2LSB.
        if !b.starts_with(b"\x7fELF\x02\x01") {
            return None;
        }
        let phoff = usize::try_from(u64_at(0x20)?).ok()?;
        let (phentsize, phnum) = (usize::from(u16_at(0x36)?), usize::from(u16_at(0x38)?));
        let segments = (0..phnum)
            .map(|i| u32_at(phoff + i * phentsize))
            .collect::<Option<Vec<u32>>>()?;
        Some(ElfSegments {
            kind: u16_at(0x10)?,
            segments,
        })
    }
}
