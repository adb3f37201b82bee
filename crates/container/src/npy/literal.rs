//! The Python literals of an `.npy` header, read the way numpy reads them: `ast.literal_eval`
//! of the header text, and for format versions 1.0 and 2.0 (which Python 2 wrote) a second try
//! after `_filter_header` drops the `L` that Python 2 put after long integers (`(2L, 3L)`).
//!
//! Only what `literal_eval` accepts is accepted: strings (with `u`, `b`, `r` prefixes, escapes,
//! implicit concatenation), numbers (with a sign), tuples, lists, dicts, sets, `True`, `False`
//! and `None`, with comments and line continuations between tokens.

use num_bigint::BigInt;

/// A Python literal.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Lit {
    /// `str`.
    Str(String),
    /// `bytes`.
    Bytes(Vec<u8>),
    /// `int`.
    Int(BigInt),
    /// `float` or `complex` (the value does not matter to a header).
    Float,
    /// `True` / `False`.
    Bool(bool),
    /// `None`.
    None,
    /// A tuple.
    Tuple(Vec<Lit>),
    /// A list.
    List(Vec<Lit>),
    /// A set.
    Set(Vec<Lit>),
    /// A dict, in source order (duplicate keys included; the last one wins, as in Python).
    Dict(Vec<(Lit, Lit)>),
}

/// Why the text is not a literal, at a byte offset of the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LitError {
    pub(crate) offset: usize,
    pub(crate) reason: String,
}

/// Parses `text` as `ast.literal_eval` does; with `drop_long_suffix`, an `L` name right after a
/// number is skipped first (`_filter_header`).
pub(crate) fn parse(text: &str, drop_long_suffix: bool) -> Result<Lit, LitError> {
    // literal_eval strips leading spaces and tabs before parsing.
    let start = text.len() - text.trim_start_matches([' ', '\t']).len();
    let mut p = Parser {
        s: text.as_bytes(),
        i: start,
        drop_long_suffix,
        depth: 0,
    };
    let v = p.expr()?;
    p.skip_ws();
    if p.i < p.s.len() {
        return Err(p.err("unexpected text after the literal"));
    }
    Ok(v)
}

struct Parser<'s> {
    s: &'s [u8],
    i: usize,
    drop_long_suffix: bool,
    depth: usize,
}

/// Nesting deeper than this is refused (Python's parser has a similar limit).
const MAX_DEPTH: usize = 200;

