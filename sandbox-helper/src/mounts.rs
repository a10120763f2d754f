//! Executes a [`MountPlan`] inside a fresh user + mount namespace, and mounts the per-command
//! `/proc`. Uses the new mount API (`open_tree`, `move_mount`, `mount_setattr`, Linux ≥ 5.12):
//! it can flip the whole tree read-only in one syscall, attach a tree on top of a symlink
//! without following it, and change flags on a detached tree before anyone can see it.

use crate::error::{Layer, Result, SandboxError};
use crate::mountplan::{MountPlan, MountStep};
use crate::sys::{self, cpath};
use std::ffi::CStr;
use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::fs::DirBuilderExt;
use std::path::Path;

/// Device nodes bound into the minimal `/dev`.
const DEVICES: &[&str] = &["null", "zero", "full", "random", "urandom", "tty"];

fn err(what: impl std::fmt::Display, e: io::Error) -> SandboxError {
    SandboxError::layer(Layer::Mounts, what, e)
}

fn c(path: &Path) -> Result<std::ffi::CString> {
    cpath(path).map_err(|e| err(path.display(), e))
}

/// Runs every step of the plan. Must be called in a process that owns its mount namespace.
pub(crate) fn execute(plan: &MountPlan) -> Result<()> {
    let mut slots: Vec<Option<OwnedFd>> = Vec::new();
    for step in &plan.steps {
        run_step(step, &mut slots)?;
        crate::timing::mark(step.name());
    }
    Ok(())
}

fn run_step(step: &MountStep, slots: &mut Vec<Option<OwnedFd>>) -> Result<()> {
    match step {
        MountStep::MakePrivate => {
            sys::mount(None, c"/", None, libc::MS_REC | libc::MS_PRIVATE, None)
                .map_err(|e| err("making / private", e))
        }
        MountStep::CloneTree { slot, path } => {
            let fd = sys::open_tree(
                &c(path)?,
                sys::OPEN_TREE_CLONE | sys::OPEN_TREE_CLOEXEC | sys::AT_RECURSIVE,
            )
            .map_err(|e| err(format!("cloning {}", path.display()), e))?;
            if slots.len() <= *slot {
                slots.resize_with(slot + 1, || None);
            }
            slots[*slot] = Some(fd);
            Ok(())
        }
        MountStep::ReadOnlyEverything => sys::mount_setattr(
            libc::AT_FDCWD,
            c"/",
            sys::AT_RECURSIVE,
            sys::MOUNT_ATTR_RDONLY | sys::MOUNT_ATTR_NOSUID | sys::MOUNT_ATTR_NODEV,
            0,
        )
        .map_err(|e| err("making / read-only", e)),
        MountStep::MinimalDev => minimal_dev(),
        MountStep::PrivateTmp => sys::mount(
            Some(c"tmpfs"),
            c"/tmp",
            Some(c"tmpfs"),
            libc::MS_NOSUID | libc::MS_NODEV,
            Some(c"mode=1777"),
        )
        .map_err(|e| err("mounting the private /tmp", e)),
        MountStep::MaskDir { path } => sys::mount(
            Some(c"tmpfs"),
            &c(path)?,
            Some(c"tmpfs"),
            libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
            Some(c"mode=755"),
        )
        .map_err(|e| err(format!("masking {}", path.display()), e)),
        MountStep::AttachTree {
            slot,
            path,
            read_only,
        } => {
            let fd = slots.get_mut(*slot).and_then(Option::take).ok_or_else(|| {
                err(
                    format!("attaching {}", path.display()),
                    io_other("no clone"),
                )
            })?;
            ensure_dir(path)?;
            let target = c(path)?;
            sys::move_mount_onto(fd.as_fd(), &target)
                .map_err(|e| err(format!("attaching {}", path.display()), e))?;
            let mut set = sys::MOUNT_ATTR_NOSUID | sys::MOUNT_ATTR_NODEV;
            if *read_only {
                set |= sys::MOUNT_ATTR_RDONLY;
            }
            sys::mount_setattr(libc::AT_FDCWD, &target, sys::AT_RECURSIVE, set, 0)
                .map_err(|e| err(format!("setting flags on {}", path.display()), e))
        }
        MountStep::ProtectReadOnly { path, .. } => {
            let target = c(path)?;
            let fd = sys::open_tree(
                &target,
                sys::OPEN_TREE_CLONE
                    | sys::OPEN_TREE_CLOEXEC
                    | sys::AT_RECURSIVE
                    | sys::AT_SYMLINK_NOFOLLOW,
            )
            .map_err(|e| err(format!("cloning protected {}", path.display()), e))?;
            cover(fd, &target, path)
        }
        MountStep::MaskWithNull { path, .. } => {
            let fd = sys::open_tree(c"/dev/null", sys::OPEN_TREE_CLONE | sys::OPEN_TREE_CLOEXEC)
                .map_err(|e| err("cloning /dev/null", e))?;
            cover(fd, &c(path)?, path)
        }
        MountStep::MaskSocket { path, .. } => {
            let fd = sys::open_tree(c"/dev/null", sys::OPEN_TREE_CLONE | sys::OPEN_TREE_CLOEXEC)
                .map_err(|e| err("cloning /dev/null", e))?;
            seal(&fd, path)?;
            match sys::move_mount_onto(fd.as_fd(), &c(path)?) {
                // A socket that is gone needs no cover (its daemon exited since we looked, or
                // the path led through the /var/run symlink into the /run we replaced).
                Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT | libc::ENOTDIR)) => Ok(()),
                r => r.map_err(|e| err(format!("covering {}", path.display()), e)),
            }
        }
        MountStep::Finalize { read_only } => {
            for p in read_only {
                sys::mount_setattr(libc::AT_FDCWD, &c(p)?, 0, sys::MOUNT_ATTR_RDONLY, 0)
                    .map_err(|e| err(format!("making {} read-only", p.display()), e))?;
            }
            Ok(())
        }
    }
}

