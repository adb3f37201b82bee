//! The names a Python module binds at import time, decided from its source by parsing.
//!
//! Counted: `def`, `class`, assignments (including tuple targets, `for`/`with` targets and
//! walrus at top level), `import`/`from ... import`, both branches of `if` and every branch
//! of `try` (import fallbacks), `del`. Excluded: `if TYPE_CHECKING:` bodies. Names that cannot
//! be listed make the module *dynamic* with a reason: a module-level `__getattr__` (PEP 562),
//! `globals()[...] = ...` or `globals().update(...)`, `sys.modules[__name__] = ...`.
//! `from m import *` is kept as a reference to `m`, resolved later through its `__all__`.

use std::collections::HashMap;

use ruff_python_ast::{Expr, ModModule, Stmt};

/// How a name is bound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Binding {
    /// Defined here (def, class, assignment).
    Defined,
    /// Imported from another module (`from m import x`, `import m`).
    Imported,
}

/// What a module (or class body) binds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Namespace {
    /// Bound names.
    pub names: HashMap<String, Binding>,
    /// Class bodies, for dotted names (`Outer.Inner`) from protocol 4.
    pub classes: HashMap<String, Namespace>,
    /// Absolute names of modules star-imported here, in order.
    pub star_imports: Vec<String>,
    /// Why names may exist that are not listed, if they may.
    pub dynamic: Option<String>,
    /// A literal `__all__`, when there is one.
    pub all: Option<Vec<String>>,
    /// Absolute names of modules imported here (`import a.b`, `from .x import y` imports
    /// `pkg.x`): importing a submodule binds it on its parent package.
    pub imported_modules: Vec<String>,
    /// Modules whose every attribute is copied in by a loop such as
    /// `for item in m.__dir__(): globals()[item] = getattr(m, item)` (numpy's compatibility
    /// stubs): names found there are bound here too.
    pub copies_all_of: Vec<String>,
    /// Local name → the absolute dotted name it was imported as.
    pub imported_as: HashMap<String, String>,
    /// Local names bound to `globals()`.
    globals_aliases: Vec<String>,
    /// When the module's `__getattr__` only serves the keys of a module-level literal table
    /// and raises `AttributeError` otherwise: those keys.
    pub getattr_serves: Option<Vec<String>>,
    /// Module-level literal tables: name → string keys.
    tables: HashMap<String, Vec<String>>,
    /// The table a `__getattr__` looks its argument up in, and whether it raises
    /// `AttributeError`.
    getattr_lookup: Option<(String, bool)>,
}

impl Namespace {
    /// Whether `name` is bound.
    #[must_use]
    pub fn binds(&self, name: &str) -> bool {
        self.names.contains_key(name)
    }

    /// The names `from this import *` binds: `__all__` when literal, else public names.
    #[must_use]
    pub fn public_names(&self) -> Vec<String> {
        match &self.all {
            Some(all) => all.clone(),
            None => self
                .names
                .keys()
                .filter(|n| !n.starts_with('_'))
                .cloned()
                .collect(),
        }
    }
}

/// Analyses a module's source. `module` is its dotted name and `is_package` says whether it is
/// an `__init__` (for resolving relative imports).
#[must_use]
pub fn analyse(source: &str, module: &str, is_package: bool) -> Namespace {
    analyse_as(source, module, is_package, false)
}

/// [`analyse`] for a `.pyi` stub, where `name: Type` declares a name without a value.
#[must_use]
pub fn analyse_stub(source: &str, module: &str, is_package: bool) -> Namespace {
    analyse_as(source, module, is_package, true)
}

fn analyse_as(source: &str, module: &str, is_package: bool, stub: bool) -> Namespace {
    let parsed =
        ruff_python_parser::parse_unchecked_source(source, ruff_python_ast::PySourceType::Python);
    analyse_parsed(parsed.syntax(), module, is_package, stub)
}

