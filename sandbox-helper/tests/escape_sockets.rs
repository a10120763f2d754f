//! The escape suite, part three: Unix sockets of host daemons. With the network off none may
//! be reached, wherever it lives: in /tmp and /run (replaced wholesale), named in the
//! environment, abstract (the network namespace), and anywhere else on the filesystem (covered
//! after a `sock_diag` scan of the host's sockets): next to the workspace, in /var/tmp, inside
//! the workspace itself, datagram as well as stream. Each attack has a control run proving it
//! works without the sandbox.

mod common;
use common::*;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::sync::atomic::Ordering;

const PY_UNIX_CONNECT: &str = "import socket, sys\ns = socket.socket(socket.AF_UNIX)\ntry:\n    s.connect(sys.argv[1])\n    print('ESCAPED', s.recv(64))\nexcept OSError as e:\n    print('blocked', e)";

#[test]
fn a_host_unix_socket_in_tmp() {
    let ws = workspace();
    let sock = std::env::temp_dir().join(format!("tandem-host-{}.sock", std::process::id()));
    let srv = unix_server(sock.clone());
    let out = sandbox(
        &ws.path,
        &[],
        &[
            python3().to_str().unwrap(),
            "-c",
            PY_UNIX_CONNECT,
            sock.to_str().unwrap(),
        ],
    );
    assert!(ran(&out).contains("blocked"), "{}", stdout(&out));
    assert_eq!(srv.hits.load(std::sync::atomic::Ordering::SeqCst), 0);
    let ctl = sandbox(
        &ws.path,
        &["--mode", "danger-full-access"],
        &[
            python3().to_str().unwrap(),
            "-c",
            PY_UNIX_CONNECT,
            sock.to_str().unwrap(),
        ],
    );
    assert!(
        stdout(&ctl).contains("ESCAPED"),
        "control failed: {}",
        stdout(&ctl)
    );
}

#[test]
fn a_host_unix_socket_in_run() {
    let ws = workspace();
    std::fs::create_dir_all("/run").unwrap();
    let sock = std::path::PathBuf::from(format!("/run/tandem-host-{}.sock", std::process::id()));
    let srv = unix_server(sock.clone());
    let out = sandbox(
        &ws.path,
        &[],
        &[
            python3().to_str().unwrap(),
            "-c",
            PY_UNIX_CONNECT,
            sock.to_str().unwrap(),
        ],
    );
    assert!(ran(&out).contains("blocked"), "{}", stdout(&out));
    // /var/run too (usually a symlink to /run).
    let via_var = format!("/var/run/tandem-host-{}.sock", std::process::id());
    let out = sandbox(
        &ws.path,
        &[],
        &[python3().to_str().unwrap(), "-c", PY_UNIX_CONNECT, &via_var],
    );
    assert!(ran(&out).contains("blocked"), "{}", stdout(&out));
    assert_eq!(srv.hits.load(std::sync::atomic::Ordering::SeqCst), 0);
}

#[test]
fn a_host_socket_named_in_the_environment_is_masked() {
    let ws = workspace();
    let dir = outside();
    let sock = dir.join("agent.sock");
    let srv = unix_server(sock.clone());
    let out = std::process::Command::new(bin())
        .env("SSH_AUTH_SOCK", &sock)
        .arg("--cwd")
        .arg(&ws.path)
        .arg("--")
        .arg(python3())
        .arg("-c")
        .arg(PY_UNIX_CONNECT)
        .arg(&sock)
        .output()
        .unwrap();
    assert!(ran(&out).contains("blocked"), "{}", stdout(&out));
    assert_eq!(srv.hits.load(std::sync::atomic::Ordering::SeqCst), 0);
}

#[test]
fn a_host_abstract_unix_socket() {
    let ws = workspace();
    let name = format!("tandem-abstract-{}", std::process::id());
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    let l = std::os::unix::net::UnixListener::bind_addr(&addr).unwrap();
    l.set_nonblocking(true).unwrap();
    let code = format!(
        "import socket\ns = socket.socket(socket.AF_UNIX)\ntry:\n    s.connect('\\0{name}')\n    print('ESCAPED')\nexcept OSError as e:\n    print('blocked', e)"
    );
    let out = sandbox_py(&ws.path, &[], &code);
    assert!(ran(&out).contains("blocked"), "{}", stdout(&out));
    assert!(l.accept().is_err(), "the host socket accepted a connection");
    let ctl = sandbox_py(&ws.path, &["--mode", "danger-full-access"], &code);
    assert!(
        stdout(&ctl).contains("ESCAPED"),
        "control failed: {}",
        stdout(&ctl)
    );
}

/// Runs PY_UNIX_CONNECT against `sock` in the sandbox (with `args`) and returns stdout.
fn connect_from_sandbox(ws: &Dir, args: &[&str], sock: &Path) -> String {
    let out = sandbox(
        &ws.path,
        args,
        &[
            python3().to_str().unwrap(),
            "-c",
            PY_UNIX_CONNECT,
            sock.to_str().unwrap(),
        ],
    );
    ran(&out)
}

