//! The escape suite, part two: processes (ptrace, kill, setuid, daemons, fork bombs, huge
//! files, kernel attack surface) and the network (sockets, curl/nc//dev/tcp to a host server).
//! Part one is `escape.rs`; host daemons' Unix sockets are in `escape_sockets.rs`.

mod common;
use common::*;
use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

// ---------------------------------------------------------------- processes

#[test]
fn ptrace_of_an_outside_process() {
    let ws = workspace();
    let mut victim = Victim::new(&ws.path);
    let pid = victim.pid();
    py_blocked(
        &ws,
        &[],
        &format!(
            "r, e = sc(101, 16, {pid}, 0, 0)\nprint('ESCAPED' if r == 0 else f'blocked {{e}}')"
        ),
    );
    // Even a process inside the sandbox cannot be traced (PTRACE_TRACEME).
    py_blocked(
        &ws,
        &[],
        "r, e = sc(101, 0, 0, 0, 0)\nprint('ESCAPED' if r == 0 else f'blocked {e}')",
    );
    py_blocked(
        &ws,
        &[],
        "buf = ctypes.create_string_buffer(8)\nr, e = sc(310, 1, 0, 0, 0, 0, 0)\nprint('ESCAPED' if r >= 0 else f'blocked {e}')",
    );
    assert!(victim.alive());
}

#[test]
fn kill_of_an_outside_process() {
    let ws = workspace();
    let mut victim = Victim::new(&ws.path);
    let pid = victim.pid();
    blocked(&ws, &[], &format!("kill -9 {pid} 2>/dev/null"));
    let _ = sandbox_sh(&ws.path, &[], "kill -9 -1 2>/dev/null; true");
    std::thread::sleep(Duration::from_millis(100));
    assert!(victim.alive(), "the host process was killed");
    control_succeeds(&ws, &format!("kill -0 {pid}"));
}

#[test]
fn only_the_commands_own_processes_are_visible() {
    let ws = workspace();
    let _victim = Victim::new(&ws.path);
    let out = sandbox_sh(
        &ws.path,
        &[],
        "ls -d /proc/[0-9]* | wc -l; cat /proc/1/cmdline | tr '\\0' ' '",
    );
    let so = ran(&out);
    let n: usize = so.lines().next().unwrap().trim().parse().unwrap();
    assert!(n <= 4, "{so}");
}

#[test]
fn setuid_binaries_grant_nothing() {
    let ws = workspace();
    let suid = ws.join("suid-python");
    std::fs::copy(python3(), &suid).unwrap();
    std::fs::set_permissions(&suid, std::fs::Permissions::from_mode(0o4755)).unwrap();
    let out = sandbox(
        &ws.path,
        &[],
        &[
            suid.to_str().unwrap(),
            "-c",
            "import os\nst = open('/proc/self/status').read()\nprint([l for l in st.splitlines() if l.startswith(('CapEff','CapPrm','NoNewPrivs'))])\nprint('ESCAPED' if 'CapEff:\\t0000000000000000' not in st else 'blocked')",
        ],
    );
    let so = ran(&out);
    assert!(so.contains("blocked"), "{so} {}", stderr(&out));
    blocked(&ws, &[], "su -c true nobody 2>/dev/null");
}

#[test]
fn no_capabilities_and_no_new_privs() {
    let ws = workspace();
    let out = sandbox_sh(
        &ws.path,
        &[],
        "grep -E '^(Cap|NoNewPrivs|Seccomp:)' /proc/self/status",
    );
    let so = ran(&out);
    for cap in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"] {
        assert!(
            so.contains(&format!("{cap}:\t0000000000000000")),
            "{cap} not empty: {so}"
        );
    }
    assert!(so.contains("NoNewPrivs:\t1"), "{so}");
    assert!(so.contains("Seccomp:\t2"), "{so}");
}

#[test]
fn a_daemon_cannot_outlive_the_command() {
    let ws = workspace();
    let marker = format!("tandem-daemon-{}", std::process::id());
    let script = format!(
        "( setsid bash -c 'exec -a {marker} bash -c \"while true; do date +%s%N > alive; sleep 0.05; done\"' & ) ; \
         nohup bash -c 'exec -a {marker}-2 sleep 300' >/dev/null 2>&1 & disown; sleep 0.4; echo started"
    );
    let out = sandbox_sh(&ws.path, &[], &script);
    assert!(ran(&out).contains("started"), "{}", stderr(&out));
    let stamp = std::fs::read_to_string(ws.join("alive")).unwrap();
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(
        std::fs::read_to_string(ws.join("alive")).unwrap(),
        stamp,
        "the daemon is still writing"
    );
    assert_eq!(count_processes_with(&marker), 0, "daemon processes survive");
}

