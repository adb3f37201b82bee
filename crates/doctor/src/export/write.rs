//! Writing the safetensors file: validation of every view against its storage, tied-weight
//! deduplication, the header in the reference writer's layout, and the data.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use container::Opened;

use super::plan::{Bytes, Plan, Planned, Refused};
use super::{ExportOptions, ExportReport, ExportedTensor};
use crate::error::{Error, Result};

/// Largest header the reference reader accepts.
const MAX_HEADER: usize = 100_000_000;
/// Gather buffer for strided views.
const CHUNK: usize = 1 << 20;

/// The storage bytes of a planned tensor, as a slice of the input or of a member.
fn storage<'d>(data: &'d [u8], opened: &'d Opened<'_>, b: Bytes) -> Option<&'d [u8]> {
    let (base, r): (&[u8], _) = match b {
        Bytes::File(r) => (data, r),
        Bytes::Member { member, range } => (&opened.members.get(member)?.data, range),
    };
    let start = usize::try_from(r.start).ok()?;
    let end = start.checked_add(usize::try_from(r.len).ok()?)?;
    base.get(start..end)
}

/// Checks that the view lies inside its storage; returns its byte size.
fn check_view(t: &Planned, storage_len: u64) -> std::result::Result<u64, String> {
    let es = super::dtype::source_size(t.dtype);
    let nbytes = t.nbytes().ok_or("its size overflows")?;
    let numel = t.numel().ok_or("its size overflows")?;
    if numel == 0 {
        return Ok(0);
    }
    let mut last = t.offset;
    for (&d, &s) in t.shape.iter().zip(&t.stride) {
        last = (d - 1)
            .checked_mul(s)
            .and_then(|x| last.checked_add(x))
            .ok_or("its view overflows")?;
    }
    let end = last
        .checked_add(1)
        .and_then(|n| n.checked_mul(es))
        .ok_or("its view overflows")?;
    if end > storage_len {
        return Err(format!(
            "its view reaches byte {end} of a {storage_len}-byte storage (a damaged file)"
        ));
    }
    Ok(nbytes)
}

/// Validates the plan, drops tied duplicates, orders the tensors and builds the header.
type Prepared = (ExportReport, Vec<u8>, Vec<(Planned, u64)>);

fn prepare(
    data: &[u8],
    opened: &Opened<'_>,
    plan: &mut Plan,
    opts: &ExportOptions,
    shown: String,
) -> Result<Prepared> {
    let mut kept: HashMap<super::plan::Identity, String> = HashMap::new();
    let mut dropped_shared = BTreeMap::new();
    let mut names = HashMap::new();
    let mut writing: Vec<(Planned, u64)> = Vec::new();
    for t in std::mem::take(&mut plan.tensors) {
        let Some(bytes) = storage(data, opened, t.storage) else {
            plan.refused.push(Refused {
                name: t.name.clone(),
                why: "its storage lies outside the file (a damaged file)".to_owned(),
            });
            continue;
        };
        let nbytes = match check_view(&t, bytes.len() as u64) {
            Ok(n) => n,
            Err(why) => {
                plan.refused.push(Refused {
                    name: t.name.clone(),
                    why,
                });
                continue;
            }
        };
        // Ties are views of the same elements; empty tensors share nothing.
        if let Some(id) = &t.identity
            && !opts.duplicate_shared
            && nbytes > 0
        {
            if let Some(first) = kept.get(id) {
                dropped_shared.insert(t.name.clone(), first.clone());
                continue;
            }
            kept.insert(id.clone(), t.name.clone());
        }
        if names.insert(t.name.clone(), t.source.clone()).is_some() {
            plan.refused.push(Refused {
                name: t.name.clone(),
                why: "two different tensors would get this name".to_owned(),
            });
            continue;
        }
        writing.push((t, nbytes));
    }
    for (dropped, first) in &dropped_shared {
        plan.metadata
            .entry(dropped.clone())
            .or_insert_with(|| first.clone());
    }
    // The reference writer's order: larger dtypes first, then by name.
    writing.sort_by(|(a, _), (b, _)| b.dtype.cmp(&a.dtype).then_with(|| a.name.cmp(&b.name)));
    let header = header(&plan.metadata, &writing)?;
    let data_len: u64 = writing.iter().map(|(_, n)| n).sum();
    let file_bytes = 8 + header.len() as u64 + data_len;
    let tensors: Vec<ExportedTensor> = writing
        .iter()
        .map(|(t, n)| ExportedTensor {
            name: t.name.clone(),
            source: t.source.clone(),
            dtype: t.dtype.name(),
            shape: t.out_shape.clone(),
            bytes: *n,
            contiguous: t.contiguous(),
        })
        .collect();
    let report = ExportReport {
        path: shown,
        format: opened.format.name().to_owned(),
        output: None,
        dry_run: opts.output.is_none(),
        tensors,
        dropped_shared,
        metadata: plan.metadata.clone(),
        skipped: plan.skipped.clone(),
        refused: plan.refused.clone(),
        file_bytes,
        onnx: None,
    };
    Ok((report, header, writing))
}