/// Asserts that a host daemon listening on `sock` cannot be reached from the sandbox, and can
/// without it (so the test would fail if the cover were missing).
#[track_caller]
fn unreachable_but_reachable_unsandboxed(ws: &Dir, sock: &Path) {
    let srv = unix_server(sock.to_path_buf());
    let so = connect_from_sandbox(ws, &[], sock);
    assert!(
        so.contains("blocked") && !so.contains("ESCAPED"),
        "{}: {so}",
        sock.display()
    );
    assert_eq!(srv.hits.load(Ordering::SeqCst), 0, "the daemon was reached");
    let ctl = connect_from_sandbox(ws, &["--mode", "danger-full-access"], sock);
    assert!(ctl.contains("ESCAPED"), "control failed: {ctl}");
    assert_eq!(srv.hits.load(Ordering::SeqCst), 1);
}

#[test]
fn a_host_unix_socket_outside_tmp_and_run() {
    let ws = workspace();
    let dir = outside();
    std::fs::create_dir_all(dir.join("var/lib/foo")).unwrap();
    unreachable_but_reachable_unsandboxed(&ws, &dir.join("var/lib/foo/daemon.sock"));
}

#[test]
fn a_host_unix_socket_in_var_tmp() {
    let ws = workspace();
    std::fs::create_dir_all("/var/tmp").unwrap();
    let dir = tempfile::Builder::new()
        .prefix("tandem-sock")
        .tempdir_in("/var/tmp")
        .unwrap();
    unreachable_but_reachable_unsandboxed(&ws, &dir.path().join("daemon.sock"));
}

#[test]
fn a_host_unix_socket_next_to_the_workspace() {
    // A writable root's parent: readable in the sandbox, and where a daemon of the user's
    // checkout might listen.
    let parent = outside();
    let ws = workspace_in(&parent.path);
    unreachable_but_reachable_unsandboxed(&ws, &parent.join("agent.sock"));
}

#[test]
fn a_host_unix_socket_inside_the_workspace() {
    // A host process listening inside a writable root is still a host daemon.
    let ws = workspace();
    std::fs::create_dir(ws.join("run")).unwrap();
    unreachable_but_reachable_unsandboxed(&ws, &ws.join("run/dev-server.sock"));
    // The command's own sockets there work as usual.
    let out = sandbox_py(
        &ws.path,
        &[],
        "import socket\nl = socket.socket(socket.AF_UNIX)\nl.bind('own.sock'); l.listen(1)\n\
         c = socket.socket(socket.AF_UNIX); c.connect('own.sock'); print('own ok')",
    );
    assert_eq!(ran(&out).trim(), "own ok", "{}", stderr(&out));
}

#[test]
fn a_host_datagram_socket() {
    let ws = workspace();
    let dir = outside();
    let path = dir.join("log.sock");
    let host = UnixDatagram::bind(&path).unwrap();
    host.set_nonblocking(true).unwrap();
    let code = "import socket, sys\ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\n\
                try:\n    s.sendto(b'hi', sys.argv[1])\n    print('ESCAPED')\n\
                except OSError as e:\n    print('blocked', e)";
    let run = |args: &[&str]| {
        ran(&sandbox(
            &ws.path,
            args,
            &[
                python3().to_str().unwrap(),
                "-c",
                code,
                path.to_str().unwrap(),
            ],
        ))
    };
    let so = run(&[]);
    assert!(so.contains("blocked"), "{so}");
    let mut buf = [0u8; 8];
    assert!(
        host.recv(&mut buf).is_err(),
        "the host socket got a datagram"
    );
    assert!(run(&["--mode", "danger-full-access"]).contains("ESCAPED"));
    assert_eq!(
        host.recv(&mut buf).unwrap(),
        2,
        "control: no datagram arrived"
    );
}

#[test]
fn host_sockets_are_covered_in_a_session_too() {
    let ws = workspace();
    let dir = outside();
    let before = dir.join("before.sock");
    let srv = unix_server(before.clone());
    let policy = tandem_sandbox::SandboxPolicy {
        cwd: Some(ws.path.clone()),
        ..Default::default()
    };
    let session = tandem_sandbox::SessionSandbox::start(&bin(), None, &policy).unwrap();
    // A daemon that starts listening after the session was built is covered as well.
    let after = dir.join("after.sock");
    let late = unix_server(after.clone());
    for sock in [&before, &after] {
        let req = tandem_sandbox::SpawnRequest::new(&[
            python3().to_str().unwrap(),
            "-c",
            PY_UNIX_CONNECT,
            sock.to_str().unwrap(),
        ])
        .stdout(tandem_sandbox::ChildIo::Pipe);
        let mut child = session.spawn(req).unwrap();
        let mut so = String::new();
        std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut so).unwrap();
        child.wait().unwrap();
        assert!(so.contains("blocked"), "{}: {so}", sock.display());
    }
    assert_eq!(srv.hits.load(Ordering::SeqCst), 0);
    assert_eq!(late.hits.load(Ordering::SeqCst), 0);
}

#[test]
fn the_network_flag_opens_host_sockets_too() {
    // Documented: --network shares the host's network, its Unix sockets included.
    let ws = workspace();
    let dir = outside();
    let sock = dir.join("daemon.sock");
    let srv = unix_server(sock.clone());
    assert!(connect_from_sandbox(&ws, &["--network"], &sock).contains("ESCAPED"));
    assert_eq!(srv.hits.load(Ordering::SeqCst), 1);
}
