//! The `descr` of an `.npy` header as numpy's `descr_to_dtype` reads it: a typestr
//! (`'<f8'`), a `(descr, shape)` subarray, or a list of fields `(name, descr[, shape])` whose
//! anonymous void fields are padding. Only what matters to a reader is kept: the item size
//! (to know how many bytes the data takes) and whether any element is a Python object (then
//! the data is a pickle).

use std::sync::OnceLock;

use super::literal::Lit;

/// What a dtype means for the bytes after the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DtypeFacts {
    /// Bytes per element; `None` for a name whose size this reader does not know.
    pub itemsize: Option<u64>,
    /// Whether any element holds Python objects (the data is then a pickle).
    pub has_object: bool,
}

/// The dtype of `descr`, or numpy's complaint.
pub(crate) fn dtype(descr: &Lit) -> Result<DtypeFacts, String> {
    dtype_at(descr, 0)
}

fn dtype_at(descr: &Lit, depth: usize) -> Result<DtypeFacts, String> {
    if depth > 64 {
        return Err("dtype nested too deeply".to_owned());
    }
    match descr {
        Lit::Str(s) => typestr(s),
        // (descr, shape): a subarray of that shape.
        Lit::Tuple(t) => {
            let [base, shape] = t.as_slice() else {
                return Err("a subarray descr must be (dtype, shape)".to_owned());
            };
            let base = dtype_at(base, depth + 1)?;
            let count = subarray_count(shape)?;
            Ok(DtypeFacts {
                itemsize: base.itemsize.and_then(|s| s.checked_mul(count)),
                has_object: base.has_object,
            })
        }
        Lit::List(fields) => {
            let mut size = Some(0u64);
            let mut has_object = false;
            let mut names: Vec<&str> = Vec::new();
            for f in fields {
                let (Lit::Tuple(parts) | Lit::List(parts)) = f else {
                    return Err(format!("field {f:?} is not a (name, dtype) pair"));
                };
                let (name, dt) = match parts.as_slice() {
                    [name, d] => (name, dtype_at(d, depth + 1)?),
                    [name, d, shape] => {
                        let base = dtype_at(d, depth + 1)?;
                        let count = subarray_count(shape)?;
                        (
                            name,
                            DtypeFacts {
                                itemsize: base.itemsize.and_then(|s| s.checked_mul(count)),
                                has_object: base.has_object,
                            },
                        )
                    }
                    _ => return Err("a field must be (name, dtype) or (name, dtype, shape)".into()),
                };
                // (title, name) pairs name a field too.
                let name = match name {
                    Lit::Str(s) => s.as_str(),
                    Lit::Tuple(p) if p.len() == 2 => match &p[1] {
                        Lit::Str(s) => s.as_str(),
                        _ => return Err("a field name must be a str".into()),
                    },
                    _ => return Err("a field name must be a str".into()),
                };
                let padding = name.is_empty() && matches!(&parts[1], Lit::Str(s) if is_void(s));
                if !padding {
                    if names.contains(&name) {
                        return Err(format!("field '{name}' occurs more than once"));
                    }
                    names.push(name);
                }
                has_object |= dt.has_object;
                size = size.zip(dt.itemsize).and_then(|(a, b)| a.checked_add(b));
            }
            Ok(DtypeFacts {
                itemsize: size,
                has_object,
            })
        }
        _ => Err("descr is not a valid dtype descriptor".to_owned()),
    }
}

fn is_void(s: &str) -> bool {
    s.trim_start_matches(['<', '>', '|', '=']).starts_with('V')
}

/// Elements in a subarray of `shape` (an int or a tuple of ints).
fn subarray_count(shape: &Lit) -> Result<u64, String> {
    let dim = |v: &Lit| match v {
        Lit::Int(n) => u64::try_from(n).map_err(|_| "negative subarray dimension".to_owned()),
        Lit::Bool(b) => Ok(u64::from(*b)),
        _ => Err("a subarray shape must hold ints".to_owned()),
    };
    match shape {
        Lit::Tuple(t) => t
            .iter()
            .try_fold(1u64, |acc, v| Ok(acc.saturating_mul(dim(v)?))),
        v => dim(v),
    }
}

