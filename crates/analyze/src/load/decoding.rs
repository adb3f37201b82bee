//! Python 2 `str`s: how a loader decodes the `STRING`, `BINSTRING` and `SHORT_BINSTRING`
//! opcodes of protocols 0-2, and the error when it cannot (docs/python2-strings.md).
//!
//! `pickle.load(f, encoding='ASCII', errors='strict')` decodes each with
//! `bytes.decode(encoding, errors)`; `'bytes'` keeps them as bytes. numpy and joblib wrap the
//! resulting `UnicodeDecodeError` in their own error, pandas before 3.0 retries with latin-1:
//! the knowledge base's `python2_strings.toml` says which, per version.

use std::fmt;

use knowledge::Knowledge;
use vm::{Node, Py2Str, Trace};

use super::Loader;

/// pickle.load's `encoding` for Python 2 `str`s, as numpy.load also accepts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Encoding {
    /// `'ASCII'`, the default: a byte above 0x7f fails (under `errors='strict'`).
    #[default]
    Ascii,
    /// `'latin1'`: every byte decodes to the code point of the same value.
    Latin1,
    /// `'bytes'`: no decoding; the loader builds `bytes` objects.
    Bytes,
}

impl Encoding {
    /// Parses a codec name the way Python's codec lookup normalizes it (case, `-`/`_`), for
    /// the three encodings whose outcome is known: ASCII, latin-1 and `bytes`.
    #[must_use]
    pub fn parse(s: &str) -> Option<Encoding> {
        let n: String = s
            .trim()
            .to_ascii_lowercase()
            .chars()
            .map(|c| if c == '-' || c == ' ' { '_' } else { c })
            .collect();
        Some(match n.as_str() {
            "ascii" | "us_ascii" | "646" => Encoding::Ascii,
            "latin1" | "latin_1" | "iso_8859_1" | "iso8859_1" | "l1" | "8859" | "cp819" => {
                Encoding::Latin1
            }
            "bytes" => Encoding::Bytes,
            _ => return None,
        })
    }

    /// The name as numpy.load spells it (`'ASCII'`, `'latin1'`, `'bytes'`).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Ascii => "ASCII",
            Encoding::Latin1 => "latin1",
            Encoding::Bytes => "bytes",
        }
    }
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// pickle.load's `errors`: the codec error handler used while decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Errors {
    /// `'strict'`, the default: an undecodable byte raises.
    #[default]
    Strict,
    /// `'ignore'`: drops it.
    Ignore,
    /// `'replace'`: U+FFFD.
    Replace,
    /// `'backslashreplace'`: `\xNN`.
    BackslashReplace,
    /// `'surrogateescape'`: U+DC80..U+DCFF.
    SurrogateEscape,
}

impl Errors {
    /// Parses a handler name.
    #[must_use]
    pub fn parse(s: &str) -> Option<Errors> {
        Some(match s {
            "strict" => Errors::Strict,
            "ignore" => Errors::Ignore,
            "replace" => Errors::Replace,
            "backslashreplace" => Errors::BackslashReplace,
            "surrogateescape" => Errors::SurrogateEscape,
            _ => return None,
        })
    }

    /// The name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Errors::Strict => "strict",
            Errors::Ignore => "ignore",
            Errors::Replace => "replace",
            Errors::BackslashReplace => "backslashreplace",
            Errors::SurrogateEscape => "surrogateescape",
        }
    }
}

/// `encoding` and `errors` together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Decoding {
    /// The encoding.
    pub encoding: Encoding,
    /// The error handler.
    pub errors: Errors,
}

impl Decoding {
    /// pickle.load's defaults.
    #[must_use]
    pub fn is_default(self) -> bool {
        self == Decoding::default()
    }

    /// Whether a non-ASCII byte fails the load.
    #[must_use]
    pub fn rejects_non_ascii(self) -> bool {
        self.encoding == Encoding::Ascii && self.errors == Errors::Strict
    }
}

/// Whether the loader passes the user's `encoding`/`errors` to the unpickler (`pickle.load`,
/// `numpy.load`, `torch.load`); joblib.load and pandas.read_pickle always use the defaults.
#[must_use]
pub fn takes_encoding(loader: Loader) -> bool {
    matches!(loader, Loader::Pickle | Loader::Numpy | Loader::Torch)
}

/// The error loading `py2` fails with, in the loader's words, or `None` when it decodes (or
/// the loader retries with an encoding that always decodes).
///
/// `version_of(dist)` is the target's installed version; `npy` says the pickle is the
/// payload of a `.npy` file.
#[must_use]
pub fn decode_error(
    trace: &Trace<'_>,
    py2: Py2Str,
    loader: Loader,
    decoding: Decoding,
    npy: bool,
    knowledge: &Knowledge,
    version_of: &dyn Fn(&str) -> Option<String>,
) -> Option<String> {
    let decoding = if takes_encoding(loader) {
        decoding
    } else {
        Decoding::default()
    };
    if !decoding.rejects_non_ascii() {
        return None;
    }
    let bytes = str_bytes(trace, py2)?;
    let pos = bytes.iter().position(|b| !b.is_ascii())?;
    let table = &knowledge.python2_strings;
    let applies = |entry_loader: &str, dist: &str, since: &str, until: &str| {
        entry_loader == loader.name()
            && version_of(dist).is_some_and(|v| knowledge::in_range(&v, since, until))
    };
    if table
        .fallback
        .iter()
        .any(|f| applies(&f.loader, &f.dist, &f.since, &f.until))
    {
        return None;
    }
    let wrapper = table
        .wrapper
        .iter()
        .find(|w| (npy || !w.npy_only) && applies(&w.loader, &w.dist, &w.since, &w.until));
    let byte = bytes[pos];
    Some(match wrapper {
        Some(w) => {
            let mut repr = String::from("UnicodeDecodeError('ascii', ");
            pickle::pyrepr::bytes_repr(&mut repr, &bytes);
            repr.push_str(&format!(
                ", {pos}, {}, 'ordinal not in range(128)')",
                pos + 1
            ));
            w.render(&repr)
        }
        None => format!(
            "UnicodeDecodeError: 'ascii' codec can't decode byte 0x{byte:02x} in position {pos}: ordinal not in range(128)"
        ),
    })
}

/// The bytes of a Python 2 `str`: its node holds them decoded as latin-1.
fn str_bytes(trace: &Trace<'_>, py2: Py2Str) -> Option<Vec<u8>> {
    let Some(Node::Str(s)) = trace.nodes.get(py2.node.index()) else {
        return None;
    };
    let text = std::str::from_utf8(s).ok()?;
    text.chars()
        .map(|c| u8::try_from(u32::from(c)).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codec_names_normalize_like_python() {
        for (name, want) in [
            ("ASCII", Encoding::Ascii),
            ("us-ascii", Encoding::Ascii),
            ("latin1", Encoding::Latin1),
            ("Latin-1", Encoding::Latin1),
            ("ISO-8859-1", Encoding::Latin1),
            ("bytes", Encoding::Bytes),
        ] {
            assert_eq!(Encoding::parse(name), Some(want), "{name}");
        }
        assert_eq!(Encoding::parse("utf-8"), None);
        assert_eq!(
            Errors::parse("surrogateescape"),
            Some(Errors::SurrogateEscape)
        );
        assert_eq!(Errors::parse("bogus"), None);
    }
}
