//! The seccomp layer: a deny-list compiled once into BPF (seccompiler) and installed in the
//! sandbox init before the command is forked, so every process of the command inherits it.
//!
//! It is the second wall behind the namespaces: even if a mount or namespace trick worked,
//! the syscalls that build such tricks are refused (EPERM). Our own prefix in front of
//! seccompiler's program kills foreign-architecture syscalls, refuses the x32 ABI, and answers
//! `clone3` with ENOSYS (its flags live in memory that BPF cannot read, and glibc falls back to
//! `clone`, whose flags we *can* check).

use crate::error::{Layer, Result, SandboxError};
use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, sock_filter,
};
use serde::Serialize;
use std::collections::BTreeMap;

/// When a deny rule matches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum When {
    Always,
    /// Argument `arg` (32-bit compare) equals one of `values`.
    ArgIn {
        arg: u8,
        values: Vec<u64>,
    },
    /// Argument `arg` differs from `value`.
    ArgNot {
        arg: u8,
        value: u64,
    },
    /// Argument `arg` has any of these bits set (one rule per bit).
    ArgHasAnyBit {
        arg: u8,
        bits: Vec<u64>,
    },
}

/// One denied syscall (answer: EPERM).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DenyRule {
    pub syscall: &'static str,
    #[serde(skip)]
    pub nr: i64,
    pub when: When,
}

/// Syscalls no sandboxed command needs and that escapes are made of.
const ALWAYS_DENIED: &[(&str, i64)] = &[
    // Leaving or rebuilding the sandbox.
    ("mount", libc::SYS_mount),
    ("umount2", libc::SYS_umount2),
    ("pivot_root", libc::SYS_pivot_root),
    ("chroot", libc::SYS_chroot),
    ("unshare", libc::SYS_unshare),
    ("setns", libc::SYS_setns),
    ("open_tree", libc::SYS_open_tree),
    ("move_mount", libc::SYS_move_mount),
    ("fsopen", libc::SYS_fsopen),
    ("fsconfig", libc::SYS_fsconfig),
    ("fsmount", libc::SYS_fsmount),
    ("fspick", libc::SYS_fspick),
    ("mount_setattr", libc::SYS_mount_setattr),
    // Reaching into other processes.
    ("ptrace", libc::SYS_ptrace),
    ("process_vm_readv", libc::SYS_process_vm_readv),
    ("process_vm_writev", libc::SYS_process_vm_writev),
    ("pidfd_getfd", libc::SYS_pidfd_getfd),
    // Kernel attack surface and host-wide state.
    ("io_uring_setup", libc::SYS_io_uring_setup),
    ("io_uring_enter", libc::SYS_io_uring_enter),
    ("io_uring_register", libc::SYS_io_uring_register),
    ("bpf", libc::SYS_bpf),
    ("perf_event_open", libc::SYS_perf_event_open),
    ("userfaultfd", libc::SYS_userfaultfd),
    ("keyctl", libc::SYS_keyctl),
    ("add_key", libc::SYS_add_key),
    ("request_key", libc::SYS_request_key),
    ("kexec_load", libc::SYS_kexec_load),
    ("kexec_file_load", libc::SYS_kexec_file_load),
    ("init_module", libc::SYS_init_module),
    ("finit_module", libc::SYS_finit_module),
    ("delete_module", libc::SYS_delete_module),
    ("open_by_handle_at", libc::SYS_open_by_handle_at),
    ("acct", libc::SYS_acct),
    ("swapon", libc::SYS_swapon),
    ("swapoff", libc::SYS_swapoff),
    ("reboot", libc::SYS_reboot),
    ("syslog", libc::SYS_syslog),
    ("quotactl", libc::SYS_quotactl),
    ("vhangup", libc::SYS_vhangup),
    #[cfg(target_arch = "x86_64")]
    ("iopl", libc::SYS_iopl),
    #[cfg(target_arch = "x86_64")]
    ("ioperm", libc::SYS_ioperm),
    #[cfg(target_arch = "x86_64")]
    ("uselib", libc::SYS_uselib),
];

/// Namespace flags refused in `clone` (the rest of `clone` is how every process is made).
const NS_FLAGS: &[u64] = &[
    libc::CLONE_NEWNS as u64,
    libc::CLONE_NEWCGROUP as u64,
    libc::CLONE_NEWUTS as u64,
    libc::CLONE_NEWIPC as u64,
    libc::CLONE_NEWUSER as u64,
    libc::CLONE_NEWPID as u64,
    libc::CLONE_NEWNET as u64,
];