/// [`analyse`] over a module already parsed (the class analysis parses once for both).
pub(crate) fn analyse_parsed(
    body: &ModModule,
    module: &str,
    is_package: bool,
    stub: bool,
) -> Namespace {
    let package = if is_package {
        module.to_owned()
    } else {
        module
            .rsplit_once('.')
            .map_or(String::new(), |(p, _)| p.to_owned())
    };
    let mut ns = Namespace::default();
    let cx = Cx {
        package: &package,
        stub,
    };
    cx.block(&body.body, &mut ns);
    if let Some((table, raises)) = &ns.getattr_lookup
        && *raises
    {
        ns.getattr_serves = ns.tables.get(table).cloned();
    }
    ns
}

/// Keys of a literal dict with string keys, or items of a literal set/list/tuple of strings.
fn literal_keys(e: &Expr) -> Option<Vec<String>> {
    match e {
        Expr::Dict(d) => d
            .items
            .iter()
            .map(|item| match &item.key {
                Some(Expr::StringLiteral(k)) => Some(k.value.to_str().to_owned()),
                _ => None,
            })
            .collect(),
        Expr::Set(s) => s
            .elts
            .iter()
            .map(|e| match e {
                Expr::StringLiteral(k) => Some(k.value.to_str().to_owned()),
                _ => None,
            })
            .collect(),
        other => literal_strings(other),
    }
}

/// In `def __getattr__(name)`: the module-level name it looks `name` up in (`T[name]`,
/// `name in T`, `T.get(name)`), and whether it raises `AttributeError` anywhere.
fn getattr_table(f: &ruff_python_ast::StmtFunctionDef) -> Option<(String, bool)> {
    use ruff_python_ast::visitor::{Visitor, walk_expr, walk_stmt};
    struct Finder<'p> {
        param: &'p str,
        table: Option<String>,
        raises: bool,
    }
    impl<'a> Visitor<'a> for Finder<'_> {
        fn visit_stmt(&mut self, stmt: &'a Stmt) {
            if let Stmt::Raise(r) = stmt
                && let Some(exc) = &r.exc
            {
                let callee = match &**exc {
                    Expr::Call(c) => &*c.func,
                    other => other,
                };
                if matches!(callee, Expr::Name(n) if n.id.as_str() == "AttributeError") {
                    self.raises = true;
                }
            }
            walk_stmt(self, stmt);
        }
        fn visit_expr(&mut self, expr: &'a Expr) {
            let is_param = |e: &Expr| matches!(e, Expr::Name(n) if n.id.as_str() == self.param);
            match expr {
                Expr::Subscript(s) if is_param(&s.slice) => {
                    if let Expr::Name(t) = &*s.value {
                        self.table = Some(t.id.to_string());
                    }
                }
                Expr::Compare(c) if is_param(&c.left) => {
                    if let Some(Expr::Name(t)) = c.comparators.first() {
                        self.table = Some(t.id.to_string());
                    }
                }
                Expr::Call(c) => {
                    if let Expr::Attribute(a) = &*c.func
                        && a.attr.as_str() == "get"
                        && c.arguments.args.first().is_some_and(is_param)
                        && let Expr::Name(t) = &*a.value
                    {
                        self.table = Some(t.id.to_string());
                    }
                }
                _ => {}
            }
            walk_expr(self, expr);
        }
    }
    let param = f.parameters.args.first()?.parameter.name.as_str();
    let mut finder = Finder {
        param,
        table: None,
        raises: false,
    };
    for stmt in &f.body {
        finder.visit_stmt(stmt);
    }
    finder.table.map(|t| (t, finder.raises))
}

struct Cx<'a> {
    package: &'a str,
    stub: bool,
}