impl Parser<'_> {
    fn err(&self, reason: &str) -> LitError {
        LitError {
            offset: self.i,
            reason: reason.to_owned(),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    /// Whitespace, comments and backslash-newline continuations between tokens.
    fn skip_ws(&mut self) {
        while let Some(c) = self.peek() {
            match c {
                b' ' | b'\t' | b'\n' | b'\r' | 0x0c => self.i += 1,
                b'#' => {
                    while self.peek().is_some_and(|c| c != b'\n' && c != b'\r') {
                        self.i += 1;
                    }
                }
                b'\\' if matches!(self.s.get(self.i + 1), Some(b'\n' | b'\r')) => self.i += 2,
                _ => break,
            }
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        self.skip_ws();
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn expr(&mut self) -> Result<Lit, LitError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err("too deeply nested"));
        }
        let v = self.atom();
        self.depth -= 1;
        v
    }

    fn atom(&mut self) -> Result<Lit, LitError> {
        self.skip_ws();
        let Some(c) = self.peek() else {
            return Err(self.err("unexpected end of the header"));
        };
        match c {
            b'(' => {
                self.i += 1;
                let (items, trailing_comma) = self.items(b')')?;
                // `(x)` is x; `(x,)` and `()` are tuples.
                Ok(if items.len() == 1 && !trailing_comma {
                    items.into_iter().next().unwrap_or(Lit::None)
                } else {
                    Lit::Tuple(items)
                })
            }
            b'[' => {
                self.i += 1;
                Ok(Lit::List(self.items(b']')?.0))
            }
            b'{' => {
                self.i += 1;
                self.dict_or_set()
            }
            b'-' | b'+' => {
                self.i += 1;
                let neg = c == b'-';
                match self.expr()? {
                    Lit::Int(n) => Ok(Lit::Int(if neg { -n } else { n })),
                    Lit::Float => Ok(Lit::Float),
                    // literal_eval allows a sign on numbers only (True is an int there too,
                    // but `-True` is not a literal).
                    _ => Err(self.err("a sign on something that is not a number")),
                }
            }
            b'0'..=b'9' | b'.'
                if c != b'.' || self.s.get(self.i + 1).is_some_and(u8::is_ascii_digit) =>
            {
                let n = self.number()?;
                self.skip_long_suffix();
                Ok(n)
            }
            b'\'' | b'"' => self.strings(),
            c if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 => {
                let start = self.i;
                while self
                    .peek()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80)
                {
                    self.i += 1;
                }
                let word = &self.s[start..self.i];
                if matches!(self.peek(), Some(b'\'' | b'"')) && is_string_prefix(word) {
                    self.i = start;
                    return self.strings();
                }
                match word {
                    b"True" => Ok(Lit::Bool(true)),
                    b"False" => Ok(Lit::Bool(false)),
                    b"None" => Ok(Lit::None),
                    _ => {
                        self.i = start;
                        Err(self.err("a name that is not a literal"))
                    }
                }
            }
            _ => Err(self.err("unexpected character")),
        }
    }

    /// `_filter_header`: an `L` name token after a number is dropped (Python 2 longs).
    fn skip_long_suffix(&mut self) {
        if !self.drop_long_suffix {
            return;
        }
        let save = self.i;
        self.skip_ws();
        let is_l = self.peek() == Some(b'L')
            && !self
                .s
                .get(self.i + 1)
                .is_some_and(|&c| c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80);
        if is_l {
            self.i += 1;
        } else {
            self.i = save;
        }
    }

    /// Comma-separated expressions up to `close`; whether a comma followed the last one.
    fn items(&mut self, close: u8) -> Result<(Vec<Lit>, bool), LitError> {
        let mut items = Vec::new();
        let mut trailing_comma = false;
        loop {
            if self.eat(close) {
                return Ok((items, trailing_comma));
            }
            if !items.is_empty() && !trailing_comma {
                return Err(self.err("expected a comma"));
            }
            items.push(self.expr()?);
            trailing_comma = self.eat(b',');
        }
    }

    fn dict_or_set(&mut self) -> Result<Lit, LitError> {
        if self.eat(b'}') {
            return Ok(Lit::Dict(Vec::new()));
        }
        let first = self.expr()?;
        if !self.eat(b':') {
            let mut items = vec![first];
            if self.eat(b',') {
                let (rest, _) = self.items(b'}')?;
                items.extend(rest);
            } else if !self.eat(b'}') {
                return Err(self.err("expected ',' or '}'"));
            }
            return Ok(Lit::Set(items));
        }
        let mut pairs = vec![(first, self.expr()?)];
        loop {
            if self.eat(b'}') {
                return Ok(Lit::Dict(pairs));
            }
            if !self.eat(b',') {
                return Err(self.err("expected ',' or '}'"));
            }
            if self.eat(b'}') {
                return Ok(Lit::Dict(pairs));
            }
            let k = self.expr()?;
            if !self.eat(b':') {
                return Err(self.err("expected ':'"));
            }
            pairs.push((k, self.expr()?));
        }
    }

    /// A number token: decimal, hex, octal or binary int (underscores between digits), float,
    /// or imaginary. Python 3 forbids leading zeros in a non-zero decimal int.
    fn number(&mut self) -> Result<Lit, LitError> {
        let start = self.i;
        let s = self.s;
        let prefixed = s.get(start) == Some(&b'0')
            && matches!(
                s.get(start + 1),
                Some(b'x' | b'X' | b'o' | b'O' | b'b' | b'B')
            );
        if prefixed {
            let radix = match s[start + 1] {
                b'x' | b'X' => 16,
                b'o' | b'O' => 8,
                _ => 2,
            };
            let mut j = start + 2;
            let mut digits = String::new();
            let mut prev_digit = false;
            while let Some(&c) = s.get(j) {
                if c == b'_' && (prev_digit || j == start + 2) {
                    prev_digit = false;
                } else if (c as char).is_digit(radix) {
                    digits.push(c as char);
                    prev_digit = true;
                } else {
                    break;
                }
                j += 1;
            }
            if digits.is_empty() || !prev_digit {
                return Err(self.err("invalid number"));
            }
            self.i = j;
            self.check_number_end()?;
            let n = BigInt::parse_bytes(digits.as_bytes(), radix)
                .ok_or_else(|| self.err("invalid number"))?;
            return Ok(Lit::Int(n));
        }
        // Decimal: digits [. digits] [e [+-] digits] [j]
        let mut j = start;
        let mut int_digits = String::new();
        let mut is_float = false;
        let digits_run = |j: &mut usize, out: &mut String| -> bool {
            let mut prev_digit = false;
            let mut any = false;
            while let Some(&c) = s.get(*j) {
                if c.is_ascii_digit() {
                    out.push(c as char);
                    prev_digit = true;
                    any = true;
                } else if c == b'_' && prev_digit && s.get(*j + 1).is_some_and(u8::is_ascii_digit) {
                    prev_digit = false;
                } else {
                    break;
                }
                *j += 1;
            }
            any
        };
        digits_run(&mut j, &mut int_digits);
        if s.get(j) == Some(&b'.') {
            is_float = true;
            j += 1;
            digits_run(&mut j, &mut String::new());
        }
        if matches!(s.get(j), Some(b'e' | b'E')) {
            let mut k = j + 1;
            if matches!(s.get(k), Some(b'+' | b'-')) {
                k += 1;
            }
            if digits_run(&mut k, &mut String::new()) {
                is_float = true;
                j = k;
            }
        }
        if matches!(s.get(j), Some(b'j' | b'J')) {
            is_float = true;
            j += 1;
        }
        self.i = j;
        if !is_float
            && int_digits.len() > 1
            && int_digits.starts_with('0')
            && int_digits.bytes().any(|c| c != b'0')
        {
            return Err(self.err("leading zeros in a decimal integer"));
        }
        self.check_number_end()?;
        if is_float {
            return Ok(Lit::Float);
        }
        BigInt::parse_bytes(int_digits.as_bytes(), 10)
            .map(Lit::Int)
            .ok_or_else(|| self.err("invalid number"))
    }

    /// A number followed directly by a letter other than an `L` that `_filter_header` drops
    /// (`2L`) is a syntax error in Python 3 (`2x`), as is a second point.
    fn check_number_end(&self) -> Result<(), LitError> {
        match self.peek() {
            Some(b'L') if self.drop_long_suffix => Ok(()),
            Some(c) if c.is_ascii_alphanumeric() || c == b'_' || c == b'.' => {
                Err(self.err("invalid number"))
            }
            _ => Ok(()),
        }
    }

    /// One or more adjacent string literals, concatenated. Mixing bytes and str is an error.
    fn strings(&mut self) -> Result<Lit, LitError> {
        let mut text: Option<String> = None;
        let mut bytes: Option<Vec<u8>> = None;
        loop {
            self.skip_ws();
            let start = self.i;
            let mut prefix_end = self.i;
            while self.s.get(prefix_end).is_some_and(u8::is_ascii_alphabetic) {
                prefix_end += 1;
            }
            if !matches!(self.s.get(prefix_end), Some(b'\'' | b'"'))
                || !is_string_prefix(&self.s[start..prefix_end])
            {
                break;
            }
            let prefix = self.s[start..prefix_end].to_ascii_lowercase();
            self.i = prefix_end;
            let raw = prefix.contains(&b'r');
            let is_bytes = prefix.contains(&b'b');
            let body = self.string_body(raw, is_bytes)?;
            match (is_bytes, &mut text, &mut bytes) {
                (false, _, Some(_)) | (true, Some(_), _) => {
                    self.i = start;
                    return Err(self.err("cannot mix bytes and nonbytes literals"));
                }
                (false, t, _) => t
                    .get_or_insert_with(String::new)
                    .push_str(&String::from_utf8_lossy(&body)),
                (true, _, b) => b.get_or_insert_with(Vec::new).extend_from_slice(&body),
            }
        }
        match (text, bytes) {
            (Some(t), None) => Ok(Lit::Str(t)),
            (None, Some(b)) => Ok(Lit::Bytes(b)),
            _ => Err(self.err("expected a string")),
        }
    }

    /// The body of one string literal after its prefix, escapes decoded (as UTF-8 for str).
    fn string_body(&mut self, raw: bool, is_bytes: bool) -> Result<Vec<u8>, LitError> {
        let q = self.s[self.i];
        let triple = self.s.get(self.i..self.i + 3) == Some(&[q, q, q][..]);
        self.i += if triple { 3 } else { 1 };
        let mut out = Vec::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(self.err("unterminated string"));
            };
            if c == q && (!triple || self.s.get(self.i..self.i + 3) == Some(&[q, q, q][..])) {
                self.i += if triple { 3 } else { 1 };
                return Ok(out);
            }
            if (c == b'\n' || c == b'\r') && !triple {
                return Err(self.err("unterminated string"));
            }
            if is_bytes && c >= 0x80 {
                return Err(self.err("bytes can only contain ASCII literal characters"));
            }
            if c != b'\\' {
                out.push(c);
                self.i += 1;
                continue;
            }
            let Some(&e) = self.s.get(self.i + 1) else {
                return Err(self.err("unterminated string"));
            };
            if raw {
                out.extend_from_slice(&[b'\\', e]);
                self.i += 2;
                continue;
            }
            self.i += 2;
            match e {
                b'\n' => {}
                b'\r' => {
                    if self.peek() == Some(b'\n') {
                        self.i += 1;
                    }
                }
                b'\\' | b'\'' | b'"' => out.push(e),
                b'a' => out.push(7),
                b'b' => out.push(8),
                b'f' => out.push(12),
                b'n' => out.push(b'\n'),
                b'r' => out.push(b'\r'),
                b't' => out.push(b'\t'),
                b'v' => out.push(11),
                b'0'..=b'7' => {
                    let mut v = u32::from(e - b'0');
                    for _ in 0..2 {
                        match self.peek() {
                            Some(d @ b'0'..=b'7') => {
                                v = v * 8 + u32::from(d - b'0');
                                self.i += 1;
                            }
                            _ => break,
                        }
                    }
                    push_code(&mut out, v, is_bytes);
                }
                b'x' => {
                    let v = self.hex_digits(2)?;
                    push_code(&mut out, v, is_bytes);
                }
                b'u' | b'U' if !is_bytes => {
                    let v = self.hex_digits(if e == b'u' { 4 } else { 8 })?;
                    if v > 0x10_FFFF {
                        return Err(self.err("illegal Unicode character"));
                    }
                    push_code(&mut out, v, false);
                }
                b'N' if !is_bytes => {
                    // \N{NAME} needs the Unicode name database; no header needs it.
                    return Err(self.err("\\N{...} escapes are not supported"));
                }
                _ => out.extend_from_slice(&[b'\\', e]),
            }
        }
    }

    fn hex_digits(&mut self, n: usize) -> Result<u32, LitError> {
        let mut v = 0u32;
        for _ in 0..n {
            let d = self
                .peek()
                .and_then(|c| (c as char).to_digit(16))
                .ok_or_else(|| self.err("truncated \\x, \\u or \\U escape"))?;
            v = v * 16 + d;
            self.i += 1;
        }
        Ok(v)
    }
}

