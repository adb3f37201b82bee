//! Resolving `module` and `module.attr.path` in an environment, as `find_class` would.
//!
//! Results are cached per module name, and source analyses per `(path, size, mtime)`, so a
//! pickle naming the same module a thousand times parses it once. Only the modules a pickle
//! names (and the modules they star-import) are ever read.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use crate::Environment;
use crate::extension::{self, Evidence};
use crate::finder::{self, Module, ModuleKind};
use crate::names::{self, Namespace};

/// Why an import fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportFailure {
    /// The first missing module of the chain (`a.b` for `a.b.c` when `a` exists).
    pub missing: String,
}

/// Whether an attribute exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attr {
    /// Decided present, with how.
    Found(&'static str),
    /// Decided absent, with how.
    Missing(&'static str),
    /// Not decidable statically, with the reason.
    Unverified(String),
}

/// Resolves names in one environment, with caches.
pub struct Resolver<'e> {
    env: &'e Environment,
    modules: HashMap<String, Option<Arc<Module>>>,
    namespaces: HashMap<(PathBuf, u64, Option<SystemTime>), Arc<Namespace>>,
    binaries: HashMap<PathBuf, Arc<Vec<u8>>>,
}

/// How deep star imports are followed.
const MAX_STAR_DEPTH: usize = 8;

impl<'e> Resolver<'e> {
    /// A resolver over `env`.
    #[must_use]
    pub fn new(env: &'e Environment) -> Self {
        Resolver {
            env,
            modules: HashMap::new(),
            namespaces: HashMap::new(),
            binaries: HashMap::new(),
        }
    }

