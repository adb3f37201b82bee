//! What a class's methods do with `self`, read from its source with ruff's parser: which
//! attributes each method reads and assigns, in order, which other methods of `self` it calls,
//! and which reads are guarded (`hasattr`, `getattr(self, "x", default)`, `try: ... except
//! AttributeError`). [`crate::schema`] follows the bases and the calls to decide what state an
//! unpickled object needs for its public methods.

use std::collections::{HashMap, HashSet};

use ruff_python_ast::visitor::{Visitor, walk_expr, walk_stmt};
use ruff_python_ast::{Expr, ExprContext, ModModule, Stmt};

pub use crate::cond::Cond;

/// One thing a method does with `self`, in source order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Reads `self.attr` (`guarded`: under `hasattr`, a default `getattr` or an
    /// `except AttributeError`, so a missing attribute raises nothing here).
    Read {
        /// The attribute.
        attr: String,
        /// Whether a missing attribute is caught or tested for.
        guarded: bool,
    },
    /// Assigns `self.attr` (or `setattr(self, "attr", ...)`).
    Assign(String),
    /// `del self.attr`: fit uses it only while it runs, so a pickle never holds it.
    Del(String),
    /// `name = getattr(self, "attr", default)` with a `True`/`False`/`None` default: `name`
    /// is the default when the attribute is absent.
    Local {
        /// The local variable.
        name: String,
        /// The attribute.
        attr: String,
        /// The default's truth.
        default: bool,
    },
    /// Calls `self.name(...)`.
    Call {
        /// The method.
        name: String,
        /// Whether the call is inside a `try` that catches `AttributeError`.
        guarded: bool,
        /// Arguments that are `True`, `False` or `None`, with their truth: by position
        /// (after `self`) or keyword.
        literals: Vec<(Arg, bool)>,
        /// Arguments that are plain names (a parameter passed on: `check_input`).
        names: Vec<(Arg, String)>,
        /// How many arguments it passes by position, and the keywords it passes: the other
        /// parameters take their defaults.
        passed: (usize, Vec<String>),
        /// Whether the call spreads `*args` or `**kwargs` (any parameter may be passed).
        open: bool,
    },
    /// Code that runs only when `cond` holds (`then`) or does not (`otherwise`): `if`, loop
    /// bodies, `x if c else y`, the right side of `and`/`or`, the rest of a block after an
    /// `if` that returns.
    Branch {
        /// The test, in the shapes a literal parameter or the state decides
        /// ([`crate::cond`]).
        cond: Cond,
        /// Runs when the test is true (or may run, for loops).
        then: Vec<Event>,
        /// Runs when it is false; `None` when nothing does (no `else`).
        otherwise: Option<Vec<Event>>,
    },
    /// Calls `super().name(...)`.
    SuperCall(String),
    /// `check_is_fitted(self)` (`None`) or `check_is_fitted(self, attributes)` with literal
    /// attribute names.
    CheckFitted(Option<Vec<String>>),
    /// `self.__dict__.update(...)`: the state becomes the instance dict.
    DictUpdate,
    /// A literal key stored in the first argument (`state["k"] = ...`,
    /// `state.setdefault("k", ...)`), for `__setstate__`.
    StateKey(String),
}

/// An argument of a call, by position (after `self`) or keyword.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    /// The n-th positional argument after `self`.
    Pos(usize),
    /// A keyword argument.
    Kw(String),
}

/// How a function in a class body is bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MethodKind {
    /// A plain method.
    Method,
    /// `@property` / `@cached_property` (a read of the name runs it).
    Property,
    /// `@staticmethod` / `@classmethod`: no `self`.
    Static,
}

/// One method.
#[derive(Debug, Clone)]
pub struct Method {
    /// How it is bound.
    pub kind: MethodKind,
    /// Parameter names after `self`, in order (positional then keyword-only).
    pub params: Vec<String>,
    /// Parameters whose default is `True`, `False` or `None`, with its truth.
    pub defaults: Vec<(String, bool)>,
    /// What it does with `self`, in source order.
    pub events: Vec<Event>,
}

/// One class body.
#[derive(Debug, Clone, Default)]
pub struct ClassFacts {
    /// Base class expressions as dotted text (`BaseEstimator`, `base.ClassifierMixin`).
    pub bases: Vec<String>,
    /// Methods by name (the last definition wins, as in Python).
    pub methods: HashMap<String, Method>,
    /// Every name the class body binds (methods, properties, class attributes).
    pub names: HashSet<String>,
}

