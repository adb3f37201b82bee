//! numpy structured dtypes as pickled: field names, types and byte offsets, and reading
//! fields out of raw records.
//!
//! scikit-learn's tree node records changed size between versions (`Tree` nodes are 56 bytes up
//! to 1.2 and 64 from 1.3; HGB predictor nodes 52 and 56, packed), so nothing here assumes a
//! layout: numpy pickles a structured dtype as `numpy.dtype('V64', False, True)` with BUILD
//! state `(3, '|', None, names, fields, itemsize, alignment, flags)`, where `fields` maps each
//! name to `(sub-dtype, offset)` (read by `state::Array::fields`), and that is what the
//! records are read by.

/// The scalar kind of a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Signed integer.
    Int,
    /// Unsigned integer.
    Uint,
    /// IEEE float.
    Float,
    /// numpy bool (one byte).
    Bool,
}

/// One field of a structured dtype.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Field {
    /// Its name.
    pub(crate) name: String,
    /// Scalar kind.
    pub(crate) kind: Kind,
    /// Bytes (1, 2, 4 or 8).
    pub(crate) size: usize,
    /// Byte offset in the record.
    pub(crate) offset: usize,
    /// Stored big-endian.
    pub(crate) big_endian: bool,
}

impl Field {
    fn raw(&self, record: &[u8]) -> u64 {
        let bytes = &record[self.offset..self.offset + self.size];
        let mut v = 0u64;
        if self.big_endian {
            for &b in bytes {
                v = (v << 8) | u64::from(b);
            }
        } else {
            for &b in bytes.iter().rev() {
                v = (v << 8) | u64::from(b);
            }
        }
        v
    }

    /// The field as an integer (`None` for floats, or an unsigned value above `i64::MAX`).
    #[must_use]
    pub(crate) fn int(&self, record: &[u8]) -> Option<i64> {
        let raw = self.raw(record);
        match self.kind {
            Kind::Uint | Kind::Bool => i64::try_from(raw).ok(),
            Kind::Int => {
                let shift = 64 - 8 * self.size as u32;
                #[allow(clippy::cast_possible_wrap)]
                Some(((raw << shift) as i64) >> shift)
            }
            Kind::Float => None,
        }
    }

    /// The field as a float (integers are converted).
    #[must_use]
    pub(crate) fn float(&self, record: &[u8]) -> f64 {
        match (self.kind, self.size) {
            #[allow(clippy::cast_possible_truncation)]
            (Kind::Float, 4) => f64::from(f32::from_bits(self.raw(record) as u32)),
            (Kind::Float, _) => f64::from_bits(self.raw(record)),
            #[allow(clippy::cast_precision_loss)]
            _ => self.int(record).unwrap_or(i64::MAX) as f64,
        }
    }
}

/// A structured dtype: its item size and fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Layout {
    /// Bytes per record.
    pub(crate) itemsize: usize,
    /// Fields, in the dtype's order.
    pub(crate) fields: Vec<Field>,
}

/// Parses a numpy typestr such as `<i8`, `|u1`, `>f4`, `?` into (kind, size, big-endian).
fn scalar(typestr: &str) -> Option<(Kind, usize, bool)> {
    let (big, code) = match typestr.as_bytes().first()? {
        b'<' | b'=' | b'|' => (false, &typestr[1..]),
        b'>' => (true, &typestr[1..]),
        _ => (false, typestr),
    };
    if code == "?" || code == "b1" {
        return Some((Kind::Bool, 1, false));
    }
    let kind = match code.as_bytes().first()? {
        b'i' => Kind::Int,
        b'u' => Kind::Uint,
        b'f' => Kind::Float,
        _ => return None,
    };
    let size: usize = code[1..].parse().ok()?;
    let ok = match kind {
        Kind::Float => matches!(size, 4 | 8),
        _ => matches!(size, 1 | 2 | 4 | 8),
    };
    ok.then_some((kind, size, big && size > 1))
}

