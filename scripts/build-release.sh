#!/usr/bin/env bash
# Builds the release `pickle-doctor` binary, the one the benchmarks time and a release ships,
# and prints its path on the last line of stdout (cargo's progress goes to stderr).
#
#   scripts/build-release.sh                 # target/<host triple>/release/pickle-doctor
#   CARGO_TARGET_DIR=/tmp/t scripts/build-release.sh
#
# On Linux with glibc the binary is linked static-pie (`-C target-feature=+crt-static`), as
# ripgrep's and ruff's release binaries are linked statically: a scanner that a CI gate or a
# model hub starts once per file pays its start-up every time, and a dynamically linked
# binary spends 0.4 ms of it in ld.so (mapping libc and libm, binding their symbols), a
# tenth of a `scan` of a 2.7 MB pickle (docs/benchmarks.md). The binary stays
# position-independent (ASLR) with read-only relocations, and `crates/cli/tests/startup.rs`
# checks that and that it prints what the dev build prints.
#
# `--target` keeps the flag off build scripts and proc-macros (which run on the host and
# cannot be static) and puts the output in its own directory, so `cargo build` and
# `cargo test` (dynamic, in target/debug and target/release) never rebuild over it.
# Elsewhere (macOS, musl, Windows) it is an ordinary release build.
set -euo pipefail
cd "$(dirname "$0")/.."

host="$(rustc -vV | sed -n 's/^host: //p')"
flags=""
case "$host" in
    *-linux-gnu) flags="-C target-feature=+crt-static" ;;
esac

RUSTFLAGS="${RUSTFLAGS:-} $flags" cargo build --release --locked -p pickle-doctor \
    --target "$host" >&2
echo "${CARGO_TARGET_DIR:-$PWD/target}/$host/release/pickle-doctor"
