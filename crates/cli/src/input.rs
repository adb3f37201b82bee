//! Reading the file under analysis: memory-mapped, so that only the pages the parser touches
//! are ever read from disk.

use std::fs::File;
use std::io::Read;
use std::ops::Deref;
use std::path::Path;

use anyhow::{Context, Result};

/// The bytes of one input.
pub(crate) enum Input {
    Mapped(memmap2::Mmap),
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

/// Opens `path` (`-` is standard input).
pub(crate) fn open(path: &Path) -> Result<Input> {
    if path.as_os_str() == "-" {
        let mut v = Vec::new();
        std::io::stdin()
            .read_to_end(&mut v)
            .context("cannot read standard input")?;
        return Ok(Input::Owned(v));
    }
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let meta = file
        .metadata()
        .with_context(|| format!("cannot stat {}", path.display()))?;
    if meta.is_dir() {
        anyhow::bail!("{} is a directory", path.display());
    }
    if meta.len() == 0 || !meta.is_file() {
        let mut v = Vec::new();
        (&file)
            .read_to_end(&mut v)
            .with_context(|| format!("cannot read {}", path.display()))?;
        return Ok(Input::Owned(v));
    }
    map(&file).or_else(|_| {
        let mut v = Vec::new();
        (&file)
            .read_to_end(&mut v)
            .with_context(|| format!("cannot read {}", path.display()))?;
        Ok(Input::Owned(v))
    })
}

#[allow(
    unsafe_code,
    reason = "memory-mapping is the one way to avoid reading tensor bytes"
)]
fn map(file: &File) -> std::io::Result<Input> {
    // SAFETY: the map is read-only and private to this process. If another process truncates
    // the file while we read it, the kernel raises SIGBUS; that risk is accepted by every
    // mmap-based reader (ripgrep, safetensors) and is documented in the README.
    let m = unsafe { memmap2::Mmap::map(file)? };
    Ok(Input::Mapped(m))
}
