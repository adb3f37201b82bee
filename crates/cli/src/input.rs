//! How the command line reads files: memory-mapped, so that only the pages the parser touches
//! are read from disk (a 10 GB checkpoint costs what its `data.pkl` costs).

use std::path::Path;

use doctor::Input;
use doctor::scan::ReadMode;

/// Opens `path` (`-` is standard input), memory-mapped when it is a regular file.
pub(crate) fn open(path: &Path) -> Result<Input, doctor::Error> {
    #[allow(
        unsafe_code,
        reason = "memory-mapping is the one way to avoid reading tensor bytes"
    )]
    // SAFETY: the map is read-only and private. If another process truncates the file while
    // it is read, the kernel raises SIGBUS and the command dies; the command line accepts
    // that risk, as ripgrep and safetensors do, and the README says so ("Reading files").
    unsafe {
        Input::map(path)
    }
}

/// The read mode of scans: mapped, as [`open`].
pub(crate) fn read_mode() -> ReadMode {
    #[allow(
        unsafe_code,
        reason = "memory-mapping is the one way to avoid reading tensor bytes"
    )]
    // SAFETY: as in `open`.
    unsafe {
        ReadMode::mmap()
    }
}

/// Opens every file, named as given.
pub(crate) fn open_all(
    files: &[std::path::PathBuf],
) -> Result<Vec<(String, Input)>, doctor::Error> {
    files
        .iter()
        .map(|p| Ok((p.display().to_string(), open(p)?)))
        .collect()
}
