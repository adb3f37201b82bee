//! pandas 3 pickles for pandas 2 (knowledge: `pandas3-ndarraybacked-state-tuple`,
//! `pandas-stringdtype-arity`).
//!
//! - pandas 3 writes the BUILD state of its NDArrayBacked arrays (datetimes with a time zone,
//!   timedeltas, categoricals, strings) as `(dtype, ndarray)`; pandas 2 unpacks
//!   `(dtype, ndarray, attributes)`. The TUPLE2 becomes `EMPTY_DICT TUPLE3`, for Categorical
//!   and StringArray only: pandas 3's datetimes are microsecond-resolution, and pandas 2.1
//!   and 2.3 then fail with an AssertionError (fix_matrix.rs found it).
//! - pandas 2.3 writes `StringDtype(storage, na_value)`; older pandas take only `storage`.
//!   Dropping `na_value` is lossless only when it is `pd.NA` (the older default), so only
//!   then is the TUPLE2 turned into `POP TUPLE1`. With `na_value=nan` (pandas 3's `str`
//!   dtype) the strings would change semantics: that is left to the user.

use pickle::Opcode;

use crate::state::Note;
use crate::state::walk::Walk;
use crate::stream::Edits;

pub(crate) fn ndarray_backed_state(w: &Walk, id: &str, edits: &mut Edits, done: &mut Vec<Note>) {
    let mut n = 0;
    let mut first = None;
    for b in &w.builds {
        let Some(((m, f), _)) = w.call_of(b.target) else {
            continue;
        };
        if (m, f) != ("pandas._libs.arrays", "__pyx_unpickle_NDArrayBacked") {
            continue;
        }
        // Only the classes a real load showed safe: pandas 2 asserts on the non-nanosecond
        // datetimes pandas 3 writes, so DatetimeArray and TimedeltaArray are left alone.
        let class = w
            .call_of(b.target)
            .and_then(|(_, args)| w.tuple_of(args))
            .and_then(|(a, _)| a.first().and_then(|c| w.global_of(*c)));
        if !matches!(class, Some((_, "Categorical")) | Some((_, "StringArray"))) {
            continue;
        }
        let Some((items, op)) = w.tuple_of(b.state) else {
            continue;
        };
        if items.len() != 2 {
            continue;
        }
        match op.mark {
            None => edits.replace(
                op.op,
                vec![Opcode::EMPTY_DICT.byte(), Opcode::TUPLE3.byte()],
            ),
            Some(_) => edits.insert_before(op.op, &[Opcode::EMPTY_DICT.byte()]),
        }
        n += 1;
        first.get_or_insert(op.op);
    }
    if let Some(item) = first {
        done.push(Note {
            id: id.to_owned(),
            item,
            what: format!(
                "{n} NDArrayBacked states (dtype, ndarray) given an empty attribute dict"
            ),
        });
    }
}

pub(crate) fn string_dtype_without_na(w: &Walk, id: &str, edits: &mut Edits, done: &mut Vec<Note>) {
    for node in 0..w.nodes.len() as u32 {
        let Some((g, args)) = w.call_of(node) else {
            continue;
        };
        if g != ("pandas.core.arrays.string_", "StringDtype") && g != ("pandas", "StringDtype") {
            continue;
        }
        let Some((items, op)) = w.tuple_of(args) else {
            continue;
        };
        if items.len() != 2 || op.mark.is_some() {
            continue;
        }
        let na = w.global_of(items[1]);
        if na != Some(("pandas._libs.missing", "NA")) && na != Some(("pandas", "NA")) {
            continue;
        }
        edits.replace(op.op, vec![Opcode::POP.byte(), Opcode::TUPLE1.byte()]);
        done.push(Note {
            id: id.to_owned(),
            item: op.op,
            what: "StringDtype(storage, pd.NA) written as StringDtype(storage)".to_owned(),
        });
    }
}