/// The classes a module defines at top level (and nested classes as `Outer.Inner`).
#[derive(Debug, Clone, Default)]
pub struct ModuleClasses {
    /// Classes by (dotted) name.
    pub classes: HashMap<String, ClassFacts>,
}

/// Reads every class of a parsed module.
#[must_use]
pub fn analyse(module: &ModModule) -> ModuleClasses {
    let mut out = ModuleClasses::default();
    collect(&module.body, "", &mut out);
    out
}

fn collect(body: &[Stmt], prefix: &str, out: &mut ModuleClasses) {
    for stmt in body {
        match stmt {
            Stmt::ClassDef(c) => {
                let name = format!("{prefix}{}", c.name.as_str());
                let facts = class_facts(c);
                collect(&c.body, &format!("{name}."), out);
                out.classes.insert(name, facts);
            }
            // Classes defined under `if`/`try` at module level (version fallbacks).
            Stmt::If(i) if prefix.is_empty() => {
                collect(&i.body, prefix, out);
                for c in &i.elif_else_clauses {
                    collect(&c.body, prefix, out);
                }
            }
            Stmt::Try(t) if prefix.is_empty() => {
                collect(&t.body, prefix, out);
                for h in &t.handlers {
                    let ruff_python_ast::ExceptHandler::ExceptHandler(h) = h;
                    collect(&h.body, prefix, out);
                }
                collect(&t.orelse, prefix, out);
            }
            _ => {}
        }
    }
}

fn dotted(e: &Expr) -> Option<String> {
    match e {
        Expr::Name(n) => Some(n.id.to_string()),
        Expr::Attribute(a) => Some(format!("{}.{}", dotted(&a.value)?, a.attr.as_str())),
        // `Generic[T]`, `Base[int]`: the subscripted class.
        Expr::Subscript(s) => dotted(&s.value),
        _ => None,
    }
}

fn class_facts(c: &ruff_python_ast::StmtClassDef) -> ClassFacts {
    let mut facts = ClassFacts::default();
    if let Some(args) = &c.arguments {
        for b in &args.args {
            facts
                .bases
                .push(dotted(b).unwrap_or_else(|| "<expression>".to_owned()));
        }
    }
    body_names(&c.body, &mut facts);
    facts
}

fn body_names(body: &[Stmt], facts: &mut ClassFacts) {
    for stmt in body {
        match stmt {
            Stmt::FunctionDef(f) => {
                let name = f.name.to_string();
                let kind = method_kind(f);
                // A property's setter/deleter (`@x.setter`) does not replace its getter.
                let is_accessor = f.decorator_list.iter().any(|d| {
                    matches!(&d.expression, Expr::Attribute(a)
                        if matches!(a.attr.as_str(), "setter" | "deleter"))
                });
                facts.names.insert(name.clone());
                if is_accessor {
                    continue;
                }
                let events = if kind == MethodKind::Static {
                    Vec::new()
                } else {
                    method_events(f)
                };
                let p = &f.parameters;
                let params = p
                    .posonlyargs
                    .iter()
                    .chain(&p.args)
                    .skip(1)
                    .chain(&p.kwonlyargs)
                    .map(|a| a.parameter.name.to_string())
                    .collect();
                let defaults = p
                    .posonlyargs
                    .iter()
                    .chain(&p.args)
                    .chain(&p.kwonlyargs)
                    .filter_map(|a| {
                        let truth = truth(a.default.as_deref()?)?;
                        Some((a.parameter.name.to_string(), truth))
                    })
                    .collect();
                facts.methods.insert(
                    name,
                    Method {
                        kind,
                        params,
                        defaults,
                        events,
                    },
                );
            }
            Stmt::ClassDef(c) => {
                facts.names.insert(c.name.to_string());
            }
            Stmt::Assign(a) => {
                for t in &a.targets {
                    target_names(t, &mut facts.names);
                }
            }
            // `x: int` alone binds nothing at runtime.
            Stmt::AnnAssign(a) if a.value.is_some() => target_names(&a.target, &mut facts.names),
            Stmt::AugAssign(a) => target_names(&a.target, &mut facts.names),
            Stmt::Import(i) => {
                for alias in &i.names {
                    let bound = alias.asname.as_ref().map_or_else(
                        || alias.name.split('.').next().unwrap_or("").to_owned(),
                        ToString::to_string,
                    );
                    facts.names.insert(bound);
                }
            }
            Stmt::ImportFrom(i) => {
                for alias in &i.names {
                    let bound = alias.asname.as_ref().unwrap_or(&alias.name);
                    facts.names.insert(bound.to_string());
                }
            }
            Stmt::If(i) => {
                body_names(&i.body, facts);
                for c in &i.elif_else_clauses {
                    body_names(&c.body, facts);
                }
            }
            Stmt::Try(t) => {
                body_names(&t.body, facts);
                for h in &t.handlers {
                    let ruff_python_ast::ExceptHandler::ExceptHandler(h) = h;
                    body_names(&h.body, facts);
                }
                body_names(&t.orelse, facts);
                body_names(&t.finalbody, facts);
            }
            _ => {}
        }
    }
}

