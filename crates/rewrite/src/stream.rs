//! One pickle stream as a list of ops and raw gaps, and writing it back with some ops replaced.
//!
//! A stream is what one loader reads from one file or member: usually one pickle, sometimes
//! several in a row (legacy torch, a raw file of concatenated dumps), and for joblib a pickle
//! interleaved with raw array bytes and nested pickles. Edits replace whole ops; everything
//! else is copied byte for byte, so an empty edit set gives back the input unchanged.
//!
//! Two things depend on byte positions and are recomputed when ops change length:
//! - `FRAME` sizes (protocol 4+): each frame keeps the ops it had, with its new length;
//! - joblib's array alignment padding, which joblib computes from the position in the stream.

use std::collections::BTreeMap;

use pickle::{Op, Opcode, Parser};

use crate::error::RewriteError;

/// Bytes inside a stream that are not pickle ops, as the loader skips them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gap {
    /// Bytes copied as they are (joblib arrays written without alignment, trailing bytes).
    Raw {
        /// First byte.
        start: usize,
        /// One past the last byte.
        end: usize,
    },
    /// A joblib array written with alignment: one pad-length byte at `pad_at`, that many
    /// `0xff` bytes, then the data. The padding is recomputed from the new position.
    AlignedArray {
        /// Offset of the pad-length byte.
        pad_at: usize,
        /// First data byte.
        data_start: usize,
        /// One past the last data byte.
        data_end: usize,
        /// joblib's `numpy_array_alignment_bytes`.
        align: u8,
    },
    /// A nested pickle starts here (a joblib object array): it has its own stack and memo,
    /// and the outer pickle resumes after its STOP.
    NestedPickle {
        /// Offset of its first op.
        at: usize,
    },
}

impl Gap {
    /// The first byte it covers.
    pub(crate) fn start(&self) -> usize {
        match *self {
            Gap::Raw { start, .. } => start,
            Gap::AlignedArray { pad_at, .. } => pad_at,
            Gap::NestedPickle { at } => at,
        }
    }
}

/// One element of a parsed stream.
#[derive(Debug, Clone, Copy)]
pub enum Item<'a> {
    /// A pickle op.
    Op(Op<'a>),
    /// Raw bytes between ops.
    Gap(Gap),
    /// A new pickle begins: a nested one (joblib object arrays) or the next one in a row.
    PickleStart {
        /// Offset of its first op.
        at: usize,
        /// Whether it is nested inside the pickle before it.
        nested: bool,
    },
}

impl Item<'_> {
    /// The item's offset in the original stream.
    #[must_use]
    pub fn offset(&self) -> usize {
        match self {
            Item::Op(op) => op.offset as usize,
            Item::Gap(g) => g.start(),
            Item::PickleStart { at, .. } => *at,
        }
    }
}

/// A parsed stream.
#[derive(Debug)]
pub struct Stream<'a> {
    data: &'a [u8],
    items: Vec<Item<'a>>,
}

/// Changes to a stream, by item index: ops replaced, ops inserted before or after an op, and
/// the data of a joblib array gap replaced.
#[derive(Debug, Default, Clone)]
pub struct Edits {
    by_item: BTreeMap<usize, Vec<u8>>,
    before: BTreeMap<usize, Vec<u8>>,
    after: BTreeMap<usize, Vec<u8>>,
    gap_data: BTreeMap<usize, Vec<u8>>,
}

impl Edits {
    /// Replaces the op at item index `item` by `bytes` (one or more encoded ops).
    pub fn replace(&mut self, item: usize, bytes: Vec<u8>) {
        self.by_item.insert(item, bytes);
    }

    /// Inserts encoded ops right before the item `item`.
    pub fn insert_before(&mut self, item: usize, bytes: &[u8]) {
        self.before
            .entry(item)
            .or_default()
            .extend_from_slice(bytes);
    }

    /// Inserts encoded ops right after the item `item` (after its replacement, if any).
    pub fn insert_after(&mut self, item: usize, bytes: &[u8]) {
        self.after.entry(item).or_default().extend_from_slice(bytes);
    }

    /// Replaces the data of the array gap at `item` (the padding is recomputed as always).
    pub fn replace_gap_data(&mut self, item: usize, data: Vec<u8>) {
        self.gap_data.insert(item, data);
    }

    /// Whether nothing changes.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.by_item.is_empty()
            && self.before.is_empty()
            && self.after.is_empty()
            && self.gap_data.is_empty()
    }

    /// Number of changes.
    #[must_use]
    pub fn len(&self) -> usize {
        self.by_item.len() + self.before.len() + self.after.len() + self.gap_data.len()
    }

    /// Adds `other`'s changes; on the same op, `other`'s replacement wins and insertions
    /// are concatenated.
    pub fn merge(&mut self, other: Edits) {
        self.by_item.extend(other.by_item);
        for (k, v) in other.before {
            self.before.entry(k).or_default().extend(v);
        }
        for (k, v) in other.after {
            self.after.entry(k).or_default().extend(v);
        }
        self.gap_data.extend(other.gap_data);
    }
}

