//! Branch tests a method's source makes, in the few shapes the pickled state or a literal
//! argument decides: `if reset:`, `if not in_fit and ...`, `if self.strategy == "constant"`,
//! `self.x in ("a", "b")`, `self.x is None`, `if self.flag:`, joined with `and`/`or`/`not`.
//!
//! Unpickling fills the instance dict from the state, so `self.strategy` is whatever the
//! producer's object held: when the state holds it as a literal, the test is decided as
//! Python would decide it, and the reads under the side that does not run are not reads at
//! all (`SimpleImputer._validate_input` reads `_fill_dtype` only for `strategy="constant"`).

use ruff_python_ast::{CmpOp, Expr, UnaryOp};

/// A literal of the source, or a literal value of the pickled state.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Lit {
    /// A `str`.
    Str(String),
    /// An `int` that fits in 64 bits.
    Int(i64),
    /// `True` / `False`.
    Bool(bool),
    /// `None`.
    None,
}

impl Lit {
    /// Python's `==` between two literals (`True == 1`, `"a" != 1`).
    #[must_use]
    pub fn py_eq(&self, other: &Lit) -> bool {
        let num = |l: &Lit| match l {
            Lit::Int(i) => Some(*i),
            Lit::Bool(b) => Some(i64::from(*b)),
            _ => None,
        };
        match (num(self), num(other)) {
            (Some(a), Some(b)) => a == b,
            _ => self == other,
        }
    }

    /// Python's truth of the literal.
    #[must_use]
    pub fn truthy(&self) -> bool {
        match self {
            Lit::Str(s) => !s.is_empty(),
            Lit::Int(i) => *i != 0,
            Lit::Bool(b) => *b,
            Lit::None => false,
        }
    }

    /// The literal an expression is, if it is one.
    #[must_use]
    pub fn of(e: &Expr) -> Option<Lit> {
        match e {
            Expr::StringLiteral(s) => Some(Lit::Str(s.value.to_str().to_owned())),
            Expr::BooleanLiteral(b) => Some(Lit::Bool(b.value)),
            Expr::NoneLiteral(_) => Some(Lit::None),
            Expr::NumberLiteral(n) => match &n.value {
                ruff_python_ast::Number::Int(i) => i.as_i64().map(Lit::Int),
                _ => None,
            },
            Expr::UnaryOp(u) if matches!(u.op, UnaryOp::USub) => match Lit::of(&u.operand)? {
                Lit::Int(i) => i.checked_neg().map(Lit::Int),
                _ => None,
            },
            _ => None,
        }
    }
}

/// What the pickled state holds for an attribute a test reads.
#[derive(Debug, Clone, PartialEq)]
pub enum StateValue {
    /// A literal (`str`, small `int`, `bool`, `None`).
    Lit(Lit),
    /// Something else (an array, a float, a container): never `None`, never equal to a
    /// literal of the source, with its truth when known.
    Other {
        /// `bool(value)`, when the state shows it (a float, an empty container).
        truthy: Option<bool>,
    },
}

/// A test of `self.attr`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Test {
    /// `self.attr == lit`.
    Eq(Lit),
    /// `self.attr in (lit, ...)` (a tuple, list or set display of literals).
    In(Vec<Lit>),
    /// `self.attr is None`.
    IsNone,
    /// `self.attr` used as a truth value.
    Truthy,
}

/// A branch test.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Cond {
    /// `param` (true) or `not param` (false): a parameter or local of the method.
    Param(String, bool),
    /// A test of `self.attr`, or its negation (`want` false: `!=`, `not in`, `is not`).
    Attr {
        /// The attribute.
        attr: String,
        /// The test.
        test: Test,
        /// The outcome that makes the condition hold.
        want: bool,
    },
    /// Every part holds (`and`).
    All(Vec<Cond>),
    /// Some part holds (`or`).
    Any(Vec<Cond>),
    /// Anything else: either side may run.
    Unknown,
}

/// What is known of a test before the state is seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decided {
    /// Holds (or not) whatever the state.
    Known(bool),
    /// Depends only on the state's values: this test of them.
    State(Cond),
    /// Depends on something else (the input, a computed value).
    Unknown,
}