#[test]
fn a_fork_bomb_is_contained() {
    let ws = workspace();
    let t = Instant::now();
    let out = sandbox_sh(
        &ws.path,
        &["--max-processes", "400"],
        ":(){ :|:& };: 2>/dev/null & sleep 3; echo survived",
    );
    assert!(ran(&out).contains("survived"));
    assert!(t.elapsed() < Duration::from_secs(60));
    // And it is counted: many forks fail once the namespace is full.
    let out = sandbox_py(
        &ws.path,
        &["--max-processes", "400"],
        "import os, time\nn = 0\nfor i in range(2000):\n    try:\n        pid = os.fork()\n    except OSError:\n        break\n    if pid == 0:\n        time.sleep(30); os._exit(0)\n    n += 1\nprint('forked', n)",
    );
    let so = ran(&out);
    let n: usize = so.trim().rsplit(' ').next().unwrap().parse().unwrap();
    assert!(n < 450, "{so}");
    assert!(n > 100, "limit far too low: {so}");
}

#[test]
fn a_huge_file_is_cut_off() {
    let ws = workspace();
    let out = sandbox_sh(
        &ws.path,
        &["--max-file-size", "10M"],
        "head -c 50M /dev/zero > big; echo rc=$?",
    );
    let so = ran(&out);
    assert!(!so.contains("rc=0"), "{so}");
    let len = std::fs::metadata(ws.join("big")).unwrap().len();
    assert!(len <= 10 << 20, "{len}");
    let out = sandbox_sh(&ws.path, &[], "ulimit -f");
    assert_eq!(ran(&out).trim(), format!("{}", (2u64 << 30) / 1024));
}

#[test]
fn io_uring_is_refused() {
    let ws = workspace();
    py_blocked(
        &ws,
        &[],
        "params = ctypes.create_string_buffer(120)\nr, e = sc(425, 8, params)\nprint('ESCAPED' if r >= 0 else f'blocked {e}')",
    );
}

#[test]
fn kernel_attack_surface_syscalls_are_refused() {
    let ws = workspace();
    // bpf, keyctl, add_key, perf_event_open, kexec_load, init_module, userfaultfd,
    // open_by_handle_at, process_vm_readv.
    py_blocked(
        &ws,
        &[],
        "import errno\nbuf = ctypes.create_string_buffer(256)\ncalls = [(321, 0, buf, 64), (250, 0, 0), (248, b'user', b'k', b'v', 1, -3), (298, buf, 0, -1, -1, 0), (246, 0, 0, 0, 0), (175, buf, 1, b''), (323, 0), (304, -100, buf, 0), (310, 1, buf, 1, buf, 1, 0)]\nbad = []\nfor c in calls:\n    r, e = sc(*c)\n    if e != errno.EPERM: bad.append((c[0], r, e))\nprint('ESCAPED', bad) if bad else print('blocked')",
    );
}

#[test]
fn the_x32_abi_is_refused() {
    let ws = workspace();
    py_blocked(
        &ws,
        &[],
        "import errno\nr, e = sc(0x40000000 | 39)\nprint('blocked' if r < 0 and e == errno.ENOSYS else f'ESCAPED {r} {e}')",
    );
}

#[test]
fn typing_into_the_terminal_with_tiocsti() {
    let ws = workspace();
    // Make a pty our controlling terminal, then push a keystroke into its input queue: the
    // same ioctl would type into the terminal of whoever started us if we had one.
    let code = "import os, fcntl, termios\ntry:\n    os.setsid()\nexcept OSError:\n    pass\nm, s = os.openpty()\nfcntl.ioctl(s, termios.TIOCSCTTY, 0)\ntry:\n    fcntl.ioctl(s, termios.TIOCSTI, b'x')\n    print('ESCAPED')\nexcept OSError as e:\n    print('blocked', e)";
    py_blocked(&ws, &[], code);
    let legacy = std::fs::read_to_string("/proc/sys/dev/tty/legacy_tiocsti").unwrap_or_default();
    if legacy.trim() == "1" {
        let ctl = sandbox_py(&ws.path, &["--mode", "danger-full-access"], code);
        assert!(
            stdout(&ctl).contains("ESCAPED"),
            "control failed: {}",
            stderr(&ctl)
        );
    }
}

#[test]
fn host_sysv_ipc_is_invisible() {
    let ws = workspace();
    let id = unsafe { libc::shmget(libc::IPC_PRIVATE, 4096, libc::IPC_CREAT | 0o666) };
    assert!(id >= 0);
    blocked(
        &ws,
        &[],
        &format!(
            "{} -c 'import ctypes; l=ctypes.CDLL(None); exit(0 if l.shmat({id},0,0) != -1 else 1)'",
            python3().display()
        ),
    );
    unsafe { libc::shmctl(id, libc::IPC_RMID, std::ptr::null_mut()) };
}

// ---------------------------------------------------------------- network

#[test]
fn inet_sockets_are_refused() {
    let ws = workspace();
    for (fam, ty) in [
        ("AF_INET", "SOCK_STREAM"),
        ("AF_INET", "SOCK_DGRAM"),
        ("AF_INET6", "SOCK_STREAM"),
    ] {
        py_blocked(
            &ws,
            &[],
            &format!(
                "import socket\ntry:\n    socket.socket(socket.{fam}, socket.{ty})\n    print('ESCAPED')\nexcept OSError as e:\n    print('blocked', e)"
            ),
        );
    }
}

