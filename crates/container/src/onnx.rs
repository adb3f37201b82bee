//! ONNX models: a protobuf `ModelProto`, read with a small bounded walker (no generated code).
//!
//! Recognised by content: the message starts with field 1 (`ir_version`, a small varint), every
//! top-level field parses up to the end of the file with the wire type `onnx.proto` gives it,
//! and field 7 (`graph`) is there. Protobuf writers emit fields in number order, so every
//! ONNX writer starts with `ir_version`.
//!
//! [`parse`] lists every tensor the file holds or points to: the graph's initializers and
//! sparse initializers, tensors in node attributes, and those of subgraphs (`If`, `Loop`, `Scan`
//! bodies), training graphs and functions: the tensors `onnx.load` resolves external data for,
//! and more (fail closed). A tensor whose `data_location` is `EXTERNAL` names a file with its
//! `external_data` key `location`, resolved by `onnx.load` and onnxruntime relative to the
//! model's folder; [`location_escapes`] says when that points outside the folder.
//!
//! Bounds: varints of at most 10 bytes, lengths inside their message, messages nested at most
//! [`MAX_DEPTH`] deep, at most [`MAX_TENSORS`] tensors and [`MAX_DIMS`] dimensions each.

use crate::OpenError;

/// How deep messages may nest (protobuf's own default recursion limit is 100).
pub const MAX_DEPTH: usize = 100;
/// The most tensors listed (each is kept; real models have up to tens of thousands).
pub const MAX_TENSORS: usize = 1 << 20;
/// The most dimensions a tensor may have.
pub const MAX_DIMS: usize = 64;

/// Where in the model a tensor is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// A graph initializer (the main graph's or a subgraph's).
    Initializer,
    /// The values or indices of a sparse initializer.
    SparseInitializer,
    /// A node attribute's tensor (`Constant` values and the like).
    Attribute,
}

impl Place {
    /// A short name for output.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Place::Initializer => "initializer",
            Place::SparseInitializer => "sparse-initializer",
            Place::Attribute => "attribute",
        }
    }
}

/// A tensor's data kept in another file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalData {
    /// The `location` entry: a path relative to the model's folder (`None` when missing).
    pub location: Option<String>,
    /// The `offset` entry, when it is a number.
    pub offset: Option<u64>,
    /// The `length` entry, when it is a number.
    pub length: Option<u64>,
    /// Every entry, in file order.
    pub entries: Vec<(String, String)>,
}

/// A `TensorProto`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tensor {
    /// Its name (empty for unnamed attribute tensors).
    pub name: String,
    /// `TensorProto.DataType` code ([`data_type_name`]).
    pub data_type: i64,
    /// Its dimensions.
    pub dims: Vec<i64>,
    /// Where in the model it is.
    pub place: Place,
    /// Where its `TensorProto` starts in the file.
    pub offset: u64,
    /// Its `raw_data` bytes in the file: `(offset, length)`.
    pub raw_data: Option<(u64, u64)>,
    /// Its external data, when `data_location` is `EXTERNAL`.
    pub external: Option<ExternalData>,
}

/// What a model file holds.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Model {
    /// `ir_version`.
    pub ir_version: u64,
    /// `producer_name`.
    pub producer_name: String,
    /// `producer_version`.
    pub producer_version: String,
    /// `opset_import`: `(domain, version)`; the empty domain is the default `ai.onnx`.
    pub opsets: Vec<(String, i64)>,
    /// The main graph's name.
    pub graph_name: String,
    /// Nodes in all graphs and functions.
    pub nodes: u64,
    /// Every tensor, in file order.
    pub tensors: Vec<Tensor>,
}

impl Model {
    /// The tensors whose data is in another file.
    pub fn external(&self) -> impl Iterator<Item = (&Tensor, &ExternalData)> {
        self.tensors
            .iter()
            .filter_map(|t| t.external.as_ref().map(|e| (t, e)))
    }
}

