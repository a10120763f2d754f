//! Thin wrappers around the Linux syscalls the sandbox needs and that `libc`/`nix` do not wrap
//! (the new mount API, `clone3`, `close_range`, pidfds, Landlock's `restrict_self`).
//!
//! Everything here is a direct syscall with no hidden allocation, so the probe can also use it
//! in a child cloned from a multithreaded process.

use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

// Constants of the new mount API (linux/mount.h), spelled out because not every libc has them.
pub(crate) const OPEN_TREE_CLONE: u32 = 1;
pub(crate) const OPEN_TREE_CLOEXEC: u32 = libc::O_CLOEXEC as u32;
pub(crate) const AT_RECURSIVE: u32 = 0x8000;
pub(crate) const AT_EMPTY_PATH: u32 = 0x1000;
pub(crate) const AT_SYMLINK_NOFOLLOW: u32 = 0x100;
pub(crate) const MOVE_MOUNT_F_EMPTY_PATH: u32 = 0x4;
pub(crate) const MOUNT_ATTR_RDONLY: u64 = 0x1;
pub(crate) const MOUNT_ATTR_NOSUID: u64 = 0x2;
pub(crate) const MOUNT_ATTR_NODEV: u64 = 0x4;
pub(crate) const MOUNT_ATTR_NOEXEC: u64 = 0x8;

/// `struct clone_args` (linux/sched.h), version 2 layout.
#[repr(C)]
#[derive(Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

/// `struct mount_attr` (linux/mount.h), `MOUNT_ATTR_SIZE_VER0`.
#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

/// The two sides of a `clone3`.
pub(crate) enum Forked {
    Child,
    Parent { pid: i32, pidfd: Option<OwnedFd> },
}

fn last_err() -> io::Error {
    io::Error::last_os_error()
}

fn check(ret: libc::c_long) -> io::Result<libc::c_long> {
    if ret < 0 { Err(last_err()) } else { Ok(ret) }
}

/// A path as a C string (paths with NUL bytes cannot exist on Linux, so this only fails on
/// garbage input).
pub(crate) fn cpath(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path contains a NUL byte"))
}

/// `clone3` without `CLONE_VM`: fork-like, optionally into new namespaces and with a pidfd.
///
/// # Safety
/// The caller must be single-threaded, or the child must only make raw syscalls until it
/// execs or exits: the child is a copy of only the calling thread, and glibc's fork handlers
/// do not run (we bypass them on purpose to create namespaces in one step).
pub(crate) unsafe fn clone3(flags: u64, want_pidfd: bool) -> io::Result<Forked> {
    let mut pidfd: libc::c_int = -1;
    let mut args = CloneArgs {
        flags: flags
            | if want_pidfd {
                libc::CLONE_PIDFD as u64
            } else {
                0
            },
        exit_signal: libc::SIGCHLD as u64,
        ..CloneArgs::default()
    };
    if want_pidfd {
        args.pidfd = &mut pidfd as *mut libc::c_int as u64;
    }
    // SAFETY: args is a valid clone_args of the size we pass; see the function contract.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_clone3,
            &mut args as *mut CloneArgs,
            std::mem::size_of::<CloneArgs>(),
        )
    };
    let pid = check(ret)?;
    if pid == 0 {
        return Ok(Forked::Child);
    }
    let pidfd = if want_pidfd && pidfd >= 0 {
        // SAFETY: the kernel just gave us this descriptor.
        Some(unsafe { OwnedFd::from_raw_fd(pidfd) })
    } else {
        None
    };
    Ok(Forked::Parent {
        pid: pid as i32,
        pidfd,
    })
}

/// The stack of a child that shares our memory (`clone_vm`): an anonymous mapping with an
/// inaccessible guard page at its low end, so an overflow faults instead of scribbling over
/// the parent's memory. Never unmapped: the child may use it until it exits.
pub(crate) struct ChildStack {
    top: *mut libc::c_void,
}

impl ChildStack {
    const GUARD: usize = 4096;

    /// Maps `size` bytes of stack (pages are only backed when touched).
    pub(crate) fn new(size: usize) -> io::Result<ChildStack> {
        let len = size + Self::GUARD;
        // SAFETY: a fresh private anonymous mapping; nothing else refers to it.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(last_err());
        }
        // SAFETY: the first page of the mapping we just made.
        if unsafe { libc::mprotect(base, Self::GUARD, libc::PROT_NONE) } < 0 {
            return Err(last_err());
        }
        Ok(ChildStack {
            // SAFETY: one past the end of the mapping (stacks grow down); page-aligned.
            top: unsafe { base.cast::<u8>().add(len) }.cast(),
        })
    }
}

