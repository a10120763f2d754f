//! `--probe`: which layers this kernel can actually enforce, found by trying them.
//!
//! A throwaway child is cloned into new user, mount, PID, network and IPC namespaces and
//! attempts every step the real sandbox takes (id maps, making `/` private, the new mount API,
//! a tmpfs, a fresh `/proc`, a per-namespace `pid_max`, no_new_privs, a seccomp filter). The
//! child uses raw syscalls only, so `probe()` is safe to call from a multithreaded process.

use crate::policy::SandboxPolicy;
use crate::sys;
use serde::{Deserialize, Serialize};
use std::os::fd::AsRawFd;
use tandem_protocol::SandboxMode;

/// The result of one attempted step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Check {
    fn from_errno(errno: i32) -> Check {
        if errno == 0 {
            Check {
                ok: true,
                error: None,
            }
        } else if errno == NOT_TRIED {
            Check {
                ok: false,
                error: Some("not tried (an earlier step failed)".into()),
            }
        } else {
            Check {
                ok: false,
                error: Some(std::io::Error::from_raw_os_error(errno).to_string()),
            }
        }
    }
}

/// Landlock's state on this kernel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LandlockProbe {
    /// Kernel ABI version, 0 when Landlock is off.
    pub abi: i32,
    /// `fully_enforced` (ABI ≥ the one we target), `partially_enforced` or `not_enforced`.
    pub status: String,
    /// Which of our Landlock rules this ABI can enforce.
    pub filesystem: bool,
    pub tcp: bool,
    pub device_ioctl: bool,
    pub signal_and_abstract_socket_scoping: bool,
    pub unix_socket_connect: bool,
}

/// Everything `--probe` prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Probe {
    pub kernel: String,
    pub arch: String,
    pub uid: u32,
    pub user_namespace: Check,
    pub mount_namespace: Check,
    pub pid_namespace: Check,
    pub net_namespace: Check,
    pub ipc_namespace: Check,
    pub id_mapping: Check,
    pub private_mounts: Check,
    pub new_mount_api: Check,
    pub tmpfs: Check,
    pub proc_mount: Check,
    pub per_namespace_pid_max: Check,
    pub no_new_privs: Check,
    pub seccomp: Check,
    pub landlock: LandlockProbe,
    /// Every layer of the namespace sandbox works.
    pub full_sandbox_available: bool,
    /// The Landlock-only fallback could run here.
    pub landlock_only_fallback_available: bool,
    /// What is missing, each with the fix.
    pub missing: Vec<String>,
}

/// How a given policy would run on this host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Enforcement {
    /// danger-full-access: no sandbox.
    None,
    /// User/mount/PID/IPC(/net) namespaces + Landlock + seccomp + no_new_privs + no caps.
    Namespaces { landlock: bool },
    /// The opt-in fallback: Landlock + seccomp + no_new_privs.
    LandlockOnly,
    /// Refused (exit 125), with the reason.
    Unavailable { reason: String },
}

const NOT_TRIED: i32 = -1;

/// Steps tried inside the probe child, in order.
const STEPS: usize = 10;
const S_SETGROUPS: usize = 0;
const S_UID_MAP: usize = 1;
const S_GID_MAP: usize = 2;
const S_PRIVATE: usize = 3;
const S_MOUNT_API: usize = 4;
const S_TMPFS: usize = 5;
const S_PROC: usize = 6;
const S_PID_MAX: usize = 7;
const S_NNP: usize = 8;
const S_SECCOMP: usize = 9;