pub(super) fn run(
    input: &Path,
    data: &[u8],
    opened: &Opened<'_>,
    plan: &mut Plan,
    opts: &ExportOptions,
    shown: String,
) -> Result<ExportReport> {
    let (mut report, header, writing) = prepare(data, opened, plan, opts, shown)?;
    let Some(dest) = &opts.output else {
        return Ok(report);
    };
    // Forced or not, a file with none of the tensors is never written.
    if !report.refused.is_empty() && (!opts.force || report.tensors.is_empty()) {
        return Ok(report);
    }
    let dir = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let shown_dest = dest.display().to_string();
    let werr = |e| Error::io(&shown_dest, "write", e);
    let tmp = tempfile::Builder::new()
        .prefix(".pickle-doctor-export-")
        .tempfile_in(&dir)
        .map_err(|e| {
            Error::io(
                format!("a temporary file in {}", dir.display()),
                "create",
                e,
            )
        })?;
    // Contiguous tensors stored as is in the input are copied file to file.
    let source_file = (input.as_os_str() != "-")
        .then(|| File::open(input).ok())
        .flatten();
    {
        let mut out = std::io::BufWriter::with_capacity(CHUNK, tmp.as_file());
        emit(
            &mut out,
            &header,
            &writing,
            data,
            opened,
            source_file.as_ref(),
        )
        .map_err(werr)?;
    }
    tmp.as_file().sync_all().map_err(werr)?;
    if let Ok(meta) = std::fs::metadata(input) {
        let _ = tmp.as_file().set_permissions(meta.permissions());
    }
    tmp.persist(dest).map_err(|e| werr(e.error))?;
    report.output = Some(shown_dest);
    Ok(report)
}

/// Writes the whole file: length, header, data.
fn emit<W: Write + AsFile>(
    out: &mut std::io::BufWriter<W>,
    header: &[u8],
    writing: &[(Planned, u64)],
    data: &[u8],
    opened: &Opened<'_>,
    source: Option<&File>,
) -> std::io::Result<()> {
    out.write_all(&(header.len() as u64).to_le_bytes())?;
    out.write_all(header)?;
    for (t, nbytes) in writing {
        write_tensor(out, t, *nbytes, data, opened, source)?;
    }
    out.flush()
}

/// A sink that may be a file (for kernel copies).
pub(super) trait AsFile {
    /// The file, when the sink is one.
    fn as_file(&mut self) -> Option<&File>;
}

impl AsFile for &File {
    fn as_file(&mut self) -> Option<&File> {
        Some(self)
    }
}

impl AsFile for Vec<u8> {
    fn as_file(&mut self) -> Option<&File> {
        None
    }
}

/// Writes the export of an opened file into memory: the fuzz target's way to exercise the
/// writer on any input without touching the disk.
pub(super) fn to_memory(
    data: &[u8],
    opened: &Opened<'_>,
    plan: &mut Plan,
    opts: &ExportOptions,
) -> Result<(ExportReport, Vec<u8>)> {
    let mut no_output = opts.clone();
    no_output.output = None;
    let (report, header, writing) = prepare(data, opened, plan, &no_output, String::new())?;
    let mut out = std::io::BufWriter::new(Vec::new());
    if report.refused.is_empty() {
        emit(&mut out, &header, &writing, data, opened, None)
            .map_err(|e| Error::io("memory", "write", e))?;
    }
    let bytes = out
        .into_inner()
        .map_err(|e| Error::io("memory", "write", e.into_error()))?;
    Ok((report, bytes))
}

