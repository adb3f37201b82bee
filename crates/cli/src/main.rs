//! `pickle-doctor`: reads Python pickles and ML model files without running them.
//!
//! The binary only installs the allocator and the panic hook; the command line lives in the
//! library (`pickle_doctor::run`), which the Python package's console script calls too.

use std::process::ExitCode;

#[global_allocator]
static GLOBAL: pickle_doctor::alloc::HugePageAlloc = pickle_doctor::alloc::HugePageAlloc;

fn main() -> ExitCode {
    pickle_doctor::install_panic_hook();
    ExitCode::from(pickle_doctor::run(std::env::args_os()))
}