    /// The environment.
    #[must_use]
    pub fn env(&self) -> &'e Environment {
        self.env
    }

    /// Finds `name` and every parent package, as `__import__(name)` would.
    ///
    /// # Errors
    /// The first module of the chain that cannot be found.
    pub fn import(&mut self, name: &str) -> Result<Arc<Module>, ImportFailure> {
        let mut parent: Option<Arc<Module>> = None;
        let mut prefix = String::new();
        for part in name.split('.') {
            if !prefix.is_empty() {
                prefix.push('.');
            }
            prefix.push_str(part);
            let found = self.find(&prefix, parent.as_deref());
            match found {
                Some(m) => parent = Some(m),
                None => return Err(ImportFailure { missing: prefix }),
            }
        }
        parent.ok_or(ImportFailure {
            missing: name.to_owned(),
        })
    }

    fn find(&mut self, fullname: &str, parent: Option<&Module>) -> Option<Arc<Module>> {
        if let Some(m) = self.modules.get(fullname) {
            return m.clone();
        }
        let found = match parent {
            None => finder::find(self.env, fullname, None),
            Some(p) => match &p.search {
                Some(path) => finder::find(self.env, fullname, Some(path)),
                None => None,
            },
        }
        .map(Arc::new);
        self.modules.insert(fullname.to_owned(), found.clone());
        found
    }

    /// The names a module's source (or `.pyi` stub) binds.
    fn namespace_of(
        &mut self,
        file: &Path,
        module: &str,
        is_package: bool,
    ) -> Option<Arc<Namespace>> {
        let meta = std::fs::metadata(file).ok()?;
        let key = (file.to_path_buf(), meta.len(), meta.modified().ok());
        if let Some(ns) = self.namespaces.get(&key) {
            return Some(ns.clone());
        }
        let bytes = std::fs::read(file).ok()?;
        let text = String::from_utf8_lossy(&bytes);
        let stub = file.extension().is_some_and(|x| x == "pyi");
        let ns = Arc::new(if stub {
            names::analyse_stub(&text, module, is_package)
        } else {
            names::analyse(&text, module, is_package)
        });
        self.namespaces.insert(key, ns.clone());
        Some(ns)
    }

    fn binary(&mut self, file: &Path) -> Option<Arc<Vec<u8>>> {
        if let Some(b) = self.binaries.get(file) {
            return Some(b.clone());
        }
        let b = Arc::new(std::fs::read(file).ok()?);
        self.binaries.insert(file.to_path_buf(), b.clone());
        Some(b)
    }

    /// Whether `module` has the (possibly dotted) attribute `path`, as `getattr` (one
    /// component) or protocol 4's qualname walk (several) would find it after
    /// `__import__(module)`.
    pub fn attribute(&mut self, module: &Module, path: &str) -> Attr {
        let mut parts = path.split('.');
        let first = parts.next().unwrap_or(path);
        let rest: Vec<&str> = parts.collect();
        let attr = self.top_attribute(module, first, 0);
        if rest.is_empty() || !matches!(attr, Attr::Found(_)) {
            return attr;
        }
        // Dotted: a submodule, or a class defined in source.
        let sub = format!("{}.{first}", module.name);
        if let Ok(m) = self.import(&sub) {
            return self.attribute(&m, &rest.join("."));
        }
        let Some(file) = module
            .file
            .clone()
            .filter(|_| module.kind == ModuleKind::Source)
        else {
            return Attr::Unverified(format!(
                "`{first}` is not defined in Python source, so `{path}` cannot be followed"
            ));
        };
        let Some(ns) = self.namespace_of(&file, &module.name, module.is_package()) else {
            return Attr::Unverified("source unreadable".to_owned());
        };
        let mut cls = ns.classes.get(first);
        for (i, part) in rest.iter().enumerate() {
            let Some(c) = cls else {
                return Attr::Unverified(format!(
                    "`{}` is not a class defined in source",
                    [first]
                        .iter()
                        .chain(&rest[..i])
                        .copied()
                        .collect::<Vec<_>>()
                        .join(".")
                ));
            };
            if !c.binds(part) {
                return Attr::Missing("not bound in the class body");
            }
            cls = c.classes.get(*part);
        }
        Attr::Found("bound in the class body")
    }

    fn top_attribute(&mut self, module: &Module, name: &str, depth: usize) -> Attr {
        let decided = match module.kind {
            ModuleKind::Builtin => match self.env.builtins.get(&module.name) {
                Some(names) if names.iter().any(|n| n == name) => {
                    Attr::Found("builtin module attribute")
                }
                Some(_) => Attr::Missing("not an attribute of the builtin module"),
                None => Attr::Unverified(
                    "builtin module: attributes unknown without the target interpreter".to_owned(),
                ),
            },
            ModuleKind::Source => {
                let file = module.file.clone().unwrap_or_default();
                self.source_attribute(&file, module, name, depth)
            }
            ModuleKind::Extension => self.extension_attribute(module, name, depth),
            ModuleKind::Bytecode => Attr::Unverified("module has bytecode only (.pyc)".to_owned()),
            ModuleKind::Namespace => Attr::Missing("namespace package"),
        };
        if matches!(decided, Attr::Found(_)) {
            return decided;
        }
        // A submodule bound on its package by an import during the package's own import.
        if module.is_package() {
            let sub = format!("{}.{name}", module.name);
            if self.import(&sub).is_ok() {
                if self.package_imports(module, &sub) {
                    return Attr::Found("submodule imported by the package");
                }
                return Attr::Unverified(format!(
                    "`{sub}` is a submodule that `{}` does not import itself",
                    module.name
                ));
            }
        }
        decided
    }

    /// Whether the package's `__init__` imports `sub` (binding it on the package).
    fn package_imports(&mut self, package: &Module, sub: &str) -> bool {
        let Some(file) = package
            .file
            .clone()
            .filter(|_| package.kind == ModuleKind::Source)
        else {
            return false;
        };
        self.namespace_of(&file, &package.name, true)
            .is_some_and(|ns| {
                ns.imported_modules
                    .iter()
                    .any(|m| m == sub || m.starts_with(&format!("{sub}.")))
            })
    }

    fn source_attribute(&mut self, file: &Path, module: &Module, name: &str, depth: usize) -> Attr {
        let Some(ns) = self.namespace_of(file, &module.name, module.is_package()) else {
            return Attr::Unverified(format!("cannot read {}", file.display()));
        };
        let decided = self.namespace_attribute(&ns, name, depth);
        // A module that binds names dynamically (numpy 1.x: `globals()[key] = ...` over its
        // scalar types, reached through `from .core import *`, plus a `__getattr__`) may
        // still declare them in its own `.pyi` stub (`float64 = floating[_64Bit]`): the
        // stub binds the name statically, so `__getattr__` never runs for it. Only a name
        // that nothing binds is left to `__getattr__`.
        if matches!(decided, Attr::Unverified(_))
            && ns.getattr_serves.is_none()
            && let Some(stub) = module.stub()
            && let Some(declared) = self.namespace_of(&stub, &module.name, module.is_package())
            && declared.binds(name)
        {
            return Attr::Found(
                "declared in the module's .pyi stub (the source binds it dynamically)",
            );
        }
        decided
    }

    fn namespace_attribute(&mut self, ns: &Namespace, name: &str, depth: usize) -> Attr {
        if ns.binds(name) {
            return Attr::Found("bound in the module source");
        }
        let mut unverified = None;
        if depth < MAX_STAR_DEPTH {
            for source in ns.copies_all_of.clone() {
                let Ok(m) = self.import(&source) else {
                    continue;
                };
                match self.top_attribute(&m, name, depth + 1) {
                    Attr::Found(_) => {
                        return Attr::Found("copied from another module by a loop over its names");
                    }
                    Attr::Unverified(r) => unverified = Some(r),
                    Attr::Missing(_) => {}
                }
            }
            for star in ns.star_imports.clone() {
                match self.star_exports(&star, name, depth + 1) {
                    Attr::Found(_) => return Attr::Found("re-exported by `from ... import *`"),
                    Attr::Unverified(r) => unverified = Some(r),
                    Attr::Missing(_) => {}
                }
            }
        }
        if let Some(served) = &ns.getattr_serves {
            return if served.iter().any(|n| n == name) {
                Attr::Found("served by the module's `__getattr__` from its literal table")
            } else {
                Attr::Missing("not in the table the module's `__getattr__` serves")
            };
        }
        if let Some(reason) = &ns.dynamic {
            return Attr::Unverified(reason.clone());
        }
        match unverified {
            Some(r) => Attr::Unverified(r),
            None => Attr::Missing("not bound in the module source"),
        }
    }

    /// Whether `from star import *` binds `name`.
    fn star_exports(&mut self, star: &str, name: &str, depth: usize) -> Attr {
        let Ok(m) = self.import(star) else {
            return Attr::Missing("star-imported module not found");
        };
        if let Some(file) = m.file.clone().filter(|_| m.kind == ModuleKind::Source) {
            let Some(ns) = self.namespace_of(&file, &m.name, m.is_package()) else {
                return Attr::Unverified(format!("cannot read {}", file.display()));
            };
            if let Some(all) = &ns.all {
                if !all.iter().any(|n| n == name) {
                    return Attr::Missing("not in `__all__`");
                }
                return Attr::Found("in `__all__`");
            }
            if name.starts_with('_') {
                return Attr::Missing("private names are not star-exported");
            }
            return self.namespace_attribute(&ns, name, depth);
        }
        if name.starts_with('_') && m.kind != ModuleKind::Extension {
            return Attr::Missing("private names are not star-exported");
        }
        self.top_attribute(&m, name, depth)
    }

    fn extension_attribute(&mut self, module: &Module, name: &str, depth: usize) -> Attr {
        // `.pyi` stubs first.
        if let Some(stub) = module.stub()
            && let Some(ns) = self.namespace_of(&stub, &module.name, module.is_package())
            && matches!(self.namespace_attribute(&ns, name, depth), Attr::Found(_))
        {
            return Attr::Found("listed in the .pyi stub");
        }
        let Some(file) = module.file.clone() else {
            return Attr::Unverified("extension module without a file".to_owned());
        };
        let Some(bin) = self.binary(&file) else {
            return Attr::Unverified(format!("cannot read {}", file.display()));
        };
        // Cython sources shipped next to the binary (`.pyx`, `.pyx.tp`, `.pxd`) name aliases
        // that the binary's strings may not (`KDTree = KDTree64`).
        if cython_source_mentions(&file, name) {
            return Attr::Found("named in the Cython source shipped with the extension");
        }
        match extension::evidence(&bin, &module.name, name) {
            Evidence::Present => Attr::Found("named in the extension binary"),
            Evidence::Absent => Attr::Missing("the Cython module's class names do not include it"),
            Evidence::Unknown => Attr::Unverified(format!(
                "`{}` is a compiled extension; its stub and strings do not mention `{name}`",
                module.name
            )),
        }
    }
}

