//! `pickle-doctor`: reads Python pickles and ML model files without running them.
//!
//! The binary only installs the allocator and the panic hook; the command line lives in the
//! library (`pickle_doctor::run`), which the Python package's console script calls too.

use std::process::ExitCode;

// The unwinder, linked in statically (as `gcc -static-libgcc` does) rather than from
// libgcc_s.so.1: one shared object fewer to map and relocate at start-up, and no run of its
// constructor, which probes the CPU with `cpuid` (a trap to the hypervisor on a VM). Together
// about 0.1 ms of every process, which a scanner spawning one per file pays millions of times.
// std's own `-lgcc_s` then satisfies nothing and `--as-needed` drops it.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[link(name = "gcc_eh", kind = "static")]
#[allow(
    unsafe_code,
    reason = "an empty block: it only names a library to link"
)]
unsafe extern "C" {}

#[global_allocator]
static GLOBAL: pickle_doctor::alloc::HugePageAlloc = pickle_doctor::alloc::HugePageAlloc;

fn main() -> ExitCode {
    pickle_doctor::install_panic_hook();
    ExitCode::from(pickle_doctor::run(std::env::args_os()))
}