/// The JSON header: `__metadata__` first, then the tensors in offset order, compact, padded
/// with spaces to a multiple of 8 bytes.
fn header(metadata: &BTreeMap<String, String>, writing: &[(Planned, u64)]) -> Result<Vec<u8>> {
    let q = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let mut h = String::from("{");
    if !metadata.is_empty() {
        h.push_str("\"__metadata__\":{");
        let items: Vec<String> = metadata
            .iter()
            .map(|(k, v)| format!("{}:{}", q(k), q(v)))
            .collect();
        h.push_str(&items.join(","));
        h.push('}');
    }
    let mut at = 0u64;
    for (i, (t, n)) in writing.iter().enumerate() {
        if i > 0 || !metadata.is_empty() {
            h.push(',');
        }
        let shape: Vec<String> = t.out_shape.iter().map(u64::to_string).collect();
        h.push_str(&format!(
            "{}:{{\"dtype\":\"{}\",\"shape\":[{}],\"data_offsets\":[{at},{}]}}",
            q(&t.name),
            t.dtype.name(),
            shape.join(","),
            at + n
        ));
        at += n;
    }
    h.push('}');
    while h.len() % 8 != 0 {
        h.push(' ');
    }
    if h.len() > MAX_HEADER {
        return Err(Error::Usage(format!(
            "the safetensors header would be {} bytes, over the readers' limit of {MAX_HEADER}",
            h.len()
        )));
    }
    Ok(h.into_bytes())
}

fn write_tensor<W: Write + AsFile>(
    out: &mut std::io::BufWriter<W>,
    t: &Planned,
    nbytes: u64,
    data: &[u8],
    opened: &Opened<'_>,
    source: Option<&File>,
) -> std::io::Result<()> {
    if nbytes == 0 {
        return Ok(());
    }
    let es = super::dtype::source_size(t.dtype);
    let bytes = storage(data, opened, t.storage)
        .ok_or_else(|| std::io::Error::other("storage outside the file"))?;
    if t.contiguous() {
        let start = t.offset * es;
        if let (Bytes::File(r), Some(mut f)) = (t.storage, source) {
            // The kernel copies file to file (copy_file_range): no pages of the input are
            // mapped into this process for the tensor's bytes.
            out.flush()?;
            let Some(mut dest) = out.get_mut().as_file() else {
                return Err(std::io::Error::other("a file source needs a file sink"));
            };
            f.seek(SeekFrom::Start(r.start + start))?;
            let copied = std::io::copy(&mut f.take(nbytes), &mut dest)?;
            if copied != nbytes {
                return Err(std::io::Error::other(
                    "the input file is shorter than its archive says",
                ));
            }
            return Ok(());
        }
        let (s, e) = (
            usize::try_from(start).map_err(std::io::Error::other)?,
            usize::try_from(start + nbytes).map_err(std::io::Error::other)?,
        );
        return out.write_all(&bytes[s..e]);
    }
    // Gather a strided view in C order: the innermost dimension as runs of elements.
    let esz = usize::try_from(es).map_err(std::io::Error::other)?;
    let rank = t.shape.len();
    let mut index = vec![0u64; rank];
    let mut buf: Vec<u8> = Vec::with_capacity(CHUNK);
    let (inner, inner_stride) = (t.shape[rank - 1], t.stride[rank - 1]);
    loop {
        let base = t.offset
            + index[..rank - 1]
                .iter()
                .zip(&t.stride)
                .map(|(i, s)| i * s)
                .sum::<u64>();
        for j in 0..inner {
            let at =
                usize::try_from((base + j * inner_stride) * es).map_err(std::io::Error::other)?;
            buf.extend_from_slice(&bytes[at..at + esz]);
            if buf.len() >= CHUNK {
                out.write_all(&buf)?;
                buf.clear();
            }
        }
        // Next index over the outer dimensions.
        let mut d = rank - 1;
        loop {
            if d == 0 {
                out.write_all(&buf)?;
                return Ok(());
            }
            d -= 1;
            index[d] += 1;
            if index[d] < t.shape[d] {
                break;
            }
            index[d] = 0;
        }
    }
}