impl Cx<'_> {
    fn block(&self, stmts: &[Stmt], ns: &mut Namespace) {
        for s in stmts {
            self.stmt(s, ns);
        }
    }

    fn stmt(&self, s: &Stmt, ns: &mut Namespace) {
        match s {
            Stmt::FunctionDef(f) => {
                let name = f.name.as_str();
                if name == "__getattr__" {
                    ns.dynamic = Some("the module defines `__getattr__` (PEP 562)".to_owned());
                    ns.getattr_lookup = getattr_table(f);
                }
                ns.names.insert(name.to_owned(), Binding::Defined);
            }
            Stmt::ClassDef(c) => {
                let mut body = Namespace::default();
                self.block(&c.body, &mut body);
                ns.names.insert(c.name.to_string(), Binding::Defined);
                ns.classes.insert(c.name.to_string(), body);
            }
            Stmt::Assign(a) => {
                if let ([Expr::Name(n)], Some(keys)) =
                    (a.targets.as_slice(), literal_keys(&a.value))
                {
                    ns.tables.insert(n.id.to_string(), keys);
                }
                for t in &a.targets {
                    self.target(t, ns);
                    if let Expr::Name(n) = t
                        && n.id.as_str() == "__all__"
                    {
                        ns.all = literal_strings(&a.value);
                    }
                }
                mutation_of_globals(&a.value, ns);
                if is_call_to(&a.value, "globals") {
                    for t in &a.targets {
                        if let Expr::Name(n) = t {
                            ns.globals_aliases.push(n.id.to_string());
                        }
                    }
                }
            }
            Stmt::AnnAssign(a) if a.value.is_some() || self.stub => self.target(&a.target, ns),
            Stmt::AugAssign(a) => {
                if let Expr::Name(n) = &*a.target
                    && n.id.as_str() == "__all__"
                {
                    match (literal_strings(&a.value), &mut ns.all) {
                        (Some(more), Some(all)) => all.extend(more),
                        _ => ns.all = None,
                    }
                }
                self.target(&a.target, ns);
            }
            Stmt::TypeAlias(t) => self.target(&t.name, ns),
            Stmt::For(f) => {
                if let Some(m) = copied_module(&f.iter, ns) {
                    ns.copies_all_of.push(m);
                }
                self.target(&f.target, ns);
                self.block(&f.body, ns);
                self.block(&f.orelse, ns);
            }
            Stmt::While(w) => {
                self.block(&w.body, ns);
                self.block(&w.orelse, ns);
            }
            Stmt::With(w) => {
                for item in &w.items {
                    if let Some(v) = &item.optional_vars {
                        self.target(v, ns);
                    }
                }
                self.block(&w.body, ns);
            }
            Stmt::If(i) => {
                let type_checking = is_type_checking(&i.test);
                if !type_checking {
                    self.block(&i.body, ns);
                }
                for clause in &i.elif_else_clauses {
                    self.block(&clause.body, ns);
                }
            }
            Stmt::Try(t) => {
                self.block(&t.body, ns);
                for h in &t.handlers {
                    let ruff_python_ast::ExceptHandler::ExceptHandler(h) = h;
                    self.block(&h.body, ns);
                }
                self.block(&t.orelse, ns);
                self.block(&t.finalbody, ns);
            }
            Stmt::Match(m) => {
                for case in &m.cases {
                    self.block(&case.body, ns);
                }
            }
            Stmt::Delete(d) => {
                for t in &d.targets {
                    if let Expr::Name(n) = t {
                        ns.names.remove(n.id.as_str());
                    }
                }
            }
            Stmt::Import(i) => {
                for alias in &i.names {
                    let full = alias.name.as_str();
                    ns.imported_modules.push(full.to_owned());
                    let (bound, as_name) = match &alias.asname {
                        Some(a) => (a.as_str(), full),
                        None => {
                            let top = full.split('.').next().unwrap_or(full);
                            (top, top)
                        }
                    };
                    ns.names.insert(bound.to_owned(), Binding::Imported);
                    ns.imported_as.insert(bound.to_owned(), as_name.to_owned());
                }
            }
            Stmt::ImportFrom(i) => {
                let base = self.absolute(i.module.as_ref().map(|m| m.as_str()), i.level);
                let Some(base) = base else { return };
                ns.imported_modules.push(base.clone());
                for alias in &i.names {
                    let name = alias.name.as_str();
                    if name == "*" {
                        ns.star_imports.push(base.clone());
                        continue;
                    }
                    // `from pkg import sub` may import the submodule `pkg.sub`.
                    ns.imported_modules.push(format!("{base}.{name}"));
                    let bound = alias.asname.as_ref().map_or(name, |a| a.as_str());
                    ns.names.insert(bound.to_owned(), Binding::Imported);
                    ns.imported_as
                        .insert(bound.to_owned(), format!("{base}.{name}"));
                }
            }
            Stmt::Expr(e) => mutation_of_globals(&e.value, ns),
            _ => {}
        }
    }

    fn target(&self, t: &Expr, ns: &mut Namespace) {
        match t {
            Expr::Name(n) => {
                ns.names.insert(n.id.to_string(), Binding::Defined);
            }
            Expr::Tuple(t) => t.elts.iter().for_each(|e| self.target(e, ns)),
            Expr::List(l) => l.elts.iter().for_each(|e| self.target(e, ns)),
            Expr::Starred(s) => self.target(&s.value, ns),
            Expr::Subscript(s) => {
                // globals()[name] = ... ; sys.modules[__name__] = ...
                let alias = matches!(&*s.value, Expr::Name(n) if ns.globals_aliases.iter().any(|a| a == n.id.as_str()));
                if alias && !ns.copies_all_of.is_empty() {
                    // The copy loop recorded in `copies_all_of` already accounts for it.
                } else if alias || is_call_to(&s.value, "globals") {
                    ns.dynamic = Some("the module assigns through `globals()[...]`".to_owned());
                } else if is_sys_modules(&s.value) {
                    ns.dynamic = Some("the module replaces itself in `sys.modules`".to_owned());
                }
            }
            _ => {}
        }
    }

    /// The absolute module of a `from` import.
    fn absolute(&self, module: Option<&str>, level: u32) -> Option<String> {
        if level == 0 {
            return module.map(str::to_owned);
        }
        let mut base: Vec<&str> = if self.package.is_empty() {
            Vec::new()
        } else {
            self.package.split('.').collect()
        };
        for _ in 1..level {
            base.pop()?;
        }
        let mut out = base.join(".");
        if let Some(m) = module {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(m);
        }
        (!out.is_empty()).then_some(out)
    }
}

