//! The graph being written, as converters see it: the ONNX builder, the options, values with
//! their element type and width, and small helpers for the ops every converter needs.

use onnx::{Elem, GraphBuilder, attr};

/// A value of the graph: `[N, cols]`, or `[N]` when `cols` is `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tensor {
    /// Its name in the graph.
    pub name: String,
    /// Element type.
    pub elem: Elem,
    /// Number of columns; `None` for a 1-D `[N]` value (labels).
    pub cols: Option<usize>,
}

impl Tensor {
    /// A `[N, cols]` value.
    #[must_use]
    pub fn matrix(name: String, elem: Elem, cols: usize) -> Tensor {
        Tensor {
            name,
            elem,
            cols: Some(cols),
        }
    }

    /// A `[N]` value.
    #[must_use]
    pub fn vector(name: String, elem: Elem) -> Tensor {
        Tensor {
            name,
            elem,
            cols: None,
        }
    }

    /// The width (1 for a vector).
    #[must_use]
    pub fn width(&self) -> usize {
        self.cols.unwrap_or(1)
    }
}

/// What a converter produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outputs {
    /// A classifier: `label` (`[N]`, int64 or string: the estimator's own `classes_`) and
    /// `probabilities` (`[N, n_classes]`, or decision scores where skl2onnx puts them).
    Classifier {
        /// Predicted labels.
        label: Tensor,
        /// Class probabilities (or scores).
        probabilities: Tensor,
    },
    /// A regressor's predictions or a transformer's output, `[N, k]`.
    Values(Tensor),
}

/// Options of one export.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// The input's element type (`F32`, or `F64` with `--float64`).
    pub input: Elem,
    /// Version of the default domain.
    pub opset: i64,
    /// Version of `ai.onnx.ml`.
    pub ml_opset: i64,
}

/// The graph and the settings, handed to every converter.
pub struct Graph {
    /// The ONNX builder.
    pub b: GraphBuilder,
    /// The export's options.
    pub settings: Settings,
    /// Estimators converted so far, by path (`steps[1] ('clf')`), with their class: the
    /// composition converters add their children.
    pub steps: Vec<(String, String)>,
}

impl Graph {
    /// A float constant of `elem` (f32 or f64; values given as f64 and rounded once).
    pub fn constant(&mut self, base: &str, elem: Elem, dims: &[i64], v: &[f64]) -> String {
        match elem {
            Elem::F64 => self.b.init_f64(base, dims, v),
            _ => {
                #[allow(clippy::cast_possible_truncation)]
                let f: Vec<f32> = v.iter().map(|&x| x as f32).collect();
                self.b.init_f32(base, dims, &f)
            }
        }
    }

    /// An int64 constant.
    pub fn ints(&mut self, base: &str, dims: &[i64], v: &[i64]) -> String {
        self.b.init_i64(base, dims, v)
    }

    /// `t` cast to `elem` (itself when it already is).
    pub fn cast(&mut self, t: &Tensor, elem: Elem) -> Tensor {
        if t.elem == elem {
            return t.clone();
        }
        let name = self.b.op(
            "Cast",
            &[&t.name],
            vec![attr::i("to", i64::from(elem.code()))],
        );
        Tensor {
            name,
            elem,
            cols: t.cols,
        }
    }

    /// `t` in double precision: the exporter's arithmetic for linear models and
    /// preprocessing is done in f64, as scikit-learn does it, and rounded once at the end.
    pub fn f64(&mut self, t: &Tensor) -> Tensor {
        self.cast(t, Elem::F64)
    }

    /// A one-output op whose result has `elem` and `cols`.
    pub fn op(
        &mut self,
        op_type: &str,
        inputs: &[&str],
        attributes: Vec<onnx::AttributeProto>,
        elem: Elem,
        cols: Option<usize>,
    ) -> Tensor {
        let name = self.b.op(op_type, inputs, attributes);
        Tensor { name, elem, cols }
    }

    /// `x @ w + b` in f64: `w` is `[F, K]` row-major, `b` has K entries (or none).
    pub fn affine(
        &mut self,
        x: &Tensor,
        w: &[f64],
        f: usize,
        k: usize,
        b: Option<&[f64]>,
    ) -> Tensor {
        let x = self.f64(x);
        let wn = self.constant("coef", Elem::F64, &[f as i64, k as i64], w);
        let mut out = self.op("MatMul", &[&x.name, &wn], vec![], Elem::F64, Some(k));
        if let Some(b) = b {
            let bn = self.constant("intercept", Elem::F64, &[k as i64], b);
            out = self.op("Add", &[&out.name, &bn], vec![], Elem::F64, Some(k));
        }
        out
    }

    /// Columns `idx` of `x` (`Gather` on axis 1).
    pub fn columns(&mut self, x: &Tensor, idx: &[i64]) -> Tensor {
        let i = self.ints("columns", &[idx.len() as i64], idx);
        self.op(
            "Gather",
            &[&x.name, &i],
            vec![attr::i("axis", 1)],
            x.elem,
            Some(idx.len()),
        )
    }

    /// Concatenates `[N, k]` values along columns (all cast to `elem` first).
    pub fn concat(&mut self, parts: &[Tensor], elem: Elem) -> Tensor {
        let cast: Vec<Tensor> = parts.iter().map(|p| self.cast(p, elem)).collect();
        let names: Vec<&str> = cast.iter().map(|t| t.name.as_str()).collect();
        let cols = cast.iter().map(Tensor::width).sum();
        self.op("Concat", &names, vec![attr::i("axis", 1)], elem, Some(cols))
    }