fn errno() -> i32 {
    std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

/// Formats "N N 1" into a fixed buffer (no allocation after clone).
fn id_map_line(id: u32, buf: &mut [u8; 40]) -> usize {
    let s = format!("{id} {id} 1");
    buf[..s.len()].copy_from_slice(s.as_bytes());
    s.len()
}

/// Raw-syscall body of the probe child. Returns the per-step errno (0 = ok).
fn child_steps(uid_line: &[u8], gid_line: &[u8]) -> [i32; STEPS] {
    let mut r = [NOT_TRIED; STEPS];
    let write = |path: &std::ffi::CStr, data: &[u8]| -> i32 {
        // SAFETY: raw open/write/close with valid buffers.
        unsafe {
            let fd = libc::open(path.as_ptr(), libc::O_WRONLY);
            if fd < 0 {
                return errno();
            }
            let n = libc::write(fd, data.as_ptr().cast(), data.len());
            let e = if n < 0 { errno() } else { 0 };
            libc::close(fd);
            e
        }
    };
    r[S_SETGROUPS] = write(c"/proc/self/setgroups", b"deny");
    r[S_UID_MAP] = write(c"/proc/self/uid_map", uid_line);
    r[S_GID_MAP] = write(c"/proc/self/gid_map", gid_line);
    if r[S_UID_MAP] != 0 {
        return r;
    }
    let mount = |src: &std::ffi::CStr, tgt: &std::ffi::CStr, ty: Option<&std::ffi::CStr>, flags| {
        // SAFETY: valid C strings or null.
        let ret = unsafe {
            libc::mount(
                src.as_ptr(),
                tgt.as_ptr(),
                ty.map_or(std::ptr::null(), |t| t.as_ptr()),
                flags,
                std::ptr::null(),
            )
        };
        if ret < 0 { errno() } else { 0 }
    };
    r[S_PRIVATE] = mount(c"none", c"/", None, libc::MS_REC | libc::MS_PRIVATE);
    if r[S_PRIVATE] != 0 {
        return r;
    }
    // SAFETY: raw syscalls.
    r[S_MOUNT_API] = unsafe {
        let fd = libc::syscall(
            libc::SYS_open_tree,
            libc::AT_FDCWD,
            c"/".as_ptr(),
            sys::OPEN_TREE_CLONE | sys::OPEN_TREE_CLOEXEC | sys::AT_RECURSIVE,
        );
        if fd < 0 {
            errno()
        } else {
            let e = match sys::mount_setattr(
                fd as i32,
                c"",
                sys::AT_EMPTY_PATH | sys::AT_RECURSIVE,
                sys::MOUNT_ATTR_RDONLY,
                0,
            ) {
                Ok(()) => 0,
                Err(e) => e.raw_os_error().unwrap_or(libc::EIO),
            };
            libc::close(fd as i32);
            e
        }
    };
    r[S_TMPFS] = mount(c"tmpfs", c"/tmp", Some(c"tmpfs"), libc::MS_NOSUID);
    r[S_PROC] = mount(c"proc", c"/proc", Some(c"proc"), libc::MS_NOSUID);
    if r[S_PROC] == 0 {
        r[S_PID_MAX] = write(c"/proc/sys/kernel/pid_max", b"400");
    }
    priv_steps(&mut r);
    r
}

/// no_new_privs and a trivial seccomp filter (raw syscalls only).
fn priv_steps(r: &mut [i32; STEPS]) {
    // SAFETY: prctl with integer arguments.
    r[S_NNP] = if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1u64, 0u64, 0u64, 0u64) } < 0 {
        errno()
    } else {
        0
    };
    // A one-instruction "allow everything" filter: proves the kernel accepts filters.
    let allow = [libc::sock_filter {
        code: 0x06,
        jt: 0,
        jf: 0,
        k: 0x7fff_0000,
    }];
    let prog = libc::sock_fprog {
        len: 1,
        filter: allow.as_ptr() as *mut libc::sock_filter,
    };
    // SAFETY: a valid one-instruction program.
    r[S_SECCOMP] = if unsafe {
        libc::prctl(
            libc::PR_SET_SECCOMP,
            libc::SECCOMP_MODE_FILTER as u64,
            &prog as *const libc::sock_fprog as u64,
            0u64,
            0u64,
        )
    } < 0
    {
        errno()
    } else {
        0
    };
}

/// Clones a child with `flags` that exits at once; returns 0 or the errno of clone3.
fn try_clone(flags: u64) -> i32 {
    // SAFETY: the child only calls _exit.
    match unsafe { sys::clone3(flags, false) } {
        Ok(sys::Forked::Child) => sys::exit_now(0),
        Ok(sys::Forked::Parent { pid, .. }) => {
            let _ = sys::wait_pid(pid);
            0
        }
        Err(e) => e.raw_os_error().unwrap_or(libc::EIO),
    }
}

