//! Path resolution: relative paths against the working directory, then a
//! purely lexical clean-up.
//!
//! We never touch the filesystem here (no `canonicalize`): the path must mean
//! the same thing to the kernel's policy check as it does to us, and a file
//! that does not exist yet has nothing to canonicalise. Whether a path may be
//! written is the kernel's decision, not ours.

use std::path::{Component, Path, PathBuf};

/// Joins `path` onto `cwd` (unless it is absolute) and normalises it.
pub(crate) fn resolve(cwd: &Path, path: &Path) -> PathBuf {
    normalize(&cwd.join(path))
}

/// Removes `.` components and folds `a/..` pairs, lexically. A `..` that
/// would climb above the root is dropped; above the start of a relative path
/// it is kept.
pub(crate) fn normalize(path: &Path) -> PathBuf {
    let mut out: Vec<Component<'_>> = Vec::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => match out.last() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => out.push(component),
            },
            other => out.push(other),
        }
    }
    if out.is_empty() {
        return PathBuf::from(".");
    }
    out.iter().collect()
}

/// How a patch path is shown in messages and diffs: as written, normalised.
pub(crate) fn shown(path: &Path) -> String {
    normalize(path).display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_join_cwd() {
        assert_eq!(
            resolve(Path::new("/work"), Path::new("src/lib.rs")),
            PathBuf::from("/work/src/lib.rs")
        );
    }

    #[test]
    fn absolute_paths_ignore_cwd() {
        assert_eq!(
            resolve(Path::new("/work"), Path::new("/etc/x")),
            PathBuf::from("/etc/x")
        );
    }

    #[test]
    fn dot_and_dotdot_fold_lexically() {
        assert_eq!(
            resolve(Path::new("/work/a"), Path::new("./b/../c/./d.txt")),
            PathBuf::from("/work/a/c/d.txt")
        );
        assert_eq!(
            resolve(Path::new("/work"), Path::new("../../../x")),
            PathBuf::from("/x")
        );
        assert_eq!(normalize(Path::new("../a/./b/..")), PathBuf::from("../a"));
        assert_eq!(normalize(Path::new("a/..")), PathBuf::from("."));
    }

    #[test]
    fn shown_is_normalised_but_relative() {
        assert_eq!(shown(Path::new("./src/../lib.rs")), "lib.rs");
    }
}
