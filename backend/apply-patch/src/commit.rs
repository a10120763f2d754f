//! Writing a plan to disk, all or nothing.
//!
//! 1. Work out each path's final state (a patch may touch a path twice).
//! 2. Stage: write every new content to a temp file in its target's directory
//!    (creating missing directories), so the final step is a same-filesystem
//!    rename that cannot half-write a file.
//! 3. Swap: move each existing target aside to a backup name, then rename the
//!    staged file into place (or leave it removed, for a delete). The last
//!    target is renamed over directly: nothing after it can fail, so its
//!    original never needs restoring, and a one-file patch costs one rename.
//! 4. Success: remove the backups. Failure anywhere: undo in reverse order
//!    (remove placed files, restore backups, remove temp files and the
//!    directories we created), so no file is changed.
//!
//! New contents keep the permissions of the file they replace (a moved file
//! keeps its source's). A symlinked target is written through, like an editor
//! would, instead of being replaced by a regular file. We do not fsync: the
//! guarantee is about failures while applying, not power loss.

use std::collections::HashMap;
use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::ApplyError;
use crate::{ChangeKind, PlannedChange};

/// Writes `changes` (from [`crate::plan_patch`]) to disk atomically: either
/// every change is made, or, on error, nothing is changed and the error says
/// what failed. Creates parent directories for adds and moves, and removes the
/// ones it created if it rolls back.
pub fn commit_to_disk(changes: &[PlannedChange]) -> Result<(), ApplyError> {
    let targets = final_states(changes);
    let mut tx = Transaction::default();
    match tx.run(&targets) {
        Ok(()) => {
            tx.discard_backups();
            Ok(())
        }
        Err(failure) => {
            let leftovers = tx.rollback();
            Err(if leftovers.is_empty() {
                ApplyError::Commit {
                    path: failure.path,
                    action: failure.action,
                    source: failure.source,
                }
            } else {
                ApplyError::RollbackFailed {
                    path: failure.path,
                    action: failure.action,
                    source: failure.source,
                    leftovers: leftovers.join("\n"),
                }
            })
        }
    }
}

/// What one path should end up as.
struct Target<'a> {
    path: PathBuf,
    /// New content, or `None` to remove.
    content: Option<&'a str>,
    /// Where to copy permissions from if `path` does not exist yet (the source
    /// of a move).
    permissions_from: Option<PathBuf>,
}

/// Folds the ordered changes into one final state per path, in order of
/// first appearance.
fn final_states(changes: &[PlannedChange]) -> Vec<Target<'_>> {
    let mut targets: Vec<Target<'_>> = Vec::new();
    let mut index: HashMap<PathBuf, usize> = HashMap::new();
    for change in changes {
        match &change.kind {
            ChangeKind::Add { new } => put(&mut targets, &mut index, &change.path, Some(new), None),
            ChangeKind::Delete { .. } => put(&mut targets, &mut index, &change.path, None, None),
            ChangeKind::Update { new, move_to, .. } => match move_to {
                Some(dest) if *dest != change.path => {
                    put(&mut targets, &mut index, &change.path, None, None);
                    put(
                        &mut targets,
                        &mut index,
                        dest,
                        Some(new),
                        Some(change.path.clone()),
                    );
                }
                _ => put(&mut targets, &mut index, &change.path, Some(new), None),
            },
        }
    }
    targets
}

fn put<'a>(
    targets: &mut Vec<Target<'a>>,
    index: &mut HashMap<PathBuf, usize>,
    path: &Path,
    content: Option<&'a str>,
    permissions_from: Option<PathBuf>,
) {
    match index.get(path) {
        Some(&i) => {
            targets[i].content = content;
            if permissions_from.is_some() {
                targets[i].permissions_from = permissions_from;
            }
        }
        None => {
            index.insert(path.to_path_buf(), targets.len());
            targets.push(Target {
                path: path.to_path_buf(),
                content,
                permissions_from,
            });
        }
    }
}

/// The first failure while committing.
struct Failure {
    path: PathBuf,
    action: &'static str,
    source: io::Error,
}

fn fail<'p>(path: &'p Path, action: &'static str) -> impl FnOnce(io::Error) -> Failure + 'p {
    move |source| Failure {
        path: path.to_path_buf(),
        action,
        source,
    }
}

/// Everything done so far, so it can be undone.
#[derive(Default)]
struct Transaction {
    /// Directories we created, parents first.
    created_dirs: Vec<PathBuf>,
    /// Temp files not yet renamed into place: (temp, target).
    staged: Vec<(PathBuf, PathBuf)>,
    /// Originals moved aside: (backup, original).
    backups: Vec<(PathBuf, PathBuf)>,
    /// Targets that now hold new content.
    placed: Vec<PathBuf>,
}

