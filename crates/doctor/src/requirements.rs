//! What a file needs installed: the distributions of its globals, with the version installed
//! in the target or the producer version found in the data (`analyze::requirements`, whose
//! producer rules are data in the knowledge base).

pub use analyze::requirements::{Requirement, RequirementSource};

use crate::error::{Error, Result};
use crate::{Session, members};

impl Session {
    /// The distributions needed to load every file, merged (the first version found wins).
    ///
    /// # Errors
    /// A file cannot be opened.
    pub fn requirements(&self, files: &[(&str, &[u8])]) -> Result<Vec<Requirement>> {
        let mut opened = Vec::with_capacity(files.len());
        for (path, data) in files {
            opened.push(
                container::open(data, &self.limits.inflate).map_err(|e| Error::open(path, e))?,
            );
        }
        let runs: Vec<_> = opened
            .iter()
            .flat_map(members::loaded_members)
            .map(|m| members::run(m, self.limits.budgets))
            .collect();
        let traces: Vec<&vm::Trace<'_>> = runs.iter().map(|r| &r.trace).collect();
        Ok(analyze::requirements::requirements(
            &traces,
            &self.env,
            crate::knowledge(),
        ))
    }
}