/// The name of a `TensorProto.DataType` code (`FLOAT`, `BFLOAT16`, ...).
#[must_use]
pub fn data_type_name(code: i64) -> Option<&'static str> {
    const NAMES: [&str; 29] = [
        "UNDEFINED",
        "FLOAT",
        "UINT8",
        "INT8",
        "UINT16",
        "INT16",
        "INT32",
        "INT64",
        "STRING",
        "BOOL",
        "FLOAT16",
        "DOUBLE",
        "UINT32",
        "UINT64",
        "COMPLEX64",
        "COMPLEX128",
        "BFLOAT16",
        "FLOAT8E4M3FN",
        "FLOAT8E4M3FNUZ",
        "FLOAT8E5M2",
        "FLOAT8E5M2FNUZ",
        "UINT4",
        "INT4",
        "FLOAT4E2M1",
        "FLOAT8E8M0",
        "UINT2",
        "INT2",
        "FLOAT6E2M3",
        "FLOAT6E3M2",
    ];
    usize::try_from(code)
        .ok()
        .and_then(|i| NAMES.get(i).copied())
}

/// Whether an external-data `location` points outside the model's folder: an absolute path
/// (`/etc/passwd`, `\\server\share`, `C:\x`, `C:x`) or one whose `..` components climb above the
/// folder (`../x`, `a/../../x`, `..\x`). `onnx.load` joins it to the folder with
/// `os.path.join`, which an absolute path replaces.
#[must_use]
pub fn location_escapes(location: &str) -> bool {
    let b = location.as_bytes();
    if b.first().is_some_and(|&c| c == b'/' || c == b'\\')
        || (b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':')
    {
        return true;
    }
    let mut depth = 0usize;
    for part in location.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => match depth.checked_sub(1) {
                Some(d) => depth = d,
                None => return true,
            },
            _ => depth += 1,
        }
    }
    false
}

fn damaged(offset: u64, reason: impl Into<String>) -> OpenError {
    OpenError::Damaged {
        what: "ONNX model".to_owned(),
        offset,
        reason: reason.into(),
    }
}

/// A field's value.
#[derive(Clone, Copy)]
enum Wire<'a> {
    Varint(u64),
    Fixed,
    /// Length-delimited: the bytes and where they start in the file.
    Len(&'a [u8], u64),
}

/// Iterates the fields of one message, `base` being its offset in the file.
struct Fields<'a> {
    data: &'a [u8],
    pos: usize,
    base: u64,
}

impl<'a> Fields<'a> {
    fn new(data: &'a [u8], base: u64) -> Self {
        Fields { data, pos: 0, base }
    }

    fn at(&self) -> u64 {
        self.base + self.pos as u64
    }

