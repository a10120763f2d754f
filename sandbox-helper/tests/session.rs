//! The session zygote through the library API the kernel uses: spawn many commands into one
//! set of prepared namespaces, each in its own PID namespace, with pipes, statuses and kills.

mod common;
use common::*;
use std::ffi::OsString;
use std::io::{Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::time::{Duration, Instant};
use tandem_sandbox::{ChildIo, SandboxPolicy, SandboxedChild, SessionSandbox, SpawnRequest};

fn session(ws: &Dir) -> SessionSandbox {
    let policy = SandboxPolicy {
        cwd: Some(ws.path.clone()),
        ..SandboxPolicy::default()
    };
    SessionSandbox::start(&bin(), Some("tandem-sandbox"), &policy).expect("session starts")
}

fn output(mut c: SandboxedChild) -> (String, String, std::process::ExitStatus) {
    let mut so = String::new();
    let mut se = String::new();
    let mut out = c.stdout.take().unwrap();
    let mut err = c.stderr.take().unwrap();
    let t = std::thread::spawn(move || {
        let mut s = String::new();
        err.read_to_string(&mut s).unwrap();
        s
    });
    out.read_to_string(&mut so).unwrap();
    se.push_str(&t.join().unwrap());
    let st = c.wait().unwrap();
    (so, se, st)
}

fn sh(s: &SessionSandbox, script: &str) -> (String, String, std::process::ExitStatus) {
    output(s.spawn(SpawnRequest::new(&["bash", "-c", script])).unwrap())
}

#[test]
fn spawns_commands_with_output_and_status() {
    let ws = workspace();
    let s = session(&ws);
    assert_eq!(s.info().enforcement, "namespaces");
    assert!(s.info().network_isolated);
    let (so, se, st) = sh(&s, "echo out; echo err >&2; exit 3");
    assert_eq!(
        (so.as_str(), se.as_str(), st.code()),
        ("out\n", "err\n", Some(3))
    );
    let (so, _, st) = sh(
        &s,
        "echo $$; cat /proc/1/cmdline | tr '\\0' ' '; echo; ls -d /proc/[0-9]* | wc -l",
    );
    assert!(st.success());
    let mut lines = so.lines();
    assert_eq!(
        lines.next(),
        Some("2"),
        "the command is PID 2 of its own namespace: {so}"
    );
    assert!(
        lines.nth(1).unwrap().trim().parse::<u32>().unwrap() <= 4,
        "{so}"
    );
}

#[test]
fn every_command_is_fully_sandboxed() {
    let ws = workspace();
    std::fs::create_dir_all(ws.join(".git")).unwrap();
    let out = outside();
    let s = session(&ws);
    let (so, _, _) = sh(
        &s,
        &format!(
            "echo x > {}/f 2>/dev/null || echo w-blocked; echo x > .git/config 2>/dev/null || echo g-blocked; \
             exec 3<>/dev/tcp/127.0.0.1/1 2>/dev/null || echo n-blocked; grep -E '^(CapEff|NoNewPrivs|Seccomp):' /proc/self/status; echo $TANDEM_SANDBOX",
            out.s()
        ),
    );
    for want in [
        "w-blocked",
        "g-blocked",
        "n-blocked",
        "CapEff:\t0000000000000000",
        "NoNewPrivs:\t1",
        "Seccomp:\t2",
    ] {
        assert!(so.contains(want), "missing {want}: {so}");
    }
    assert!(!out.join("f").exists());
}

#[test]
fn many_sequential_spawns_leak_nothing() {
    let ws = workspace();
    let s = session(&ws);
    let fds_before = std::fs::read_dir("/proc/self/fd").unwrap().count();
    for i in 0..150 {
        let mut c = s
            .spawn(
                SpawnRequest::new(&["true"])
                    .stdout(ChildIo::Null)
                    .stderr(ChildIo::Null),
            )
            .unwrap();
        assert!(c.wait().unwrap().success(), "run {i}");
    }
    let fds_after = std::fs::read_dir("/proc/self/fd").unwrap().count();
    assert!(fds_after <= fds_before + 2, "{fds_before} -> {fds_after}");
}

/// The init holds no copy of the command's output: a reader sees end-of-file as soon as the
/// command closes its stdout and stderr, exactly as with an unsandboxed child, not only when the
/// namespace ends. (The kernel's `shell` call waits for end-of-file, so a copy held until the
/// init's exit would add its teardown to every call.)
#[test]
fn output_ends_when_the_command_closes_it_not_when_its_namespace_ends() {
    let ws = workspace();
    let s = session(&ws);
    let mut c = s
        .spawn(SpawnRequest::new(&[
            "sh",
            "-c",
            "echo bye; exec >&- 2>&-; sleep 30",
        ]))
        .unwrap();
    let mut out = c.stdout.take().unwrap();
    let mut err = c.stderr.take().unwrap();
    let start = Instant::now();
    let mut text = String::new();
    out.read_to_string(&mut text).unwrap();
    err.read_to_string(&mut String::new()).unwrap();
    assert_eq!(text, "bye\n");
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "end-of-file came only with the namespace's end ({:?})",
        start.elapsed()
    );
    assert!(c.try_wait().unwrap().is_none(), "the command still runs");
    c.kill().unwrap();
    assert_eq!(c.wait().unwrap().signal(), Some(libc::SIGKILL));
}