/// The full rule list for a policy. `network` = the command may use the network.
pub fn deny_rules(network: bool) -> Vec<DenyRule> {
    let mut rules: Vec<DenyRule> = ALWAYS_DENIED
        .iter()
        .map(|&(syscall, nr)| DenyRule {
            syscall,
            nr,
            when: When::Always,
        })
        .collect();
    rules.push(DenyRule {
        syscall: "clone",
        nr: libc::SYS_clone,
        when: When::ArgHasAnyBit {
            arg: 0,
            bits: NS_FLAGS.to_vec(),
        },
    });
    // Typing into the controlling terminal of whoever started us.
    rules.push(DenyRule {
        syscall: "ioctl",
        nr: libc::SYS_ioctl,
        when: When::ArgIn {
            arg: 1,
            // c_ulong on glibc, c_int on musl.
            #[allow(clippy::unnecessary_cast, reason = "the type differs between libcs")]
            values: vec![libc::TIOCSTI as u64, libc::TIOCLINUX as u64],
        },
    });
    if !network {
        // Only Unix sockets (and socketpairs) exist without the network: no AF_INET/6, no
        // netlink (routes, audit), no AF_PACKET, no vsock to a hypervisor, nothing exotic.
        for (syscall, nr) in [
            ("socket", libc::SYS_socket),
            ("socketpair", libc::SYS_socketpair),
        ] {
            rules.push(DenyRule {
                syscall,
                nr,
                when: When::ArgNot {
                    arg: 0,
                    value: libc::AF_UNIX as u64,
                },
            });
        }
    }
    rules
}

fn cond(arg: u8, op: SeccompCmpOp, value: u64) -> Result<SeccompCondition> {
    SeccompCondition::new(arg, SeccompCmpArgLen::Dword, op, value)
        .map_err(|e| SandboxError::layer(Layer::Seccomp, "building a condition", e))
}

fn rule(conds: Vec<SeccompCondition>) -> Result<SeccompRule> {
    SeccompRule::new(conds).map_err(|e| SandboxError::layer(Layer::Seccomp, "building a rule", e))
}

#[cfg(target_arch = "x86_64")]
const ARCH: (seccompiler::TargetArch, u32) = (seccompiler::TargetArch::x86_64, 0xC000_003E);
#[cfg(target_arch = "aarch64")]
const ARCH: (seccompiler::TargetArch, u32) = (seccompiler::TargetArch::aarch64, 0xC000_00B7);

const BPF_LD_W_ABS: u16 = 0x20;
const BPF_JEQ_K: u16 = 0x15;
const BPF_JGE_K: u16 = 0x35;
const BPF_RET_K: u16 = 0x06;
const SECCOMP_RET_KILL_PROCESS: u32 = 0x8000_0000;
const SECCOMP_RET_ERRNO: u32 = 0x0005_0000;

fn ins(code: u16, jt: u8, jf: u8, k: u32) -> sock_filter {
    sock_filter { code, jt, jf, k }
}

/// Our part of the program: architecture check, x32 refusal, `clone3` → ENOSYS, and the
/// unconditional denials as one `jeq` each (seccompiler spends several instructions per
/// syscall; the kernel verifies and JIT-compiles every instruction at each install, so a short
/// program is a measurably faster sandbox start, and a faster check on every syscall).
/// Anything not decided here falls through to seccompiler's program for the conditional rules.
fn prefix(always: &[i64]) -> Vec<sock_filter> {
    let enosys = SECCOMP_RET_ERRNO | libc::ENOSYS as u32;
    let eperm = SECCOMP_RET_ERRNO | libc::EPERM as u32;
    // (opcode, value, returns ENOSYS?) for each check, in order.
    let mut checks: Vec<(u16, u32, bool)> = vec![
        (BPF_JGE_K, 0x4000_0000, true), // the x32 ABI bit
        (BPF_JEQ_K, libc::SYS_clone3 as u32, true),
    ];
    checks.extend(always.iter().map(|&nr| (BPF_JEQ_K, nr as u32, false)));
    let n = checks.len();
    let mut prog = vec![
        ins(BPF_LD_W_ABS, 0, 0, 4),                     // A = arch
        ins(BPF_JEQ_K, 1, 0, ARCH.1),                   // native? skip the kill
        ins(BPF_RET_K, 0, 0, SECCOMP_RET_KILL_PROCESS), // foreign architecture
        ins(BPF_LD_W_ABS, 0, 0, 0),                     // A = syscall number
    ];
    for (i, (op, value, to_enosys)) in checks.into_iter().enumerate() {
        // From check i, the ja follows after n - i - 1 more checks; ENOSYS and EPERM after it.
        let to_ja = n - i - 1;
        let jt = to_ja + 1 + usize::from(!to_enosys);
        prog.push(ins(op, jt as u8, 0, value));
    }
    prog.push(ins(0x05, 0, 0, 2)); // ja over the two returns → seccompiler's program
    prog.push(ins(BPF_RET_K, 0, 0, enosys));
    prog.push(ins(BPF_RET_K, 0, 0, eperm));
    prog
}

