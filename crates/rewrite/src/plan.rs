//! What to rename: the user's `--map` entries and the renames `check` found in the knowledge
//! base for the target's versions.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

/// A `module:Name` pair.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct QualName {
    /// Module, dotted.
    pub module: String,
    /// Name in the module (a dotted qualname from protocol 4).
    pub name: String,
}

impl QualName {
    /// A pair.
    #[must_use]
    pub fn new(module: impl Into<String>, name: impl Into<String>) -> Self {
        QualName {
            module: module.into(),
            name: name.into(),
        }
    }

    /// Parses `module:Name`.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        let (m, n) = s.split_once(':')?;
        (valid_dotted(m) && valid_dotted(n)).then(|| QualName::new(m, n))
    }
}

impl fmt::Display for QualName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.module, self.name)
    }
}

fn valid_dotted(s: &str) -> bool {
    !s.is_empty()
        && s.split('.').all(|part| {
            !part.is_empty()
                && !part.starts_with(|c: char| c.is_ascii_digit())
                && part.chars().all(|c| c == '_' || c.is_alphanumeric())
        })
}

/// One `--map FROM=TO`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserMap {
    /// `old.module=new.module`: the module and its submodules (`old.module.sub`).
    Module {
        /// Module as written in the pickle.
        from: String,
        /// Module to use instead.
        to: String,
    },
    /// `old.module:Name=new.module:Name`: one name.
    Name {
        /// As written.
        from: QualName,
        /// Instead.
        to: QualName,
    },
}

impl FromStr for UserMap {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let Some((from, to)) = s.split_once('=') else {
            return Err(
                "expected FROM=TO, as old.module=new.module or old.module:Name=new.module:Name"
                    .to_owned(),
            );
        };
        let (from, to) = (from.trim(), to.trim());
        match (from.contains(':'), to.contains(':')) {
            (false, false) if valid_dotted(from) && valid_dotted(to) => Ok(UserMap::Module {
                from: from.to_owned(),
                to: to.to_owned(),
            }),
            (true, true) => match (QualName::parse(from), QualName::parse(to)) {
                (Some(from), Some(to)) => Ok(UserMap::Name { from, to }),
                _ => Err("each side must be module:Name with dotted Python identifiers".to_owned()),
            },
            (false, false) => {
                Err("each side must be a dotted module name such as mypkg.models".to_owned())
            }
            _ => Err("both sides must be modules (a=b) or both module:Name (a:X=b:Y)".to_owned()),
        }
    }
}

impl fmt::Display for UserMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UserMap::Module { from, to } => write!(f, "{from}={to}"),
            UserMap::Name { from, to } => write!(f, "{from}={to}"),
        }
    }
}

/// Where a rename comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A map the user gave (its text).
    User(String),
    /// A knowledge-base rename valid for the target, as `check` reported it.
    Knowledge,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::User(m) => write!(f, "your map {m}"),
            Origin::Knowledge => f.write_str("knowledge base"),
        }
    }
}

/// The renames to apply.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    user: Vec<UserMap>,
    known: HashMap<QualName, QualName>,
}

impl Plan {
    /// A plan with the user's maps (they win over the knowledge base).
    #[must_use]
    pub fn new(user: Vec<UserMap>) -> Self {
        Plan {
            user,
            known: HashMap::new(),
        }
    }

    /// Adds a knowledge-base rename. Returns whether it is new.
    pub fn add_known(&mut self, from: QualName, to: QualName) -> bool {
        if from == to {
            return false;
        }
        self.known.insert(from, to).is_none()
    }

    /// Whether the plan renames nothing.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.user.is_empty() && self.known.is_empty()
    }

    /// Where `module:name` goes, if anywhere.
    #[must_use]
    pub fn target(&self, module: &str, name: &str) -> Option<(QualName, Origin)> {
        let here = QualName::new(module, name);
        for m in &self.user {
            if let UserMap::Name { from, to } = m
                && *from == here
            {
                return Some((to.clone(), Origin::User(m.to_string())));
            }
        }
        // The longest module prefix wins, so `a.b=x` beats `a=y` for `a.b.c`.
        let best = self
            .user
            .iter()
            .filter_map(|m| match m {
                UserMap::Module { from, to } => {
                    let rest = module.strip_prefix(from.as_str())?;
                    (rest.is_empty() || rest.starts_with('.')).then_some((from.len(), to, rest, m))
                }
                UserMap::Name { .. } => None,
            })
            .max_by_key(|(len, ..)| *len);
        if let Some((_, to, rest, m)) = best {
            return Some((
                QualName::new(format!("{to}{rest}"), name),
                Origin::User(m.to_string()),
            ));
        }
        self.known
            .get(&here)
            .map(|to| (to.clone(), Origin::Knowledge))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_parse_both_forms_and_reject_mixed_ones() {
        assert_eq!(
            "__main__=mypkg.models".parse::<UserMap>().unwrap(),
            UserMap::Module {
                from: "__main__".into(),
                to: "mypkg.models".into()
            }
        );
        assert!(matches!(
            "a.b:Old=c:New".parse::<UserMap>().unwrap(),
            UserMap::Name { .. }
        ));
        for bad in ["a.b", "a:X=b", "a=b:Y", "a..b=c", "a=1b", "=b", "a:=b:c"] {
            assert!(bad.parse::<UserMap>().is_err(), "{bad}");
        }
    }

    #[test]
    fn user_maps_win_and_longest_prefix_wins() {
        let mut p = Plan::new(vec![
            "a=x".parse().unwrap(),
            "a.b=y".parse().unwrap(),
            "a.b:N=z:M".parse().unwrap(),
        ]);
        p.add_known(QualName::new("a.b", "N"), QualName::new("k", "N"));
        p.add_known(QualName::new("q", "N"), QualName::new("r", "N"));
        assert_eq!(p.target("a.b", "N").unwrap().0, QualName::new("z", "M"));
        assert_eq!(p.target("a.b.c", "K").unwrap().0, QualName::new("y.c", "K"));
        assert_eq!(p.target("a", "K").unwrap().0, QualName::new("x", "K"));
        assert!(p.target("ab", "K").is_none());
        assert_eq!(
            p.target("q", "N").unwrap(),
            (QualName::new("r", "N"), Origin::Knowledge)
        );
    }
}