/// Probes the running kernel.
pub fn probe() -> Probe {
    // SAFETY: getuid/getgid cannot fail.
    let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
    let mut ubuf = [0u8; 40];
    let mut gbuf = [0u8; 40];
    let ulen = id_map_line(uid, &mut ubuf);
    let glen = id_map_line(gid, &mut gbuf);
    let user = libc::CLONE_NEWUSER as u64;
    let all = user
        | (libc::CLONE_NEWNS | libc::CLONE_NEWPID | libc::CLONE_NEWNET | libc::CLONE_NEWIPC) as u64;
    let mut ns = [NOT_TRIED; 5]; // user, mount, pid, net, ipc
    let mut steps = [NOT_TRIED; STEPS];
    if let Ok((rd, wr)) = sys::pipe() {
        // SAFETY: the child only makes raw syscalls (child_steps) and exits.
        match unsafe { sys::clone3(all, false) } {
            Ok(sys::Forked::Child) => {
                let r = child_steps(&ubuf[..ulen], &gbuf[..glen]);
                let mut bytes = [0u8; STEPS * 4];
                for (i, v) in r.iter().enumerate() {
                    bytes[i * 4..i * 4 + 4].copy_from_slice(&v.to_ne_bytes());
                }
                let _ = sys::write_all(wr.as_raw_fd(), &bytes);
                sys::exit_now(0);
            }
            Ok(sys::Forked::Parent { pid, .. }) => {
                drop(wr);
                ns = [0; 5];
                let bytes = sys::read_to_end(rd.as_raw_fd()).unwrap_or_default();
                let _ = sys::wait_pid(pid);
                for (i, chunk) in bytes.chunks_exact(4).take(STEPS).enumerate() {
                    steps[i] = i32::from_ne_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
                }
            }
            Err(_) => {
                ns[0] = try_clone(user);
                if ns[0] == 0 {
                    for (i, f) in [
                        libc::CLONE_NEWNS,
                        libc::CLONE_NEWPID,
                        libc::CLONE_NEWNET,
                        libc::CLONE_NEWIPC,
                    ]
                    .iter()
                    .enumerate()
                    {
                        ns[i + 1] = try_clone(user | *f as u64);
                    }
                }
            }
        }
    }
    let abi = sys::landlock_abi();
    let landlock = LandlockProbe {
        abi,
        status: crate::landlock_layer::probe_status().into(),
        filesystem: abi >= 1,
        tcp: abi >= 4,
        device_ioctl: abi >= 5,
        signal_and_abstract_socket_scoping: abi >= 6,
        unix_socket_connect: abi >= 9,
    };
    let c = Check::from_errno;
    let id_mapping = [steps[S_SETGROUPS], steps[S_UID_MAP], steps[S_GID_MAP]]
        .into_iter()
        .find(|&e| e != 0)
        .unwrap_or(0);
    let mut p = Probe {
        kernel: kernel_release(),
        arch: std::env::consts::ARCH.into(),
        uid,
        user_namespace: c(ns[0]),
        mount_namespace: c(ns[1]),
        pid_namespace: c(ns[2]),
        net_namespace: c(ns[3]),
        ipc_namespace: c(ns[4]),
        id_mapping: c(id_mapping),
        private_mounts: c(steps[S_PRIVATE]),
        new_mount_api: c(steps[S_MOUNT_API]),
        tmpfs: c(steps[S_TMPFS]),
        proc_mount: c(steps[S_PROC]),
        per_namespace_pid_max: c(steps[S_PID_MAX]),
        no_new_privs: c(steps[S_NNP]),
        seccomp: c(steps[S_SECCOMP]),
        landlock,
        full_sandbox_available: false,
        landlock_only_fallback_available: false,
        missing: Vec::new(),
    };
    // Without namespaces the child never ran: try no_new_privs/seccomp in a plain child.
    if ns[0] != 0 {
        let (nnp, sec) = plain_child_checks();
        p.no_new_privs = c(nnp);
        p.seccomp = c(sec);
    }
    p.fill_verdicts();
    p
}

/// no_new_privs + seccomp in a forked child without namespaces.
fn plain_child_checks() -> (i32, i32) {
    let Ok((rd, wr)) = sys::pipe() else {
        return (libc::EIO, libc::EIO);
    };
    // SAFETY: the child only makes raw syscalls.
    match unsafe { sys::clone3(0, false) } {
        Ok(sys::Forked::Child) => {
            let mut r = [NOT_TRIED; STEPS];
            priv_steps(&mut r);
            let mut bytes = [0u8; 8];
            bytes[..4].copy_from_slice(&r[S_NNP].to_ne_bytes());
            bytes[4..].copy_from_slice(&r[S_SECCOMP].to_ne_bytes());
            let _ = sys::write_all(wr.as_raw_fd(), &bytes);
            sys::exit_now(0)
        }
        Ok(sys::Forked::Parent { pid, .. }) => {
            drop(wr);
            let b = sys::read_to_end(rd.as_raw_fd()).unwrap_or_default();
            let _ = sys::wait_pid(pid);
            if b.len() < 8 {
                return (libc::EIO, libc::EIO);
            }
            (
                i32::from_ne_bytes([b[0], b[1], b[2], b[3]]),
                i32::from_ne_bytes([b[4], b[5], b[6], b[7]]),
            )
        }
        Err(e) => {
            let e = e.raw_os_error().unwrap_or(libc::EIO);
            (e, e)
        }
    }
}

fn kernel_release() -> String {
    // SAFETY: uname fills a zeroed utsname.
    unsafe {
        let mut u: libc::utsname = std::mem::zeroed();
        if libc::uname(&mut u) < 0 {
            return "unknown".into();
        }
        std::ffi::CStr::from_ptr(u.release.as_ptr())
            .to_string_lossy()
            .into_owned()
    }
}

