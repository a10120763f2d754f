//! What must keep working inside the sandbox: real builds, stdio, exit statuses, scratch space,
//! the environment policy, and the modes' documented behaviour.

mod common;
use common::*;
use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};

#[test]
fn exit_codes_pass_through() {
    let ws = workspace();
    for code in [0, 1, 7, 42, 124, 126, 127, 255] {
        let out = sandbox_sh(&ws.path, &[], &format!("exit {code}"));
        assert_eq!(out.status.code(), Some(code), "{}", stderr(&out));
    }
}

#[test]
fn death_by_signal_passes_through() {
    let ws = workspace();
    let out = sandbox_sh(&ws.path, &[], "kill -TERM $$; sleep 5");
    assert_eq!(out.status.signal(), Some(libc::SIGTERM), "{:?}", out.status);
    let out = sandbox_sh(&ws.path, &[], "kill -KILL $$");
    assert_eq!(out.status.signal(), Some(libc::SIGKILL), "{:?}", out.status);
}

#[test]
fn stdout_and_stderr_are_separate_and_complete() {
    let ws = workspace();
    let out = sandbox_sh(
        &ws.path,
        &[],
        "echo to-out; echo to-err >&2; head -c 300000 /dev/zero | tr '\\0' a",
    );
    let so = ran(&out);
    assert!(so.starts_with("to-out\n"));
    assert_eq!(so.len(), "to-out\n".len() + 300000);
    assert_eq!(stderr(&out), "to-err\n");
}