/// Compiles the filter. Done once per sandbox (or per zygote session), not per command.
pub fn compile(network: bool) -> Result<BpfProgram> {
    let rules = deny_rules(network);
    let always: Vec<i64> = rules
        .iter()
        .filter(|r| r.when == When::Always)
        .map(|r| r.nr)
        .collect();
    if always.len() > 200 {
        return Err(SandboxError::layer(
            Layer::Seccomp,
            "building the filter",
            "too many rules for 8-bit jumps",
        ));
    }
    let mut map: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
    for r in rules {
        let entry = match r.when {
            When::Always => continue,
            _ => map.entry(r.nr).or_default(),
        };
        match r.when {
            When::Always => {}
            When::ArgIn { arg, values } => {
                for v in values {
                    entry.push(rule(vec![cond(arg, SeccompCmpOp::Eq, v)?])?);
                }
            }
            When::ArgNot { arg, value } => {
                entry.push(rule(vec![cond(arg, SeccompCmpOp::Ne, value)?])?);
            }
            When::ArgHasAnyBit { arg, bits } => {
                for b in bits {
                    entry.push(rule(vec![cond(arg, SeccompCmpOp::MaskedEq(b), b)?])?);
                }
            }
        }
    }
    let filter = SeccompFilter::new(
        map,
        SeccompAction::Allow,
        SeccompAction::Errno(libc::EPERM as u32),
        ARCH.0,
    )
    .map_err(|e| SandboxError::layer(Layer::Seccomp, "building the filter", e))?;
    let body: BpfProgram = filter.try_into().map_err(|e: seccompiler::BackendError| {
        SandboxError::layer(Layer::Seccomp, "compiling the filter", e)
    })?;
    let mut prog = prefix(&always);
    prog.extend(body);
    Ok(prog)
}

/// Installs the filter on the calling thread (no_new_privs must already be set).
pub(crate) fn install(prog: &BpfProgram) -> Result<()> {
    seccompiler::apply_filter(prog)
        .map_err(|e| SandboxError::layer(Layer::Seccomp, "installing the filter", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_network_off_are_pinned() {
        insta::assert_yaml_snapshot!(deny_rules(false));
    }

    #[test]
    fn network_on_only_drops_the_socket_rules() {
        let off = deny_rules(false);
        let on = deny_rules(true);
        let names = |r: &[DenyRule]| r.iter().map(|d| d.syscall).collect::<Vec<_>>();
        let missing: Vec<_> = names(&off)
            .into_iter()
            .filter(|n| !names(&on).contains(n))
            .collect();
        assert_eq!(missing, ["socket", "socketpair"]);
    }

    #[test]
    fn escape_syscalls_are_always_denied() {
        let on = deny_rules(true);
        for must in [
            "mount",
            "umount2",
            "pivot_root",
            "chroot",
            "unshare",
            "setns",
            "ptrace",
            "io_uring_setup",
            "bpf",
            "keyctl",
            "kexec_load",
        ] {
            assert!(
                on.iter()
                    .any(|r| r.syscall == must && r.when == When::Always),
                "{must}"
            );
        }
    }

    #[test]
    fn compiles_compactly_with_our_prefix() {
        let always: Vec<i64> = deny_rules(false)
            .iter()
            .filter(|r| r.when == When::Always)
            .map(|r| r.nr)
            .collect();
        let prog = compile(false).unwrap();
        let pre = prefix(&always);
        assert_eq!(prog[..pre.len()], pre[..]);
        // Every unconditional check jumps exactly to the EPERM return.
        let eperm_at = pre.len() - 1;
        for (i, insn) in pre.iter().enumerate().skip(6).take(always.len()) {
            assert_eq!(i + 1 + insn.jt as usize, eperm_at, "check {i}");
        }
        assert_eq!(pre[4].jt as usize + 5, eperm_at - 1, "x32 goes to ENOSYS");
        assert!(prog.len() < 150, "{}", prog.len());
    }
}