    /// Labels from class indices: `classes[argmax(scores, axis=1)]`, int64 or string.
    pub fn labels_from_scores(&mut self, scores: &Tensor, classes: &Classes) -> Tensor {
        let am = self.op(
            "ArgMax",
            &[&scores.name],
            vec![attr::i("axis", 1), attr::i("keepdims", 0)],
            Elem::I64,
            None,
        );
        self.labels_from_index(&am, classes)
    }

    /// Labels from an `[N]` int64 index into `classes`.
    pub fn labels_from_index(&mut self, index: &Tensor, classes: &Classes) -> Tensor {
        let (c, elem) = match classes {
            Classes::Ints(v) => (self.ints("classes", &[v.len() as i64], v), Elem::I64),
            Classes::Strings(v) => (self.b.init_str("classes", &[v.len() as i64], v), Elem::Str),
        };
        self.op(
            "Gather",
            &[&c, &index.name],
            vec![attr::i("axis", 0)],
            elem,
            None,
        )
    }
}

/// A classifier's `classes_`, as the label output gives them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Classes {
    /// Integer (or bool, or integral float) classes.
    Ints(Vec<i64>),
    /// String classes.
    Strings(Vec<String>),
}

impl Classes {
    /// Number of classes.
    #[must_use]
    pub fn len(&self) -> usize {
        match self {
            Classes::Ints(v) => v.len(),
            Classes::Strings(v) => v.len(),
        }
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Reads `classes_` of an estimator: ints, bools, integral floats or strings. Refuses
    /// non-integral float classes and mixed types (the label output has one type).
    ///
    /// # Errors
    /// Missing or unsupported classes.
    pub fn of(est: &super::state::Estimator<'_>) -> super::state::Res<Classes> {
        let a = est.array("classes_")?;
        if let Some(s) = a.strings() {
            return Ok(Classes::Strings(s));
        }
        if let Some(v) = a.i64s() {
            return Ok(Classes::Ints(v));
        }
        Err(super::state::Refusal::new(format!(
            "{}.classes_ ({}) are neither all integers nor all strings: the label output has one type",
            est.name, a.descr
        )))
    }
}

impl Graph {
    /// A reduction over `axis` (opset-aware: `ReduceSum` takes its axes as an input from
    /// opset 13, the other reductions from opset 18).
    pub fn reduce(&mut self, op: &str, x: &Tensor, axis: i64, keepdims: bool) -> Tensor {
        let keep = attr::i("keepdims", i64::from(keepdims));
        let cols = if keepdims { Some(1) } else { None };
        if op == "ReduceSum" || self.settings.opset >= 18 {
            let axes = self.ints("axes", &[1], &[axis]);
            self.op(op, &[&x.name, &axes], vec![keep], x.elem, cols)
        } else {
            self.op(
                op,
                &[&x.name],
                vec![keep, attr::ints("axes", vec![axis])],
                x.elem,
                cols,
            )
        }
    }

    /// A binary elementwise op; the result has `a`'s type and the wider of the two widths.
    pub fn bin(&mut self, op: &str, a: &Tensor, b: &str) -> Tensor {
        self.op(op, &[&a.name, b], vec![], a.elem, a.cols)
    }

    /// A unary elementwise op.
    pub fn un(&mut self, op: &str, a: &Tensor) -> Tensor {
        self.op(op, &[&a.name], vec![], a.elem, a.cols)
    }

    /// A scalar constant of `elem`.
    pub fn scalar(&mut self, base: &str, elem: Elem, v: f64) -> String {
        self.constant(base, elem, &[], &[v])
    }

    /// Divides each row by its norm, where a zero norm counts as 1 (scikit-learn's rule).
    /// `norm` is `[N, 1]`.
    pub fn div_rows_safe(&mut self, x: &Tensor, norm: &Tensor) -> Tensor {
        let zero = self.scalar("zero", norm.elem, 0.0);
        let one = self.scalar("one", norm.elem, 1.0);
        let is_zero = self.op("Equal", &[&norm.name, &zero], vec![], Elem::Bool, norm.cols);
        let safe = self.op(
            "Where",
            &[&is_zero.name, &one, &norm.name],
            vec![],
            norm.elem,
            norm.cols,
        );
        self.bin("Div", x, &safe.name)
    }

    /// `1 / (1 + exp(-t))`, written out: onnxruntime's `Sigmoid` on doubles is not exact in
    /// the tails (it gave 0 where scikit-learn's `expit` gives 5e-19), and OvR
    /// normalisation divides by those tails.
    pub fn sigmoid(&mut self, t: &Tensor) -> Tensor {
        let n = self.un("Neg", t);
        let e = self.un("Exp", &n);
        let one = self.scalar("one", t.elem, 1.0);
        let d = self.bin("Add", &e, &one);
        self.op("Div", &[&one, &d.name], vec![], t.elem, t.cols)
    }

    /// Softmax over columns, written out (`exp(t - max) / sum`), as scikit-learn computes it.
    pub fn softmax(&mut self, t: &Tensor) -> Tensor {
        let m = self.reduce("ReduceMax", t, 1, true);
        let c = self.bin("Sub", t, &m.name);
        let e = self.un("Exp", &c);
        let s = self.reduce("ReduceSum", &e, 1, true);
        self.bin("Div", &e, &s.name)
    }

    /// `[1 - p, p]` from a `[N, 1]` probability of the second class.
    pub fn binary_probs(&mut self, p: &Tensor) -> Tensor {
        let one = self.scalar("one", p.elem, 1.0);
        let q = self.op("Sub", &[&one, &p.name], vec![], p.elem, Some(1));
        self.concat(&[q, p.clone()], p.elem)
    }
}