#[test]
fn netlink_sockets_are_refused() {
    let ws = workspace();
    py_blocked(
        &ws,
        &[],
        "import socket\ntry:\n    socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)\n    print('ESCAPED')\nexcept OSError as e:\n    print('blocked', e)",
    );
}

#[test]
fn packet_and_exotic_sockets_are_refused() {
    let ws = workspace();
    py_blocked(
        &ws,
        &[],
        "import socket, errno\nbad = []\nfor fam in [17, 40, 38, 29, 21]:  # PACKET, VSOCK, ALG, CAN, RDS\n    try:\n        socket.socket(fam, socket.SOCK_RAW if fam == 17 else socket.SOCK_STREAM)\n        bad.append(fam)\n    except OSError as e:\n        if e.errno != errno.EPERM: bad.append((fam, e.errno))\nprint('ESCAPED', bad) if bad else print('blocked')",
    );
}

#[test]
fn curl_to_a_host_server() {
    let curl = require_tool("curl");
    let srv = tcp_server();
    let ws = workspace();
    let url = format!("http://127.0.0.1:{}/", srv.port);
    blocked(
        &ws,
        &[],
        &format!("{} -s -m 3 {url} >/dev/null", curl.display()),
    );
    assert_eq!(srv.hits.load(std::sync::atomic::Ordering::SeqCst), 0);
    control_succeeds(&ws, &format!("{} -s -m 3 {url} >/dev/null", curl.display()));
    assert!(srv.hits.load(std::sync::atomic::Ordering::SeqCst) >= 1);
}

#[test]
fn nc_to_a_host_server() {
    let nc = require_tool("nc");
    let srv = tcp_server();
    let ws = workspace();
    blocked(
        &ws,
        &[],
        &format!(
            "echo hi | {} -w 2 127.0.0.1 {} >/dev/null 2>&1",
            nc.display(),
            srv.port
        ),
    );
    blocked(
        &ws,
        &[],
        &format!(
            "{} -z -w 2 localhost {} 2>/dev/null",
            nc.display(),
            srv.port
        ),
    );
    assert_eq!(srv.hits.load(std::sync::atomic::Ordering::SeqCst), 0);
}

#[test]
fn bash_dev_tcp_to_a_host_server() {
    let srv = tcp_server();
    let ws = workspace();
    let attack = format!("exec 3<>/dev/tcp/127.0.0.1/{} 2>/dev/null", srv.port);
    blocked(&ws, &[], &attack);
    assert_eq!(srv.hits.load(std::sync::atomic::Ordering::SeqCst), 0);
    control_succeeds(&ws, &attack);
}

#[test]
fn dns_and_udp_to_the_host() {
    let ws = workspace();
    blocked(&ws, &[], "exec 3<>/dev/udp/127.0.0.1/53 2>/dev/null");
    blocked(&ws, &[], "getent hosts example.com >/dev/null 2>&1");
}

#[test]
fn the_command_lives_in_its_own_network_namespace() {
    let ws = workspace();
    let host = std::fs::read_link("/proc/self/ns/net").unwrap();
    let out = sandbox_sh(
        &ws.path,
        &[],
        "readlink /proc/self/ns/net; tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '",
    );
    let so = ran(&out);
    let mut lines = so.lines();
    assert_ne!(
        lines.next().unwrap(),
        host.to_str().unwrap(),
        "same netns as the host"
    );
    assert_eq!(lines.collect::<Vec<_>>(), ["lo"], "{so}");
    let out = sandbox_sh(&ws.path, &["--network"], "readlink /proc/self/ns/net");
    assert_eq!(ran(&out).trim(), host.to_str().unwrap());
}

#[test]
fn the_init_and_its_descriptors_are_out_of_reach() {
    let ws = workspace();
    // Writing a fake status into the init's report pipe, or reading its memory.
    blocked(
        &ws,
        &[],
        "readlink /proc/1/fd/0 >/dev/null 2>&1 || readlink /proc/1/cwd >/dev/null 2>&1",
    );
    blocked(
        &ws,
        &[],
        "for f in /proc/1/fd/*; do echo X > $f; done 2>/dev/null; ls /proc/1/fd/3 >/dev/null 2>&1",
    );
    blocked(&ws, &[], "head -c1 /proc/1/mem >/dev/null 2>&1");
    blocked(
        &ws,
        &[],
        "kill -9 1 2>/dev/null && sleep 0.2 && ! kill -0 1 2>/dev/null",
    );
    let out = sandbox_sh(
        &ws.path,
        &[],
        "ls /proc/self/fd >/dev/null && echo own-fds-ok",
    );
    assert_eq!(ran(&out), "own-fds-ok\n");
}