impl Probe {
    fn fill_verdicts(&mut self) {
        let mut missing = Vec::new();
        let mut need = |ok: bool, what: &str| {
            if !ok {
                missing.push(what.to_string());
            }
        };
        need(
            self.user_namespace.ok,
            "user namespaces: enable them (sysctl kernel.unprivileged_userns_clone=1, user.max_user_namespaces>0; Ubuntu: kernel.apparmor_restrict_unprivileged_userns=0) or opt in to the Landlock-only fallback",
        );
        for (ok, name) in [
            (self.mount_namespace.ok, "mount namespaces"),
            (self.pid_namespace.ok, "PID namespaces"),
            (self.net_namespace.ok, "network namespaces"),
            (self.ipc_namespace.ok, "IPC namespaces"),
        ] {
            if self.user_namespace.ok {
                need(
                    ok,
                    &format!("{name}: the kernel refuses them inside a user namespace"),
                );
            }
        }
        if self.user_namespace.ok {
            need(self.id_mapping.ok, "uid/gid mapping in the user namespace");
            need(
                self.private_mounts.ok,
                "mounting inside the user namespace (an LSM such as AppArmor denies it)",
            );
            need(self.new_mount_api.ok, "the new mount API (Linux >= 5.12)");
            need(self.tmpfs.ok, "tmpfs mounts in the user namespace");
            need(
                self.proc_mount.ok,
                "a fresh /proc (a fully visible /proc is required)",
            );
        }
        need(self.no_new_privs.ok, "no_new_privs");
        need(self.seccomp.ok, "seccomp filters (CONFIG_SECCOMP_FILTER)");
        need(
            self.landlock.abi >= 1,
            "landlock: boot with landlock in lsm= (CONFIG_SECURITY_LANDLOCK=y)",
        );
        let ns_ok = self.user_namespace.ok
            && self.mount_namespace.ok
            && self.pid_namespace.ok
            && self.net_namespace.ok
            && self.ipc_namespace.ok
            && self.id_mapping.ok
            && self.private_mounts.ok
            && self.new_mount_api.ok
            && self.tmpfs.ok
            && self.proc_mount.ok;
        self.full_sandbox_available =
            ns_ok && self.no_new_privs.ok && self.seccomp.ok && self.landlock.abi >= 1;
        self.landlock_only_fallback_available =
            self.landlock.abi >= 1 && self.no_new_privs.ok && self.seccomp.ok;
        self.missing = missing;
    }

    fn namespaces_ok(&self) -> bool {
        self.user_namespace.ok
            && self.mount_namespace.ok
            && self.pid_namespace.ok
            && self.net_namespace.ok
            && self.ipc_namespace.ok
            && self.id_mapping.ok
            && self.private_mounts.ok
            && self.new_mount_api.ok
            && self.tmpfs.ok
            && self.proc_mount.ok
            && self.no_new_privs.ok
            && self.seccomp.ok
    }

    /// How `policy` would run here (what the one-shot helper and the zygote will do).
    pub fn enforcement_for(&self, policy: &SandboxPolicy) -> Enforcement {
        if policy.mode == SandboxMode::DangerFullAccess {
            return Enforcement::None;
        }
        let fallback_ok =
            policy.allow_landlock_only_fallback && self.landlock_only_fallback_available;
        if policy.force_landlock_only {
            return if fallback_ok {
                Enforcement::LandlockOnly
            } else {
                Enforcement::Unavailable {
                    reason:
                        "the Landlock-only fallback was forced but is not allowed or not available"
                            .into(),
                }
            };
        }
        if self.namespaces_ok() {
            if self.landlock.abi >= 1 {
                return Enforcement::Namespaces { landlock: true };
            }
            if policy.allow_without_landlock {
                return Enforcement::Namespaces { landlock: false };
            }
        }
        if fallback_ok && !self.namespaces_ok() {
            return Enforcement::LandlockOnly;
        }
        Enforcement::Unavailable {
            reason: self
                .missing
                .first()
                .cloned()
                .unwrap_or_else(|| "unknown".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_tells_the_truth_about_this_kernel() {
        let p = probe();
        // Cross-check against what the kernel says through other channels.
        assert_eq!(p.landlock.abi, sys::landlock_abi());
        let max_userns: i64 = std::fs::read_to_string("/proc/sys/user/max_user_namespaces")
            .map(|s| s.trim().parse().unwrap_or(0))
            .unwrap_or(0);
        if max_userns == 0 {
            assert!(!p.user_namespace.ok);
        }
        if p.user_namespace.ok {
            assert!(p.id_mapping.ok, "{p:?}");
        }
        assert_eq!(
            p.full_sandbox_available,
            p.missing.is_empty(),
            "{:?}",
            p.missing
        );
    }

    #[test]
    fn danger_needs_nothing() {
        let p = probe();
        let policy = SandboxPolicy {
            mode: SandboxMode::DangerFullAccess,
            ..SandboxPolicy::default()
        };
        assert_eq!(p.enforcement_for(&policy), Enforcement::None);
    }
}
