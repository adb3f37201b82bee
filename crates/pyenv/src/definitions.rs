//! Where else a package defines a name: the candidates `fix` offers when a global is missing
//! and no known rename applies (a class moved to another module of the same package).

use std::path::Path;

use crate::Resolver;
use crate::names::{self, Binding};

/// At most this many source files are parsed per search: a miss in a large package stays
/// fast, and a name defined in more places than this is no single answer anyway.
const MAX_FILES_PARSED: usize = 400;

/// Modules of the top-level package `top` whose source defines `name` (class, def or
/// assignment, not an import), in path order. Only Python sources are read, and only those
/// whose bytes mention the name.
#[must_use]
pub fn defining_modules(resolver: &mut Resolver<'_>, top: &str, name: &str) -> Vec<String> {
    let Ok(pkg) = resolver.import(top) else {
        return Vec::new();
    };
    let Some(roots) = pkg.search.clone() else {
        return Vec::new();
    };
    let mut found = Vec::new();
    let mut parsed = 0;
    for root in &roots {
        let mut stack = vec![(root.clone(), top.to_owned())];
        while let Some((dir, module)) = stack.pop() {
            let Ok(rd) = std::fs::read_dir(&dir) else {
                continue;
            };
            let mut entries: Vec<_> = rd.flatten().map(|e| e.path()).collect();
            entries.sort();
            for p in entries {
                let Some(fname) = p.file_name().and_then(|f| f.to_str()) else {
                    continue;
                };
                if p.is_dir() {
                    if !fname.contains('.') && fname != "__pycache__" {
                        stack.push((p.clone(), format!("{module}.{fname}")));
                    }
                    continue;
                }
                let Some(stem) = fname.strip_suffix(".py") else {
                    continue;
                };
                let (full, is_package) = if stem == "__init__" {
                    (module.clone(), true)
                } else {
                    (format!("{module}.{stem}"), false)
                };
                if parsed >= MAX_FILES_PARSED {
                    return found;
                }
                match defines(&p, &full, is_package, name) {
                    None => {}
                    Some(defined) => {
                        parsed += 1;
                        if defined {
                            found.push(full);
                        }
                    }
                }
            }
        }
    }
    found
}

/// `None` when the file does not mention the name (not parsed), else whether it defines it.
fn defines(path: &Path, module: &str, is_package: bool, name: &str) -> Option<bool> {
    let src = std::fs::read_to_string(path).ok()?;
    memchr::memmem::find(src.as_bytes(), name.as_bytes())?;
    let ns = names::analyse(&src, module, is_package);
    Some(ns.names.get(name) == Some(&Binding::Defined))
}