impl<'a> Stream<'a> {
    /// Splits `data` into ops and gaps. `gaps` must be sorted by offset and fall between ops.
    ///
    /// # Errors
    /// A malformed op (a stream that cannot be parsed cannot be rewritten safely), or a gap
    /// that does not start on an op boundary.
    pub fn parse(data: &'a [u8], gaps: &[Gap]) -> Result<Self, RewriteError> {
        let mut items = Vec::new();
        let mut pos = 0usize;
        let mut gi = 0usize;
        let mut after_stop = true;
        while pos < data.len() {
            if let Some(g) = gaps.get(gi) {
                if g.start() < pos {
                    return Err(RewriteError::new(
                        g.start() as u64,
                        "array data starts inside an op",
                    ));
                }
                if g.start() == pos {
                    gi += 1;
                    match *g {
                        Gap::Raw { end, .. } | Gap::AlignedArray { data_end: end, .. } => {
                            if end < pos || end > data.len() {
                                return Err(RewriteError::new(
                                    pos as u64,
                                    "array data runs past the end of the stream",
                                ));
                            }
                            items.push(Item::Gap(*g));
                            pos = end;
                        }
                        Gap::NestedPickle { at } => {
                            items.push(Item::PickleStart { at, nested: true });
                            after_stop = false;
                        }
                    }
                    continue;
                }
            }
            if after_stop {
                if !starts_pickle(data, pos) && !items.is_empty() {
                    items.push(Item::Gap(Gap::Raw {
                        start: pos,
                        end: data.len(),
                    }));
                    break;
                }
                items.push(Item::PickleStart {
                    at: pos,
                    nested: false,
                });
                after_stop = false;
            }
            let op = match Parser::new(data, pos).next() {
                Some(Ok(op)) => op,
                Some(Err(e)) => {
                    return Err(RewriteError::new(
                        e.offset,
                        format!("cannot rewrite a malformed pickle: {e}"),
                    ));
                }
                None => break,
            };
            pos += op.encoded_len();
            if op.opcode == Opcode::STOP {
                after_stop = true;
            }
            items.push(Item::Op(op));
        }
        if !after_stop {
            return Err(RewriteError::new(
                data.len() as u64,
                "the pickle ends without STOP",
            ));
        }
        Ok(Stream { data, items })
    }

    /// The items, in stream order.
    #[must_use]
    pub fn items(&self) -> &[Item<'a>] {
        &self.items
    }

    /// The original bytes.
    #[must_use]
    pub fn data(&self) -> &'a [u8] {
        self.data
    }

    /// Writes the stream with `edits` applied. Without edits, this is the input.
    #[must_use]
    pub fn emit(&self, edits: &Edits) -> Vec<u8> {
        if edits.is_empty() {
            return self.data.to_vec();
        }
        let mut out = Vec::with_capacity(self.data.len() + 64 * edits.len());
        // An open frame: where its size goes in `out`, and where it ended in the input.
        let mut frame: Option<(usize, usize)> = None;
        for (i, item) in self.items.iter().enumerate() {
            if let Some((at, end)) = frame
                && item.offset() >= end
            {
                close_frame(&mut out, at);
                frame = None;
            }
            if let Some(b) = edits.before.get(&i) {
                out.extend_from_slice(b);
            }
            match item {
                Item::Op(op) => {
                    let start = op.offset as usize;
                    if let Some(bytes) = edits.by_item.get(&i) {
                        out.extend_from_slice(bytes);
                    } else if op.opcode == Opcode::FRAME {
                        if let Some((at, _)) = frame.take() {
                            close_frame(&mut out, at);
                        }
                        let size = match op.arg {
                            pickle::Arg::UInt(n) => usize::try_from(n).unwrap_or(usize::MAX),
                            _ => 0,
                        };
                        out.push(Opcode::FRAME.byte());
                        frame = Some((out.len(), (start + 9).saturating_add(size)));
                        out.extend_from_slice(&[0; 8]);
                    } else {
                        out.extend_from_slice(&self.data[start..start + op.encoded_len()]);
                    }
                }
                Item::Gap(Gap::Raw { start, end }) => {
                    out.extend_from_slice(&self.data[*start..*end])
                }
                Item::Gap(Gap::AlignedArray {
                    data_start,
                    data_end,
                    align,
                    ..
                }) => {
                    // joblib: pad = align - (position after the pad byte % align), 1..=align.
                    let align = usize::from((*align).max(1));
                    let pad = align - (out.len() + 1) % align;
                    out.push(pad as u8);
                    out.resize(out.len() + pad, 0xff);
                    match edits.gap_data.get(&i) {
                        Some(d) => out.extend_from_slice(d),
                        None => out.extend_from_slice(&self.data[*data_start..*data_end]),
                    }
                }
                Item::PickleStart { .. } | Item::Gap(Gap::NestedPickle { .. }) => {}
            }
            if let Some(b) = edits.after.get(&i) {
                out.extend_from_slice(b);
            }
        }
        if let Some((at, _)) = frame {
            close_frame(&mut out, at);
        }
        out
    }
}

