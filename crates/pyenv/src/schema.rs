//! The state a class needs after unpickling: the attributes its public methods (`predict`,
//! `transform`, ...) read that only `fit` (or a helper of fit, or `__init__`) ever sets, and
//! that nothing else provides (a class attribute, a method or property, `__setstate__`).
//!
//! Unpickling makes an object with `cls.__new__` and fills its `__dict__` from the pickled
//! state; neither `__init__` nor `fit` runs. An attribute the target's class reads that the
//! producer's version never set is then missing, and the first method that reads it raises
//! `AttributeError` (scikit-learn's `SimpleImputer._fill_dtype`, added in 1.3).
//!
//! The classes are read from the target's source, following bases through imports as
//! `find_class` would find them, and methods through `self.method()` and `super().method()`
//! calls. [`Schemas`] caches every result for the life of the target (a session): each source
//! file is parsed once per process, and the work per class is budgeted.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use crate::Resolver;
use crate::classes::{self, Arg, ClassFacts, Event, MethodKind, ModuleClasses};
use crate::cond::{Cond, Decided, StateValue};
use crate::finder::ModuleKind;
use crate::names::Namespace;

/// The public methods whose reads count, in the order a user would call them (the break
/// atlas calls them in this order too: `tests/atlas/cases.py`).
pub const USE_METHODS: &[&str] = &[
    "predict",
    "predict_proba",
    "predict_log_proba",
    "decision_function",
    "transform",
    "inverse_transform",
    "score",
    "score_samples",
    "apply",
    "decision_path",
    "kneighbors",
    "staged_predict",
    "get_feature_names_out",
    "get_params",
    "__call__",
];

/// The methods that make fitted state; anything they reach sets it.
pub const FIT_METHODS: &[&str] = &["fit", "partial_fit", "fit_transform", "fit_predict", "_fit"];

/// Bases that add no instance attributes and need no source.
const TRANSPARENT_BASES: &[&str] = &[
    "object",
    "Generic",
    "Protocol",
    "ABC",
    "dict",
    "list",
    "tuple",
    "set",
    "frozenset",
    "int",
    "float",
    "str",
    "bytes",
    "Exception",
];

/// How many classes an MRO may hold before the analysis gives up.
const MAX_MRO: usize = 64;
/// How many events one walk may visit (all methods it reaches together).
const MAX_EVENTS: usize = 50_000;
/// How many source files one schema cache parses at most.
const MAX_FILES: usize = 512;
/// How deep imports and re-exports are followed to find a class.
const MAX_DEPTH: usize = 8;

/// One step of a public method that needs state, in the order it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Reads `self.attr`, which only fit (or `__init__`) sets.
    Attr {
        /// The attribute.
        attr: String,
        /// The method whose source reads it (the public one or a callee).
        via: String,
        /// Set by `__init__` and not by fit: present when the loader calls the class.
        from_init: bool,
        /// Tests of the state's values under which the read runs (all must hold); empty when
        /// it runs on every call. A test the state does not decide makes the read a
        /// [`Step::Maybe`] for that state.
        when: Vec<Cond>,
    },
    /// `check_is_fitted(self, attrs)`: scikit-learn raises `NotFittedError` when one is
    /// missing.
    Fitted(Vec<String>),
    /// Reads `self.attr` only under a condition the source alone does not decide (a test of
    /// the input or of a computed value): a missing one may raise first.
    Maybe {
        /// The attribute.
        attr: String,
        /// The method whose source reads it.
        via: String,
    },
}

/// What one public method needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Use {
    /// The public method.
    pub method: String,
    /// Its steps, in order.
    pub steps: Vec<Step>,
}

/// What a method raises first on a given state, as its source shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Raises<'a> {
    /// `AttributeError` for `attr`, read in `via` on every call with this state.
    Missing {
        /// The attribute.
        attr: &'a str,
        /// The method whose source reads it.
        via: &'a str,
        /// Set by `__init__`, not by fit.
        from_init: bool,
    },
    /// scikit-learn's `NotFittedError`, for the first fitted attribute the state lacks.
    NotFitted(&'a str),
    /// `AttributeError` for `attr` when a test the state does not decide lets the read run
    /// (a test of the input: `not issparse(X) and ...`). Only for an attribute the state
    /// certainly lacks (another method reads it on every call) and a method with no certain
    /// error.
    MaybeMissing {
        /// The attribute.
        attr: &'a str,
        /// The method whose source reads it.
        via: &'a str,
    },
}