fn target_names(t: &Expr, names: &mut HashSet<String>) {
    match t {
        Expr::Name(n) => {
            names.insert(n.id.to_string());
        }
        Expr::Tuple(t) => t.elts.iter().for_each(|e| target_names(e, names)),
        Expr::List(t) => t.elts.iter().for_each(|e| target_names(e, names)),
        _ => {}
    }
}

fn method_kind(f: &ruff_python_ast::StmtFunctionDef) -> MethodKind {
    for d in &f.decorator_list {
        let name = match &d.expression {
            Expr::Name(n) => n.id.as_str(),
            Expr::Attribute(a) => a.attr.as_str(),
            _ => continue,
        };
        match name {
            "property" | "cached_property" => return MethodKind::Property,
            "staticmethod" | "classmethod" => return MethodKind::Static,
            _ => {}
        }
    }
    MethodKind::Method
}

fn method_events(f: &ruff_python_ast::StmtFunctionDef) -> Vec<Event> {
    let params = &f.parameters;
    let mut positional = params.posonlyargs.iter().chain(&params.args);
    let Some(first) = positional.next() else {
        return Vec::new();
    };
    let second = positional.next().map(|p| p.parameter.name.to_string());
    let mut bindings = Bindings::default();
    bindings.visit_body(&f.body);
    let rebound = bindings
        .count
        .into_iter()
        .filter(|(name, n)| *n > 1 || !bindings.from_getattr.contains(name))
        .map(|(name, _)| name)
        .collect();
    let mut w = Walker {
        this: first.parameter.name.as_str(),
        arg: second,
        events: Vec::new(),
        scopes: vec![HashSet::new()],
        guard: 0,
        tested: HashSet::new(),
        rebound,
        stored: HashSet::new(),
    };
    w.visit_body(&f.body);
    let Walker {
        mut events, tested, ..
    } = w;
    // `hasattr(self, "x")` anywhere in the method: its reads of `x` are tested for.
    mark_tested(&mut events, &tested);
    events
}

/// How often a body binds each plain name, and which it binds from `getattr(x, "a", d)`.
#[derive(Default)]
struct Bindings {
    count: HashMap<String, usize>,
    from_getattr: HashSet<String>,
}

impl<'a> Visitor<'a> for Bindings {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        if let Stmt::Assign(a) = stmt
            && let ([Expr::Name(n)], Expr::Call(c)) = (a.targets.as_slice(), &*a.value)
            && matches!(&*c.func, Expr::Name(f) if f.id.as_str() == "getattr")
            && c.arguments.args.len() == 3
        {
            self.from_getattr.insert(n.id.to_string());
        }
        walk_stmt(self, stmt);
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        if let Expr::Name(n) = expr
            && matches!(n.ctx, ExprContext::Store | ExprContext::Del)
        {
            *self.count.entry(n.id.to_string()).or_default() += 1;
        }
        walk_expr(self, expr);
    }
}

fn mark_tested(events: &mut [Event], tested: &HashSet<String>) {
    for e in events {
        match e {
            Event::Read { attr, guarded } if tested.contains(attr.as_str()) => *guarded = true,
            Event::Branch {
                then, otherwise, ..
            } => {
                mark_tested(then, tested);
                if let Some(o) = otherwise {
                    mark_tested(o, tested);
                }
            }
            _ => {}
        }
    }
}

