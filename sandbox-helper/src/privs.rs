//! Privilege drop and resource limits for the sandbox init, applied before the command is
//! forked so every process of the command inherits them.
//!
//! Inside its user namespace the init is root with every capability (it needed them to mount).
//! Before the command runs, all of that goes: bounding set, ambient set, effective/permitted/
//! inheritable sets, and securebits that stop a later execve from handing root its
//! capabilities back. With no_new_privs on top, setuid binaries and file capabilities are inert.

use crate::error::{Layer, Result, SandboxError};
use crate::policy::ResourceLimits;
use std::io;

const SECBIT_NOROOT: u64 = 1 << 0;
const SECBIT_NOROOT_LOCKED: u64 = 1 << 1;
const SECBIT_NO_SETUID_FIXUP: u64 = 1 << 2;
const SECBIT_NO_SETUID_FIXUP_LOCKED: u64 = 1 << 3;
const SECBIT_KEEP_CAPS_LOCKED: u64 = 1 << 5;
const SECBIT_NO_CAP_AMBIENT_RAISE: u64 = 1 << 6;
const SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED: u64 = 1 << 7;

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: i32,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;

fn perr(what: &str, e: io::Error) -> SandboxError {
    SandboxError::layer(Layer::Privileges, what, e)
}

fn prctl(option: i32, arg2: u64) -> io::Result<()> {
    // SAFETY: prctl with integer arguments only.
    let ret = unsafe { libc::prctl(option, arg2, 0u64, 0u64, 0u64) };
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

fn capget() -> io::Result<[CapData; 2]> {
    let mut hdr = CapHeader {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    let mut data = [CapData::default(); 2];
    // SAFETY: header and a two-element data array, as capget(2) v3 expects.
    let ret = unsafe { libc::syscall(libc::SYS_capget, &mut hdr, data.as_mut_ptr()) };
    if ret < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(data)
}

/// True when the calling process holds any permitted capability.
fn has_capabilities() -> io::Result<bool> {
    Ok(capget()?.iter().any(|d| d.permitted != 0))
}

/// Drops every capability for good. Without capabilities there is nothing to drop but the
/// ambient set (no_new_privs already makes the bounding set irrelevant for exec).
pub(crate) fn drop_all_capabilities() -> Result<()> {
    if has_capabilities().map_err(|e| perr("capget", e))? {
        prctl(
            libc::PR_SET_SECUREBITS,
            SECBIT_NOROOT
                | SECBIT_NOROOT_LOCKED
                | SECBIT_NO_SETUID_FIXUP
                | SECBIT_NO_SETUID_FIXUP_LOCKED
                | SECBIT_KEEP_CAPS_LOCKED
                | SECBIT_NO_CAP_AMBIENT_RAISE
                | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED,
        )
        .map_err(|e| perr("setting securebits", e))?;
        for cap in 0..64u64 {
            match prctl(libc::PR_CAPBSET_DROP, cap) {
                Ok(()) => {}
                // Past the last capability this kernel knows.
                Err(e) if e.raw_os_error() == Some(libc::EINVAL) => break,
                Err(e) => return Err(perr("dropping the bounding set", e)),
            }
        }
    }
    // SAFETY: prctl with integer arguments only.
    let ret = unsafe {
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL as u64,
            0u64,
            0u64,
            0u64,
        )
    };
    if ret < 0 {
        let e = io::Error::last_os_error();
        // Kernels before 4.3 have no ambient set: nothing to clear.
        if e.raw_os_error() != Some(libc::EINVAL) {
            return Err(perr("clearing ambient capabilities", e));
        }
    }
    let mut hdr = CapHeader {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    let data = [CapData::default(); 2];
    // SAFETY: header and a two-element data array, as capset(2) v3 expects.
    let ret = unsafe { libc::syscall(libc::SYS_capset, &mut hdr, data.as_ptr()) };
    if ret < 0 {
        return Err(perr("capset", io::Error::last_os_error()));
    }
    if has_capabilities().map_err(|e| perr("capget", e))? {
        return Err(SandboxError::layer(
            Layer::Privileges,
            "capabilities",
            "still present after capset",
        ));
    }
    Ok(())
}

/// `PR_SET_NO_NEW_PRIVS`: exec can never grant privileges again (setuid, file caps).
pub(crate) fn set_no_new_privs() -> Result<()> {
    prctl(libc::PR_SET_NO_NEW_PRIVS, 1).map_err(|e| perr("no_new_privs", e))
}

/// Kill the calling process when its parent dies.
pub(crate) fn die_with_parent() -> Result<()> {
    prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as u64)
        .map_err(|e| SandboxError::layer(Layer::Process, "PR_SET_PDEATHSIG", e))
}

/// `setrlimit`'s resource argument: glibc declares an enum type, musl a plain int.
#[cfg(target_env = "gnu")]
type Resource = libc::__rlimit_resource_t;
#[cfg(not(target_env = "gnu"))]
type Resource = libc::c_int;

fn setrlimit(resource: Resource, value: u64) -> io::Result<()> {
    let lim = libc::rlimit {
        rlim_cur: value,
        rlim_max: value,
    };
    // SAFETY: valid rlimit struct.
    if unsafe { libc::setrlimit(resource, &lim) } < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// File size, core dumps off, and RLIMIT_NPROC (which the kernel ignores for real uid 0; for
/// root the per-command PID namespace's `pid_max` is what stops a fork bomb).
pub(crate) fn apply_limits(limits: &ResourceLimits) -> Result<()> {
    let lerr = |what: &str, e| SandboxError::layer(Layer::ResourceLimits, what, e);
    setrlimit(libc::RLIMIT_FSIZE, limits.max_file_size).map_err(|e| lerr("RLIMIT_FSIZE", e))?;
    setrlimit(libc::RLIMIT_CORE, 0).map_err(|e| lerr("RLIMIT_CORE", e))?;
    setrlimit(libc::RLIMIT_NPROC, u64::from(limits.max_processes))
        .map_err(|e| lerr("RLIMIT_NPROC", e))
}