/// Calls `f` on every op with the state of the pickle it belongs to: a fresh `F` for each
/// pickle in a row, and for a nested pickle (a joblib object array) one stacked on the outer
/// one, which is dropped after the nested STOP so that the outer pickle resumes with its own
/// stack and memo.
pub(crate) fn for_each_op<F: Default>(
    stream: &Stream<'_>,
    mut f: impl FnMut(&mut F, usize, &Op<'_>),
) {
    let mut frames = vec![F::default()];
    for (i, item) in stream.items().iter().enumerate() {
        match item {
            Item::Op(op) => {
                let frame = frames.last_mut().expect("one frame always");
                f(frame, i, op);
                if op.opcode == Opcode::STOP && frames.len() > 1 {
                    frames.pop();
                }
            }
            Item::PickleStart { nested: true, .. } => frames.push(F::default()),
            Item::PickleStart { nested: false, .. } => {
                frames.truncate(1);
                frames[0] = F::default();
            }
            Item::Gap(_) => {}
        }
    }
}

fn close_frame(out: &mut [u8], at: usize) {
    let size = (out.len() - at - 8) as u64;
    out[at..at + 8].copy_from_slice(&size.to_le_bytes());
}

/// Whether a complete pickle (through its STOP) starts at `pos`. Bytes after a pickle that
/// are not one are left as they are, the way the loader leaves them unread.
fn starts_pickle(data: &[u8], pos: usize) -> bool {
    let mut parser = Parser::new(data, pos);
    let mut stopped = false;
    for op in parser.by_ref() {
        match op {
            Ok(op) if op.opcode == Opcode::STOP => stopped = true,
            Ok(_) => {}
            Err(_) => return false,
        }
    }
    stopped
}

/// Encodes a `str` push: SHORT_BINUNICODE when it fits, else BINUNICODE.
pub(crate) fn push_str(out: &mut Vec<u8>, s: &str) {
    if let Ok(n) = u8::try_from(s.len()) {
        out.push(Opcode::SHORT_BINUNICODE.byte());
        out.push(n);
    } else {
        out.push(Opcode::BINUNICODE.byte());
        out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    }
    out.extend_from_slice(s.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_edits_give_back_the_input() {
        let data = b"\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00K\x01K\x02\x86.trailing";
        let s = Stream::parse(data, &[]).unwrap();
        assert_eq!(s.emit(&Edits::default()), data);
    }

    #[test]
    fn frames_take_their_new_length() {
        // FRAME(5) [K 1, K 2, TUPLE2, STOP]: replace K 1 by BININT (5 bytes).
        let data = b"\x80\x04\x95\x06\x00\x00\x00\x00\x00\x00\x00K\x01K\x02\x86.";
        let s = Stream::parse(data, &[]).unwrap();
        let k1 = s
            .items()
            .iter()
            .position(|i| matches!(i, Item::Op(op) if op.opcode == Opcode::BININT1))
            .unwrap();
        let mut e = Edits::default();
        e.replace(k1, b"J\x01\x00\x00\x00".to_vec());
        let out = s.emit(&e);
        assert_eq!(
            out,
            b"\x80\x04\x95\x09\x00\x00\x00\x00\x00\x00\x00J\x01\x00\x00\x00K\x02\x86."
        );
    }

    #[test]
    fn aligned_array_padding_follows_the_new_position() {
        // An op, then a pad byte (1) + 1 pad + 4 data bytes, then STOP.
        let data = b"N\x01\xffDATA.";
        let gaps = [Gap::AlignedArray {
            pad_at: 1,
            data_start: 3,
            data_end: 7,
            align: 4,
        }];
        let s = Stream::parse(data, &gaps).unwrap();
        let none = s
            .items()
            .iter()
            .position(|i| matches!(i, Item::Op(op) if op.opcode == Opcode::NONE))
            .unwrap();
        let mut e = Edits::default();
        e.replace(none, b"NN0".to_vec());
        // 3 bytes of ops, pad byte at 3, data must start at 8: pad 4.
        assert_eq!(s.emit(&e), b"NN0\x04\xff\xff\xff\xffDATA.");
    }

    #[test]
    fn malformed_streams_are_refused_with_an_offset() {
        let err = Stream::parse(b"\x80\x04K", &[]).unwrap_err();
        assert_eq!(err.offset, 2);
    }
}