/// Whether a Cython source next to the extension defines `name` at module level: a line
/// `class NAME`, `cdef class NAME`, `def`/`cpdef ... NAME(`, `NAME = ...`, or `NAME` quoted in
/// an `__all__` line. Mentions in docstrings and `.pyx.tp` template names
/// (`EuclideanDistance{{name_suffix}}`) do not count.
fn cython_source_mentions(so: &Path, name: &str) -> bool {
    let Some(dir) = so.parent() else { return false };
    let Some(stem) = so
        .file_name()
        .and_then(|f| f.to_str())
        .and_then(|f| f.split('.').next())
    else {
        return false;
    };
    ["pyx", "pyx.tp", "pxd", "pxd.tp"].iter().any(|ext| {
        std::fs::read_to_string(dir.join(format!("{stem}.{ext}")))
            .is_ok_and(|text| text.lines().any(|line| defines(line, name)))
    })
}

fn defines(line: &str, name: &str) -> bool {
    let is_ident = |c: char| c == '_' || c.is_ascii_alphanumeric();
    let starts_name = |rest: &str| {
        rest.strip_prefix(name)
            .is_some_and(|after| !after.starts_with(|c: char| is_ident(c) || c == '{'))
    };
    if line.starts_with("__all__") {
        return line.contains(&format!("'{name}'")) || line.contains(&format!("\"{name}\""));
    }
    for prefix in ["class ", "cdef class ", "def ", "cpdef "] {
        if let Some(rest) = line.strip_prefix(prefix) {
            // `cpdef double NAME(`: the name is the last word before the parenthesis.
            let head = rest.split('(').next().unwrap_or(rest);
            let word = head.split_whitespace().last().unwrap_or("");
            let word = word.split(':').next().unwrap_or(word);
            return word == name || starts_name(rest);
        }
    }
    starts_name(line)
        && line[name.len()..].trim_start().starts_with('=')
        && !line[name.len()..].trim_start().starts_with("==")
}