    fn varint(&mut self) -> Result<u64, OpenError> {
        let start = self.at();
        let mut v = 0u64;
        for i in 0..10 {
            let Some(&b) = self.data.get(self.pos) else {
                return Err(damaged(start, "a varint runs past the end of its message"));
            };
            self.pos += 1;
            if i == 9 && b > 1 {
                return Err(damaged(start, "a varint overflows 64 bits"));
            }
            v |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(damaged(start, "a varint is longer than 10 bytes"))
    }

    /// The next field: its offset, number and value.
    fn next_field(&mut self) -> Result<Option<(u64, u64, Wire<'a>)>, OpenError> {
        if self.pos >= self.data.len() {
            return Ok(None);
        }
        let at = self.at();
        let key = self.varint()?;
        let number = key >> 3;
        if number == 0 || number > (1 << 29) - 1 {
            return Err(damaged(at, format!("field number {number} is not valid")));
        }
        let wire = match key & 7 {
            0 => Wire::Varint(self.varint()?),
            1 | 5 => {
                let n = if key & 7 == 1 { 8 } else { 4 };
                if self.data.len() - self.pos < n {
                    return Err(damaged(at, "a fixed-size field runs past the end"));
                }
                self.pos += n;
                Wire::Fixed
            }
            2 => {
                let len = self.varint()?;
                let left = (self.data.len() - self.pos) as u64;
                if len > left {
                    return Err(damaged(
                        at,
                        format!("field {number} claims {len} bytes, its message has {left} left"),
                    ));
                }
                let start = self.at();
                let bytes = &self.data[self.pos..self.pos + len as usize];
                self.pos += len as usize;
                Wire::Len(bytes, start)
            }
            w => {
                return Err(damaged(
                    at,
                    format!("field {number} has wire type {w} (groups are not used by ONNX)"),
                ));
            }
        };
        Ok(Some((at, number, wire)))
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The expected wire type of each `ModelProto` field (0 varint, 2 length-delimited).
fn model_field_wire(number: u64) -> Option<u64> {
    match number {
        1 | 5 => Some(0),
        2 | 3 | 4 | 6 | 7 | 8 | 14 | 20 | 25 | 26 => Some(2),
        _ => None,
    }
}

fn wire_code(w: Wire<'_>) -> u64 {
    match w {
        Wire::Varint(_) => 0,
        Wire::Fixed => 1,
        Wire::Len(..) => 2,
    }
}

/// Whether `data` looks like an ONNX `ModelProto` (see the module documentation). Reads only
/// the top-level fields, skipping their contents.
#[must_use]
pub fn looks_like(data: &[u8]) -> bool {
    // ir_version first, as one varint byte: versions are 1 to 13 today.
    if data.len() < 4 || data[0] != 0x08 || !(1..=100).contains(&data[1]) {
        return false;
    }
    let mut fields = Fields::new(data, 0);
    let mut graph = false;
    loop {
        match fields.next_field() {
            Ok(None) => return graph,
            Ok(Some((_, number, wire))) => {
                let w = wire_code(wire);
                match model_field_wire(number) {
                    Some(want) if want != w => return false,
                    Some(_) => graph |= number == 7,
                    // A field this list does not know (from a newer onnx.proto) is accepted
                    // when it is small and well formed.
                    None if number > 64 => return false,
                    None => {}
                }
            }
            Err(_) => return false,
        }
    }
}

struct Walker {
    model: Model,
}

impl Walker {
    fn push(&mut self, t: Tensor, at: u64) -> Result<(), OpenError> {
        if self.model.tensors.len() >= MAX_TENSORS {
            return Err(damaged(at, format!("more than {MAX_TENSORS} tensors")));
        }
        self.model.tensors.push(t);
        Ok(())
    }

    fn graph(&mut self, bytes: &[u8], base: u64, depth: usize) -> Result<String, OpenError> {
        let depth = deeper(depth, base)?;
        let mut name = String::new();
        let mut f = Fields::new(bytes, base);
        while let Some((at, number, wire)) = f.next_field()? {
            match (number, wire) {
                (1, Wire::Len(b, o)) => self.node(b, o, depth, 5)?,
                (2, Wire::Len(b, _)) => name = text(b),
                (5, Wire::Len(b, o)) => {
                    let t = tensor(b, o, Place::Initializer, depth)?;
                    self.push(t, at)?;
                }
                (15, Wire::Len(b, o)) => self.sparse(b, o, Place::SparseInitializer, depth)?,
                _ => {}
            }
        }
        Ok(name)
    }

    /// A `NodeProto` (attributes in field 5) or a `FunctionProto`'s default attributes.
    fn node(
        &mut self,
        bytes: &[u8],
        base: u64,
        depth: usize,
        attribute_field: u64,
    ) -> Result<(), OpenError> {
        let depth = deeper(depth, base)?;
        self.model.nodes += 1;
        let mut f = Fields::new(bytes, base);
        while let Some((_, number, wire)) = f.next_field()? {
            if let (n, Wire::Len(b, o)) = (number, wire)
                && n == attribute_field
            {
                self.attribute(b, o, depth)?;
            }
        }
        Ok(())
    }

    fn attribute(&mut self, bytes: &[u8], base: u64, depth: usize) -> Result<(), OpenError> {
        let depth = deeper(depth, base)?;
        let mut f = Fields::new(bytes, base);
        while let Some((at, number, wire)) = f.next_field()? {
            let Wire::Len(b, o) = wire else { continue };
            match number {
                5 | 10 => {
                    let t = tensor(b, o, Place::Attribute, depth)?;
                    self.push(t, at)?;
                }
                6 | 11 => {
                    self.graph(b, o, depth)?;
                }
                22 | 23 => self.sparse(b, o, Place::Attribute, depth)?,
                _ => {}
            }
        }
        Ok(())
    }

    fn sparse(
        &mut self,
        bytes: &[u8],
        base: u64,
        place: Place,
        depth: usize,
    ) -> Result<(), OpenError> {
        let depth = deeper(depth, base)?;
        let mut f = Fields::new(bytes, base);
        while let Some((at, number, wire)) = f.next_field()? {
            if let (1 | 2, Wire::Len(b, o)) = (number, wire) {
                let t = tensor(b, o, place, depth)?;
                self.push(t, at)?;
            }
        }
        Ok(())
    }

    fn function(&mut self, bytes: &[u8], base: u64, depth: usize) -> Result<(), OpenError> {
        let depth = deeper(depth, base)?;
        let mut f = Fields::new(bytes, base);
        while let Some((_, number, wire)) = f.next_field()? {
            match (number, wire) {
                (7, Wire::Len(b, o)) => self.node(b, o, depth, 5)?,
                (11, Wire::Len(b, o)) => self.attribute(b, o, depth)?,
                _ => {}
            }
        }
        Ok(())
    }

    fn training_info(&mut self, bytes: &[u8], base: u64, depth: usize) -> Result<(), OpenError> {
        let depth = deeper(depth, base)?;
        let mut f = Fields::new(bytes, base);
        while let Some((_, number, wire)) = f.next_field()? {
            if let (1 | 2, Wire::Len(b, o)) = (number, wire) {
                self.graph(b, o, depth)?;
            }
        }
        Ok(())
    }
}

fn deeper(depth: usize, at: u64) -> Result<usize, OpenError> {
    if depth >= MAX_DEPTH {
        return Err(damaged(
            at,
            format!("messages nested more than {MAX_DEPTH} deep"),
        ));
    }
    Ok(depth + 1)
}

/// A `TensorProto`.
fn tensor(bytes: &[u8], base: u64, place: Place, depth: usize) -> Result<Tensor, OpenError> {
    deeper(depth, base)?;
    let mut t = Tensor {
        name: String::new(),
        data_type: 0,
        dims: Vec::new(),
        place,
        offset: base,
        raw_data: None,
        external: None,
    };
    let mut entries = Vec::new();
    let mut external = false;
    let mut f = Fields::new(bytes, base);
    let push_dim = |t: &mut Tensor, d: u64, at: u64| {
        if t.dims.len() >= MAX_DIMS {
            return Err(damaged(
                at,
                format!("a tensor with over {MAX_DIMS} dimensions"),
            ));
        }
        t.dims.push(d as i64);
        Ok(())
    };
    while let Some((at, number, wire)) = f.next_field()? {
        match (number, wire) {
            (1, Wire::Varint(d)) => push_dim(&mut t, d, at)?,
            (1, Wire::Len(b, o)) => {
                let mut packed = Fields::new(b, o);
                while packed.pos < b.len() {
                    let d = packed.varint()?;
                    push_dim(&mut t, d, at)?;
                }
            }
            (2, Wire::Varint(v)) => t.data_type = v as i64,
            (8, Wire::Len(b, _)) => t.name = text(b),
            (9, Wire::Len(b, o)) => t.raw_data = Some((o, b.len() as u64)),
            (13, Wire::Len(b, o)) => {
                let mut key = String::new();
                let mut value = String::new();
                let mut e = Fields::new(b, o);
                while let Some((_, n, w)) = e.next_field()? {
                    match (n, w) {
                        (1, Wire::Len(b, _)) => key = text(b),
                        (2, Wire::Len(b, _)) => value = text(b),
                        _ => {}
                    }
                }
                if entries.len() < 64 {
                    entries.push((key, value));
                }
            }
            (14, Wire::Varint(v)) => external = v == 1,
            _ => {}
        }
    }
    if external {
        let get = |k: &str| entries.iter().find(|(key, _)| key == k).map(|(_, v)| v);
        t.external = Some(ExternalData {
            location: get("location").cloned(),
            offset: get("offset").and_then(|v| v.parse().ok()),
            length: get("length").and_then(|v| v.parse().ok()),
            entries,
        });
    }
    Ok(t)
}

/// Parses `data`, a whole ONNX model file.
///
/// # Errors
/// [`OpenError::Damaged`] with the file offset of the problem: a malformed varint, a length past
/// the end of its message, an invalid field number or wire type, messages nested too deep,
/// too many tensors or dimensions, or no graph.
pub fn parse(data: &[u8]) -> Result<Model, OpenError> {
    let mut w = Walker {
        model: Model::default(),
    };
    let mut f = Fields::new(data, 0);
    let mut graph = false;
    while let Some((at, number, wire)) = f.next_field()? {
        match (number, wire) {
            (1, Wire::Varint(v)) => w.model.ir_version = v,
            (2, Wire::Len(b, _)) => w.model.producer_name = text(b),
            (3, Wire::Len(b, _)) => w.model.producer_version = text(b),
            (7, Wire::Len(b, o)) => {
                let name = w.graph(b, o, 0)?;
                if !graph {
                    w.model.graph_name = name;
                }
                graph = true;
            }
            (8, Wire::Len(b, o)) => {
                let mut domain = String::new();
                let mut version = 0i64;
                let mut e = Fields::new(b, o);
                while let Some((_, n, v)) = e.next_field()? {
                    match (n, v) {
                        (1, Wire::Len(b, _)) => domain = text(b),
                        (2, Wire::Varint(v)) => version = v as i64,
                        _ => {}
                    }
                }
                if w.model.opsets.len() < 1024 {
                    w.model.opsets.push((domain, version));
                }
            }
            (20, Wire::Len(b, o)) => w.training_info(b, o, 0)?,
            (25, Wire::Len(b, o)) => w.function(b, o, 0)?,
            (n, w) if model_field_wire(n).is_some_and(|want| want != wire_code(w)) => {
                return Err(damaged(at, format!("field {n} has the wrong wire type")));
            }
            _ => {}
        }
    }
    if !graph {
        return Err(damaged(0, "the model has no graph"));
    }
    Ok(w.model)
}

/// Writing protobuf for tests.
#[doc(hidden)]
pub mod testing {
    /// A varint.
    #[must_use]
    pub fn varint(mut v: u64) -> Vec<u8> {
        let mut out = Vec::new();
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(b);
                return out;
            }
            out.push(b | 0x80);
        }
    }

    /// A varint field.
    #[must_use]
    pub fn int(number: u64, v: u64) -> Vec<u8> {
        let mut out = varint(number << 3);
        out.extend(varint(v));
        out
    }

    /// A length-delimited field.
    #[must_use]
    pub fn len(number: u64, bytes: &[u8]) -> Vec<u8> {
        let mut out = varint((number << 3) | 2);
        out.extend(varint(bytes.len() as u64));
        out.extend_from_slice(bytes);
        out
    }

    /// A `TensorProto` named `name` of FLOAT with `dims`, stored at `location` when given,
    /// inline (`raw_data`) otherwise.
    #[must_use]
    pub fn tensor(name: &str, dims: &[u64], location: Option<&str>) -> Vec<u8> {
        let mut t = Vec::new();
        for d in dims {
            t.extend(int(1, *d));
        }
        t.extend(int(2, 1));
        t.extend(len(8, name.as_bytes()));
        match location {
            Some(loc) => {
                let mut e = len(1, b"location");
                e.extend(len(2, loc.as_bytes()));
                t.extend(len(13, &e));
                let mut e = len(1, b"length");
                e.extend(len(2, b"16"));
                t.extend(len(13, &e));
                t.extend(int(14, 1));
            }
            None => t.extend(len(9, &[0; 16])),
        }
        t
    }

    /// A `ModelProto` whose graph has these initializers and one node.
    #[must_use]
    pub fn model(initializers: &[Vec<u8>]) -> Vec<u8> {
        let mut graph = Vec::new();
        let mut node = len(1, b"x");
        node.extend(len(2, b"y"));
        node.extend(len(4, b"Relu"));
        graph.extend(len(1, &node));
        graph.extend(len(2, b"g"));
        for t in initializers {
            graph.extend(len(5, t));
        }
        let mut m = int(1, 10);
        m.extend(len(2, b"pickle-doctor-test"));
        m.extend(len(7, &graph));
        let mut opset = len(1, b"");
        opset.extend(int(2, 21));
        m.extend(len(8, &opset));
        m
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{int, len, model, tensor, varint};
    use super::{OpenError, Place, data_type_name, location_escapes, looks_like, parse};

    fn err(data: &[u8]) -> (u64, String) {
        match parse(data) {
            Err(OpenError::Damaged { offset, reason, .. }) => (offset, reason),
            other => panic!("expected an error, got {other:?}"),
        }
    }

    #[test]
    fn lists_initializers_and_external_data() {
        let m = model(&[
            tensor("w", &[2, 2], None),
            tensor("big", &[4], Some("weights/big.bin")),
        ]);
        assert!(looks_like(&m));
        let p = parse(&m).unwrap();
        assert_eq!(p.ir_version, 10);
        assert_eq!(p.producer_name, "pickle-doctor-test");
        assert_eq!(p.graph_name, "g");
        assert_eq!(p.opsets, vec![(String::new(), 21)]);
        assert_eq!(p.nodes, 1);
        assert_eq!(p.tensors.len(), 2);
        let w = &p.tensors[0];
        assert_eq!(
            (w.name.as_str(), &w.dims[..], w.data_type),
            ("w", &[2i64, 2][..], 1)
        );
        let (off, n) = w.raw_data.unwrap();
        assert_eq!(n, 16);
        assert_eq!(&m[off as usize..][..16], &[0; 16]);
        let (t, e) = p.external().next().unwrap();
        assert_eq!(t.name, "big");
        assert_eq!(e.location.as_deref(), Some("weights/big.bin"));
        assert_eq!(e.length, Some(16));
        assert_eq!(e.offset, None);
        assert_eq!(data_type_name(t.data_type), Some("FLOAT"));
    }

    #[test]
    fn tensors_in_subgraphs_attributes_sparse_and_functions() {
        // An If node whose then_branch graph holds an external initializer, a Constant with
        // an attribute tensor, a sparse initializer, and a function whose node has one.
        let sub = {
            let mut g = len(2, b"then");
            g.extend(len(5, &tensor("inner", &[1], Some("../inner.bin"))));
            g
        };
        let mut attr_g = len(1, b"then_branch");
        attr_g.extend(len(6, &sub));
        let mut attr_t = len(1, b"value");
        attr_t.extend(len(5, &tensor("const", &[1], None)));
        let mut node = len(4, b"If");
        node.extend(len(5, &attr_g));
        node.extend(len(5, &attr_t));
        let mut sparse = len(1, &tensor("sv", &[2], Some("sv.bin")));
        sparse.extend(len(2, &tensor("si", &[2], None)));
        let mut graph = len(1, &node);
        graph.extend(len(15, &sparse));
        let mut fnode = len(4, b"Constant");
        let mut fattr = len(1, b"value");
        fattr.extend(len(10, &tensor("fconst", &[1], Some("/abs.bin"))));
        fnode.extend(len(5, &fattr));
        let mut func = len(1, b"f");
        func.extend(len(7, &fnode));
        let mut m = int(1, 9);
        m.extend(len(7, &graph));
        m.extend(len(25, &func));
        assert!(looks_like(&m));
        let p = parse(&m).unwrap();
        let names: Vec<(&str, Place)> = p
            .tensors
            .iter()
            .map(|t| (t.name.as_str(), t.place))
            .collect();
        assert_eq!(
            names,
            [
                ("inner", Place::Initializer),
                ("const", Place::Attribute),
                ("sv", Place::SparseInitializer),
                ("si", Place::SparseInitializer),
                ("fconst", Place::Attribute),
            ]
        );
        let locs: Vec<&str> = p
            .external()
            .filter_map(|(_, e)| e.location.as_deref())
            .collect();
        assert_eq!(locs, ["../inner.bin", "sv.bin", "/abs.bin"]);
        assert_eq!(p.nodes, 2);
    }

    #[test]
    fn packed_dims() {
        let mut t = len(1, &[2, 3, 0x80, 0x01]);
        t.extend(int(2, 16));
        t.extend(len(8, b"p"));
        let p = parse(&model(&[t])).unwrap();
        assert_eq!(p.tensors[0].dims, [2, 3, 128]);
        assert_eq!(data_type_name(p.tensors[0].data_type), Some("BFLOAT16"));
    }

    #[test]
    fn escaping_locations() {
        for loc in [
            "/etc/passwd",
            "\\\\server\\share\\x",
            "C:\\x",
            "c:x",
            "../x",
            "a/../../x",
            "..\\x",
            "./../x",
            "a/b/../../../x",
        ] {
            assert!(location_escapes(loc), "{loc}");
        }
        for loc in [
            "x.bin",
            "a/b.bin",
            "a/../b.bin",
            "./x",
            "a\\b",
            "...",
            "..x",
            "",
        ] {
            assert!(!location_escapes(loc), "{loc}");
        }
    }

    #[test]
    fn truncations_and_hostile_lengths_are_errors() {
        let m = model(&[tensor("big", &[4], Some("w.bin"))]);
        for n in 0..m.len() {
            // Any cut inside the graph breaks a length; a cut between top-level fields may
            // leave a valid prefix (then it must still have its graph to parse).
            if let Ok(p) = parse(&m[..n]) {
                assert!(n > 0 && !p.graph_name.is_empty());
            }
        }
        // A length past the end.
        let mut bad = int(1, 10);
        bad.extend(varint((7 << 3) | 2));
        bad.extend(varint(u64::MAX >> 1));
        let (off, why) = err(&bad);
        assert_eq!(off, 2);
        assert!(why.contains("claims"), "{why}");
        assert!(!looks_like(&bad));
        // An overlong varint.
        let mut bad = int(1, 10);
        bad.extend([0x38]);
        bad.extend([0xff; 11]);
        assert!(err(&bad).1.contains("varint"));
        // Groups, field 0.
        let mut bad = int(1, 10);
        bad.extend([0x3b]);
        assert!(err(&bad).1.contains("wire type 3"));
        let mut bad = int(1, 10);
        bad.extend([0x02, 0x00]);
        assert!(err(&bad).1.contains("field number 0"));
        // No graph.
        assert!(err(&int(1, 10)).1.contains("no graph"));
        // Deep nesting: graphs in attributes in nodes in graphs...
        let mut g = len(2, b"leaf");
        for _ in 0..60 {
            let mut attr = len(1, b"body");
            attr.extend(len(6, &g));
            let node = len(5, &attr);
            g = len(1, &node);
        }
        let mut m = int(1, 10);
        m.extend(len(7, &g));
        assert!(err(&m).1.contains("nested more than"));
    }

    #[test]
    fn sniffing() {
        assert!(!looks_like(b"\x08\x01"));
        assert!(!looks_like(b"\x80\x04\x95"));
        // SavedModel-like: field 1 then field 2 as a message, no graph.
        let mut m = int(1, 1);
        m.extend(len(2, b"meta"));
        assert!(!looks_like(&m));
        // Field 1 as a string is not ir_version.
        assert!(!looks_like(&len(1, b"abcdef")));
    }
}