/// Whether a block returns (or breaks out) at its top level. A `raise` does not count: the
/// rest of the block is the normal path.
fn leaves(body: &[Stmt]) -> bool {
    body.iter()
        .any(|s| matches!(s, Stmt::Return(_) | Stmt::Continue(_) | Stmt::Break(_)))
}

struct Walker<'s> {
    /// The name of `self`.
    this: &'s str,
    /// The first argument after `self` (the state of `__setstate__`).
    arg: Option<String>,
    events: Vec<Event>,
    /// Attributes assigned earlier in each enclosing block: a read after them in straight-line
    /// code reads what the method itself set.
    scopes: Vec<HashSet<String>>,
    /// Depth of `try` bodies whose handlers catch `AttributeError`.
    guard: usize,
    /// Attributes tested with `hasattr(self, ...)` or read with a default.
    tested: HashSet<String>,
    /// Names the body binds again (a parameter reassigned): a literal passed for one is not
    /// what a later test sees. A `name = getattr(self, "x", default)` bound once is not.
    rebound: HashSet<String>,
    /// Attributes of `self` assigned so far, in source order (any block).
    stored: HashSet<String>,
}

impl Walker<'_> {
    /// Events `f` emits, collected apart.
    fn sub(&mut self, f: impl FnOnce(&mut Self)) -> Vec<Event> {
        let outer = std::mem::take(&mut self.events);
        f(self);
        std::mem::replace(&mut self.events, outer)
    }

    fn cond(&self, test: &Expr) -> Cond {
        Cond::of(test, self.this).forget(&|c| match c {
            Cond::Param(p, _) => self.rebound.contains(p),
            Cond::Attr { attr, .. } => self.stored.contains(attr),
            _ => false,
        })
    }

    /// `if`/`elif`/`else` from clause `i` on, as nested branches.
    fn if_chain<'a>(
        &mut self,
        test: &'a Expr,
        body: &'a [Stmt],
        clauses: &'a [ruff_python_ast::ElifElseClause],
    ) {
        self.visit_expr(test);
        let cond = self.cond(test);
        let then = self.sub(|w| w.visit_body(body));
        let otherwise = clauses.split_first().map(|(c, rest)| {
            self.sub(|w| match &c.test {
                Some(t) => w.if_chain(t, &c.body, rest),
                None => w.visit_body(&c.body),
            })
        });
        self.events.push(Event::Branch {
            cond,
            then,
            otherwise,
        });
    }

    /// `a and b and c` evaluates `b` only when `a` is true (`or`: false), and so on: the
    /// operands after the first as nested branches on the ones before.
    fn bool_op(&mut self, op: ruff_python_ast::BoolOp, values: &[Expr]) {
        let Some((first, rest)) = values.split_first() else {
            return;
        };
        self.visit_expr(first);
        if rest.is_empty() {
            return;
        }
        let cond = self.cond(first);
        let next = self.sub(|w| w.bool_op(op, rest));
        let (then, otherwise) = match op {
            ruff_python_ast::BoolOp::And => (next, None),
            ruff_python_ast::BoolOp::Or => (Vec::new(), Some(next)),
        };
        self.events.push(Event::Branch {
            cond,
            then,
            otherwise,
        });
    }

    fn maybe(&mut self, f: impl FnOnce(&mut Self)) {
        let then = self.sub(f);
        self.events.push(Event::Branch {
            cond: Cond::Unknown,
            then,
            otherwise: None,
        });
    }

    fn is_self(&self, e: &Expr) -> bool {
        matches!(e, Expr::Name(n) if n.id.as_str() == self.this)
    }

    fn is_arg(&self, e: &Expr) -> bool {
        matches!((e, &self.arg), (Expr::Name(n), Some(a)) if n.id.as_str() == a)
    }

    fn assigned(&self, attr: &str) -> bool {
        self.scopes.iter().any(|s| s.contains(attr))
    }

    fn read(&mut self, attr: &str) {
        if self.assigned(attr) {
            return;
        }
        self.events.push(Event::Read {
            attr: attr.to_owned(),
            guarded: self.guard > 0,
        });
    }

    fn assign(&mut self, attr: &str) {
        self.stored.insert(attr.to_owned());
        self.events.push(Event::Assign(attr.to_owned()));
        if let Some(s) = self.scopes.last_mut() {
            s.insert(attr.to_owned());
        }
    }

    /// Handles calls that say something about `self`; returns whether the call was consumed.
    fn call(&mut self, c: &ruff_python_ast::ExprCall) -> bool {
        let args = &c.arguments.args;
        let literal = |i: usize| match args.get(i) {
            Some(Expr::StringLiteral(s)) => Some(s.value.to_str().to_owned()),
            _ => None,
        };
        match &*c.func {
            Expr::Attribute(a) if self.is_self(&a.value) => {
                let guarded = self.guard > 0;
                self.visit_arguments(&c.arguments);
                let mut literals = Vec::new();
                let mut names = Vec::new();
                let mut open = false;
                let mut keywords = Vec::new();
                for (i, e) in args.iter().enumerate() {
                    match e {
                        Expr::Starred(_) => open = true,
                        Expr::Name(n) if !self.rebound.contains(n.id.as_str()) => {
                            names.push((Arg::Pos(i), n.id.to_string()));
                        }
                        _ => {}
                    }
                    if let Some(t) = truth(e) {
                        literals.push((Arg::Pos(i), t));
                    }
                }
                for k in &c.arguments.keywords {
                    let Some(name) = &k.arg else {
                        open = true;
                        continue;
                    };
                    keywords.push(name.to_string());
                    if let Some(t) = truth(&k.value) {
                        literals.push((Arg::Kw(name.to_string()), t));
                    }
                    if let Expr::Name(n) = &k.value
                        && !self.rebound.contains(n.id.as_str())
                    {
                        names.push((Arg::Kw(name.to_string()), n.id.to_string()));
                    }
                }
                self.events.push(Event::Call {
                    name: a.attr.to_string(),
                    guarded,
                    literals,
                    names,
                    passed: (args.len(), keywords),
                    open,
                });
                true
            }
            Expr::Attribute(a) => {
                // `super().m(...)`
                if let Expr::Call(inner) = &*a.value
                    && matches!(&*inner.func, Expr::Name(n) if n.id.as_str() == "super")
                {
                    self.events.push(Event::SuperCall(a.attr.to_string()));
                    self.visit_arguments(&c.arguments);
                    return true;
                }
                // `self.__dict__.update(...)`
                if a.attr.as_str() == "update"
                    && let Expr::Attribute(d) = &*a.value
                    && d.attr.as_str() == "__dict__"
                    && self.is_self(&d.value)
                {
                    self.events.push(Event::DictUpdate);
                    self.visit_arguments(&c.arguments);
                    return true;
                }
                // `state.setdefault("k", ...)` in `__setstate__`.
                if a.attr.as_str() == "setdefault"
                    && self.is_arg(&a.value)
                    && let Some(k) = literal(0)
                {
                    self.events.push(Event::StateKey(k));
                }
                false
            }
            Expr::Name(n) => {
                let on_self = args.first().is_some_and(|e| self.is_self(e));
                if !on_self {
                    return false;
                }
                match n.id.as_str() {
                    "hasattr" => {
                        if let Some(k) = literal(1) {
                            self.tested.insert(k);
                        }
                        true
                    }
                    "getattr" => {
                        if let Some(k) = literal(1) {
                            if args.len() >= 3 {
                                self.tested.insert(k);
                            } else {
                                self.read(&k);
                            }
                        }
                        self.visit_arguments(&c.arguments);
                        true
                    }
                    "setattr" => {
                        if let Some(k) = literal(1) {
                            self.assign(&k);
                        }
                        self.visit_arguments(&c.arguments);
                        true
                    }
                    // scikit-learn's tags: `get_tags(self)` (1.6+) runs `__sklearn_tags__`,
                    // `_safe_tags(self)` (before) runs `_get_tags`, which runs every
                    // `_more_tags` of the MRO.
                    "get_tags" | "_safe_tags" => {
                        let name = if n.id.as_str() == "get_tags" {
                            "__sklearn_tags__"
                        } else {
                            "_get_tags"
                        };
                        self.events.push(Event::Call {
                            name: name.to_owned(),
                            guarded: self.guard > 0,
                            literals: Vec::new(),
                            names: Vec::new(),
                            passed: (0, Vec::new()),
                            open: false,
                        });
                        self.visit_arguments(&c.arguments);
                        true
                    }
                    "check_is_fitted" => {
                        let attrs = args.get(1).or_else(|| {
                            c.arguments
                                .keywords
                                .iter()
                                .find(|k| {
                                    k.arg.as_ref().is_some_and(|a| a.as_str() == "attributes")
                                })
                                .map(|k| &k.value)
                        });
                        let names = match attrs {
                            None => None,
                            Some(Expr::StringLiteral(s)) => Some(vec![s.value.to_str().to_owned()]),
                            Some(Expr::List(l)) => string_items(&l.elts),
                            Some(Expr::Tuple(t)) => string_items(&t.elts),
                            Some(_) => Some(Vec::new()),
                        };
                        self.events.push(Event::CheckFitted(names));
                        true
                    }
                    _ => false,
                }
            }
            _ => false,
        }
    }
}

