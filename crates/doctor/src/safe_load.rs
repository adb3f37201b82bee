//! What a safe load needs from one scan of the bytes it will unpickle.
//!
//! The Python binding's `load` reads the bytes once, asks for a [`LoadPlan`], and refuses the
//! file when the scan finds it unsafe. Otherwise it unpickles the same bytes with a
//! `find_class` that admits exactly the globals listed here (after `_compat_pickle`
//! mapping), so the static scan and the dynamic restriction agree by construction: a global
//! the scan did not see cannot be imported.

use serde::Serialize;
use vm::Node;

use crate::members;
use crate::scan::{ScanOptions, ScanReport, scan_bytes};

/// A global the scan saw, and what `find_class` imports for it below protocol 3.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ApprovedGlobal {
    /// The module as written.
    pub module: String,
    /// The name as written.
    pub name: String,
    /// The module after `_compat_pickle` mapping, which pickle applies below protocol 3
    /// (equal to `module` when none applies or the pickle is protocol 3 or later).
    pub mapped_module: String,
    /// The name after `_compat_pickle` mapping.
    pub mapped_name: String,
}

/// What a safe load may do with these bytes.
#[derive(Debug, Clone, Serialize)]
pub struct LoadPlan {
    /// The scan of the bytes.
    pub report: ScanReport,
    /// Their format (the report's).
    pub format: String,
    /// Every literal global of every pickle member, sorted and deduplicated.
    pub globals: Vec<ApprovedGlobal>,
    /// Whether a pickle uses persistent ids (`PERSID`/`BINPERSID`).
    pub persistent_ids: bool,
    /// Whether a pickle takes protocol-5 out-of-band buffers (`NEXT_BUFFER`).
    pub out_of_band_buffers: bool,
}

/// Scans `data` and lists what loading it may import.
#[must_use]
pub fn plan(data: &[u8], opts: &ScanOptions) -> LoadPlan {
    let report = scan_bytes(data, "<bytes>", opts);
    let mut globals = Vec::new();
    let mut persistent_ids = false;
    let mut out_of_band_buffers = false;
    if let Ok(opened) = container::open(data, &opts.limits.inflate) {
        let knowledge = crate::knowledge();
        for m in opened.pickles() {
            let run = members::run(m, opts.limits.budgets);
            for g in &run.trace.globals {
                if let Some((module, name)) = g.literal() {
                    // find_class maps by the protocol in effect at the op: the last PROTO
                    // before it (protocols 0 and 1 have none).
                    let (mapped_module, mapped_name) = if g.protocol < 3 {
                        knowledge.compat_map(module, name)
                    } else {
                        (module.to_owned(), name.to_owned())
                    };
                    globals.push(ApprovedGlobal {
                        module: module.to_owned(),
                        name: name.to_owned(),
                        mapped_module,
                        mapped_name,
                    });
                }
            }
            for n in &run.trace.nodes {
                match n {
                    Node::PersistentId { .. } => persistent_ids = true,
                    Node::Buffer { .. } => out_of_band_buffers = true,
                    _ => {}
                }
            }
        }
    }
    globals.sort();
    globals.dedup();
    LoadPlan {
        format: report.format.clone(),
        report,
        globals,
        persistent_ids,
        out_of_band_buffers,
    }
}