/// What a state holds, as a method's steps ask it.
pub trait State {
    /// Whether the unpickled object lacks `attr` (`from_init`: `__init__` sets it, which
    /// runs only when the loader called the class).
    fn lacks(&self, attr: &str, from_init: bool) -> bool;
    /// The state's value of `attr`, for the tests reads run under.
    fn value(&self, attr: &str) -> Option<StateValue>;
}

impl Use {
    /// The attributes this method reads on every call that `state` lacks.
    pub fn certainly_missing<'a>(&'a self, state: &dyn State) -> impl Iterator<Item = &'a str> {
        self.steps.iter().filter_map(move |s| match s {
            Step::Attr {
                attr,
                from_init,
                when,
                ..
            } if when.is_empty() && state.lacks(attr, *from_init) => Some(attr.as_str()),
            _ => None,
        })
    }

    /// The first error the method raises on `state`, in the order its source runs: reads
    /// under tests of the state's values count when the state makes the tests hold; reads
    /// under other tests do not hide a certain error after them (on the atlas, treating them
    /// as "the error may be another" loses more certain errors than it corrects), but name
    /// the method when it has no certain error and the attribute is in `missing` (attributes
    /// the state lacks that another method reads on every call).
    #[must_use]
    pub fn first_error<'a>(
        &'a self,
        state: &dyn State,
        missing: &HashSet<&str>,
    ) -> Option<Raises<'a>> {
        let value = |a: &str| state.value(a);
        let certain = self.steps.iter().find_map(|step| match step {
            Step::Attr { when, .. } if when.iter().any(|c| c.holds(&value) != Some(true)) => None,
            Step::Attr {
                attr,
                via,
                from_init,
                ..
            } if state.lacks(attr, *from_init) => Some(Raises::Missing {
                attr,
                via,
                from_init: *from_init,
            }),
            Step::Fitted(attrs) => attrs
                .iter()
                .find(|a| state.lacks(a, false))
                .map(|a| Raises::NotFitted(a)),
            Step::Maybe { .. } | Step::Attr { .. } => None,
        });
        certain.or_else(|| {
            self.steps.iter().find_map(|step| match step {
                Step::Maybe { attr, via } if missing.contains(attr.as_str()) => {
                    Some(Raises::MaybeMissing { attr, via })
                }
                Step::Attr {
                    attr, via, when, ..
                } if missing.contains(attr.as_str())
                    && when.iter().all(|c| c.holds(&value) != Some(false)) =>
                {
                    Some(Raises::MaybeMissing { attr, via })
                }
                _ => None,
            })
        })
    }
}

/// The state schema of a class in the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schema {
    /// The class is read from source; these are its needs.
    Known {
        /// The class's own name (what `AttributeError` names).
        name: String,
        /// Each public method the class has, in [`USE_METHODS`] order.
        uses: Vec<Use>,
        /// Attributes only fit sets (not `__init__`), those a method deletes included: a
        /// state holding none of them is of an object never fitted (a template such as a
        /// forest's `estimator`, or a `ColumnTransformer`'s `transformers`), whose methods
        /// nobody calls.
        fitted: Vec<String>,
    },
    /// Not decidable from source, with the reason (an extension base, `__getattr__`, ...).
    Opaque(String),
}

struct Parsed {
    classes: ModuleClasses,
    ns: Namespace,
}

#[derive(Default)]
struct Inner {
    modules: HashMap<String, Option<Arc<Parsed>>>,
    schemas: HashMap<(String, String), Arc<Schema>>,
    parsed: usize,
}

/// Class schemas of one target, computed once each.
#[derive(Default)]
pub struct Schemas {
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for Schemas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Schemas")
    }
}

/// A class found in source.
#[derive(Clone)]
struct Found {
    key: (String, String),
    module: Arc<Parsed>,
}

impl Found {
    fn facts(&self) -> &ClassFacts {
        &self.module.classes.classes[&self.key.1]
    }
}

