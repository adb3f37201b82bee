//! Reading the file under analysis.
//!
//! [`Input::read`] reads the whole file. [`Input::map`] memory-maps it, so that only the pages
//! the parser touches are read from disk: a 10 GB checkpoint then costs what its `data.pkl`
//! costs. Mapping is an explicit, `unsafe` opt-in (as ripgrep's `MmapChoice::auto`): if
//! another process truncates the file while it is mapped, the kernel raises SIGBUS. Front ends
//! that accept that risk (the CLI, the Python binding) say so where they call it.

use std::fs::File;
use std::io::Read;
use std::ops::Deref;
use std::path::Path;

use crate::error::{Error, Result};

/// The bytes of one input.
#[derive(Debug)]
pub enum Input {
    /// A read-only private map of the file.
    Mapped(memmap2::Mmap),
    /// Bytes in memory.
    Owned(Vec<u8>),
}

impl Deref for Input {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Input::Mapped(m) => m,
            Input::Owned(v) => v,
        }
    }
}

impl Input {
    /// Bytes the caller already has.
    #[must_use]
    pub fn from_vec(data: Vec<u8>) -> Self {
        Input::Owned(data)
    }

    /// Reads `path` whole (`-` is standard input).
    ///
    /// # Errors
    /// The file cannot be opened or read, or is a directory.
    pub fn read(path: &Path) -> Result<Input> {
        Self::open_with(path, |_| None)
    }

    /// Memory-maps `path` when it is a regular, non-empty file; reads it otherwise (`-`,
    /// pipes, empty files, or when mapping fails).
    ///
    /// # Errors
    /// The file cannot be opened or read, or is a directory.
    ///
    /// # Safety
    /// The caller accepts that the process receives SIGBUS if the file is truncated by
    /// another process while the returned `Input` is alive. The map is read-only and private,
    /// so no other memory-safety issue arises.
    #[allow(
        unsafe_code,
        reason = "memory-mapping is the one way to avoid reading tensor bytes"
    )]
    pub unsafe fn map(path: &Path) -> Result<Input> {
        Self::open_with(path, |file| {
            // SAFETY: a propagation of the caller's assertion (see `# Safety`).
            let map = unsafe { memmap2::Mmap::map(file) }.ok()?;
            // Pages fault in as they are read, the kernel mapping 16 at a time around each
            // fault: only what is read is touched (a 2 GB checkpoint's scan stays at 11 MB
            // RSS), and for a raw pickle read whole this is no slower than populating the map
            // up front (`MADV_POPULATE_READ` took 0.05 ms longer on a 2.7 MB file, in each of
            // five interleaved rounds of 300 runs).
            Some(Input::Mapped(map))
        })
    }

    fn open_with(path: &Path, map: impl FnOnce(&File) -> Option<Input>) -> Result<Input> {
        let shown = path.display();
        if path.as_os_str() == "-" {
            let mut v = Vec::new();
            std::io::stdin()
                .read_to_end(&mut v)
                .map_err(|e| Error::io("standard input", "read", e))?;
            return Ok(Input::Owned(v));
        }
        let file = File::open(path).map_err(|e| Error::io(&shown, "open", e))?;
        let meta = file.metadata().map_err(|e| Error::io(&shown, "stat", e))?;
        if meta.is_dir() {
            return Err(Error::io(
                &shown,
                "read",
                std::io::Error::other("it is a directory"),
            ));
        }
        if meta.len() > 0
            && meta.is_file()
            && let Some(mapped) = map(&file)
        {
            return Ok(mapped);
        }
        let mut v = Vec::new();
        (&file)
            .read_to_end(&mut v)
            .map_err(|e| Error::io(&shown, "read", e))?;
        Ok(Input::Owned(v))
    }
}
