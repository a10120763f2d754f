//! Planning: computing every file's new content without touching anything.
//!
//! Operations are simulated in order over an overlay of already-planned
//! contents, so a patch can update a file twice, delete and re-add it, or
//! update a file it just moved. Any failure fails the whole plan.
//!
//! The overlay points at the planned changes instead of holding copies:
//! files can be megabytes, and copying each one again per operation showed
//! up in the benchmark.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};

use crate::diff::{self, Edit, Side};
use crate::error::ApplyError;
use crate::hunks;
use crate::paths::{resolve, shown};
use crate::text::FileText;
use crate::{ChangeKind, Chunk, FileOp, FileSource, Patch, PlannedChange};

/// Computes every change `patch` makes, relative to `cwd`, reading current
/// contents from `source`. Nothing is written; the result is all-or-nothing.
///
/// Returns one [`PlannedChange`] per operation, in patch order.
pub fn plan_patch(
    patch: &Patch,
    cwd: &Path,
    source: &dyn FileSource,
) -> Result<Vec<PlannedChange>, ApplyError> {
    let mut planner = Planner {
        source,
        cwd,
        planned: HashMap::new(),
        changes: Vec::with_capacity(patch.ops.len()),
    };
    for op in &patch.ops {
        match op {
            FileOp::Add { path, contents } => planner.add(path, contents)?,
            FileOp::Delete { path } => planner.delete(path)?,
            FileOp::Update {
                path,
                move_to,
                chunks,
            } => planner.update(path, move_to.as_deref(), chunks)?,
        }
    }
    Ok(planner.changes)
}

/// What earlier operations left at a path.
enum Planned {
    Removed,
    /// The `new` text of `changes[i]`.
    Content(usize),
}

struct Planner<'s> {
    source: &'s dyn FileSource,
    cwd: &'s Path,
    planned: HashMap<PathBuf, Planned>,
    changes: Vec<PlannedChange>,
}

impl Planner<'_> {
    /// Current contents: what earlier operations planned, else the source.
    fn read(&self, abs: &Path, name: &str) -> Result<Option<String>, ApplyError> {
        match self.planned.get(abs) {
            Some(Planned::Removed) => return Ok(None),
            Some(Planned::Content(i)) => {
                return Ok(match &self.changes[*i].kind {
                    ChangeKind::Add { new } | ChangeKind::Update { new, .. } => Some(new.clone()),
                    ChangeKind::Delete { .. } => None,
                });
            }
            None => {}
        }
        self.source.read(abs).map_err(|source| match source.kind() {
            io::ErrorKind::IsADirectory => ApplyError::IsDirectory {
                path: name.to_string(),
            },
            _ => ApplyError::Read {
                path: name.to_string(),
                source,
            },
        })
    }

    fn push(&mut self, change: PlannedChange) {
        self.changes.push(change);
    }

    fn add(&mut self, path: &Path, contents: &str) -> Result<(), ApplyError> {
        let abs = resolve(self.cwd, path);
        let name = shown(path);
        let existing = self.read(&abs, &name)?;
        let new = FileText::parse(contents);
        let new_side = side(Some(&name), &new);
        let unified_diff = match &existing {
            None => diff::unified(
                &Side {
                    path: None,
                    len: 0,
                    final_newline: true,
                },
                &[],
                &new_side,
                vec![Edit {
                    old: 0..0,
                    new_start: 0,
                    added: new.texts.iter().map(|t| Cow::Borrowed(*t)).collect(),
                }],
                None,
            ),
            Some(old_text) => {
                let old = FileText::parse(old_text);
                let note = format!("'*** Add File: {name}' replaces the existing file");
                diff::unified(
                    &side(Some(&name), &old),
                    &old.texts,
                    &new_side,
                    diff::edits_between(&old.texts, &new.texts),
                    Some(&note),
                )
            }
        };
        self.planned
            .insert(abs.clone(), Planned::Content(self.changes.len()));
        self.push(PlannedChange {
            path: abs,
            kind: ChangeKind::Add {
                new: contents.to_string(),
            },
            unified_diff,
        });
        Ok(())
    }

    fn delete(&mut self, path: &Path) -> Result<(), ApplyError> {
        let abs = resolve(self.cwd, path);
        let name = shown(path);
        let old_text = self
            .read(&abs, &name)?
            .ok_or_else(|| ApplyError::DeleteMissing { path: name.clone() })?;
        let old = FileText::parse(&old_text);
        let unified_diff = diff::unified(
            &side(Some(&name), &old),
            &old.texts,
            &Side {
                path: None,
                len: 0,
                final_newline: true,
            },
            vec![Edit {
                old: 0..old.len(),
                new_start: 0,
                added: Vec::new(),
            }],
            None,
        );
        drop(old);
        self.planned.insert(abs.clone(), Planned::Removed);
        self.push(PlannedChange {
            path: abs,
            kind: ChangeKind::Delete { old: old_text },
            unified_diff,
        });
        Ok(())
    }

    fn update(
        &mut self,
        path: &Path,
        move_to: Option<&Path>,
        chunks: &[Chunk],
    ) -> Result<(), ApplyError> {
        let abs = resolve(self.cwd, path);
        let name = shown(path);
        let old_text = self
            .read(&abs, &name)?
            .ok_or_else(|| ApplyError::UpdateMissing { path: name.clone() })?;
        let dest = move_to
            .map(|m| (resolve(self.cwd, m), shown(m)))
            .filter(|(d, _)| *d != abs);

        let (new_text, unified_diff) = {
            let old = FileText::parse(&old_text);
            let replacements = hunks::locate(&old, chunks, &name)?;
            let built = hunks::build(&old, &replacements);
            let mut note = None;
            if let Some((dest_abs, dest_name)) = &dest
                && self.read(dest_abs, dest_name)?.is_some()
            {
                note = Some(format!(
                    "'*** Move to: {dest_name}' replaces the existing file"
                ));
            }
            let new_name = dest.as_ref().map_or(name.as_str(), |(_, n)| n.as_str());
            let unified_diff = diff::unified(
                &side(Some(&name), &old),
                &old.texts,
                &Side {
                    path: Some(new_name),
                    len: built.len,
                    final_newline: built.final_newline,
                },
                built.edits,
                note.as_deref(),
            );
            (built.text, unified_diff)
        };

        let index = self.changes.len();
        match &dest {
            Some((dest_abs, _)) => {
                self.planned.insert(abs.clone(), Planned::Removed);
                self.planned
                    .insert(dest_abs.clone(), Planned::Content(index));
            }
            None => {
                self.planned.insert(abs.clone(), Planned::Content(index));
            }
        }
        self.push(PlannedChange {
            path: abs,
            kind: ChangeKind::Update {
                old: old_text,
                new: new_text,
                move_to: dest.map(|(d, _)| d),
            },
            unified_diff,
        });
        Ok(())
    }
}

fn side<'a>(path: Option<&'a str>, text: &FileText<'_>) -> Side<'a> {
    Side {
        path,
        len: text.len(),
        final_newline: text.final_newline,
    }
}