impl Cond {
    /// The test an expression makes; `this` is the name of `self`.
    #[must_use]
    pub fn of(test: &Expr, this: &str) -> Cond {
        let on_self = |e: &Expr| match e {
            Expr::Attribute(a) if matches!(&*a.value, Expr::Name(n) if n.id.as_str() == this) => {
                Some(a.attr.to_string())
            }
            _ => None,
        };
        match test {
            Expr::Name(n) if n.id.as_str() != this => Cond::Param(n.id.to_string(), true),
            Expr::Attribute(_) => match on_self(test) {
                Some(attr) => Cond::Attr {
                    attr,
                    test: Test::Truthy,
                    want: true,
                },
                None => Cond::Unknown,
            },
            Expr::UnaryOp(u) if matches!(u.op, UnaryOp::Not) => Cond::of(&u.operand, this).negate(),
            Expr::BoolOp(b) => {
                let parts = b.values.iter().map(|v| Cond::of(v, this)).collect();
                match b.op {
                    ruff_python_ast::BoolOp::And => Cond::All(parts),
                    ruff_python_ast::BoolOp::Or => Cond::Any(parts),
                }
            }
            Expr::Compare(c) if c.ops.len() == 1 && c.comparators.len() == 1 => {
                let Some(attr) = on_self(&c.left) else {
                    return Cond::Unknown;
                };
                let right = &c.comparators[0];
                let lits = |elts: &[Expr]| elts.iter().map(Lit::of).collect::<Option<Vec<_>>>();
                let (test, want) = match (c.ops[0], right) {
                    (CmpOp::Is, Expr::NoneLiteral(_)) => (Test::IsNone, true),
                    (CmpOp::IsNot, Expr::NoneLiteral(_)) => (Test::IsNone, false),
                    (CmpOp::Eq | CmpOp::NotEq, r) => match Lit::of(r) {
                        Some(l) => (Test::Eq(l), c.ops[0] == CmpOp::Eq),
                        None => return Cond::Unknown,
                    },
                    (CmpOp::In | CmpOp::NotIn, r) => {
                        let items = match r {
                            Expr::Tuple(t) => lits(&t.elts),
                            Expr::List(l) => lits(&l.elts),
                            Expr::Set(s) => lits(&s.elts),
                            _ => None,
                        };
                        match items {
                            Some(items) => (Test::In(items), c.ops[0] == CmpOp::In),
                            None => return Cond::Unknown,
                        }
                    }
                    _ => return Cond::Unknown,
                };
                Cond::Attr { attr, test, want }
            }
            _ => Cond::Unknown,
        }
    }

    /// The opposite test.
    #[must_use]
    pub fn negate(self) -> Cond {
        match self {
            Cond::Param(p, t) => Cond::Param(p, !t),
            Cond::Attr { attr, test, want } => Cond::Attr {
                attr,
                test,
                want: !want,
            },
            Cond::All(xs) => Cond::Any(xs.into_iter().map(Cond::negate).collect()),
            Cond::Any(xs) => Cond::All(xs.into_iter().map(Cond::negate).collect()),
            Cond::Unknown => Cond::Unknown,
        }
    }

    /// The same test with the atoms `stale` names made [`Cond::Unknown`]: a parameter the
    /// method rebinds, an attribute it assigns before the test (the state's value is then
    /// not what the test sees).
    #[must_use]
    pub fn forget(self, stale: &impl Fn(&Cond) -> bool) -> Cond {
        match self {
            Cond::All(xs) => Cond::All(xs.into_iter().map(|x| x.forget(stale)).collect()),
            Cond::Any(xs) => Cond::Any(xs.into_iter().map(|x| x.forget(stale)).collect()),
            c if stale(&c) => Cond::Unknown,
            c => c,
        }
    }

    /// Whether the test reads `self.attr` for some `attr` in `attrs`.
    #[must_use]
    pub fn tests_any(&self, attrs: &std::collections::HashSet<String>) -> bool {
        match self {
            Cond::Attr { attr, .. } => attrs.contains(attr),
            Cond::All(xs) | Cond::Any(xs) => xs.iter().any(|x| x.tests_any(attrs)),
            Cond::Param(..) | Cond::Unknown => false,
        }
    }