/// `clone(2)` with `CLONE_VM`: the child shares our address space (no page tables to copy, no
/// copy-on-write faults; the parent's exit leaves the memory to the child instead of tearing
/// it down) and runs `entry(arg)` on `stack`, exiting with its return value. Returns the
/// child's pid. `flags` may add namespace flags; the exit signal is SIGCHLD.
///
/// # Safety
/// Parent and child now write the same memory, including the C library's per-thread state
/// (`errno`) and the allocator's. Until the child exits, the parent may only make plain
/// syscalls (no allocation, no stdio), and `arg` must stay valid for as long as the child
/// uses it. The caller must be single-threaded.
pub(crate) unsafe fn clone_vm(
    flags: u64,
    stack: &ChildStack,
    entry: extern "C" fn(*mut libc::c_void) -> libc::c_int,
    arg: *mut libc::c_void,
) -> io::Result<i32> {
    let flags = i32::try_from(flags | libc::CLONE_VM as u64 | libc::SIGCHLD as u64)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "clone flags"))?;
    // SAFETY: see the function contract; the stack is ours and unused.
    let pid = unsafe { libc::clone(entry, stack.top, flags, arg) };
    if pid < 0 { Err(last_err()) } else { Ok(pid) }
}

/// `open_tree(AT_FDCWD, path, flags)`: with `OPEN_TREE_CLONE`, a detached copy of a mount tree.
pub(crate) fn open_tree(path: &CStr, flags: u32) -> io::Result<OwnedFd> {
    // SAFETY: plain syscall with a valid C string.
    let fd =
        check(unsafe { libc::syscall(libc::SYS_open_tree, libc::AT_FDCWD, path.as_ptr(), flags) })?;
    // SAFETY: the kernel returned a new descriptor.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// Attaches a detached tree (from `open_tree`) on top of `target`. The target's last component
/// is not followed if it is a symlink, which is what lets us mask a planted symlink itself.
pub(crate) fn move_mount_onto(tree: BorrowedFd<'_>, target: &CStr) -> io::Result<()> {
    // SAFETY: plain syscall with valid arguments.
    check(unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            tree.as_raw_fd(),
            c"".as_ptr(),
            libc::AT_FDCWD,
            target.as_ptr(),
            MOVE_MOUNT_F_EMPTY_PATH,
        )
    })?;
    Ok(())
}

/// `mount_setattr` on a path (`dirfd` = `AT_FDCWD`) or on a detached tree (`path` = "" and
/// `AT_EMPTY_PATH`). Sets and clears mount attributes, recursively with `AT_RECURSIVE`.
pub(crate) fn mount_setattr(
    dirfd: RawFd,
    path: &CStr,
    flags: u32,
    set: u64,
    clear: u64,
) -> io::Result<()> {
    let attr = MountAttr {
        attr_set: set,
        attr_clr: clear,
        propagation: 0,
        userns_fd: 0,
    };
    // SAFETY: attr is a valid mount_attr of the size we pass.
    check(unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            dirfd,
            path.as_ptr(),
            flags,
            &attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    })?;
    Ok(())
}

/// `mount(2)` with optional source, type and data.
pub(crate) fn mount(
    source: Option<&CStr>,
    target: &CStr,
    fstype: Option<&CStr>,
    flags: libc::c_ulong,
    data: Option<&CStr>,
) -> io::Result<()> {
    let p = |c: Option<&CStr>| c.map_or(std::ptr::null(), |c| c.as_ptr());
    // SAFETY: all pointers are valid C strings or null.
    let ret = unsafe { libc::mount(p(source), target.as_ptr(), p(fstype), flags, p(data).cast()) };
    if ret < 0 { Err(last_err()) } else { Ok(()) }
}

/// Marks every descriptor from `first` upwards close-on-exec, in one syscall.
pub(crate) fn cloexec_from(first: u32) -> io::Result<()> {
    // SAFETY: plain syscall.
    check(unsafe {
        libc::syscall(
            libc::SYS_close_range,
            first,
            u32::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        )
    })?;
    Ok(())
}

