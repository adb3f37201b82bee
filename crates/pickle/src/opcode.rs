//! The 68 opcodes CPython 3.11–3.14 knows, with the facts `pickletools` keeps about each.
//!
//! The table is the single source of truth for the parser (how to read the argument), the
//! disassembler (name, protocol, stack effect) and the writer (how to encode it back).

/// How an opcode's argument is laid out in the byte stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgKind {
    /// No argument.
    None,
    /// One unsigned byte.
    U1,
    /// Two bytes, little-endian, unsigned.
    U2,
    /// Four bytes, little-endian, unsigned.
    U4,
    /// Eight bytes, little-endian, unsigned.
    U8,
    /// Four bytes, little-endian, signed.
    I4,
    /// Eight bytes, big-endian IEEE-754 double.
    F8,
    /// One line, up to and excluding `\n`.
    Line,
    /// Two lines (module and name).
    TwoLines,
    /// A byte count in one unsigned byte, then that many bytes.
    Counted1,
    /// A byte count in four bytes (little-endian; signed where `pickletools` says so), then the bytes.
    Counted4,
    /// A byte count in eight bytes, little-endian unsigned, then the bytes.
    Counted8,
}

/// Stack effect as `pickletools` records it (`stack_before` / `stack_after`), reduced to what the
/// disassembler's mark tracking needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StackEffect {
    /// Length of `stack_before`.
    pub before: u8,
    /// Index of `markobject` in `stack_before`, if it is there.
    pub mark_at: Option<u8>,
    /// Length of `stack_after`.
    pub after: u8,
    /// Whether `stack_after` pushes a `markobject` (only MARK).
    pub pushes_mark: bool,
}

macro_rules! opcodes {
    ($( $variant:ident = $byte:literal, $proto:literal, $arg:ident, ($before:literal, $mark:expr, $after:literal, $pmark:literal); )*) => {
        /// A pickle opcode.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[allow(non_camel_case_types, reason = "names match pickletools exactly")]
        #[repr(u8)]
        pub enum Opcode {
            $(
                #[doc = concat!("`", stringify!($variant), "` (protocol ", stringify!($proto), ").")]
                $variant = $byte,
            )*
        }

        /// Per-byte facts, so that every query is one indexed load on the hot paths.
        #[derive(Clone, Copy)]
        struct Info {
            opcode: Option<Opcode>,
            name: &'static str,
            /// `name` followed by spaces, for fixed-size copies in the disassembler.
            name16: [u8; 16],
            proto: u8,
            arg: ArgKind,
            effect: StackEffect,
        }

        const fn build_info() -> [Info; 256] {
            let empty = Info {
                opcode: None,
                name: "?",
                name16: *b"?               ",
                proto: 0,
                arg: ArgKind::None,
                effect: StackEffect { before: 0, mark_at: None, after: 0, pushes_mark: false },
            };
            let mut t = [empty; 256];
            $(
                t[$byte as usize] = Info {
                    opcode: Some(Opcode::$variant),
                    name: stringify!($variant),
                    name16: pad16(stringify!($variant)),
                    proto: $proto,
                    arg: ArgKind::$arg,
                    effect: StackEffect {
                        before: $before, mark_at: $mark, after: $after, pushes_mark: $pmark,
                    },
                };
            )*
            t
        }

        const fn pad16(name: &str) -> [u8; 16] {
            let b = name.as_bytes();
            let mut out = [b' '; 16];
            let mut i = 0;
            while i < b.len() && i < 16 {
                out[i] = b[i];
                i += 1;
            }
            out
        }

        static INFO: [Info; 256] = build_info();

        impl Opcode {
            /// Every opcode, in `pickletools.opcodes` order.
            pub const ALL: &'static [Opcode] = &[$(Opcode::$variant,)*];

            /// Decodes an opcode byte, or `None` when no opcode has that byte.
            #[inline]
            #[must_use]
            pub fn from_byte(b: u8) -> Option<Opcode> {
                INFO[b as usize].opcode
            }

            /// The name `pickletools` prints.
            #[inline]
            #[must_use]
            pub fn name(self) -> &'static str {
                INFO[self as usize].name
            }

            /// The name padded with spaces to 16 bytes (the longest name is 16 bytes long).
            #[inline]
            #[must_use]
            pub fn name_padded16(self) -> &'static [u8; 16] {
                &INFO[self as usize].name16
            }

            /// The protocol that introduced the opcode.
            #[inline]
            #[must_use]
            pub fn proto(self) -> u8 {
                INFO[self as usize].proto
            }

            /// How the argument is encoded.
            #[inline]
            #[must_use]
            pub fn arg_kind(self) -> ArgKind {
                INFO[self as usize].arg
            }

            /// The stack effect `pickletools` declares.
            #[inline]
            #[must_use]
            pub fn stack_effect(self) -> StackEffect {
                INFO[self as usize].effect
            }
        }
    };
}