impl Schemas {
    /// An empty cache.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The schema of `module.qualname` in the resolver's environment.
    pub fn schema(&self, resolver: &mut Resolver<'_>, module: &str, qualname: &str) -> Arc<Schema> {
        let mut inner = match self.inner.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        let key = (module.to_owned(), qualname.to_owned());
        if let Some(s) = inner.schemas.get(&key) {
            return s.clone();
        }
        let s = Arc::new(compute(&mut inner, resolver, module, qualname));
        inner.schemas.insert(key, s.clone());
        s
    }
}

fn parse_module(inner: &mut Inner, resolver: &mut Resolver<'_>, name: &str) -> Option<Arc<Parsed>> {
    if let Some(p) = inner.modules.get(name) {
        return p.clone();
    }
    let parsed = (|| {
        if inner.parsed >= MAX_FILES {
            return None;
        }
        let m = resolver.import(name).ok()?;
        if m.kind != ModuleKind::Source {
            return None;
        }
        let text = std::fs::read_to_string(m.file.as_ref()?).ok()?;
        inner.parsed += 1;
        let ast = ruff_python_parser::parse_unchecked_source(
            &text,
            ruff_python_ast::PySourceType::Python,
        );
        let body = ast.syntax();
        Some(Arc::new(Parsed {
            classes: classes::analyse(body),
            ns: crate::names::analyse_parsed(body, name, m.is_package(), false),
        }))
    })();
    inner.modules.insert(name.to_owned(), parsed.clone());
    parsed
}

/// Finds class `qualname` of `module`, following re-exports (`from .x import C`, star imports).
fn find_class(
    inner: &mut Inner,
    resolver: &mut Resolver<'_>,
    module: &str,
    qualname: &str,
    depth: usize,
) -> Result<Found, String> {
    if depth > MAX_DEPTH {
        return Err(format!(
            "`{module}.{qualname}`: too many re-exports to follow"
        ));
    }
    let Some(parsed) = parse_module(inner, resolver, module) else {
        return Err(format!("`{module}` has no Python source"));
    };
    if parsed.classes.classes.contains_key(qualname) {
        return Ok(Found {
            key: (module.to_owned(), qualname.to_owned()),
            module: parsed,
        });
    }
    let (first, rest) = match qualname.split_once('.') {
        Some((f, r)) => (f, Some(r)),
        None => (qualname, None),
    };
    if let Some(abs) = parsed.ns.imported_as.get(first) {
        let full = match rest {
            Some(r) => format!("{abs}.{r}"),
            None => abs.clone(),
        };
        return find_dotted(inner, resolver, &full, depth + 1);
    }
    if parsed.ns.binds(first) {
        return Err(format!(
            "`{module}.{qualname}` is not a class statement in the source"
        ));
    }
    for star in parsed.ns.star_imports.clone() {
        if let Ok(f) = find_class(inner, resolver, &star, qualname, depth + 1) {
            return Ok(f);
        }
    }
    Err(format!("`{module}.{qualname}` is not defined in source"))
}

/// Finds an absolute dotted name: the longest importable module prefix, then the class in it.
fn find_dotted(
    inner: &mut Inner,
    resolver: &mut Resolver<'_>,
    dotted: &str,
    depth: usize,
) -> Result<Found, String> {
    let parts: Vec<&str> = dotted.split('.').collect();
    for k in (1..parts.len()).rev() {
        let module = parts[..k].join(".");
        if resolver.import(&module).is_ok() {
            return find_class(inner, resolver, &module, &parts[k..].join("."), depth);
        }
    }
    Err(format!("`{dotted}` cannot be imported"))
}

/// The bases of a class, found in source; an error names the first that is not.
fn bases(inner: &mut Inner, resolver: &mut Resolver<'_>, c: &Found) -> Result<Vec<Found>, String> {
    let mut out = Vec::new();
    for b in c.facts().bases.clone() {
        let first = b.split('.').next().unwrap_or(&b);
        let ns = &c.module.ns;
        // A class of the same module (possibly nested: `Outer.Inner`).
        if c.module.classes.classes.contains_key(&b) && !ns.imported_as.contains_key(first) {
            out.push(Found {
                key: (c.key.0.clone(), b.clone()),
                module: c.module.clone(),
            });
            continue;
        }
        if let Some(abs) = ns.imported_as.get(first) {
            let full = match b.split_once('.') {
                Some((_, rest)) => format!("{abs}.{rest}"),
                None => abs.clone(),
            };
            let leaf = full.rsplit('.').next().unwrap_or(&full);
            if TRANSPARENT_BASES.contains(&leaf)
                && (full.starts_with("typing.")
                    || full.starts_with("abc.")
                    || full.starts_with("builtins."))
            {
                continue;
            }
            out.push(find_dotted(inner, resolver, &full, 0)?);
            continue;
        }
        if TRANSPARENT_BASES.contains(&b.as_str()) && !ns.binds(&b) {
            continue;
        }
        return Err(format!(
            "base `{b}` of `{}` is not found in source",
            c.key.1
        ));
    }
    Ok(out)
}