/// Closes every descriptor from `first` upwards.
pub(crate) fn close_from(first: u32) -> io::Result<()> {
    // SAFETY: plain syscall.
    check(unsafe { libc::syscall(libc::SYS_close_range, first, u32::MAX, 0u32) })?;
    Ok(())
}

/// Sends a signal through a pidfd: no pid-reuse race, and works for non-children.
pub(crate) fn pidfd_send_signal(pidfd: BorrowedFd<'_>, sig: i32) -> io::Result<()> {
    // SAFETY: plain syscall.
    check(unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            sig,
            std::ptr::null::<libc::siginfo_t>(),
            0u32,
        )
    })?;
    Ok(())
}

/// `landlock_restrict_self(fd, 0)`.
pub(crate) fn landlock_restrict_self(fd: RawFd) -> io::Result<()> {
    // SAFETY: plain syscall.
    check(unsafe { libc::syscall(libc::SYS_landlock_restrict_self, fd, 0u32) })?;
    Ok(())
}

/// The Landlock ABI version of the running kernel (0 when Landlock is unavailable).
pub fn landlock_abi() -> i32 {
    const LANDLOCK_CREATE_RULESET_VERSION: u32 = 1;
    // SAFETY: the documented way to query the ABI: null attr, size 0, VERSION flag.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<u8>(),
            0usize,
            LANDLOCK_CREATE_RULESET_VERSION,
        )
    };
    if ret < 0 { 0 } else { ret as i32 }
}

/// Writes all of `bytes` to `fd`, retrying on EINTR and short writes.
pub(crate) fn write_all(fd: RawFd, mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        // SAFETY: bytes is a valid buffer.
        let n = unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) };
        if n < 0 {
            let err = last_err();
            if err.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(err);
        }
        bytes = &bytes[n as usize..];
    }
    Ok(())
}

/// Opens `path` write-only, writes `bytes`, closes: for /proc files such as `uid_map`.
pub(crate) fn write_file(path: &CStr, bytes: &[u8]) -> io::Result<()> {
    // SAFETY: valid C string.
    let fd = unsafe { libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(last_err());
    }
    // SAFETY: we own the fresh descriptor.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    write_all(fd.as_raw_fd(), bytes)
}

/// Leaves the process immediately, without running atexit handlers or flushing Rust's stdio
/// (which a forked child shares with its parent).
pub(crate) fn exit_now(code: i32) -> ! {
    // SAFETY: _exit never returns and is always safe to call.
    unsafe { libc::_exit(code) }
}

/// Reads up to `buf.len()` bytes, retrying on EINTR. Returns 0 at end of file.
pub(crate) fn read_some(fd: RawFd, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        // SAFETY: buf is a valid writable buffer.
        let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
        if n >= 0 {
            return Ok(n as usize);
        }
        let err = last_err();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

/// Reads until end of file.
pub(crate) fn read_to_end(fd: RawFd) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = read_some(fd, &mut buf)?;
        if n == 0 {
            return Ok(out);
        }
        out.extend_from_slice(&buf[..n]);
    }
}

/// `waitpid` retrying on EINTR; returns the raw wait status.
pub(crate) fn wait_pid(pid: i32) -> io::Result<i32> {
    let mut status = 0;
    loop {
        // SAFETY: status is a valid out pointer.
        let ret = unsafe { libc::waitpid(pid, &mut status, 0) };
        if ret >= 0 {
            return Ok(status);
        }
        let err = last_err();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

/// A close-on-exec pipe: (read end, write end).
pub(crate) fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: fds is a valid out array of two ints.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } < 0 {
        return Err(last_err());
    }
    // SAFETY: the kernel just gave us both descriptors.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Sets a signal's disposition with `sigaction` (no SA_RESTART: our loops retry on EINTR).
pub(crate) fn set_signal_handler(sig: i32, handler: libc::sighandler_t) {
    // SAFETY: a zeroed sigaction with a valid handler value is a valid argument.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = handler;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(sig, &action, std::ptr::null_mut());
    }
}

/// Blocks (`how` = SIG_BLOCK) or unblocks (SIG_UNBLOCK / SIG_SETMASK) a set of signals.
pub(crate) fn sigmask(how: i32, signals: &[i32]) {
    // SAFETY: the set is initialised before use.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for &s in signals {
            libc::sigaddset(&mut set, s);
        }
        libc::sigprocmask(how, &set, std::ptr::null_mut());
    }
}