    /// What the parameters known so far decide (`param` → its literal's truth).
    pub fn decide(&self, param: &impl Fn(&str) -> Option<bool>) -> Decided {
        match self {
            Cond::Param(p, want) => {
                param(p).map_or(Decided::Unknown, |v| Decided::Known(v == *want))
            }
            Cond::Attr { .. } => Decided::State(self.clone()),
            Cond::Unknown => Decided::Unknown,
            Cond::All(xs) | Cond::Any(xs) => {
                // `and` is decided by a false part, `or` by a true one.
                let all = matches!(self, Cond::All(_));
                let mut rest = Vec::new();
                let mut unknown = false;
                for x in xs {
                    match x.decide(param) {
                        Decided::Known(v) if v != all => return Decided::Known(v),
                        Decided::Known(_) => {}
                        Decided::State(c) => rest.push(c),
                        Decided::Unknown => unknown = true,
                    }
                }
                if unknown {
                    Decided::Unknown
                } else if rest.is_empty() {
                    Decided::Known(all)
                } else if rest.len() == 1 {
                    Decided::State(rest.remove(0))
                } else if all {
                    Decided::State(Cond::All(rest))
                } else {
                    Decided::State(Cond::Any(rest))
                }
            }
        }
    }

    /// Whether the test holds for the state's values (`value` of an attribute); `None` when
    /// the state does not decide it (an attribute it lacks or holds as an opaque object).
    pub fn holds(&self, value: &impl Fn(&str) -> Option<StateValue>) -> Option<bool> {
        match self {
            Cond::Attr { attr, test, want } => {
                let v = value(attr)?;
                let outcome = match (test, &v) {
                    (Test::IsNone, StateValue::Lit(l)) => *l == Lit::None,
                    (Test::IsNone, StateValue::Other { .. }) => false,
                    (Test::Eq(lit), StateValue::Lit(l)) => l.py_eq(lit),
                    (Test::In(lits), StateValue::Lit(l)) => lits.iter().any(|x| l.py_eq(x)),
                    // An array's `==` is elementwise; a float may equal an int literal.
                    (Test::Eq(_) | Test::In(_), StateValue::Other { .. }) => return None,
                    (Test::Truthy, StateValue::Lit(l)) => l.truthy(),
                    (Test::Truthy, StateValue::Other { truthy }) => (*truthy)?,
                };
                Some(outcome == *want)
            }
            Cond::All(xs) | Cond::Any(xs) => {
                let all = matches!(self, Cond::All(_));
                let mut unknown = false;
                for x in xs {
                    match x.holds(value) {
                        Some(v) if v != all => return Some(v),
                        Some(_) => {}
                        None => unknown = true,
                    }
                }
                (!unknown).then_some(all)
            }
            Cond::Param(..) | Cond::Unknown => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cond(src: &str) -> Cond {
        let parsed = ruff_python_parser::parse_expression(src).unwrap();
        Cond::of(parsed.expr(), "self")
    }

    #[test]
    fn shapes_and_values() {
        let state = |a: &str| match a {
            "strategy" => Some(StateValue::Lit(Lit::Str("mean".into()))),
            "keep" => Some(StateValue::Lit(Lit::Bool(true))),
            "none" => Some(StateValue::Lit(Lit::None)),
            "arr" => Some(StateValue::Other { truthy: None }),
            _ => None,
        };
        let holds = |src: &str| cond(src).holds(&state);
        assert_eq!(holds("self.strategy == 'constant'"), Some(false));
        assert_eq!(holds("self.strategy != 'constant'"), Some(true));
        assert_eq!(holds("self.strategy in ('mean', 'median')"), Some(true));
        assert_eq!(holds("self.strategy not in {'mean'}"), Some(false));
        assert_eq!(holds("self.none is None"), Some(true));
        assert_eq!(holds("self.arr is not None"), Some(true));
        assert_eq!(holds("self.keep == 1"), Some(true));
        assert_eq!(holds("not self.none"), Some(true));
        assert_eq!(holds("self.arr"), None);
        assert_eq!(holds("self.missing == 'x'"), None);
        assert_eq!(
            holds("self.strategy == 'constant' or self.keep"),
            Some(true)
        );
        assert_eq!(
            holds("self.strategy == 'constant' and self.missing"),
            Some(false)
        );
        assert_eq!(holds("self.arr == 'x'"), None);
        assert_eq!(cond("len(self.x) > 2"), Cond::Unknown);
    }

    #[test]
    fn parameters_decide_first() {
        let c = cond("in_fit and self.fill_value is not None");
        let known = |p: &str| (p == "in_fit").then_some(false);
        assert_eq!(c.decide(&known), Decided::Known(false));
        let c = cond("not in_fit and self._fit_dtype == 'O'");
        assert!(matches!(
            c.decide(&known),
            Decided::State(Cond::Attr { .. })
        ));
        assert_eq!(cond("x and y").decide(&known), Decided::Unknown);
    }
}
