//! Which files a scan looks at.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use walkdir::WalkDir;

/// A file to scan.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Candidate {
    /// The file.
    pub path: PathBuf,
    /// Named on the command line: scanned whatever its content, and errors are reported.
    pub explicit: bool,
}

/// Problems met while walking.
#[derive(Debug, Clone, serde::Serialize)]
pub struct WalkError {
    /// Where.
    pub path: PathBuf,
    /// What went wrong.
    pub message: String,
    /// A symlink loop only leads back to files already walked: a warning, not an error. An
    /// unreadable folder may hide a model, so it is an error (fail closed).
    pub is_loop: bool,
}

/// Expands the command-line paths into files.
///
/// Directories are walked recursively. Hidden files are included: an attacker gains nothing
/// by naming a payload `.model.pkl`. `.git` folders are skipped (their objects are not model
/// files and can be huge). Symlinks are followed, with walkdir's loop detection, because the
/// Hugging Face cache keeps every file as a `snapshots/<rev>/NAME` link into `blobs/`; a file
/// reached by several paths is kept once, preferring the path through a link, whose name says
/// what the file is (`pytorch_model.bin` rather than a content hash).
pub fn collect(paths: &[PathBuf]) -> (Vec<Candidate>, Vec<WalkError>) {
    let mut found: Vec<(Candidate, bool)> = Vec::new();
    let mut errors = Vec::new();
    for root in paths {
        if !root.is_dir() {
            found.push((
                Candidate {
                    path: root.clone(),
                    explicit: true,
                },
                false,
            ));
            continue;
        }
        let walk = WalkDir::new(root)
            .follow_links(true)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| e.depth() == 0 || e.file_name() != ".git");
        for entry in walk {
            match entry {
                Ok(e) if e.file_type().is_file() => {
                    let via_link = e.path_is_symlink() || through_link(root, e.path());
                    found.push((
                        Candidate {
                            path: e.into_path(),
                            explicit: false,
                        },
                        via_link,
                    ));
                }
                Ok(_) => {}
                Err(e) => {
                    let path = e.path().map_or_else(|| root.clone(), Path::to_path_buf);
                    let is_loop = e.loop_ancestor().is_some();
                    let message = if is_loop {
                        "symlink loop, not followed".to_owned()
                    } else {
                        e.io_error()
                            .map_or_else(|| e.to_string(), ToString::to_string)
                    };
                    errors.push(WalkError {
                        path,
                        message,
                        is_loop,
                    });
                }
            }
        }
    }
    (dedupe(found), errors)
}

/// Whether a directory between `root` and `path` is a symlink.
fn through_link(root: &Path, path: &Path) -> bool {
    path.ancestors()
        .skip(1)
        .take_while(|a| *a != root)
        .any(Path::is_symlink)
}

/// Keeps one path per underlying file, in walk order; explicit paths are always kept.
fn dedupe(found: Vec<(Candidate, bool)>) -> Vec<Candidate> {
    let mut chosen: HashMap<FileId, usize> = HashMap::new();
    let mut keep: Vec<Option<(Candidate, bool)>> = Vec::with_capacity(found.len());
    for (c, via_link) in found {
        let Some(id) = (!c.explicit).then(|| file_id(&c.path)).flatten() else {
            keep.push(Some((c, via_link)));
            continue;
        };
        match chosen.get(&id) {
            Some(&i) => {
                let prefer_new = via_link && !keep[i].as_ref().is_some_and(|(_, l)| *l);
                if prefer_new {
                    keep[i] = None;
                    chosen.insert(id, keep.len());
                    keep.push(Some((c, via_link)));
                }
            }
            None => {
                chosen.insert(id, keep.len());
                keep.push(Some((c, via_link)));
            }
        }
    }
    keep.into_iter().flatten().map(|(c, _)| c).collect()
}

type FileId = (u64, u64);

#[cfg(unix)]
fn file_id(path: &Path) -> Option<FileId> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn file_id(_: &Path) -> Option<FileId> {
    None
}
