//! Renaming globals: GLOBAL and INST lines, and the strings STACK_GLOBAL pops.
//!
//! GLOBAL and INST carry their names as operands, so the op itself is rewritten. STACK_GLOBAL
//! (protocol 4+) pops two strings that were pushed earlier, often memoized and pushed again
//! with GET for the next global of the same module. To know which op pushed each operand,
//! the stream is walked once with a stack of *provenances*: which string push, if any, each
//! stack slot came from, through MEMOIZE/PUT/GET and DUP.
//!
//! A string is rewritten in place only when every use of it (directly and through the memo)
//! is a STACK_GLOBAL operand that wants the same new text. Otherwise the STACK_GLOBAL itself
//! becomes `POP POP <module> <name> STACK_GLOBAL`: the old strings are still pushed (and
//! memoized, so memo indices and every other reference stay valid), then replaced.

use std::collections::HashMap;

use pickle::{Arg, Opcode};

use crate::plan::{Origin, Plan, QualName};
use crate::state::walk::memo_index;
use crate::stream::{Edits, Item, Stream, for_each_op, push_str};

/// How a global was renamed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum How {
    /// The GLOBAL or INST op's own lines.
    Lines,
    /// The string pushes STACK_GLOBAL pops were rewritten where they are.
    InPlace,
    /// The old strings are shared with other uses, so STACK_GLOBAL pops them and new ones are
    /// pushed right before it.
    NewStrings,
}

impl How {
    /// Short name for reports.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            How::Lines => "operand",
            How::InPlace => "in place",
            How::NewStrings => "new strings",
        }
    }
}

/// One rename done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Renamed {
    /// Offset of the GLOBAL, INST or STACK_GLOBAL op.
    pub offset: u64,
    /// Offsets of the string pushes rewritten in place (for STACK_GLOBAL).
    pub string_offsets: Vec<u64>,
    /// As written.
    pub from: QualName,
    /// As rewritten.
    pub to: QualName,
    /// How.
    pub how: How,
    /// Why.
    pub origin: Origin,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Str(u32),
    Other,
    Mark,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Use {
    Module(u32),
    Name(u32),
    Other,
}

struct StrValue {
    item: usize,
    offset: u64,
    text: String,
    uses: Vec<Use>,
}

struct StackGlobal {
    item: usize,
    offset: u64,
    module: Option<u32>,
    name: Option<u32>,
}

#[derive(Default)]
struct Frame {
    stack: Vec<Slot>,
    memo: HashMap<u64, Slot>,
}

/// The text a string op pushes, when it pushes a `str` STACK_GLOBAL accepts.
fn string_push(opcode: Opcode, arg: Arg<'_>) -> Option<String> {
    let bytes = match (opcode, arg) {
        (Opcode::SHORT_BINUNICODE | Opcode::BINUNICODE | Opcode::BINUNICODE8, Arg::Bytes(b)) => {
            return std::str::from_utf8(b).ok().map(str::to_owned);
        }
        // Protocol 0-2 strings decode as ASCII by default; a name with a quote or a
        // backslash escape is left alone.
        (Opcode::SHORT_BINSTRING | Opcode::BINSTRING, Arg::Bytes(b)) => b,
        (Opcode::UNICODE, Arg::Line(b)) if !b.contains(&b'\\') => b,
        _ => return None,
    };
    bytes
        .is_ascii()
        .then(|| String::from_utf8_lossy(bytes).into_owned())
}