/// Makes a detached tree read-only and puts it on top of `target` (not following a symlink).
fn cover(fd: OwnedFd, target: &CStr, path: &Path) -> Result<()> {
    seal(&fd, path)?;
    sys::move_mount_onto(fd.as_fd(), target)
        .map_err(|e| err(format!("covering {}", path.display()), e))
}

/// Makes a detached tree read-only, nosuid and nodev, before anyone can see it.
fn seal(fd: &OwnedFd, path: &Path) -> Result<()> {
    sys::mount_setattr(
        fd.as_raw_fd(),
        c"",
        sys::AT_EMPTY_PATH | sys::AT_RECURSIVE,
        sys::MOUNT_ATTR_RDONLY | sys::MOUNT_ATTR_NOSUID | sys::MOUNT_ATTR_NODEV,
        0,
    )
    .map_err(|e| err(format!("making {} read-only", path.display()), e))
}

fn io_other(msg: &str) -> io::Error {
    io::Error::other(msg.to_string())
}

/// `mkdir -p`, used only for mount points inside our own tmpfs (a missing directory on the
/// read-only host tree fails with EROFS, which is the right answer).
fn ensure_dir(path: &Path) -> Result<()> {
    if path.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o755)
        .create(path)
        .map_err(|e| err(format!("creating mount point {}", path.display()), e))
}

