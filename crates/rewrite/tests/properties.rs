//! Properties of the rewriter over random pickle programs: strings pushed, memoized, fetched
//! again, duplicated, used as STACK_GLOBAL operands and as ordinary values, in any order.
//!
//! - An empty plan, or one that names nothing in the file, gives back the input byte for byte.
//! - A rename changes exactly the globals it names: running the symbolic machine over the
//!   output gives the same globals in the same order, with the named ones renamed and every
//!   other one (computed ones included) as before; the output parses to STOP.

use pickle::{Arg, Op, Opcode, write_ops};
use proptest::prelude::*;
use rewrite::{Plan, Stream, UserMap, fix_members};

const STRINGS: [&str; 5] = ["a.b", "X", "c", "Y", "a.b.c"];

#[derive(Debug, Clone)]
enum Step {
    Str(usize),
    Memoize,
    Get(usize),
    Dup,
    StackGlobal,
    Global(usize, usize),
    Tuple2,
    Pop,
    Frame,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0..STRINGS.len()).prop_map(Step::Str),
        2 => Just(Step::Memoize),
        2 => (0..8usize).prop_map(Step::Get),
        1 => Just(Step::Dup),
        3 => Just(Step::StackGlobal),
        1 => (0..STRINGS.len(), 0..STRINGS.len()).prop_map(|(a, b)| Step::Global(a, b)),
        1 => Just(Step::Tuple2),
        1 => Just(Step::Pop),
        1 => Just(Step::Frame),
    ]
}

/// Encodes the program; FRAMEs cover the ops up to the next FRAME, as the pickler's framer
/// writes them.
fn encode(steps: &[Step]) -> Vec<u8> {
    let mut ops: Vec<Op<'static>> = vec![Op {
        offset: 0,
        opcode: Opcode::PROTO,
        arg: Arg::UInt(4),
    }];
    let mut memo = 0usize;
    for s in steps {
        let (opcode, arg) = match *s {
            Step::Str(i) => (Opcode::SHORT_BINUNICODE, Arg::Bytes(STRINGS[i].as_bytes())),
            Step::Memoize => {
                memo += 1;
                (Opcode::MEMOIZE, Arg::None)
            }
            Step::Get(i) if memo > 0 => (Opcode::BINGET, Arg::UInt((i % memo) as u64)),
            Step::Get(_) => (Opcode::NONE, Arg::None),
            Step::Dup => (Opcode::DUP, Arg::None),
            Step::StackGlobal => (Opcode::STACK_GLOBAL, Arg::None),
            Step::Global(a, b) => (
                Opcode::GLOBAL,
                Arg::Lines(STRINGS[a].as_bytes(), STRINGS[b].as_bytes()),
            ),
            Step::Tuple2 => (Opcode::TUPLE2, Arg::None),
            Step::Pop => (Opcode::POP, Arg::None),
            Step::Frame => (Opcode::FRAME, Arg::UInt(0)),
        };
        ops.push(Op {
            offset: 0,
            opcode,
            arg,
        });
    }
    ops.push(Op {
        offset: 0,
        opcode: Opcode::STOP,
        arg: Arg::None,
    });
    let mut bytes = write_ops(&ops).unwrap();
    // Set each FRAME's length to the bytes up to the next FRAME (or the end).
    let parsed: Vec<Op<'_>> = pickle::Parser::new(&bytes, 0).map(Result::unwrap).collect();
    let frames: Vec<usize> = parsed
        .iter()
        .filter(|o| o.opcode == Opcode::FRAME)
        .map(|o| o.offset as usize)
        .collect();
    for (i, &f) in frames.iter().enumerate() {
        let end = frames.get(i + 1).copied().unwrap_or(bytes.len());
        let len = (end - f - 9) as u64;
        bytes[f + 1..f + 9].copy_from_slice(&len.to_le_bytes());
    }
    bytes
}

fn globals(data: &[u8]) -> Vec<(Option<String>, Option<String>)> {
    let trace = vm::run(data);
    trace
        .globals
        .iter()
        .map(|g| {
            (
                g.module.literal().map(str::to_owned),
                g.name.literal().map(str::to_owned),
            )
        })
        .collect()
}

fn plan(maps: &[&str]) -> Plan {
    Plan::new(maps.iter().map(|m| m.parse::<UserMap>().unwrap()).collect())
}

fn rewrite(data: &[u8], plan: &Plan) -> Vec<u8> {
    let opened = container::open(data, &container::Limits::default()).unwrap();
    let fixed = fix_members(&opened, plan, &[]).unwrap();
    match &fixed[0].bytes {
        Some(b) => b.clone(),
        None => data.to_vec(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn an_empty_or_unmatched_plan_gives_back_the_input(steps in proptest::collection::vec(step(), 0..60)) {
        let data = encode(&steps);
        let s = Stream::parse(&data, &[]).unwrap();
        prop_assert_eq!(s.emit(&rewrite::Edits::default()), data.clone());
        prop_assert_eq!(rewrite(&data, &Plan::default()), data.clone());
        prop_assert_eq!(rewrite(&data, &plan(&["nowhere=elsewhere", "q:Q=r:R"])), data);
    }

    #[test]
    fn renames_change_exactly_the_globals_they_name(
        steps in proptest::collection::vec(step(), 0..60),
        which in 0..3usize,
    ) {
        let data = encode(&steps);
        let maps: &[&str] = match which {
            0 => &["a.b=new.mod"],
            1 => &["a.b:X=z:Z"],
            _ => &["a.b:X=z:Z", "c=d.e", "a.b.c:Y=a.b:Y"],
        };
        let p = plan(maps);
        let out = rewrite(&data, &p);
        prop_assert!(pickle::Parser::new(&out, 0).all(|r| r.is_ok()));
        let want: Vec<_> = globals(&data)
            .into_iter()
            .map(|(m, n)| match (&m, &n) {
                (Some(mm), Some(nn)) => match p.target(mm, nn) {
                    Some((q, _)) => (Some(q.module), Some(q.name)),
                    None => (m, n),
                },
                _ => (m, n),
            })
            .collect();
        prop_assert_eq!(globals(&out), want);
    }
}