/// The truth of a `True`, `False` or `None` literal.
fn truth(e: &Expr) -> Option<bool> {
    match e {
        Expr::BooleanLiteral(b) => Some(b.value),
        Expr::NoneLiteral(_) => Some(false),
        _ => None,
    }
}

fn string_items(elts: &[Expr]) -> Option<Vec<String>> {
    Some(
        elts.iter()
            .filter_map(|e| match e {
                Expr::StringLiteral(s) => Some(s.value.to_str().to_owned()),
                _ => None,
            })
            .collect(),
    )
}

/// Whether an `except` clause catches `AttributeError` (bare, `Exception`, `BaseException`,
/// or a tuple naming one of them).
fn catches_attribute_error(t: Option<&Expr>) -> bool {
    match t {
        None => true,
        Some(Expr::Name(n)) => matches!(
            n.id.as_str(),
            "AttributeError" | "Exception" | "BaseException"
        ),
        Some(Expr::Attribute(a)) => a.attr.as_str() == "AttributeError",
        Some(Expr::Tuple(t)) => t.elts.iter().any(|e| catches_attribute_error(Some(e))),
        Some(_) => false,
    }
}

impl<'a> Visitor<'a> for Walker<'_> {
    fn visit_body(&mut self, body: &'a [Stmt]) {
        self.scopes.push(HashSet::new());
        for (i, s) in body.iter().enumerate() {
            // `if test: ... return`: the rest of the block runs only when `test` is false.
            if let Stmt::If(f) = s
                && f.elif_else_clauses.is_empty()
                && leaves(&f.body)
                && i + 1 < body.len()
            {
                self.visit_expr(&f.test);
                let cond = self.cond(&f.test);
                let then = self.sub(|w| w.visit_body(&f.body));
                let rest = self.sub(|w| {
                    for s in &body[i + 1..] {
                        w.visit_stmt(s);
                    }
                });
                self.events.push(Event::Branch {
                    cond,
                    then,
                    otherwise: Some(rest),
                });
                break;
            }
            self.visit_stmt(s);
        }
        self.scopes.pop();
    }

    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        match stmt {
            Stmt::If(f) => self.if_chain(&f.test, &f.body, &f.elif_else_clauses),
            Stmt::For(f) => {
                self.visit_expr(&f.iter);
                self.maybe(|w| {
                    w.visit_expr(&f.target);
                    w.visit_body(&f.body);
                });
                self.maybe(|w| w.visit_body(&f.orelse));
            }
            Stmt::While(f) => {
                self.visit_expr(&f.test);
                self.maybe(|w| w.visit_body(&f.body));
                self.maybe(|w| w.visit_body(&f.orelse));
            }
            Stmt::Match(m) => {
                self.visit_expr(&m.subject);
                for c in &m.cases {
                    self.maybe(|w| w.visit_body(&c.body));
                }
            }
            // Nested functions and classes run later, if ever.
            Stmt::FunctionDef(_) | Stmt::ClassDef(_) => self.maybe(|w| walk_stmt(w, stmt)),
            Stmt::Try(t) => {
                let guards = t.handlers.iter().any(|h| {
                    let ruff_python_ast::ExceptHandler::ExceptHandler(h) = h;
                    catches_attribute_error(h.type_.as_deref())
                });
                if guards {
                    self.guard += 1;
                }
                self.visit_body(&t.body);
                if guards {
                    self.guard -= 1;
                }
                for h in &t.handlers {
                    self.maybe(|w| w.visit_except_handler(h));
                }
                self.visit_body(&t.orelse);
                self.visit_body(&t.finalbody);
            }
            // `state["k"] = ...` in `__setstate__`.
            Stmt::Assign(a) => {
                if let ([Expr::Name(n)], Expr::Call(c)) = (a.targets.as_slice(), &*a.value)
                    && matches!(&*c.func, Expr::Name(f) if f.id.as_str() == "getattr")
                    && let [obj, Expr::StringLiteral(k), default] = &*c.arguments.args
                    && self.is_self(obj)
                    && let Some(default) = truth(default)
                {
                    self.events.push(Event::Local {
                        name: n.id.to_string(),
                        attr: k.value.to_str().to_owned(),
                        default,
                    });
                }
                for t in &a.targets {
                    if let Expr::Subscript(s) = t
                        && self.is_arg(&s.value)
                        && let Expr::StringLiteral(k) = &*s.slice
                    {
                        self.events
                            .push(Event::StateKey(k.value.to_str().to_owned()));
                    }
                }
                walk_stmt(self, stmt);
            }
            Stmt::AugAssign(a) => {
                // `self.x += 1` reads `x` first.
                if let Expr::Attribute(at) = &*a.target
                    && self.is_self(&at.value)
                {
                    self.read(at.attr.as_str());
                }
                walk_stmt(self, stmt);
            }
            _ => walk_stmt(self, stmt),
        }
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        match expr {
            Expr::Attribute(a) if self.is_self(&a.value) => match a.ctx {
                ExprContext::Load => self.read(a.attr.as_str()),
                ExprContext::Store => self.assign(a.attr.as_str()),
                ExprContext::Del => self.events.push(Event::Del(a.attr.to_string())),
                ExprContext::Invalid => {}
            },
            Expr::Call(c) => {
                if !self.call(c) {
                    walk_expr(self, expr);
                }
            }
            Expr::If(e) => {
                self.visit_expr(&e.test);
                let cond = self.cond(&e.test);
                let then = self.sub(|w| w.visit_expr(&e.body));
                let otherwise = Some(self.sub(|w| w.visit_expr(&e.orelse)));
                self.events.push(Event::Branch {
                    cond,
                    then,
                    otherwise,
                });
            }
            Expr::BoolOp(b) => self.bool_op(b.op, &b.values),
            Expr::Lambda(_)
            | Expr::ListComp(_)
            | Expr::SetComp(_)
            | Expr::DictComp(_)
            | Expr::Generator(_) => self.maybe(|w| walk_expr(w, expr)),
            _ => walk_expr(self, expr),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(src: &str) -> ModuleClasses {
        let parsed =
            ruff_python_parser::parse_unchecked_source(src, ruff_python_ast::PySourceType::Python);
        analyse(parsed.syntax())
    }

    #[test]
    fn reads_assigns_calls_and_guards() {
        let m = parse(
            "class A(base.B, C[int]):\n    k = 1\n    def fit(self, X):\n        self._d = X\n        self.helper()\n    @property\n    def p(self):\n        return self.q_\n    def transform(self, X):\n        check_is_fitted(self)\n        if hasattr(self, 'h'):\n            self.h\n        try:\n            self.t\n        except AttributeError:\n            pass\n        self.local = 1\n        self.local\n        getattr(self, 'g', None)\n        return self._d + super().transform(X)\n",
        );
        let a = &m.classes["A"];
        assert_eq!(a.bases, vec!["base.B", "C"]);
        assert!(a.names.contains("k") && a.names.contains("p"));
        assert_eq!(a.methods["p"].kind, MethodKind::Property);
        let t = &a.methods["transform"].events;
        let unguarded: Vec<_> = t
            .iter()
            .filter_map(|e| match e {
                Event::Read {
                    attr,
                    guarded: false,
                } => Some(attr.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(unguarded, vec!["_d"]);
        assert!(t.contains(&Event::CheckFitted(None)));
        assert!(t.contains(&Event::SuperCall("transform".into())));
        assert!(
            a.methods["fit"]
                .events
                .contains(&Event::Assign("_d".into()))
        );
    }

    #[test]
    fn setstate_keys() {
        let m = parse(
            "class S:\n    def __setstate__(self, state):\n        state.setdefault('a', 1)\n        state['b'] = 2\n        self.__dict__.update(state)\n",
        );
        let e = &m.classes["S"].methods["__setstate__"].events;
        assert!(e.contains(&Event::StateKey("a".into())));
        assert!(e.contains(&Event::StateKey("b".into())));
        assert!(e.contains(&Event::DictUpdate));
    }
}