/// `numpy.dtype(s)` for a string: a typestr (`[<>=|]` then a kind and a size, or a one-letter
/// code) or a name from `data/numpy_dtype_names.tsv`.
pub(crate) fn typestr(s: &str) -> Result<DtypeFacts, String> {
    let not_understood = || format!("data type '{s}' not understood");
    let plain = |n: u64| {
        Ok(DtypeFacts {
            itemsize: Some(n),
            has_object: false,
        })
    };
    if let Some(&(size, has_object)) = names().get(s) {
        return Ok(DtypeFacts {
            itemsize: Some(size),
            has_object,
        });
    }
    let body = s.strip_prefix(['<', '>', '=', '|']).unwrap_or(s);
    let mut chars = body.chars();
    let Some(kind) = chars.next() else {
        return Err(not_understood());
    };
    let rest = chars.as_str();
    let (digits, unit) = match rest.find('[') {
        Some(i) => (&rest[..i], Some(&rest[i..])),
        None => (rest, None),
    };
    if !digits.bytes().all(|c| c.is_ascii_digit()) {
        return Err(not_understood());
    }
    let n: Option<u64> = if digits.is_empty() {
        None
    } else {
        Some(digits.parse().map_err(|_| not_understood())?)
    };
    if unit.is_some() && !matches!(kind, 'M' | 'm') {
        return Err(not_understood());
    }
    match (kind, n) {
        ('b', None | Some(1)) => plain(1),
        ('i', None) => plain(4),
        ('i' | 'u', Some(k @ (1 | 2 | 4 | 8))) => plain(k),
        ('f', None) => plain(4),
        ('f', Some(k @ (2 | 4 | 8 | 16))) => plain(k),
        ('c', None) => plain(1),
        ('c', Some(k @ (8 | 16 | 32))) => plain(k),
        ('S' | 'a' | 'V', None) => plain(0),
        ('S' | 'a' | 'V', Some(k)) if k <= i32::MAX as u64 => plain(k),
        ('U', None) => plain(0),
        ('U', Some(k)) if k <= (i32::MAX as u64) / 4 => plain(k * 4),
        ('O', None | Some(4 | 8)) => Ok(DtypeFacts {
            itemsize: Some(8),
            has_object: true,
        }),
        ('M' | 'm', None | Some(8)) => {
            if let Some(u) = unit {
                datetime_unit(u)
                    .ok_or_else(|| format!("Invalid datetime metadata string \"{u}\""))?;
            }
            plain(8)
        }
        ('?' | 'B', None) => plain(1),
        ('h' | 'H' | 'e', None) => plain(2),
        ('I', None) => plain(4),
        ('l' | 'L' | 'q' | 'Q' | 'p' | 'P' | 'd' | 'F', None) => plain(8),
        ('g' | 'D', None) => plain(16),
        ('G', None) => plain(32),
        _ => Err(not_understood()),
    }
}

/// `[unit]` or `[Nunit]` of a datetime64/timedelta64 typestr.
fn datetime_unit(u: &str) -> Option<()> {
    let inner = u.strip_prefix('[')?.strip_suffix(']')?;
    let unit = inner.trim_start_matches(|c: char| c.is_ascii_digit());
    matches!(
        unit,
        "Y" | "M"
            | "W"
            | "D"
            | "h"
            | "m"
            | "s"
            | "ms"
            | "us"
            | "μs"
            | "ns"
            | "ps"
            | "fs"
            | "as"
            | "generic"
    )
    .then_some(())
}

/// Names `numpy.dtype` accepts in some numpy version, with item size and whether they hold
/// objects.
fn names() -> &'static std::collections::HashMap<&'static str, (u64, bool)> {
    static NAMES: OnceLock<std::collections::HashMap<&'static str, (u64, bool)>> = OnceLock::new();
    NAMES.get_or_init(|| {
        include_str!("../../data/numpy_dtype_names.tsv")
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .filter_map(|l| {
                let mut f = l.split('\t');
                let name = f.next()?;
                let size = f.next()?.parse().ok()?;
                let object = f.next()? == "yes";
                Some((name, (size, object)))
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_table_is_read() {
        // Every row parses, and the common names are there (the table is generated from
        // numpy.sctypeDict by scripts/gen_numpy_dtype_names.py).
        let rows = include_str!("../../data/numpy_dtype_names.tsv")
            .lines()
            .filter(|l| !l.starts_with('#'))
            .count();
        assert_eq!(names().len(), rows);
        assert_eq!(names().get("float64"), Some(&(8, false)));
        assert_eq!(names().get("object"), Some(&(8, true)));
    }
}