#[test]
fn stdin_passes_through() {
    let ws = workspace();
    let mut child = Command::new(bin())
        .arg("--cwd")
        .arg(&ws.path)
        .args(["--", "tr", "a-z", "A-Z"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"hello sandbox\n")
        .unwrap();
    let out = wait_with_timeout(child, std::time::Duration::from_secs(30));
    assert_eq!(stdout(&out), "HELLO SANDBOX\n");
}

#[test]
fn sigpipe_is_default_for_the_command() {
    let ws = workspace();
    let out = sandbox_sh(&ws.path, &[], "yes | head -n 2; echo ${PIPESTATUS[0]}");
    assert_eq!(ran(&out), "y\ny\n141\n");
}

#[test]
fn signals_to_the_helper_reach_the_command() {
    let ws = workspace();
    let mut child = Command::new(bin())
        .arg("--cwd")
        .arg(&ws.path)
        .args([
            "--",
            "bash",
            "-c",
            "trap 'echo got-term; exit 3' TERM; echo ready; sleep 30 & wait",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id() as i32;
    // Signal only once the trap is installed (the script says so).
    let mut stdout_pipe = child.stdout.take().unwrap();
    let mut seen = Vec::new();
    let mut byte = [0u8; 1];
    while !seen.ends_with(b"ready\n") {
        use std::io::Read;
        assert_eq!(
            stdout_pipe.read(&mut byte).unwrap(),
            1,
            "the command ended early"
        );
        seen.push(byte[0]);
    }
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout_pipe, &mut rest).unwrap();
    let out = wait_with_timeout(child, std::time::Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert_eq!(rest, "got-term\n");
}

#[test]
fn command_not_found_and_not_executable() {
    let ws = workspace();
    let out = sandbox(&ws.path, &[], &["definitely-not-a-command-xyz"]);
    assert_eq!(out.status.code(), Some(127));
    assert!(
        stderr(&out).contains("definitely-not-a-command-xyz"),
        "{}",
        stderr(&out)
    );
    std::fs::write(ws.join("noexec.sh"), "#!/bin/sh\necho hi\n").unwrap();
    let out = sandbox(&ws.path, &[], &["./noexec.sh"]);
    assert_eq!(out.status.code(), Some(126), "{}", stderr(&out));
}

#[test]
fn sandbox_failures_are_125_with_one_line() {
    let ws = workspace();
    let out = Command::new(bin())
        .args(["--cwd", "/definitely/missing", "--", "true"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(125));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("/definitely/missing"), "{err}");
    let out = Command::new(bin())
        .args(["--mode", "sideways", "--", "true"])
        .current_dir(&ws.path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(125));
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
}

#[test]
fn the_workspace_is_writable_and_files_belong_to_the_caller() {
    let ws = workspace();
    let out = sandbox_sh(
        &ws.path,
        &[],
        "mkdir -p a/b && echo hi > a/b/c && mv a/b/c a/d && rm -r a/b && ln -s d a/e && cat a/e",
    );
    assert_eq!(ran(&out), "hi\n", "{}", stderr(&out));
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(ws.join("a/d")).unwrap();
    assert_eq!(meta.uid(), unsafe { libc::getuid() });
}

#[test]
fn dev_null_and_friends_work() {
    let ws = workspace();
    let out = sandbox_sh(
        &ws.path,
        &[],
        "echo x > /dev/null && head -c 4 /dev/zero | wc -c && head -c 8 /dev/urandom | wc -c && echo ok > /dev/stderr",
    );
    assert_eq!(ran(&out), "4\n8\n");
    assert_eq!(stderr(&out), "ok\n");
}

#[test]
fn tmp_is_private_and_writable() {
    let ws = workspace();
    let name = format!("tandem-private-{}", std::process::id());
    let out = sandbox_sh(
        &ws.path,
        &[],
        &format!(
            "echo secret > /tmp/{name} && cat /tmp/{name} && ls /tmp | wc -l && mktemp -d >/dev/null && echo mktemp-ok"
        ),
    );
    let so = ran(&out);
    assert!(so.starts_with("secret\n1\n"), "{so} {}", stderr(&out));
    assert!(so.contains("mktemp-ok"));
    assert!(!std::path::Path::new(&format!("/tmp/{name}")).exists());
}

#[test]
fn a_workspace_under_tmp_stays_reachable() {
    let ws = tmp_workspace();
    std::fs::write(ws.join("in.txt"), "from host\n").unwrap();
    let out = sandbox_sh(&ws.path, &[], "cat in.txt && echo from-sandbox > out.txt");
    assert_eq!(ran(&out), "from host\n", "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(ws.join("out.txt")).unwrap(),
        "from-sandbox\n"
    );
}

#[test]
fn read_only_mode_writes_nothing_but_tmp() {
    let ws = tmp_workspace();
    std::fs::write(ws.join("in.txt"), "data\n").unwrap();
    let out = sandbox_sh(
        &ws.path,
        &["--mode", "read-only"],
        "cat in.txt; echo x > out.txt 2>/dev/null && echo WROTE; echo t > /tmp/t && cat /tmp/t; echo n > /dev/null && echo null-ok",
    );
    let so = ran(&out);
    assert_eq!(so, "data\nt\nnull-ok\n", "{}", stderr(&out));
    assert!(!ws.join("out.txt").exists());
    // No placeholders are needed (or created) when nothing is writable.
    assert!(!ws.join(".tandem").exists());
}

#[test]
fn extra_writable_roots_are_writable() {
    let ws = workspace();
    let extra = workspace();
    let out = sandbox_sh(
        &ws.path,
        &["--writable-root", extra.path.to_str().unwrap()],
        &format!("echo hi > {}/f && echo ok", extra.s()),
    );
    assert_eq!(ran(&out), "ok\n", "{}", stderr(&out));
    assert!(extra.join("f").exists());
}

#[test]
fn python_runs_and_writes_in_the_workspace() {
    let ws = workspace();
    let out = sandbox_py(
        &ws.path,
        &[],
        "import json, pathlib, tempfile, multiprocessing as mp\npathlib.Path('r.json').write_text(json.dumps({'sum': sum(range(10))}))\nwith tempfile.TemporaryDirectory() as d: pass\nq = mp.Queue(); q.put(1); print('ok', q.get())",
    );
    assert_eq!(ran(&out), "ok 1\n", "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(ws.join("r.json")).unwrap(),
        "{\"sum\": 45}"
    );
}

#[test]
fn make_and_cc_build_in_the_workspace() {
    let make = require_tool("make");
    require_tool("cc");
    let ws = workspace();
    std::fs::write(
        ws.join("hello.c"),
        "#include <stdio.h>\nint main(void){puts(\"built and ran\");return 0;}\n",
    )
    .unwrap();
    std::fs::write(
        ws.join("Makefile"),
        "hello: hello.c\n\tcc -O1 -o hello hello.c\n",
    )
    .unwrap();
    let out = sandbox_sh(&ws.path, &[], &format!("{} -s && ./hello", make.display()));
    assert_eq!(ran(&out), "built and ran\n", "{}", stderr(&out));
}

#[test]
fn cargo_builds_a_crate_in_the_workspace() {
    let cargo = require_tool("cargo");
    let ws = workspace();
    std::fs::create_dir_all(ws.join("src")).unwrap();
    std::fs::write(
        ws.join("Cargo.toml"),
        "[package]\nname = \"inner\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n",
    )
    .unwrap();
    std::fs::write(
        ws.join("src/main.rs"),
        "fn main() { println!(\"cargo inside\"); }\n",
    )
    .unwrap();
    let out = Command::new(bin())
        .env_remove("CARGO_TARGET_DIR")
        .env("CARGO_NET_OFFLINE", "true")
        .arg("--cwd")
        .arg(&ws.path)
        .arg("--")
        .arg(&cargo)
        .args(["run", "-q", "--offline"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(ran(&out), "cargo inside\n", "{}", stderr(&out));
    assert!(ws.join("target").is_dir());
}

#[test]
fn git_reads_work_inside() {
    let git = require_tool("git");
    let ws = workspace();
    let run = |args: &[&str]| {
        let st = Command::new(&git)
            .args(args)
            .current_dir(&ws.path)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@t")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@t")
            .output()
            .unwrap();
        assert!(
            st.status.success(),
            "{}",
            String::from_utf8_lossy(&st.stderr)
        );
    };
    run(&["init", "-q"]);
    std::fs::write(ws.join("a"), "1").unwrap();
    run(&["add", "a"]);
    run(&["commit", "-qm", "first"]);
    let out = sandbox_sh(&ws.path, &[], "git log --format=%s && git show HEAD:a");
    assert_eq!(ran(&out), "first\n1", "{}", stderr(&out));
    // Committing needs .git: refused.
    let out = sandbox_sh(
        &ws.path,
        &[],
        "echo 2 > a; git commit -qam second 2>/dev/null && echo COMMITTED",
    );
    assert!(!ran(&out).contains("COMMITTED"));
}

#[test]
fn ptys_work_inside() {
    let ws = workspace();
    let out = sandbox_py(
        &ws.path,
        &[],
        "import os, pty\npid, fd = pty.fork()\nif pid == 0:\n    print('in pty', os.isatty(0)); os._exit(0)\nimport time; time.sleep(0.2)\nprint(os.read(fd, 100).decode().strip())",
    );
    assert!(
        ran(&out).contains("in pty True"),
        "{} {}",
        stdout(&out),
        stderr(&out)
    );
}

#[test]
fn environment_policy() {
    let ws = workspace();
    let out = Command::new(bin())
        .env("MY_API_KEY", "k")
        .env("GITHUB_TOKEN", "t")
        .env("DB_PASSWORD", "p")
        .env("SOME_SECRET", "s")
        .env("KEEP_ME_TOKEN", "kept")
        .env("PLAIN", "plain")
        .env("TANDEM_SANDBOX", "spoofed")
        .args(["--keep-env", "KEEP_ME_TOKEN", "--cwd"])
        .arg(&ws.path)
        .args(["--", "env"])
        .output()
        .unwrap();
    let so = ran(&out);
    for gone in ["MY_API_KEY", "GITHUB_TOKEN", "DB_PASSWORD", "SOME_SECRET"] {
        assert!(!so.contains(&format!("{gone}=")), "{gone} leaked");
    }
    assert!(so.contains("KEEP_ME_TOKEN=kept"));
    assert!(so.contains("PLAIN=plain"));
    assert!(so.contains("TANDEM_SANDBOX=1\n"));
    assert!(so.contains("TANDEM_SANDBOX_NETWORK_DISABLED=1"));
    let out = sandbox(&ws.path, &["--network"], &["env"]);
    let so = ran(&out);
    assert!(so.contains("TANDEM_SANDBOX=1"));
    assert!(!so.contains("TANDEM_SANDBOX_NETWORK_DISABLED"));
}

#[test]
fn network_flag_allows_the_host_network() {
    let curl = require_tool("curl");
    let srv = tcp_server();
    let ws = workspace();
    let out = sandbox(
        &ws.path,
        &["--network"],
        &[
            curl.to_str().unwrap(),
            "-s",
            "-m",
            "5",
            &format!("http://127.0.0.1:{}/", srv.port),
        ],
    );
    assert_eq!(ran(&out), "ok", "{}", stderr(&out));
}

#[test]
fn danger_full_access_runs_unsandboxed() {
    let ws = workspace();
    let out = outside();
    let o = sandbox_sh(
        &ws.path,
        &["--mode", "danger-full-access"],
        &format!(
            "echo x > {}/f; grep -c . /proc/self/status >/dev/null; echo ${{TANDEM_SANDBOX:-none}}",
            out.s()
        ),
    );
    assert_eq!(ran(&o), "none\n");
    assert!(out.join("f").exists());
}

#[test]
fn json_policy_file_is_honoured() {
    let ws = workspace();
    let extra = workspace();
    let policy = serde_json::json!({
        "mode": "workspace-write",
        "cwd": ws.path,
        "writable_roots": [extra.path],
        "limits": {"max_processes": 500, "max_file_size": 1048576},
        "env": {"set": {"FROM_POLICY": "yes"}}
    });
    let file = ws.join("policy.json");
    std::fs::write(&file, policy.to_string()).unwrap();
    let out = Command::new(bin())
        .arg("--json-policy")
        .arg(&file)
        .args(["--", "bash", "-c"])
        .arg(format!(
            "echo $FROM_POLICY; ulimit -f; echo > {}/ok && echo wrote",
            extra.s()
        ))
        .output()
        .unwrap();
    assert_eq!(ran(&out), "yes\n1024\nwrote\n", "{}", stderr(&out));
}

#[test]
fn probe_reports_json_that_matches_the_kernel() {
    let out = Command::new(bin()).arg("--probe").output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["landlock"]["abi"].as_i64().unwrap(),
        tandem_sandbox::landlock_abi() as i64
    );
    // Cross-check user namespaces with util-linux's unshare.
    let unshare = require_tool("unshare");
    let userns_works = Command::new(unshare)
        .args(["-Ur", "true"])
        .status()
        .unwrap()
        .success();
    assert_eq!(v["user_namespace"]["ok"].as_bool().unwrap(), userns_works);
    let full = v["full_sandbox_available"].as_bool().unwrap();
    assert_eq!(full, v["missing"].as_array().unwrap().is_empty());
    let kind = v["enforcement"]["kind"].as_str().unwrap();
    assert_eq!(kind, if full { "namespaces" } else { "unavailable" });
}

#[test]
fn print_plan_shows_the_layers() {
    let ws = workspace();
    let out = Command::new(bin())
        .args(["--print-plan", "--cwd"])
        .arg(&ws.path)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["mount_plan"]["steps"].as_array().unwrap().len() > 5);
    assert!(
        v["seccomp_denied"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["syscall"] == "ptrace")
    );
}

#[test]
fn command_for_builds_a_working_invocation() {
    let ws = workspace();
    let policy = tandem_sandbox::SandboxPolicy {
        cwd: Some(ws.path.clone()),
        ..Default::default()
    };
    let out = tandem_sandbox::command_for(
        &bin(),
        Some("tandem-sandbox"),
        &policy,
        &[
            "sh",
            "-c",
            "echo via command_for; echo $TANDEM_SANDBOX; touch made",
        ],
    )
    .output()
    .unwrap();
    assert_eq!(ran(&out), "via command_for\n1\n", "{}", stderr(&out));
    assert!(ws.join("made").exists());
    // Failing policies fail closed with 125.
    let bad = tandem_sandbox::SandboxPolicy {
        cwd: Some("/definitely/missing".into()),
        ..Default::default()
    };
    let out = tandem_sandbox::command_for(&bin(), None, &bad, &["true"])
        .current_dir("/")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(125));
}

#[test]
fn the_arg0_trick_dispatches_the_same_way() {
    // A copy of the binary under another name, started with argv[0] = "tandem-sandbox",
    // parses exactly like the standalone binary (args come from argv[1..]).
    let ws = workspace();
    use std::os::unix::process::CommandExt;
    let out = Command::new(bin())
        .arg0("tandem-sandbox")
        .arg("--cwd")
        .arg(&ws.path)
        .args(["--", "sh", "-c", "echo arg0-ok"])
        .output()
        .unwrap();
    assert_eq!(ran(&out), "arg0-ok\n");
}
