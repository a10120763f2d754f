//! The opt-in Landlock-only fallback, forced on this host, and a real host without user
//! namespaces (simulated with a nested user namespace whose `max_user_namespaces` is 0).

mod common;
use common::*;
use std::process::Command;

const FALLBACK: &[&str] = &["--allow-landlock-only", "--force-landlock-only"];

fn fb_ws() -> Dir {
    let ws = workspace();
    std::fs::create_dir_all(ws.join(".git/hooks")).unwrap();
    std::fs::write(ws.join(".git/config"), "[core]\n").unwrap();
    std::fs::create_dir_all(ws.join("src")).unwrap();
    std::fs::write(ws.join("Cargo.toml"), "").unwrap();
    ws
}

#[test]
fn forcing_the_fallback_needs_the_opt_in() {
    let ws = fb_ws();
    let out = sandbox(&ws.path, &["--force-landlock-only"], &["true"]);
    assert_eq!(out.status.code(), Some(125));
    assert!(
        stderr(&out).contains("allow_landlock_only_fallback"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn fallback_keeps_writes_inside_and_protected_paths_read_only() {
    let ws = fb_ws();
    let out = outside();
    let o = sandbox_sh(
        &ws.path,
        FALLBACK,
        &format!(
            "echo ${{TANDEM_SANDBOX_FALLBACK}}; \
             echo ok > src/lib.rs && echo src-ok; echo ok >> Cargo.toml && echo file-ok; \
             echo x > {}/f 2>/dev/null || echo outside-blocked; \
             echo x >> .git/config 2>/dev/null || echo git-blocked; \
             mkdir .tandem 2>/dev/null || echo tandem-blocked; \
             ln -s src .agents 2>/dev/null || echo agents-blocked; \
             touch newfile 2>/dev/null || echo toplevel-blocked; \
             echo t > $TMPDIR/t && echo tmpdir-ok; \
             echo x > /tmp/f 2>/dev/null || echo tmp-blocked",
            out.s()
        ),
    );
    let so = ran(&o);
    for want in [
        "landlock-only",
        "src-ok",
        "file-ok",
        "outside-blocked",
        "git-blocked",
        "tandem-blocked",
        "agents-blocked",
        "toplevel-blocked",
        "tmpdir-ok",
        "tmp-blocked",
    ] {
        assert!(so.contains(want), "missing {want}:\n{so}\n{}", stderr(&o));
    }
    assert!(!out.join("f").exists());
    assert!(!ws.join(".tandem").exists());
    assert_eq!(
        std::fs::read_to_string(ws.join(".git/config")).unwrap(),
        "[core]\n"
    );
}

#[test]
fn fallback_blocks_the_network_ptrace_and_outside_signals() {
    let ws = fb_ws();
    let mut victim = Victim::new(&ws.path);
    let srv = tcp_server();
    let o = sandbox_sh(
        &ws.path,
        FALLBACK,
        &format!(
            "exec 3<>/dev/tcp/127.0.0.1/{} 2>/dev/null || echo tcp-blocked; kill -9 {} 2>/dev/null || echo kill-blocked; \
             grep -E '^(CapEff|NoNewPrivs):' /proc/self/status",
            srv.port,
            victim.pid()
        ),
    );
    let so = ran(&o);
    assert!(so.contains("tcp-blocked"), "{so}");
    assert!(so.contains("kill-blocked"), "{so}");
    assert!(so.contains("CapEff:\t0000000000000000"), "{so}");
    assert!(so.contains("NoNewPrivs:\t1"), "{so}");
    assert!(victim.alive());
    assert_eq!(srv.hits.load(std::sync::atomic::Ordering::SeqCst), 0);
}

#[test]
fn fallback_kills_daemons_when_the_command_exits() {
    let ws = fb_ws();
    let marker = format!("tandem-fb-daemon-{}", std::process::id());
    let o = sandbox_sh(
        &ws.path,
        FALLBACK,
        &format!("( setsid bash -c 'exec -a {marker} sleep 300' & ); sleep 0.2; echo done"),
    );
    assert!(ran(&o).contains("done"));
    assert_eq!(count_processes_with(&marker), 0);
}

/// Runs `tandem-sandbox ARGS -- true` where no user namespace can be created.
fn without_userns(ws: &Dir, args: &str) -> std::process::Output {
    let unshare = require_tool("unshare");
    Command::new(unshare)
        .args(["-Ur", "bash", "-c"])
        .arg(format!(
            "echo 0 > /proc/sys/user/max_user_namespaces || exit 99; exec {} {args} --cwd {} -- bash -c 'echo ran; echo ${{TANDEM_SANDBOX_FALLBACK:-none}}'",
            bin().display(),
            ws.s()
        ))
        .output()
        .unwrap()
}

#[test]
fn without_user_namespaces_the_sandbox_refuses_with_the_fix() {
    let ws = fb_ws();
    let out = without_userns(&ws, "");
    assert_ne!(
        out.status.code(),
        Some(99),
        "could not disable user namespaces"
    );
    assert_eq!(
        out.status.code(),
        Some(125),
        "{} {}",
        stdout(&out),
        stderr(&out)
    );
    let err = stderr(&out);
    assert!(err.contains("user namespaces are unavailable"), "{err}");
    assert!(err.contains("--allow-landlock-only"), "{err}");
    assert!(!stdout(&out).contains("ran"));
}

#[test]
fn without_user_namespaces_the_opt_in_fallback_runs_and_says_so() {
    let ws = fb_ws();
    let out = without_userns(&ws, "--allow-landlock-only");
    assert_eq!(stdout(&out), "ran\nlandlock-only\n", "{}", stderr(&out));
    let probe = require_tool("unshare");
    let p = Command::new(probe)
        .args(["-Ur", "bash", "-c"])
        .arg(format!(
            "echo 0 > /proc/sys/user/max_user_namespaces; exec {} --probe --allow-landlock-only",
            bin().display()
        ))
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&p.stdout).unwrap();
    assert_eq!(v["user_namespace"]["ok"], false);
    assert_eq!(v["full_sandbox_available"], false);
    assert_eq!(v["landlock_only_fallback_available"], true);
    assert_eq!(v["enforcement"]["kind"], "landlock-only");
}