impl Layout {
    /// A layout from `(name, typestr, offset)` triples, checking that each field lies inside
    /// the record.
    ///
    /// # Errors
    /// A type that is not a plain integer, float or bool, or a field past the record's end.
    pub(crate) fn new(
        itemsize: usize,
        fields: &[(String, String, usize)],
    ) -> Result<Layout, String> {
        let mut out = Vec::with_capacity(fields.len());
        for (name, typestr, offset) in fields {
            let (kind, size, big_endian) = scalar(typestr)
                .ok_or_else(|| format!("field {name:?} has type {typestr:?}, not a number"))?;
            if offset.checked_add(size).is_none_or(|end| end > itemsize) {
                return Err(format!(
                    "field {name:?} ({typestr} at byte {offset}) lies outside the {itemsize}-byte record"
                ));
            }
            out.push(Field {
                name: name.clone(),
                kind,
                size,
                offset: *offset,
                big_endian,
            });
        }
        Ok(Layout {
            itemsize,
            fields: out,
        })
    }

    /// A field by name.
    #[must_use]
    pub(crate) fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// A field that must be there.
    ///
    /// # Errors
    /// It is missing (names the fields that are there).
    pub(crate) fn require(&self, name: &str) -> Result<&Field, String> {
        self.field(name).ok_or_else(|| {
            let have: Vec<&str> = self.fields.iter().map(|f| f.name.as_str()).collect();
            format!(
                "the node records have no {name:?} field (they have {})",
                have.join(", ")
            )
        })
    }

    /// The records of `bytes`, which must hold exactly `count` of them.
    ///
    /// # Errors
    /// The byte length is not `count * itemsize`.
    pub(crate) fn records<'b>(
        &self,
        bytes: &'b [u8],
        count: usize,
    ) -> Result<Vec<&'b [u8]>, String> {
        if count.checked_mul(self.itemsize) != Some(bytes.len()) {
            return Err(format!(
                "{} bytes of node records are not {count} records of {} bytes",
                bytes.len(),
                self.itemsize
            ));
        }
        Ok(bytes.chunks_exact(self.itemsize).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typestrs() {
        assert_eq!(scalar("<i8"), Some((Kind::Int, 8, false)));
        assert_eq!(scalar("|u1"), Some((Kind::Uint, 1, false)));
        assert_eq!(scalar(">f4"), Some((Kind::Float, 4, true)));
        assert_eq!(scalar("?"), Some((Kind::Bool, 1, false)));
        assert_eq!(scalar("<f2"), None);
        assert_eq!(scalar("|V8"), None);
        assert_eq!(scalar("<U4"), None);
    }

    #[test]
    fn fields_outside_the_record_are_refused() {
        let f = |n: &str, t: &str, o| (n.to_owned(), t.to_owned(), o);
        assert!(Layout::new(8, &[f("a", "<i8", 0)]).is_ok());
        let e = Layout::new(8, &[f("a", "<i8", 1)]).unwrap_err();
        assert!(e.contains("outside the 8-byte record"), "{e}");
        assert!(Layout::new(8, &[f("a", "<i8", usize::MAX)]).is_err());
        assert!(Layout::new(8, &[f("a", "|O", 0)]).is_err());
    }

    #[test]
    fn reads_signed_unsigned_and_floats_in_both_byte_orders() {
        let f = |n: &str, t: &str, o| (n.to_owned(), t.to_owned(), o);
        let l = Layout::new(
            16,
            &[
                f("a", "<i4", 0),
                f("b", ">i2", 4),
                f("c", "<f4", 6),
                f("d", "|u1", 10),
                f("e", ">u4", 11),
            ],
        )
        .unwrap();
        let mut r = [0u8; 16];
        r[0..4].copy_from_slice(&(-2i32).to_le_bytes());
        r[4..6].copy_from_slice(&(-300i16).to_be_bytes());
        r[6..10].copy_from_slice(&1.5f32.to_le_bytes());
        r[10] = 200;
        r[11..15].copy_from_slice(&4_000_000_000u32.to_be_bytes());
        assert_eq!(l.require("a").unwrap().int(&r), Some(-2));
        assert_eq!(l.require("b").unwrap().int(&r), Some(-300));
        assert_eq!(l.require("c").unwrap().float(&r), 1.5);
        assert_eq!(l.require("c").unwrap().int(&r), None);
        assert_eq!(l.require("d").unwrap().int(&r), Some(200));
        assert_eq!(l.require("e").unwrap().int(&r), Some(4_000_000_000));
        assert!(l.require("zz").unwrap_err().contains("a, b, c, d, e"));
        assert!(l.records(&r, 1).is_ok());
        assert!(l.records(&r[..15], 1).is_err());
        assert!(l.records(&r, usize::MAX).is_err());
    }
}