/// Builds the minimal `/dev`: clones of the host's harmless character devices (taken before the
/// host `/dev` disappears under our tmpfs), std symlinks, a private devpts and `/dev/shm`.
fn minimal_dev() -> Result<()> {
    let mut clones = Vec::new();
    for name in DEVICES {
        let host = format!("/dev/{name}");
        let chost = std::ffi::CString::new(host.clone())
            .map_err(|e| err(&host, io_other(&e.to_string())))?;
        match sys::open_tree(&chost, sys::OPEN_TREE_CLONE | sys::OPEN_TREE_CLOEXEC) {
            Ok(fd) => {
                // The clone inherited `nodev` from ReadOnlyEverything; devices need it cleared.
                sys::mount_setattr(
                    fd.as_raw_fd(),
                    c"",
                    sys::AT_EMPTY_PATH,
                    sys::MOUNT_ATTR_NOSUID | sys::MOUNT_ATTR_NOEXEC,
                    sys::MOUNT_ATTR_NODEV,
                )
                .map_err(|e| err(format!("preparing {host}"), e))?;
                clones.push((name, fd));
            }
            // Some containers have no /dev/tty; everything else is required.
            Err(e) if *name == "tty" && e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(err(format!("cloning {host}"), e)),
        }
    }
    sys::mount(
        Some(c"tmpfs"),
        c"/dev",
        Some(c"tmpfs"),
        libc::MS_NOSUID | libc::MS_NOEXEC,
        Some(c"mode=755,size=64k,nr_inodes=64"),
    )
    .map_err(|e| err("mounting /dev", e))?;
    for (name, fd) in clones {
        let path = format!("/dev/{name}");
        let cp = std::ffi::CString::new(path.clone())
            .map_err(|e| err(&path, io_other(&e.to_string())))?;
        // An empty regular file as the mount point: one mknod instead of open + close.
        // SAFETY: valid C string.
        if unsafe { libc::mknod(cp.as_ptr(), libc::S_IFREG | 0o666, 0) } < 0 {
            return Err(err(format!("creating {path}"), io::Error::last_os_error()));
        }
        sys::move_mount_onto(fd.as_fd(), &cp).map_err(|e| err(format!("binding {path}"), e))?;
    }
    for (link, target) in [
        ("/dev/fd", "/proc/self/fd"),
        ("/dev/stdin", "/proc/self/fd/0"),
        ("/dev/stdout", "/proc/self/fd/1"),
        ("/dev/stderr", "/proc/self/fd/2"),
        ("/dev/ptmx", "pts/ptmx"),
    ] {
        std::os::unix::fs::symlink(target, link).map_err(|e| err(format!("creating {link}"), e))?;
    }
    for (dir, mode) in [("/dev/pts", 0o755), ("/dev/shm", 0o1777)] {
        std::fs::DirBuilder::new()
            .mode(mode)
            .create(dir)
            .map_err(|e| err(format!("creating {dir}"), e))?;
    }
    sys::mount(
        Some(c"devpts"),
        c"/dev/pts",
        Some(c"devpts"),
        libc::MS_NOSUID | libc::MS_NOEXEC,
        Some(c"newinstance,ptmxmode=0666,mode=620"),
    )
    .map_err(|e| err("mounting /dev/pts", e))?;
    sys::mount(
        Some(c"tmpfs"),
        c"/dev/shm",
        Some(c"tmpfs"),
        libc::MS_NOSUID | libc::MS_NODEV,
        Some(c"mode=1777"),
    )
    .map_err(|e| err("mounting /dev/shm", e))
}

/// Mounts a fresh `/proc` for the current PID namespace, caps the namespace's `pid_max` (the
/// process limit that also binds root), and makes `/proc` read-only: as the host uid, a
/// capability-less process could otherwise still write root-owned files like
/// `/proc/sysrq-trigger` or `/proc/sys/kernel/core_pattern`.
pub(crate) fn mount_proc(pid_max: Option<u32>) -> Result<()> {
    let perr = |what: &str, e| SandboxError::layer(Layer::Proc, what, e);
    sys::mount(
        Some(c"proc"),
        c"/proc",
        Some(c"proc"),
        libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
        None,
    )
    .map_err(|e| perr("mounting /proc", e))?;
    if let Some(max) = pid_max {
        let value = format!("{}", max.max(301));
        match sys::write_file(c"/proc/sys/kernel/pid_max", value.as_bytes()) {
            Ok(()) => {}
            // Kernels before 6.14 have one global pid_max that a user namespace cannot touch;
            // RLIMIT_NPROC still applies to non-root users (`--probe` reports this).
            Err(e) if matches!(e.raw_os_error(), Some(libc::EPERM | libc::EACCES)) => {}
            Err(e) => {
                return Err(SandboxError::layer(
                    Layer::ResourceLimits,
                    "setting pid_max",
                    e,
                ));
            }
        }
    }
    sys::mount_setattr(libc::AT_FDCWD, c"/proc", 0, sys::MOUNT_ATTR_RDONLY, 0)
        .map_err(|e| perr("making /proc read-only", e))
}