/// C3 linearization, over classes found in source.
fn mro(
    inner: &mut Inner,
    resolver: &mut Resolver<'_>,
    c: &Found,
    memo: &mut HashMap<(String, String), Vec<Found>>,
    depth: usize,
) -> Result<Vec<Found>, String> {
    if let Some(m) = memo.get(&c.key) {
        return Ok(m.clone());
    }
    if depth > MAX_MRO {
        return Err("the class hierarchy is too deep".to_owned());
    }
    let bs = bases(inner, resolver, c)?;
    let mut seqs: Vec<Vec<Found>> = Vec::new();
    for b in &bs {
        seqs.push(mro(inner, resolver, b, memo, depth + 1)?);
    }
    seqs.push(bs);
    let mut out = vec![c.clone()];
    loop {
        seqs.retain(|s| !s.is_empty());
        if seqs.is_empty() {
            break;
        }
        let head = seqs.iter().find_map(|s| {
            let h = &s[0];
            let in_tail = seqs
                .iter()
                .any(|t| t.iter().skip(1).any(|x| x.key == h.key));
            (!in_tail).then(|| h.clone())
        });
        let Some(head) = head else {
            return Err("the bases have no consistent method resolution order".to_owned());
        };
        for s in &mut seqs {
            if s[0].key == head.key {
                s.remove(0);
            }
        }
        out.push(head);
        if out.len() > MAX_MRO {
            return Err("the class hierarchy is too large".to_owned());
        }
    }
    memo.insert(c.key.clone(), out.clone());
    Ok(out)
}

fn compute(inner: &mut Inner, resolver: &mut Resolver<'_>, module: &str, qualname: &str) -> Schema {
    let found = match find_class(inner, resolver, module, qualname, 0) {
        Ok(f) => f,
        Err(e) => return Schema::Opaque(e),
    };
    let order = match mro(inner, resolver, &found, &mut HashMap::new(), 0) {
        Ok(o) => o,
        Err(e) => return Schema::Opaque(e),
    };
    let mut deleted = HashSet::new();
    for c in &order {
        for m in c.facts().methods.values() {
            collect_deleted(&m.events, &mut deleted);
        }
    }
    let h = Hierarchy { order, deleted };
    for dynamic in ["__getattr__", "__getattribute__", "__slots__"] {
        if h.binds(dynamic) {
            return Schema::Opaque(format!("the class defines `{dynamic}`"));
        }
    }
    let assigned = |entries: &[&str]| {
        let mut set = HashSet::new();
        for e in entries {
            for item in h.walk(e, false) {
                match item {
                    Item::Assign(a) | Item::StateKey(a) => {
                        set.insert(a);
                    }
                    _ => {}
                }
            }
        }
        set
    };
    let fit = assigned(FIT_METHODS);
    let init = assigned(&["__init__"]);
    let setstate = assigned(&["__setstate__"]);
    let mut uses = Vec::new();
    for &m in USE_METHODS {
        let Some((_, method)) = h.lookup(m, 0) else {
            continue;
        };
        if method.kind != MethodKind::Method {
            continue;
        }
        let mut steps = Vec::new();
        let mut seen = HashSet::new();
        let mut set_here = HashSet::new();
        // scikit-learn's `get_params` reads `getattr(self, name)` for each parameter of
        // `__init__`'s signature, sorted (`_get_param_names`).
        let mut items = h.walk(m, true);
        let reaches = |name: &str| {
            items
                .iter()
                .any(|i| matches!(i, Item::Called(n) if n == name))
        };
        if reaches("_get_param_names")
            && let Some((_, init)) = h.lookup("__init__", 0)
        {
            let mut names: Vec<&String> = init.params.iter().filter(|p| !h.binds(p)).collect();
            names.sort();
            items.splice(
                0..0,
                names.into_iter().map(|p| Item::Read {
                    attr: p.clone(),
                    via: "get_params".to_owned(),
                    guarded: false,
                    certain: true,
                    when: Vec::new(),
                }),
            );
        }
        for item in items {
            match item {
                Item::Assign(a) => {
                    set_here.insert(a);
                }
                Item::Read {
                    attr,
                    via,
                    guarded,
                    certain,
                    when,
                } => {
                    let state = fit.contains(&attr) || init.contains(&attr);
                    if !certain
                        && !guarded
                        && state
                        && !setstate.contains(&attr)
                        && !set_here.contains(&attr)
                    {
                        steps.push(Step::Maybe { attr, via });
                        continue;
                    }
                    if guarded
                        || !certain
                        || !state
                        || setstate.contains(&attr)
                        || set_here.contains(&attr)
                        || !seen.insert((attr.clone(), when.clone()))
                    {
                        continue;
                    }
                    let from_init = !fit.contains(&attr);
                    steps.push(Step::Attr {
                        attr,
                        via,
                        from_init,
                        when,
                    });
                }
                Item::Fitted(attrs, true) => steps.push(Step::Fitted(
                    attrs.into_iter().filter(|a| !h.binds(a)).collect(),
                )),
                Item::Fitted(_, false) => {}
                Item::StateKey(_) | Item::DictUpdate | Item::Called(_) => {}
            }
        }
        uses.push(Use {
            method: m.to_owned(),
            steps,
        });
    }
    let name = qualname.rsplit('.').next().unwrap_or(qualname).to_owned();
    // Deleted attributes count: scikit-learn's `_reset` deletes what `partial_fit` then
    // sets again, and a fitted state holds them.
    let mut fitted: Vec<String> = fit
        .iter()
        .filter(|a| !init.contains(*a) && !h.binds(a))
        .cloned()
        .collect();
    fitted.sort();
    Schema::Known { name, uses, fitted }
}

