//! What every process pays before it reads a byte: the help texts the lazily built
//! subcommands print, and the shared objects the binary loads.
//!
//! A scanner in a CI gate or on a model hub spawns one process per file, so start-up is part of
//! `scan`'s cost (docs/benchmarks.md). Two choices in the binary cut it, and each can break
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
        bytes.starts_with(b"\x7fELF"),
        "not an ELF file: {}",
        common::bin()
    );
    assert!(
        !bytes.windows(12).any(|w| w == b"libgcc_s.so."),
        "{} still needs libgcc_s.so",
        common::bin()
    );
}
