//! Finding modules the way CPython's import system does (3.11): builtin modules first, then
//! the path finder over `sys.path` (or a package's `__path__`), then setuptools' editable
//! finders.
//!
//! Per path entry, the file finder looks for a package (`NAME/__init__` with any loader
//! suffix), then a module file with each suffix in order: extension suffixes, `.py`, `.pyc`.
//! So an extension module beats a `.py` of the same name. A directory without `__init__` is a
//! PEP 420 namespace portion, used only when no entry has a regular module or package.

use std::path::{Path, PathBuf};

use crate::Environment;

/// What kind of module was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModuleKind {
    /// A `.py` file.
    Source,
    /// A `.pyc` without source.
    Bytecode,
    /// A compiled extension (`.so`).
    Extension,
    /// Compiled into the interpreter.
    Builtin,
    /// A PEP 420 namespace package.
    Namespace,
}

/// A found module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Module {
    /// Dotted name.
    pub name: String,
    /// Its kind (for a package, the kind of its `__init__`).
    pub kind: ModuleKind,
    /// The file (`__init__.py` for a package); `None` for builtin and namespace modules.
    pub file: Option<PathBuf>,
    /// `__path__` for packages (its directory, or every namespace portion).
    pub search: Option<Vec<PathBuf>>,
}

impl Module {
    /// Whether it is a package (submodules can be imported from it).
    #[must_use]
    pub fn is_package(&self) -> bool {
        self.search.is_some()
    }

    /// A `.pyi` stub next to the file, if any.
    #[must_use]
    pub fn stub(&self) -> Option<PathBuf> {
        let file = self.file.as_ref()?;
        let dir = file.parent()?;
        let stem = if self.is_package() {
            "__init__".to_owned()
        } else {
            self.name.rsplit('.').next()?.to_owned()
        };
        let pyi = dir.join(format!("{stem}.pyi"));
        pyi.is_file().then_some(pyi)
    }

    /// The module's repr as CPython prints it in errors: `<module 'x' from '/p/x.py'>`.
    #[must_use]
    pub fn repr(&self) -> String {
        match (&self.kind, &self.file) {
            (ModuleKind::Builtin, _) => format!("<module '{}' (built-in)>", self.name),
            (ModuleKind::Namespace, _) => format!("<module '{}' (namespace)>", self.name),
            (_, Some(f)) => format!("<module '{}' from '{}'>", self.name, f.display()),
            (_, None) => format!("<module '{}'>", self.name),
        }
    }
}

/// Finds `fullname`: top-level modules through the environment's search path, submodules
/// through `parent_path` (the parent package's `__path__`).
#[must_use]
pub fn find(env: &Environment, fullname: &str, parent_path: Option<&[PathBuf]>) -> Option<Module> {
    let tail = fullname.rsplit('.').next().unwrap_or(fullname);
    let top_level = parent_path.is_none();
    if top_level && env.is_builtin(fullname) {
        return Some(Module {
            name: fullname.to_owned(),
            kind: ModuleKind::Builtin,
            file: None,
            search: None,
        });
    }
    let entries: &[PathBuf] = parent_path.unwrap_or(&env.path);
    let mut portions = Vec::new();
    for entry in entries {
        match find_in(env, entry, fullname, tail) {
            Found::Module(m) => return Some(m),
            Found::Portion(p) => portions.push(p),
            Found::Nothing => {}
        }
    }
    if !portions.is_empty() {
        return Some(Module {
            name: fullname.to_owned(),
            kind: ModuleKind::Namespace,
            file: None,
            search: Some(portions),
        });
    }
    if top_level {
        // setuptools' editable finder sits after the path finder in `sys.meta_path`.
        if let Some(target) = env.editable.get(fullname) {
            let parent = target.parent().unwrap_or(Path::new("/"));
            if let Found::Module(m) = find_in(env, parent, fullname, tail) {
                return Some(m);
            }
            if let Found::Module(m) = find_package_at(env, target, fullname) {
                return Some(m);
            }
        }
    }
    None
}

enum Found {
    Module(Module),
    Portion(PathBuf),
    Nothing,
}

/// Suffixes in the file finder's order: extensions, source, bytecode.
fn suffixes(env: &Environment) -> impl Iterator<Item = (&str, ModuleKind)> {
    env.extension_suffixes
        .iter()
        .map(|s| (s.as_str(), ModuleKind::Extension))
        .chain([(".py", ModuleKind::Source), (".pyc", ModuleKind::Bytecode)])
}

fn find_package_at(env: &Environment, dir: &Path, fullname: &str) -> Found {
    if !dir.is_dir() {
        return Found::Nothing;
    }
    for (suffix, kind) in suffixes(env) {
        let init = dir.join(format!("__init__{suffix}"));
        if init.is_file() {
            return Found::Module(Module {
                name: fullname.to_owned(),
                kind,
                file: Some(init),
                search: Some(vec![dir.to_path_buf()]),
            });
        }
    }
    Found::Portion(dir.to_path_buf())
}

fn find_in(env: &Environment, entry: &Path, fullname: &str, tail: &str) -> Found {
    let mut portion = None;
    let dir = entry.join(tail);
    match find_package_at(env, &dir, fullname) {
        Found::Module(m) => return Found::Module(m),
        Found::Portion(p) => portion = Some(p),
        Found::Nothing => {}
    }
    for (suffix, kind) in suffixes(env) {
        let file = entry.join(format!("{tail}{suffix}"));
        if file.is_file() {
            return Found::Module(Module {
                name: fullname.to_owned(),
                kind,
                file: Some(file),
                search: None,
            });
        }
    }
    portion.map_or(Found::Nothing, Found::Portion)
}