fn collect_deleted(events: &[Event], out: &mut HashSet<String>) {
    for e in events {
        match e {
            Event::Del(a) => {
                out.insert(a.clone());
            }
            Event::Branch {
                then, otherwise, ..
            } => {
                collect_deleted(then, out);
                if let Some(o) = otherwise {
                    collect_deleted(o, out);
                }
            }
            _ => {}
        }
    }
}

/// What a walk meets, in order.
#[derive(Debug, Clone)]
enum Item {
    Read {
        attr: String,
        via: String,
        guarded: bool,
        /// Runs on every call of the public method (not only under a condition).
        certain: bool,
        /// Tests of the state's values it runs under.
        when: Vec<Cond>,
    },
    Assign(String),
    Fitted(Vec<String>, bool),
    StateKey(String),
    DictUpdate,
    /// `self.name(...)` was called (whatever `name` is).
    Called(String),
}

struct Hierarchy {
    order: Vec<Found>,
    /// Attributes some method deletes (`del self._in_fit`): never in a pickled state.
    deleted: HashSet<String>,
}

impl Hierarchy {
    fn binds(&self, name: &str) -> bool {
        self.order.iter().any(|c| c.facts().names.contains(name))
    }

    /// The first definition of `name` from position `from` of the MRO.
    fn lookup(&self, name: &str, from: usize) -> Option<(usize, &classes::Method)> {
        self.order
            .iter()
            .enumerate()
            .skip(from)
            .find_map(|(i, c)| c.facts().methods.get(name).map(|m| (i, m)))
    }

    /// What method `name` does, in order, with what it reaches. `as_called`: the walk
    /// starts as a user's call does, with the method's defaults for its parameters (a
    /// public method); otherwise every branch a parameter decides may run (fit, whose
    /// every possible assignment counts).
    fn walk(&self, name: &str, as_called: bool) -> Vec<Item> {
        let mut out = Vec::new();
        let Some((i, m)) = self.lookup(name, 0) else {
            return out;
        };
        let mut w = Walk {
            h: self,
            visited: HashSet::new(),
            budget: MAX_EVENTS,
            assigned: HashSet::new(),
        };
        let env = if as_called {
            m.defaults.iter().cloned().collect()
        } else {
            HashMap::new()
        };
        let ctx = Ctx {
            guarded: false,
            certain: true,
            env,
            when: Vec::new(),
        };
        w.method(i, name, &ctx, &mut out);
        out
    }
}