fn is_type_checking(test: &Expr) -> bool {
    match test {
        Expr::Name(n) => n.id.as_str() == "TYPE_CHECKING",
        Expr::Attribute(a) => a.attr.as_str() == "TYPE_CHECKING",
        _ => false,
    }
}

fn is_call_to(e: &Expr, func: &str) -> bool {
    matches!(e, Expr::Call(c) if matches!(&*c.func, Expr::Name(n) if n.id.as_str() == func))
}

fn is_sys_modules(e: &Expr) -> bool {
    matches!(e, Expr::Attribute(a) if a.attr.as_str() == "modules"
        && matches!(&*a.value, Expr::Name(n) if n.id.as_str() == "sys"))
}

/// `m.__dir__()` or `dir(m)` for an imported module `m`: the loop copies all of `m`.
fn copied_module(iter: &Expr, ns: &Namespace) -> Option<String> {
    let Expr::Call(c) = iter else { return None };
    let name = match &*c.func {
        Expr::Attribute(a) if a.attr.as_str() == "__dir__" => match &*a.value {
            Expr::Name(n) => n.id.as_str(),
            _ => return None,
        },
        Expr::Name(f) if f.id.as_str() == "dir" => match c.arguments.args.first() {
            Some(Expr::Name(n)) => n.id.as_str(),
            _ => return None,
        },
        _ => return None,
    };
    ns.imported_as.get(name).cloned()
}

/// `globals().update(...)` as a statement or value.
fn mutation_of_globals(e: &Expr, ns: &mut Namespace) {
    if let Expr::Call(c) = e
        && let Expr::Attribute(a) = &*c.func
        && a.attr.as_str() == "update"
        && is_call_to(&a.value, "globals")
    {
        ns.dynamic = Some("the module calls `globals().update(...)`".to_owned());
    }
}

