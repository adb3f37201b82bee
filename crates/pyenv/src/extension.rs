//! What an extension module (`.so`) defines, from the strings in the binary.
//!
//! Cython keeps each `cdef class`'s `tp_name` (`pkg.mod.ClassName`) as a plain string, even
//! when it compresses other identifiers (Cython 3.1+), so a class name can be confirmed, and
//! when the module lists other classes of its own but not this one, refuted. Other names are
//! confirmed when they appear as a NUL-terminated identifier; otherwise they stay unverified.

use memchr::memmem;

/// What the binary says about `module.name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Evidence {
    /// The name is in the binary.
    Present,
    /// A Cython module that names its classes, and not this one.
    Absent,
    /// Nothing decisive.
    Unknown,
}

/// Looks for `name` (a top-level attribute) of `module` in the extension's bytes.
#[must_use]
pub fn evidence(binary: &[u8], module: &str, name: &str) -> Evidence {
    let qualified = format!("{module}.{name}");
    if contains_terminated(binary, qualified.as_bytes())
        || contains_terminated(binary, name.as_bytes())
    {
        return Evidence::Present;
    }
    let cython = memmem::find(binary, b"__pyx_").is_some();
    let class_like = name.starts_with(|c: char| c.is_ascii_uppercase());
    let lists_classes = {
        let prefix = format!("{module}.");
        memmem::find_iter(binary, prefix.as_bytes()).any(|i| {
            binary
                .get(i + prefix.len())
                .is_some_and(u8::is_ascii_uppercase)
        })
    };
    if cython && class_like && lists_classes {
        Evidence::Absent
    } else {
        Evidence::Unknown
    }
}

/// `needle` as a whole string: preceded by a NUL or non-identifier byte, followed by NUL.
fn contains_terminated(hay: &[u8], needle: &[u8]) -> bool {
    memmem::find_iter(hay, needle).any(|i| {
        let before_ok = i == 0 || !is_ident(hay[i - 1]) || hay[i - 1] == b'.';
        let after = hay.get(i + needle.len()).copied();
        before_ok && after == Some(0)
    })
}

fn is_ident(b: u8) -> bool {
    b == b'_' || b.is_ascii_alphanumeric()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confirms_and_refutes_cython_classes() {
        let bin = b"\0__pyx_unpickle\0sklearn.metrics._dist_metrics.EuclideanDistance64\0pdist\0";
        let m = "sklearn.metrics._dist_metrics";
        assert_eq!(evidence(bin, m, "EuclideanDistance64"), Evidence::Present);
        assert_eq!(evidence(bin, m, "EuclideanDistance"), Evidence::Absent);
        assert_eq!(evidence(bin, m, "pdist"), Evidence::Present);
        assert_eq!(evidence(bin, m, "helper"), Evidence::Unknown);
    }
}