/// Walks the stream and records every STACK_GLOBAL with the pushes its operands came from.
fn trace(stream: &Stream<'_>) -> (Vec<StrValue>, Vec<StackGlobal>) {
    let mut values: Vec<StrValue> = Vec::new();
    let mut globals = Vec::new();
    let use_slot = |values: &mut Vec<StrValue>, slot: Slot, u: Use| {
        if let Slot::Str(id) = slot
            && let Some(v) = values.get_mut(id as usize)
        {
            v.uses.push(u);
        }
    };
    for_each_op(stream, |f: &mut Frame, i, op| {
        if let Some(text) = string_push(op.opcode, op.arg) {
            f.stack.push(Slot::Str(values.len() as u32));
            values.push(StrValue {
                item: i,
                offset: op.offset,
                text,
                uses: Vec::new(),
            });
            return;
        }
        let top = f.stack.last().copied().unwrap_or(Slot::Other);
        match op.opcode {
            Opcode::MEMOIZE => {
                let idx = f.memo.len() as u64;
                f.memo.insert(idx, top);
            }
            Opcode::PUT | Opcode::BINPUT | Opcode::LONG_BINPUT => {
                f.memo.insert(memo_index(op.arg).unwrap_or(u64::MAX), top);
            }
            Opcode::GET | Opcode::BINGET | Opcode::LONG_BINGET => {
                let slot = memo_index(op.arg)
                    .and_then(|n| f.memo.get(&n).copied())
                    .unwrap_or(Slot::Other);
                f.stack.push(slot);
            }
            Opcode::DUP => f.stack.push(top),
            Opcode::MARK => f.stack.push(Slot::Mark),
            Opcode::POP => {
                f.stack.pop();
            }
            Opcode::POP_MARK => {
                while let Some(s) = f.stack.pop() {
                    if s == Slot::Mark {
                        break;
                    }
                }
            }
            Opcode::STACK_GLOBAL => {
                let name = f.stack.pop().unwrap_or(Slot::Other);
                let module = f.stack.pop().unwrap_or(Slot::Other);
                let gi = globals.len() as u32;
                let as_id = |s: Slot| match s {
                    Slot::Str(id) => Some(id),
                    _ => None,
                };
                use_slot(&mut values, module, Use::Module(gi));
                use_slot(&mut values, name, Use::Name(gi));
                globals.push(StackGlobal {
                    item: i,
                    offset: op.offset,
                    module: as_id(module),
                    name: as_id(name),
                });
                f.stack.push(Slot::Other);
            }
            Opcode::STOP => {
                // The pickle's result: kept as it is.
                for s in std::mem::take(&mut f.stack) {
                    use_slot(&mut values, s, Use::Other);
                }
            }
            _ => {
                let e = op.opcode.stack_effect();
                if let Some(below) = e.mark_at {
                    while let Some(s) = f.stack.pop() {
                        if s == Slot::Mark {
                            break;
                        }
                        use_slot(&mut values, s, Use::Other);
                    }
                    for _ in 0..below {
                        if let Some(s) = f.stack.pop() {
                            use_slot(&mut values, s, Use::Other);
                        }
                    }
                } else {
                    for _ in 0..e.before {
                        if let Some(s) = f.stack.pop() {
                            use_slot(&mut values, s, Use::Other);
                        }
                    }
                }
                for _ in 0..e.after {
                    f.stack.push(Slot::Other);
                }
            }
        }
    });
    (values, globals)
}