#[test]
fn concurrent_spawns_from_threads() {
    let ws = workspace();
    let s = std::sync::Arc::new(session(&ws));
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let s = s.clone();
            std::thread::spawn(move || {
                for i in 0..10 {
                    let (so, _, st) = sh(&s, &format!("echo {t}-{i}"));
                    assert!(st.success());
                    assert_eq!(so, format!("{t}-{i}\n"));
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}

#[test]
fn kill_ends_the_command_and_everything_it_started() {
    let ws = workspace();
    let s = session(&ws);
    let marker = format!("tandem-zyg-daemon-{}", std::process::id());
    // The marker travels in the environment so that only the daemon's argv contains it.
    let mut env: Vec<(OsString, OsString)> = std::env::vars_os().collect();
    env.push(("MARK".into(), marker.clone().into()));
    let mut c = s
        .spawn(
            SpawnRequest::new(&[
                "bash",
                "-c",
                "(setsid bash -c 'exec -a \"$MARK\" sleep 300' &); echo started; sleep 300",
            ])
            .env(env),
        )
        .unwrap();
    let mut out = c.stdout.take().unwrap();
    let mut buf = [0u8; 8];
    out.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"started\n");
    let t = Instant::now();
    while count_processes_with(&marker) == 0 && t.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(count_processes_with(&marker), 1);
    assert!(c.try_wait().unwrap().is_none());
    let t = Instant::now();
    c.kill().unwrap();
    let st = c.wait().unwrap();
    assert_eq!(st.signal(), Some(libc::SIGKILL));
    assert!(t.elapsed() < Duration::from_secs(5));
    assert_eq!(count_processes_with(&marker), 0);
}

#[test]
fn a_daemon_dies_when_its_command_exits() {
    let ws = workspace();
    let s = session(&ws);
    let marker = format!("tandem-zyg-orphan-{}", std::process::id());
    let (_, _, st) = sh(
        &s,
        &format!("(setsid bash -c 'exec -a {marker} sleep 300' &); sleep 0.2; exit 0"),
    );
    assert!(st.success());
    assert_eq!(count_processes_with(&marker), 0);
}

#[test]
fn signals_reach_the_command_through_its_init() {
    let ws = workspace();
    let s = session(&ws);
    let mut c = s
        .spawn(SpawnRequest::new(&[
            "bash",
            "-c",
            "trap 'echo term; exit 9' TERM; echo ready; sleep 30 & wait",
        ]))
        .unwrap();
    let mut out = c.stdout.take().unwrap();
    let mut buf = [0u8; 6];
    out.read_exact(&mut buf).unwrap();
    c.signal(libc::SIGTERM).unwrap();
    let mut rest = String::new();
    out.read_to_string(&mut rest).unwrap();
    assert_eq!(rest, "term\n");
    assert_eq!(c.wait().unwrap().code(), Some(9));
}

#[test]
fn tmp_is_shared_within_the_session_but_not_with_the_host() {
    let ws = workspace();
    let s = session(&ws);
    let name = format!("tandem-session-{}", std::process::id());
    let (_, _, st) = sh(&s, &format!("echo kept > /tmp/{name}"));
    assert!(st.success());
    let (so, _, _) = sh(&s, &format!("cat /tmp/{name}"));
    assert_eq!(so, "kept\n");
    assert!(!std::path::Path::new(&format!("/tmp/{name}")).exists());
}

#[test]
fn stdin_cwd_and_env_per_request() {
    let ws = workspace();
    std::fs::create_dir(ws.join("sub")).unwrap();
    let s = session(&ws);
    let mut c = s
        .spawn(
            SpawnRequest::new(&[
                "bash",
                "-c",
                "pwd; echo $GREETING; echo ${A_TOKEN:-dropped}; cat",
            ])
            .cwd(ws.join("sub"))
            .env(vec![
                (OsString::from("PATH"), OsString::from("/usr/bin:/bin")),
                (OsString::from("GREETING"), OsString::from("hi")),
                (OsString::from("A_TOKEN"), OsString::from("secret")),
            ])
            .stdin(ChildIo::Pipe),
        )
        .unwrap();
    let mut stdin = c.stdin.take().unwrap();
    stdin.write_all(b"piped in\n").unwrap();
    drop(stdin);
    let (so, _, st) = output(c);
    assert!(st.success());
    assert_eq!(
        so,
        format!("{}\nhi\ndropped\npiped in\n", ws.join("sub").display())
    );
}

#[test]
fn exec_failures_and_exit_codes() {
    let ws = workspace();
    let s = session(&ws);
    let (_, se, st) = output(s.spawn(SpawnRequest::new(&["no-such-command-zz"])).unwrap());
    assert_eq!(st.code(), Some(127));
    assert!(se.contains("no-such-command-zz"));
}

#[test]
fn dropping_the_session_kills_running_commands() {
    let ws = workspace();
    let marker = format!("tandem-zyg-drop-{}", std::process::id());
    let s = session(&ws);
    let c = s
        .spawn(SpawnRequest::new(&[
            "bash",
            "-c",
            &format!("exec -a {marker} sleep 300"),
        ]))
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(count_processes_with(&marker), 1);
    std::mem::forget(c);
    drop(s);
    let t = Instant::now();
    while count_processes_with(&marker) > 0 && t.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(count_processes_with(&marker), 0);
}

#[test]
fn start_failures_are_reported_not_panicked() {
    let policy = SandboxPolicy {
        cwd: Some("/definitely/missing".into()),
        ..SandboxPolicy::default()
    };
    let err = match SessionSandbox::start(&bin(), None, &policy) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("started with a missing cwd"),
    };
    assert!(err.contains("/definitely/missing"), "{err}");
    let policy = SandboxPolicy {
        mode: tandem_sandbox::SandboxMode::DangerFullAccess,
        ..SandboxPolicy::default()
    };
    assert!(SessionSandbox::start(&bin(), None, &policy).is_err());
}

#[test]
fn the_per_command_overhead_is_small() {
    // Not a benchmark (see scripts/bench/sandbox), just a guard against a regression that would
    // make the zygote pointless: 50 spawns of `true` in well under a second each.
    let ws = workspace();
    let s = session(&ws);
    let t = Instant::now();
    for _ in 0..50 {
        let mut c = s
            .spawn(
                SpawnRequest::new(&["true"])
                    .stdout(ChildIo::Null)
                    .stderr(ChildIo::Null),
            )
            .unwrap();
        c.wait().unwrap();
    }
    assert!(t.elapsed() < Duration::from_secs(20), "{:?}", t.elapsed());
}

#[test]
fn read_only_and_networked_sessions() {
    let ws = workspace();
    let policy = SandboxPolicy {
        mode: tandem_sandbox::SandboxMode::ReadOnly,
        cwd: Some(ws.path.clone()),
        network: true,
        ..SandboxPolicy::default()
    };
    let s = SessionSandbox::start(&bin(), None, &policy).unwrap();
    assert!(!s.info().network_isolated);
    let (so, _, st) = sh(
        &s,
        "echo x > f 2>/dev/null || echo ro-blocked; echo t > /tmp/t && cat /tmp/t; echo ${TANDEM_SANDBOX_NETWORK_DISABLED:-net-on}",
    );
    assert!(st.success());
    assert_eq!(so, "ro-blocked\nt\nnet-on\n");
    assert!(!ws.join("f").exists());
}

#[test]
fn the_api_types_cross_threads() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<SessionSandbox>();
    send::<SandboxedChild>();
    send_sync::<SandboxPolicy>();
    send_sync::<tandem_sandbox::SandboxError>();
}