/// Compile-time proof that a resolver and an environment can move to (and be shared with)
/// another thread: a library session holding them must be `Send + Sync`.
#[allow(dead_code, reason = "checked by the compiler, never called")]
fn _assert_send_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Resolver<'static>>();
    send_sync::<Environment>();
    send_sync::<Module>();
    send_sync::<Namespace>();
}

#[cfg(test)]
mod tests {
    use super::*;

    /// numpy 1.x's shape: the package star-imports a module that binds its scalar types
    /// through `globals()[key] = ...`, and defines `__getattr__`; its `.pyi` stub declares
    /// them. A declared name is found; a name nothing binds is left to `__getattr__`.
    #[test]
    fn stub_declared_names_of_dynamic_modules_are_found() {
        let dir = std::env::temp_dir().join(format!("pd-stub-{}", std::process::id()));
        let pkg = dir.join("npish");
        std::fs::create_dir_all(pkg.join("core")).unwrap();
        std::fs::write(
            pkg.join("__init__.py"),
            "from .core import *\n\ndef __getattr__(name):\n    raise AttributeError(name)\n",
        )
        .unwrap();
        std::fs::write(
            pkg.join("__init__.pyi"),
            "float64 = floating[_64Bit]\nclass ndarray: ...\n",
        )
        .unwrap();
        std::fs::write(
            pkg.join("core/__init__.py"),
            "for key in _types:\n    globals()[key] = _types[key]\n",
        )
        .unwrap();
        let env = Environment::from_site_packages(std::slice::from_ref(&dir), (3, 11)).unwrap();
        let mut r = Resolver::new(&env);
        let m = r.import("npish").unwrap();
        assert!(matches!(r.attribute(&m, "float64"), Attr::Found(_)));
        assert!(matches!(r.attribute(&m, "ndarray"), Attr::Found(_)));
        assert!(matches!(r.attribute(&m, "float128"), Attr::Unverified(_)));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