impl Transaction {
    fn run(&mut self, targets: &[Target<'_>]) -> Result<(), Failure> {
        // Stage every new content first: most failures (missing permissions,
        // a file where a directory should be, a full disk) happen here,
        // before any original is touched.
        let mut temps: Vec<Option<PathBuf>> = Vec::with_capacity(targets.len());
        for target in targets {
            let Some(content) = target.content else {
                temps.push(None);
                continue;
            };
            let dest = write_through(&target.path);
            let dir = dest.parent().unwrap_or(Path::new("."));
            self.create_dirs(dir)?;
            let temp = unique_sibling(&dest, "tmp");
            let mut file = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&temp)
                .map_err(fail(&temp, "create a temporary file"))?;
            self.staged.push((temp.clone(), dest.clone()));
            file.write_all(content.as_bytes())
                .map_err(fail(&temp, "write a temporary file"))?;
            drop(file);
            let perms_source = if dest.exists() {
                Some(dest.clone())
            } else {
                target.permissions_from.clone()
            };
            if let Some(source) = perms_source
                && let Ok(meta) = fs::metadata(&source)
            {
                fs::set_permissions(&temp, meta.permissions())
                    .map_err(fail(&temp, "set permissions on a temporary file"))?;
            }
            temps.push(Some(temp));
        }

        // Swap. The last file written needs no backup: renaming over it is
        // atomic, and nothing after it can fail and require undoing it.
        let last = targets.len().saturating_sub(1);
        for (i, (target, temp)) in targets.iter().zip(temps).enumerate() {
            let dest = if temp.is_some() {
                write_through(&target.path)
            } else {
                target.path.clone()
            };
            match fs::symlink_metadata(&dest) {
                Ok(meta) if meta.is_dir() => {
                    return Err(Failure {
                        path: dest,
                        action: if temp.is_some() {
                            "replace a directory with a file"
                        } else {
                            "delete a directory"
                        },
                        source: io::Error::new(io::ErrorKind::IsADirectory, "it is a directory"),
                    });
                }
                Ok(_) if i == last && temp.is_some() => {}
                Ok(_) => {
                    let backup = unique_sibling(&dest, "bak");
                    fs::rename(&dest, &backup).map_err(fail(&dest, "move the original aside"))?;
                    self.backups.push((backup, dest.clone()));
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(fail(&dest, "inspect the target")(e)),
            }
            if let Some(temp) = temp {
                fs::rename(&temp, &dest)
                    .map_err(fail(&dest, "rename the new content into place"))?;
                self.staged.retain(|(t, _)| *t != temp);
                self.placed.push(dest);
            }
        }
        Ok(())
    }

    /// Creates `dir` and its missing ancestors, remembering each one.
    fn create_dirs(&mut self, dir: &Path) -> Result<(), Failure> {
        let mut missing = Vec::new();
        let mut cur = dir;
        loop {
            match fs::metadata(cur) {
                Ok(meta) if meta.is_dir() => break,
                Ok(_) => {
                    return Err(Failure {
                        path: cur.to_path_buf(),
                        action: "create the directory",
                        source: io::Error::new(
                            io::ErrorKind::NotADirectory,
                            "a file with that name is in the way",
                        ),
                    });
                }
                Err(_) => {
                    missing.push(cur.to_path_buf());
                    match cur.parent() {
                        Some(parent) if !parent.as_os_str().is_empty() => cur = parent,
                        _ => break,
                    }
                }
            }
        }
        for d in missing.into_iter().rev() {
            match fs::create_dir(&d) {
                Ok(()) => self.created_dirs.push(d),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && d.is_dir() => {}
                Err(e) => return Err(fail(&d, "create the directory")(e)),
            }
        }
        Ok(())
    }

    /// Undoes everything; returns a line per path it could not restore.
    fn rollback(&mut self) -> Vec<String> {
        let mut leftovers = Vec::new();
        for path in self.placed.drain(..).rev() {
            if let Err(e) = fs::remove_file(&path) {
                leftovers.push(format!(
                    "  {}: could not remove the new content: {e}",
                    path.display()
                ));
            }
        }
        for (backup, original) in self.backups.drain(..).rev() {
            if let Err(e) = fs::rename(&backup, &original) {
                leftovers.push(format!(
                    "  {}: could not restore it from {}: {e}",
                    original.display(),
                    backup.display()
                ));
            }
        }
        for (temp, _) in self.staged.drain(..) {
            if let Err(e) = fs::remove_file(&temp)
                && e.kind() != io::ErrorKind::NotFound
            {
                leftovers.push(format!(
                    "  {}: could not remove a temporary file: {e}",
                    temp.display()
                ));
            }
        }
        for dir in self.created_dirs.drain(..).rev() {
            // Only empty directories are removed; one that is not empty now
            // holds something we did not put there, so it stays.
            let _ = fs::remove_dir(&dir);
        }
        leftovers
    }

    /// After success the backups are no longer needed. Failing to remove one
    /// leaves a stray file but does not undo the (complete) change.
    fn discard_backups(&mut self) {
        for (backup, _) in self.backups.drain(..) {
            let _ = fs::remove_file(backup);
        }
    }
}

/// Where writing `path` should land: through a symlink to its target, so the
/// link survives. A dangling link is replaced.
fn write_through(path: &Path) -> PathBuf {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => {
            fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
        }
        _ => path.to_path_buf(),
    }
}

/// A name next to `path` that does not exist yet: `.name.tandem-PID-N.ext`.
fn unique_sibling(path: &Path, ext: &str) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    loop {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let candidate =
            path.with_file_name(format!(".{name}.tandem-{}-{n}.{ext}", std::process::id()));
        if fs::symlink_metadata(&candidate).is_err() {
            return candidate;
        }
    }
}

#[cfg(test)]
mod tests;