fn push_code(out: &mut Vec<u8>, v: u32, is_bytes: bool) {
    if is_bytes {
        out.push(v as u8);
    } else {
        let c = char::from_u32(v).unwrap_or('\u{fffd}');
        let mut buf = [0u8; 4];
        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
    }
}

/// `u`, `r`, `b`, `br`, `rb` in any case (`f` strings are not literals).
fn is_string_prefix(p: &[u8]) -> bool {
    let p = p.to_ascii_lowercase();
    matches!(p.as_slice(), b"" | b"u" | b"r" | b"b" | b"br" | b"rb")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int(n: i64) -> Lit {
        Lit::Int(BigInt::from(n))
    }

    #[test]
    fn python2_longs_only_with_the_filter() {
        assert!(parse("(2L, 3L)", false).is_err());
        assert_eq!(
            parse("(2L, 3 L)", true).unwrap(),
            Lit::Tuple(vec![int(2), int(3)])
        );
        assert!(parse("(2l,)", true).is_err());
        assert_eq!(parse("(0x1fL,)", true).unwrap(), Lit::Tuple(vec![int(31)]));
    }

    #[test]
    fn strings_and_containers() {
        assert_eq!(parse("u'<f8'", false).unwrap(), Lit::Str("<f8".into()));
        assert_eq!(parse("'a' \"b\"", false).unwrap(), Lit::Str("ab".into()));
        assert_eq!(
            parse("'\\x41\\u00e9'", false).unwrap(),
            Lit::Str("Aé".into())
        );
        assert_eq!(parse("(1)", false).unwrap(), int(1));
        assert_eq!(parse("()", false).unwrap(), Lit::Tuple(vec![]));
        assert_eq!(parse("{}", false).unwrap(), Lit::Dict(vec![]));
        assert!(parse("'a' b'b'", false).is_err());
        assert!(parse("{'a': 1,, }", false).is_err());
        assert!(parse("007", false).is_err());
        assert_eq!(parse("-0", false).unwrap(), int(0));
        assert_eq!(
            parse("  {1}  # c\n", false).unwrap(),
            Lit::Set(vec![int(1)])
        );
    }
}