/// A method walked: its MRO position, name, certainty, literal parameters and state tests.
type Visit = (usize, String, bool, Vec<(String, bool)>, Vec<Cond>);

/// The state of a walk through the methods a public method reaches.
struct Walk<'h> {
    h: &'h Hierarchy,
    visited: HashSet<Visit>,
    budget: usize,
    /// Attributes assigned so far on the walk: a test of one no longer sees the state's value.
    assigned: HashSet<String>,
}

/// Where a walk is: under a guard, on the certain path, with literal parameters, under
/// tests of the state's values.
#[derive(Clone)]
struct Ctx {
    guarded: bool,
    certain: bool,
    env: HashMap<String, bool>,
    when: Vec<Cond>,
}

impl Walk<'_> {
    fn method(&mut self, at: usize, name: &str, ctx: &Ctx, out: &mut Vec<Item>) {
        let mut env: Vec<(String, bool)> = ctx.env.iter().map(|(k, v)| (k.clone(), *v)).collect();
        env.sort();
        let key = (at, name.to_owned(), ctx.certain, env, ctx.when.clone());
        if !self.visited.insert(key) {
            return;
        }
        let h = self.h;
        let Some(method) = h.order[at].facts().methods.get(name) else {
            return;
        };
        self.events(at, name, &method.events, ctx, out);
    }

    fn events(&mut self, at: usize, via: &str, events: &[Event], ctx: &Ctx, out: &mut Vec<Item>) {
        let h = self.h;
        let mut local = None;
        for e in events {
            let ctx = local.as_ref().unwrap_or(ctx);
            if self.budget == 0 {
                return;
            }
            self.budget -= 1;
            match e {
                Event::Read { attr, guarded: g } => {
                    if h.binds(attr) {
                        // A property runs its getter; a method or class attribute is there.
                        if let Some((j, m)) = h.lookup(attr, 0)
                            && m.kind == MethodKind::Property
                        {
                            let inner = Ctx {
                                guarded: ctx.guarded || *g,
                                env: HashMap::new(),
                                ..ctx.clone()
                            };
                            self.method(j, attr, &inner, out);
                        }
                        continue;
                    }
                    out.push(Item::Read {
                        attr: attr.clone(),
                        via: via.to_owned(),
                        guarded: ctx.guarded || *g,
                        certain: ctx.certain,
                        when: ctx.when.clone(),
                    });
                }
                Event::Assign(a) => {
                    self.assigned.insert(a.clone());
                    out.push(Item::Assign(a.clone()));
                }
                Event::Call {
                    name: callee,
                    guarded: g,
                    literals,
                    names,
                    passed,
                    open,
                } => {
                    out.push(Item::Called(callee.clone()));
                    match h.lookup(callee, 0) {
                        // `_get_tags` (scikit-learn < 1.6) calls each class's `_more_tags`
                        // over the MRO, base first.
                        Some((j, _)) if callee == "_get_tags" => {
                            self.method(j, callee, ctx, out);
                            for k in (0..h.order.len()).rev() {
                                if h.order[k].facts().methods.contains_key("_more_tags") {
                                    self.method(k, "_more_tags", ctx, out);
                                }
                            }
                        }
                        Some((j, m)) if m.kind != MethodKind::Static => {
                            let param = |arg: &Arg| match arg {
                                Arg::Pos(i) => m.params.get(*i).cloned(),
                                Arg::Kw(k) => Some(k.clone()),
                            };
                            let mut env = HashMap::new();
                            // A parameter the call does not pass has its default.
                            if !open {
                                let (positional, keywords) = passed;
                                for (p, truth) in &m.defaults {
                                    let by_position =
                                        m.params.iter().take(*positional).any(|q| q == p);
                                    if !by_position && !keywords.contains(p) {
                                        env.insert(p.clone(), *truth);
                                    }
                                }
                            }
                            for (arg, truth) in literals {
                                if let Some(p) = param(arg) {
                                    env.insert(p, *truth);
                                }
                            }
                            // A name the caller knows (a parameter passed on).
                            for (arg, name) in names {
                                if let (Some(p), Some(v)) = (param(arg), ctx.env.get(name)) {
                                    env.insert(p, *v);
                                }
                            }
                            let inner = Ctx {
                                guarded: ctx.guarded || *g,
                                env,
                                ..ctx.clone()
                            };
                            self.method(j, callee, &inner, out);
                        }
                        Some(_) => {}
                        None if h.binds(callee) => {}
                        // A callable stored on the instance.
                        None => out.push(Item::Read {
                            attr: callee.clone(),
                            via: via.to_owned(),
                            guarded: ctx.guarded || *g,
                            certain: ctx.certain,
                            when: ctx.when.clone(),
                        }),
                    }
                }
                Event::SuperCall(callee) => {
                    if let Some((j, _)) = h.lookup(callee, at + 1) {
                        let inner = Ctx {
                            env: HashMap::new(),
                            ..ctx.clone()
                        };
                        self.method(j, callee, &inner, out);
                    }
                }
                Event::CheckFitted(None) => {
                    if let Some((j, _)) = h.lookup("__sklearn_is_fitted__", 0) {
                        let inner = Ctx {
                            env: HashMap::new(),
                            ..ctx.clone()
                        };
                        self.method(j, "__sklearn_is_fitted__", &inner, out);
                    }
                }
                Event::CheckFitted(Some(attrs)) => {
                    if !ctx.guarded {
                        let certain = ctx.certain && ctx.when.is_empty();
                        out.push(Item::Fitted(attrs.clone(), certain));
                    }
                }
                Event::StateKey(k) => out.push(Item::StateKey(k.clone())),
                Event::DictUpdate => out.push(Item::DictUpdate),
                Event::Del(_) => {}
                Event::Local {
                    name,
                    attr,
                    default,
                } => {
                    // A fit-only attribute that fit deletes is absent after unpickling.
                    let mut next = ctx.clone();
                    if h.deleted.contains(attr) && !h.binds(attr) {
                        next.env.insert(name.clone(), *default);
                    } else {
                        next.env.remove(name);
                    }
                    local = Some(next);
                }
                Event::Branch {
                    cond,
                    then,
                    otherwise,
                } => self.branch(at, via, cond, then, otherwise.as_deref(), ctx, out),
            }
        }
    }

    /// A branch: the side a literal parameter decides, else both, each uncertain, except the
    /// reads both sides of an `if`/`else` make.
    #[allow(
        clippy::too_many_arguments,
        reason = "the walk's position, passed down"
    )]
    fn branch(
        &mut self,
        at: usize,
        via: &str,
        cond: &Cond,
        then: &[Event],
        otherwise: Option<&[Event]>,
        ctx: &Ctx,
        out: &mut Vec<Item>,
    ) {
        match cond.decide(&|p: &str| ctx.env.get(p).copied()) {
            Decided::Known(true) => return self.events(at, via, then, ctx, out),
            Decided::Known(false) => {
                if let Some(o) = otherwise {
                    self.events(at, via, o, ctx, out);
                }
                return;
            }
            // Either side, each under its test of the state's values, in order.
            Decided::State(test) if !test.tests_any(&self.assigned) => {
                let mut inner = ctx.clone();
                inner.when.push(test.clone());
                self.events(at, via, then, &inner, out);
                if let Some(o) = otherwise {
                    let mut inner = ctx.clone();
                    inner.when.push(test.negate());
                    self.events(at, via, o, &inner, out);
                }
                return;
            }
            Decided::State(_) | Decided::Unknown => {}
        }
        let mut a = Vec::new();
        self.events(at, via, then, ctx, &mut a);
        let mut b = Vec::new();
        if let Some(o) = otherwise {
            self.events(at, via, o, ctx, &mut b);
        }
        let certain_reads = |items: &[Item]| -> HashSet<String> {
            items
                .iter()
                .filter_map(|i| match i {
                    Item::Read {
                        attr,
                        certain: true,
                        ..
                    } => Some(attr.clone()),
                    _ => None,
                })
                .collect()
        };
        let both: HashSet<String> = if otherwise.is_some() {
            certain_reads(&a)
                .intersection(&certain_reads(&b))
                .cloned()
                .collect()
        } else {
            HashSet::new()
        };
        for mut item in a.into_iter().chain(b) {
            match &mut item {
                Item::Read { attr, certain, .. } => *certain &= both.contains(attr.as_str()),
                Item::Fitted(_, certain) => *certain = false,
                _ => {}
            }
            out.push(item);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Environment;

    /// The schema of `package.module:class` in a throwaway site-packages holding `package`'s
    /// `files` (name, source) and an empty `__init__.py`.
    fn toy_schema(package: &str, files: &[(&str, &str)], module: &str, class: &str) -> Arc<Schema> {
        let dir = std::env::temp_dir().join(format!("pd-schema-{package}-{}", std::process::id()));
        let pkg = dir.join(package);
        std::fs::create_dir_all(&pkg).unwrap();
        std::fs::write(pkg.join("__init__.py"), "").unwrap();
        for (name, source) in files {
            std::fs::write(pkg.join(format!("{name}.py")), source).unwrap();
        }
        let env = Environment::from_site_packages(std::slice::from_ref(&dir), (3, 11)).unwrap();
        let mut r = Resolver::new(&env);
        let s = Schemas::new().schema(&mut r, &format!("{package}.{module}"), class);
        let _ = std::fs::remove_dir_all(&dir);
        s
    }

    /// Bases found through imports, `self.method()` calls with a literal argument deciding a
    /// branch (`reset=False`), a fit-only attribute read on every `predict`, a guarded one, a
    /// property, a class attribute, and `get_params` over `__init__`'s parameters.
    #[test]
    fn needs_of_a_class_with_imported_bases() {
        let s = toy_schema(
            "toy",
            &[
                (
                    "base",
                    "class Base:\n    def get_params(self):\n        return {k: getattr(self, k) for k in self._get_param_names()}\n    @classmethod\n    def _get_param_names(cls):\n        return []\n",
                ),
                (
                    "model",
                    "from .base import Base\n\nclass Model(Base):\n    k = 1\n    def __init__(self, alpha=1.0, beta=None):\n        self.alpha = alpha\n        self.beta = beta\n    def fit(self, X):\n        self._pre = self._prep(X, reset=True)\n        self.coef_ = 1\n        self._opt = 2\n    def _prep(self, X, reset):\n        if not reset:\n            return self._pre\n        self._seen = 1\n        return X\n    @property\n    def scale(self):\n        return self.coef_\n    def predict(self, X):\n        X = self._prep(X, reset=False)\n        if hasattr(self, '_opt'):\n            self._opt\n        return X * self.scale * self.k\n",
                ),
            ],
            "model",
            "Model",
        );
        let Schema::Known { name, uses, fitted } = &*s else {
            panic!("{s:?}");
        };
        assert_eq!(name, "Model");
        let steps = |m: &str| -> Vec<String> {
            uses.iter()
                .find(|u| u.method == m)
                .unwrap()
                .steps
                .iter()
                .filter_map(|s| match s {
                    Step::Attr { attr, .. } => Some(attr.clone()),
                    _ => None,
                })
                .collect()
        };
        assert_eq!(steps("predict"), vec!["_pre", "coef_"]);
        assert_eq!(steps("get_params"), vec!["alpha", "beta"]);
        assert!(fitted.contains(&"coef_".to_owned()) && !fitted.contains(&"alpha".to_owned()));
    }

    /// As scikit-learn's `StandardScaler`: `fit` deletes the fitted attributes (`_reset`) and
    /// `partial_fit` sets them again. They are still what a fitted state holds, so a state
    /// without any (the unfitted template a `ColumnTransformer` keeps in `transformers`) is
    /// told apart from a fitted one.
    #[test]
    fn attributes_fit_deletes_then_sets_are_fitted_state() {
        let s = toy_schema(
            "toyreset",
            &[(
                "scaler",
                "class Scaler:\n    def __init__(self, copy=True):\n        self.copy = copy\n    def _reset(self):\n        if hasattr(self, 'scale_'):\n            del self.scale_\n            del self.mean_\n    def fit(self, X):\n        self._reset()\n        return self.partial_fit(X)\n    def partial_fit(self, X):\n        self.mean_ = 0\n        self.scale_ = 1\n        return self\n    def transform(self, X):\n        return (X - self.mean_) / self.scale_\n",
            )],
            "scaler",
            "Scaler",
        );
        let Schema::Known { fitted, .. } = &*s else {
            panic!("{s:?}");
        };
        assert_eq!(fitted, &["mean_".to_owned(), "scale_".to_owned()]);
    }
}