/// Renames every global `plan` names in `stream`.
#[must_use]
pub fn rename(stream: &Stream<'_>, plan: &Plan) -> (Edits, Vec<Renamed>) {
    let mut edits = Edits::default();
    let mut done = Vec::new();
    if plan.is_empty() {
        return (edits, done);
    }
    for (i, item) in stream.items().iter().enumerate() {
        let Item::Op(op) = item else { continue };
        let (Opcode::GLOBAL | Opcode::INST, Arg::Lines(m, n)) = (op.opcode, op.arg) else {
            continue;
        };
        let (Ok(m), Ok(n)) = (std::str::from_utf8(m), std::str::from_utf8(n)) else {
            continue;
        };
        let Some((to, origin)) = plan.target(m, n) else {
            continue;
        };
        let mut bytes = vec![op.opcode.byte()];
        bytes.extend_from_slice(to.module.as_bytes());
        bytes.push(b'\n');
        bytes.extend_from_slice(to.name.as_bytes());
        bytes.push(b'\n');
        edits.replace(i, bytes);
        done.push(Renamed {
            offset: op.offset,
            string_offsets: Vec::new(),
            from: QualName::new(m, n),
            to,
            how: How::Lines,
            origin,
        });
    }
    if !stream
        .items()
        .iter()
        .any(|it| matches!(it, Item::Op(op) if op.opcode == Opcode::STACK_GLOBAL))
    {
        return (edits, done);
    }
    let (values, globals) = trace(stream);
    // What each STACK_GLOBAL wants its operands to say.
    let wanted: Vec<Option<(QualName, Origin)>> = globals
        .iter()
        .map(|g| {
            let (m, n) = (g.module?, g.name?);
            plan.target(&values[m as usize].text, &values[n as usize].text)
        })
        .collect();
    // A string can change in place when every use wants the same new text.
    let final_text: Vec<Option<&str>> = values
        .iter()
        .map(|v| {
            let mut want: Option<&str> = None;
            for u in &v.uses {
                let w = match *u {
                    Use::Module(g) => wanted[g as usize]
                        .as_ref()
                        .map_or(v.text.as_str(), |(q, _)| q.module.as_str()),
                    Use::Name(g) => wanted[g as usize]
                        .as_ref()
                        .map_or(v.text.as_str(), |(q, _)| q.name.as_str()),
                    Use::Other => v.text.as_str(),
                };
                match want {
                    None => want = Some(w),
                    Some(prev) if prev != w => return None,
                    Some(_) => {}
                }
            }
            want.filter(|w| *w != v.text)
        })
        .collect();
    for (v, text) in values.iter().zip(&final_text) {
        if let Some(t) = text {
            let mut b = Vec::new();
            push_str(&mut b, t);
            edits.replace(v.item, b);
        }
    }
    for (g, want) in globals.iter().zip(wanted.iter().cloned()) {
        let Some((to, origin)) = want else { continue };
        let (m, n) = (g.module.unwrap_or(0) as usize, g.name.unwrap_or(0) as usize);
        let (mv, nv) = (&values[m], &values[n]);
        let now = |id: usize, v: &StrValue| final_text[id].unwrap_or(v.text.as_str()).to_owned();
        let from = QualName::new(mv.text.clone(), nv.text.clone());
        if from == to {
            continue;
        }
        let in_place = now(m, mv) == to.module && now(n, nv) == to.name;
        let how = if in_place {
            How::InPlace
        } else {
            let mut b = vec![Opcode::POP.byte(), Opcode::POP.byte()];
            push_str(&mut b, &to.module);
            push_str(&mut b, &to.name);
            b.push(Opcode::STACK_GLOBAL.byte());
            edits.replace(g.item, b);
            How::NewStrings
        };
        let string_offsets = if in_place {
            [(m, mv), (n, nv)]
                .iter()
                .filter(|(id, _)| final_text[*id].is_some())
                .map(|(_, v)| v.offset)
                .collect()
        } else {
            Vec::new()
        };
        done.push(Renamed {
            offset: g.offset,
            string_offsets,
            from,
            to,
            how,
            origin,
        });
    }
    done.sort_by_key(|r| r.offset);
    (edits, done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::UserMap;

    fn plan(maps: &[&str]) -> Plan {
        Plan::new(maps.iter().map(|m| m.parse::<UserMap>().unwrap()).collect())
    }

    fn apply(data: &[u8], maps: &[&str]) -> (Vec<u8>, Vec<Renamed>) {
        let s = Stream::parse(data, &[]).unwrap();
        let (e, r) = rename(&s, &plan(maps));
        (s.emit(&e), r)
    }

    #[test]
    fn global_lines_are_rewritten() {
        let (out, r) = apply(b"cold.mod\nThing\n)R.", &["old.mod=new.mod"]);
        assert_eq!(out, b"cnew.mod\nThing\n)R.");
        assert_eq!(r[0].how, How::Lines);
    }

    #[test]
    fn unshared_strings_change_in_place() {
        // \x8c old \x94 \x8c Thing \x94 \x93 ) R .
        let data = b"\x80\x04\x8c\x03old\x94\x8c\x05Thing\x94\x93)R.";
        let (out, r) = apply(data, &["old=newer"]);
        assert_eq!(out, b"\x80\x04\x8c\x05newer\x94\x8c\x05Thing\x94\x93)R.");
        assert_eq!(r[0].how, How::InPlace);
        assert_eq!(r[0].string_offsets, vec![2]);
    }

    #[test]
    fn memoized_module_shared_by_two_globals_with_one_target_changes_once() {
        // old:A, then GET 0 (old) + B: both renamed to new.
        let data = b"\x80\x04\x8c\x03old\x94\x8c\x01A\x94\x93h\x00\x8c\x01B\x94\x93\x86.";
        let (out, r) = apply(data, &["old=new"]);
        assert_eq!(
            out,
            b"\x80\x04\x8c\x03new\x94\x8c\x01A\x94\x93h\x00\x8c\x01B\x94\x93\x86."
        );
        assert!(r.iter().all(|r| r.how == How::InPlace));
    }

    #[test]
    fn shared_strings_get_new_pushes() {
        // The module string is also a tuple item: it must stay `old` there.
        let data = b"\x80\x04\x8c\x03old\x94\x8c\x01A\x94\x93h\x00\x86.";
        let (out, r) = apply(data, &["old:A=new:A"]);
        let want = [
            &b"\x80\x04\x8c\x03old\x94\x8c\x01A\x94"[..],
            b"00\x8c\x03new\x8c\x01A\x93", // POP POP 'new' 'A' STACK_GLOBAL
            b"h\x00\x86.",
        ]
        .concat();
        assert_eq!(out, want);
        assert_eq!(r[0].how, How::NewStrings);
    }

    #[test]
    fn renames_that_disagree_on_a_shared_module_get_new_pushes() {
        let data = b"\x80\x04\x8c\x03old\x94\x8c\x01A\x94\x93h\x00\x8c\x01B\x94\x93\x86.";
        let (_, r) = apply(data, &["old:A=x:A", "old:B=y:B"]);
        assert_eq!(r.len(), 2);
        assert!(r.iter().all(|r| r.how == How::NewStrings));
    }
}