/// A list or tuple of string literals.
fn literal_strings(e: &Expr) -> Option<Vec<String>> {
    let elts = match e {
        Expr::List(l) => &l.elts,
        Expr::Tuple(t) => &t.elts,
        _ => return None,
    };
    elts.iter()
        .map(|e| match e {
            Expr::StringLiteral(s) => Some(s.value.to_str().to_owned()),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binds_what_the_module_defines() {
        let src = "
import os, numpy.linalg as la
from .models import Scaler as S, Pipeline
from ._impl import *
try:
    from fast import thing
except ImportError:
    thing = None
if TYPE_CHECKING:
    from typing import Hidden
else:
    Shown = 1
def f(): pass
class C:
    class Inner: pass
x, (y, z) = 1, (2, 3)
gone = 1
del gone
__all__ = ['f', 'C']
__all__ += ['x']
";
        let ns = analyse(src, "pkg.mod", false);
        for n in [
            "os", "la", "S", "Pipeline", "thing", "Shown", "f", "C", "x", "y", "z",
        ] {
            assert!(ns.binds(n), "{n}");
        }
        for n in ["Hidden", "gone", "numpy", "Scaler"] {
            assert!(!ns.binds(n), "{n}");
        }
        assert_eq!(ns.star_imports, vec!["pkg._impl".to_owned()]);
        assert!(ns.classes["C"].binds("Inner"));
        assert_eq!(ns.all, Some(vec!["f".into(), "C".into(), "x".into()]));
        assert!(ns.imported_modules.contains(&"pkg.models".to_owned()));
        assert!(ns.dynamic.is_none());
    }

    #[test]
    fn dynamic_modules_say_why() {
        assert!(
            analyse("def __getattr__(name): ...", "m", false)
                .dynamic
                .is_some()
        );
        assert!(
            analyse("for k in x: globals()[k] = 1", "m", false)
                .dynamic
                .is_some()
        );
        assert!(analyse("globals().update(d)", "m", false).dynamic.is_some());
        assert!(
            analyse("g = globals()\nfor k in x: g[k] = 1", "m", false)
                .dynamic
                .is_some()
        );
        assert!(
            analyse("import sys\nsys.modules[__name__] = L()", "m", false)
                .dynamic
                .is_some()
        );
    }

    #[test]
    fn numpy_copy_loops_are_star_imports_of_everything() {
        let src = "from numpy.core import multiarray\n_globals = globals()\nfor item in multiarray.__dir__():\n    _globals[item] = getattr(multiarray, item)\n";
        let ns = analyse(src, "numpy._core.multiarray", false);
        assert_eq!(ns.copies_all_of, vec!["numpy.core.multiarray".to_owned()]);
        assert!(ns.dynamic.is_none());
    }

    #[test]
    fn getattr_tables_decide_the_served_names() {
        let src = "_MOVED = {'Old': ('m', 'New'), 'f': ('m', 'g')}\ndef __getattr__(name):\n    try:\n        mod, attr = _MOVED[name]\n    except KeyError:\n        raise AttributeError(name) from None\n    return attr\n";
        let ns = analyse(src, "pkg.compat", false);
        assert_eq!(
            ns.getattr_serves,
            Some(vec!["Old".to_owned(), "f".to_owned()])
        );
        // Without a raise, anything may come back.
        let open = "_T = {'a': 1}\ndef __getattr__(name):\n    return _T.get(name)\n";
        assert_eq!(analyse(open, "m", false).getattr_serves, None);
    }

    #[test]
    fn stubs_declare_names_without_values() {
        assert!(analyse_stub("NA: NAType", "m", false).binds("NA"));
        assert!(!analyse("NA: NAType", "m", false).binds("NA"));
    }

    #[test]
    fn relative_imports_in_packages() {
        let ns = analyse("from . import sub\nfrom ..up import x", "a.b", true);
        assert!(ns.imported_modules.contains(&"a.b.sub".to_owned()));
        assert!(ns.imported_modules.contains(&"a.up".to_owned()));
    }
}