opcodes! {
    INT = b'I', 0, Line, (0, None, 1, false);
    BININT = b'J', 1, I4, (0, None, 1, false);
    BININT1 = b'K', 1, U1, (0, None, 1, false);
    BININT2 = b'M', 1, U2, (0, None, 1, false);
    LONG = b'L', 0, Line, (0, None, 1, false);
    LONG1 = 0x8a, 2, Counted1, (0, None, 1, false);
    LONG4 = 0x8b, 2, Counted4, (0, None, 1, false);
    STRING = b'S', 0, Line, (0, None, 1, false);
    BINSTRING = b'T', 1, Counted4, (0, None, 1, false);
    SHORT_BINSTRING = b'U', 1, Counted1, (0, None, 1, false);
    BINBYTES = b'B', 3, Counted4, (0, None, 1, false);
    SHORT_BINBYTES = b'C', 3, Counted1, (0, None, 1, false);
    BINBYTES8 = 0x8e, 4, Counted8, (0, None, 1, false);
    BYTEARRAY8 = 0x96, 5, Counted8, (0, None, 1, false);
    NEXT_BUFFER = 0x97, 5, None, (0, None, 1, false);
    READONLY_BUFFER = 0x98, 5, None, (1, None, 1, false);
    NONE = b'N', 0, None, (0, None, 1, false);
    NEWTRUE = 0x88, 2, None, (0, None, 1, false);
    NEWFALSE = 0x89, 2, None, (0, None, 1, false);
    UNICODE = b'V', 0, Line, (0, None, 1, false);
    SHORT_BINUNICODE = 0x8c, 4, Counted1, (0, None, 1, false);
    BINUNICODE = b'X', 1, Counted4, (0, None, 1, false);
    BINUNICODE8 = 0x8d, 4, Counted8, (0, None, 1, false);
    FLOAT = b'F', 0, Line, (0, None, 1, false);
    BINFLOAT = b'G', 1, F8, (0, None, 1, false);
    EMPTY_LIST = b']', 1, None, (0, None, 1, false);
    APPEND = b'a', 0, None, (2, None, 1, false);
    APPENDS = b'e', 1, None, (3, Some(1), 1, false);
    LIST = b'l', 0, None, (2, Some(0), 1, false);
    EMPTY_TUPLE = b')', 1, None, (0, None, 1, false);
    TUPLE = b't', 0, None, (2, Some(0), 1, false);
    TUPLE1 = 0x85, 2, None, (1, None, 1, false);
    TUPLE2 = 0x86, 2, None, (2, None, 1, false);
    TUPLE3 = 0x87, 2, None, (3, None, 1, false);
    EMPTY_DICT = b'}', 1, None, (0, None, 1, false);
    DICT = b'd', 0, None, (2, Some(0), 1, false);
    SETITEM = b's', 0, None, (3, None, 1, false);
    SETITEMS = b'u', 1, None, (3, Some(1), 1, false);
    EMPTY_SET = 0x8f, 4, None, (0, None, 1, false);
    ADDITEMS = 0x90, 4, None, (3, Some(1), 1, false);
    FROZENSET = 0x91, 4, None, (2, Some(0), 1, false);
    POP = b'0', 0, None, (1, None, 0, false);
    DUP = b'2', 0, None, (1, None, 2, false);
    MARK = b'(', 0, None, (0, None, 1, true);
    POP_MARK = b'1', 1, None, (2, Some(0), 0, false);
    GET = b'g', 0, Line, (0, None, 1, false);
    BINGET = b'h', 1, U1, (0, None, 1, false);
    LONG_BINGET = b'j', 1, U4, (0, None, 1, false);
    PUT = b'p', 0, Line, (0, None, 0, false);
    BINPUT = b'q', 1, U1, (0, None, 0, false);
    LONG_BINPUT = b'r', 1, U4, (0, None, 0, false);
    MEMOIZE = 0x94, 4, None, (1, None, 1, false);
    EXT1 = 0x82, 2, U1, (0, None, 1, false);
    EXT2 = 0x83, 2, U2, (0, None, 1, false);
    EXT4 = 0x84, 2, I4, (0, None, 1, false);
    GLOBAL = b'c', 0, TwoLines, (0, None, 1, false);
    STACK_GLOBAL = 0x93, 4, None, (2, None, 1, false);
    REDUCE = b'R', 0, None, (2, None, 1, false);
    BUILD = b'b', 0, None, (2, None, 1, false);
    INST = b'i', 0, TwoLines, (2, Some(0), 1, false);
    OBJ = b'o', 1, None, (3, Some(0), 1, false);
    NEWOBJ = 0x81, 2, None, (2, None, 1, false);
    NEWOBJ_EX = 0x92, 4, None, (3, None, 1, false);
    PROTO = 0x80, 2, U1, (0, None, 0, false);
    STOP = b'.', 0, None, (1, None, 0, false);
    FRAME = 0x95, 4, U8, (0, None, 0, false);
    PERSID = b'P', 0, Line, (0, None, 1, false);
    BINPERSID = b'Q', 1, None, (1, None, 1, false);
}

