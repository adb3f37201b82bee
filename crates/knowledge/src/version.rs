//! Version numbers and ranges, enough of PEP 440 for release versions (`1.26.4`, `2.0`,
//! `1.3.0rc1` compares as `1.3.0`).

use std::cmp::Ordering;

/// A release version: numeric components, trailing zeros ignored in comparisons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version(pub Vec<u64>);

impl Version {
    /// Parses the leading `N(.N)*` of a version string.
    #[must_use]
    pub fn parse(s: &str) -> Option<Version> {
        let s = s.trim().trim_start_matches('v');
        let mut parts = Vec::new();
        for p in s.split('.') {
            let digits: String = p.chars().take_while(char::is_ascii_digit).collect();
            if digits.is_empty() {
                break;
            }
            parts.push(digits.parse().ok()?);
            if digits.len() != p.len() {
                break;
            }
        }
        (!parts.is_empty()).then_some(Version(parts))
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        let n = self.0.len().max(other.0.len());
        for i in 0..n {
            let (a, b) = (
                self.0.get(i).copied().unwrap_or(0),
                other.0.get(i).copied().unwrap_or(0),
            );
            match a.cmp(&b) {
                Ordering::Equal => {}
                o => return o,
            }
        }
        Ordering::Equal
    }
}

/// `since <= v < until`; an empty bound is open.
#[must_use]
pub fn in_range(v: &str, since: &str, until: &str) -> bool {
    let Some(v) = Version::parse(v) else {
        return false;
    };
    let lower = Version::parse(since).is_none_or(|s| v >= s);
    let upper = Version::parse(until).is_none_or(|u| v < u);
    lower && upper
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compares_release_versions() {
        assert!(Version::parse("1.26.4") < Version::parse("2.0"));
        assert_eq!(Version::parse("2.0"), Some(Version(vec![2, 0])));
        assert!(in_range("1.26.1", "1.26.1", "2"));
        assert!(!in_range("1.26.0", "1.26.1", ""));
        assert!(in_range("1.3.0rc1", "1.3", "1.4"));
    }
}
