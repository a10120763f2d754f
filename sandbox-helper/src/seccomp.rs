//! The seccomp layer: a deny-list compiled once into BPF (a search tree, see `bpf.rs`) and
//! installed in the sandbox init before the command is forked, so every process of the command
//! inherits it.
//!
//! It is the second wall behind the namespaces: even if a mount or namespace trick worked,
//! the syscalls that build such tricks are refused (EPERM). The program also kills
//! foreign-architecture syscalls, refuses the x32 ABI, and answers `clone3` with ENOSYS (its
//! flags live in memory that BPF cannot read, and glibc falls back to `clone`, whose flags we
//! *can* check).

use crate::error::{Layer, Result, SandboxError};
use seccompiler::BpfProgram;
use serde::Serialize;

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

/// Compiles the filter (see `bpf.rs`). Done once per sandbox (or per zygote session), not per
/// command; it takes a few microseconds.
pub fn compile(network: bool) -> Result<BpfProgram> {
    crate::bpf::compile(&deny_rules(network))
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

    /// What the rules say about one syscall, computed directly from the rule list.
    fn expected(rules: &[DenyRule], nr: u32, arch: u32, args: [u64; 6]) -> u32 {
        use crate::bpf::{NATIVE_ARCH, RET_ALLOW, RET_ERRNO, RET_KILL_PROCESS, X32_SYSCALL_BIT};
        if arch != NATIVE_ARCH {
            return RET_KILL_PROCESS;
        }
        if nr >= X32_SYSCALL_BIT || i64::from(nr) == libc::SYS_clone3 {
            return RET_ERRNO | libc::ENOSYS as u32;
        }
        let low = |i: u8| args[i as usize] & 0xffff_ffff;
        let denied = rules
            .iter()
            .filter(|r| r.nr == i64::from(nr))
            .any(|r| match &r.when {
                When::Always => true,
                When::ArgIn { arg, values } => values.contains(&low(*arg)),
                When::ArgNot { arg, value } => low(*arg) != *value,
                When::ArgHasAnyBit { arg, bits } => bits.iter().any(|b| low(*arg) & b != 0),
            });
        if denied {
            RET_ERRNO | libc::EPERM as u32
        } else {
            RET_ALLOW
        }
    }

    /// The compiled program, run in a BPF interpreter, agrees with the rules for every syscall
    /// number and a spread of arguments (including values only the high 32 bits tell apart).
    #[test]
    #[allow(
        clippy::unnecessary_cast,
        reason = "ioctl numbers are c_ulong or c_int by libc"
    )]
    fn the_program_matches_the_rules_everywhere() {
        let af_unix = libc::AF_UNIX as u64;
        let arg_sets: Vec<[u64; 6]> = vec![
            [0; 6],
            [af_unix, 0, 0, 0, 0, 0],
            [libc::AF_INET as u64, 1, 0, 0, 0, 0],
            [libc::AF_NETLINK as u64, 0, 0, 0, 0, 0],
            [(1 << 32) | af_unix, 0, 0, 0, 0, 0],
            [1 << 32, 0, 0, 0, 0, 0],
            [0, libc::TIOCSTI as u64, 0, 0, 0, 0],
            [0, libc::TIOCLINUX as u64, 0, 0, 0, 0],
            [0, (1 << 40) | libc::TIOCSTI as u64, 0, 0, 0, 0],
            [0, libc::TIOCGWINSZ as u64, 0, 0, 0, 0],
            [libc::CLONE_NEWUSER as u64, 0, 0, 0, 0, 0],
            [(libc::CLONE_VM | libc::CLONE_NEWNET) as u64, 0, 0, 0, 0, 0],
            [
                (libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD) as u64,
                0,
                0,
                0,
                0,
                0,
            ],
            [libc::CLONE_NEWNS as u64 | 1 << 33, 0, 0, 0, 0, 0],
            [u64::MAX; 6],
        ];
        let mut nrs: Vec<u32> = (0..1024).collect();
        nrs.extend([X32 - 1, X32, X32 + 1, X32 + 165, u32::MAX]);
        for network in [false, true] {
            let rules = deny_rules(network);
            let prog = compile(network).unwrap();
            let mut worst = 0;
            for &nr in &nrs {
                for args in &arg_sets {
                    for arch in [crate::bpf::NATIVE_ARCH, 0x4000_0003, 0] {
                        let (got, steps) = crate::bpf::run(&prog, nr, arch, *args);
                        let want = expected(&rules, nr, arch, *args);
                        assert_eq!(got, want, "nr {nr} arch {arch:#x} args {args:?}");
                        worst = worst.max(steps);
                    }
                }
            }
            // A balanced tree: a handful of comparisons for any syscall, and a short program
            // (the kernel verifies and JIT-compiles it at every install).
            assert!(worst <= 16, "{worst} steps");
            assert!(prog.len() < 110, "{} instructions", prog.len());
        }
    }

    const X32: u32 = crate::bpf::X32_SYSCALL_BIT;

    #[test]
    fn adjacent_denials_share_one_range() {
        // mount (165) and umount2 (166) on x86_64 are one range: one comparison fewer each.
        let prog = compile(false).unwrap();
        let always = deny_rules(false)
            .iter()
            .filter(|r| r.when == When::Always)
            .count();
        let compares = prog.iter().filter(|i| i.code == 0x35).count();
        assert!(
            compares < 2 * always,
            "{compares} range checks for {always} denials"
        );
    }
}