impl Opcode {
    /// The opcode byte.
    #[inline]
    #[must_use]
    pub const fn byte(self) -> u8 {
        self as u8
    }

    /// The code as `pickletools` prints it: `repr(code)[1:-1]`, so `(` or `\x8c`.
    #[must_use]
    pub fn code_repr(self) -> &'static str {
        const HEX: &[&str; 32] = &[
            "\\x80", "\\x81", "\\x82", "\\x83", "\\x84", "\\x85", "\\x86", "\\x87", "\\x88",
            "\\x89", "\\x8a", "\\x8b", "\\x8c", "\\x8d", "\\x8e", "\\x8f", "\\x90", "\\x91",
            "\\x92", "\\x93", "\\x94", "\\x95", "\\x96", "\\x97", "\\x98", "\\x99", "\\x9a",
            "\\x9b", "\\x9c", "\\x9d", "\\x9e", "\\x9f",
        ];
        const ASCII: &str = "!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~";
        let b = self.byte();
        if b.is_ascii_graphic() {
            let i = usize::from(b - b'!');
            &ASCII[i..=i]
        } else {
            // Every non-ASCII opcode lies in 0x80..=0x98.
            HEX[usize::from(b.wrapping_sub(0x80) & 0x1f)]
        }
    }

    /// Whether the count before a counted argument is signed (`pickletools` rejects negatives).
    #[must_use]
    pub const fn count_is_signed(self) -> bool {
        matches!(self, Opcode::BINSTRING | Opcode::LONG4)
    }

    /// Opcodes that read the memo.
    #[must_use]
    pub const fn is_get(self) -> bool {
        matches!(self, Opcode::GET | Opcode::BINGET | Opcode::LONG_BINGET)
    }

    /// Opcodes that write the memo (MEMOIZE picks its own index).
    #[must_use]
    pub const fn is_put(self) -> bool {
        matches!(
            self,
            Opcode::PUT | Opcode::BINPUT | Opcode::LONG_BINPUT | Opcode::MEMOIZE
        )
    }
}

impl std::fmt::Display for Opcode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sixty_eight_distinct_opcodes() {
        assert_eq!(Opcode::ALL.len(), 68);
        for &op in Opcode::ALL {
            assert_eq!(Opcode::from_byte(op.byte()), Some(op));
        }
        let known = (0..=255u8)
            .filter(|&b| Opcode::from_byte(b).is_some())
            .count();
        assert_eq!(known, 68);
    }
}
