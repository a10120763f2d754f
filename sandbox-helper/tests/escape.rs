//! The escape suite, part one: writes outside the roots, every protected-path attack, mounts
//! and namespaces. Every attempt must be blocked by the real `tandem-sandbox` binary; each test
//! checks what the attack reported inside and the host state afterwards, and `control_*` runs
//! the same attack without the sandbox to prove the test can fail. Part two: `escape_net.rs`.

mod common;
use common::*;

// ---------------------------------------------------------------- writes outside the roots

#[test]
fn write_outside_root_directly() {
    let ws = workspace();
    let out = outside();
    let target = out.join("pwned");
    blocked(&ws, &[], &format!("echo x > {}", target.display()));
    assert!(!target.exists());
    blocked(&ws, &[], "echo x > /etc/tandem-pwned");
    assert!(!std::path::Path::new("/etc/tandem-pwned").exists());
    control_succeeds(&ws, &format!("echo x > {}", target.display()));
}

#[test]
fn write_outside_root_via_dotdot() {
    let ws = workspace();
    let out = outside();
    let name = out.path.file_name().unwrap().to_string_lossy().to_string();
    blocked(&ws, &[], &format!("echo x > ../{name}/pwned"));
    assert!(!out.join("pwned").exists());
}

#[test]
fn write_outside_root_via_proc_self_root() {
    let ws = workspace();
    let out = outside();
    blocked(
        &ws,
        &[],
        &format!("echo x > /proc/self/root{}/pwned", out.s()),
    );
    blocked(&ws, &[], "echo x > /proc/self/root/etc/tandem-pwned");
    assert!(!out.join("pwned").exists());
}

#[test]
fn write_outside_root_via_proc_pid_cwd_of_an_outside_process() {
    let ws = workspace();
    let out = outside();
    let victim = Victim::new(&out.path);
    let pid = victim.pid();
    // The host process is not even visible; and our own init's cwd is only the workspace.
    blocked(&ws, &[], &format!("ls /proc/{pid}/cwd/ >/dev/null 2>&1"));
    blocked(&ws, &[], &format!("echo x > /proc/{pid}/cwd/pwned"));
    assert!(!out.join("pwned").exists());
    control_succeeds(&ws, &format!("ls /proc/{pid}/cwd/ >/dev/null 2>&1"));
}

#[test]
fn write_outside_root_through_a_symlink_in_the_root() {
    let ws = workspace();
    let out = outside();
    std::os::unix::fs::symlink(&out.path, ws.join("link")).unwrap();
    blocked(&ws, &[], "echo x > link/pwned");
    assert!(!out.join("pwned").exists());
}

#[test]
fn hard_link_to_a_file_outside() {
    let ws = workspace();
    let out = outside();
    std::fs::write(out.join("secret.txt"), "original").unwrap();
    blocked(
        &ws,
        &[],
        &format!(
            "ln {} hl && echo pwned >> hl",
            out.join("secret.txt").display()
        ),
    );
    assert_eq!(
        std::fs::read_to_string(out.join("secret.txt")).unwrap(),
        "original"
    );
    assert!(!ws.join("hl").exists());
}

#[test]
fn moving_an_outside_file_into_the_root() {
    let ws = workspace();
    let out = outside();
    std::fs::write(out.join("f"), "data").unwrap();
    blocked(
        &ws,
        &[],
        &format!("mv {} stolen 2>/dev/null", out.join("f").display()),
    );
    assert!(out.join("f").exists(), "the outside file was removed");
}

#[test]
fn remounting_root_read_write() {
    let ws = workspace();
    blocked(&ws, &[], "mount -o remount,rw / 2>/dev/null");
    blocked(
        &ws,
        &[],
        "mount -o remount,bind,rw / 2>/dev/null && echo x > /etc/tandem-pwned",
    );
    assert!(!std::path::Path::new("/etc/tandem-pwned").exists());
}

#[test]
fn writing_kernel_knobs_in_proc_and_sys() {
    let ws = workspace();
    // Root-owned files a capability-less uid 0 could still write on a writable /proc.
    blocked(&ws, &[], "echo 0 > /proc/sysrq-trigger 2>/dev/null");
    blocked(
        &ws,
        &[],
        "echo '|/bin/false' > /proc/sys/kernel/core_pattern 2>/dev/null",
    );
    blocked(&ws, &[], "echo 1 > /proc/sys/vm/drop_caches 2>/dev/null");
    blocked(&ws, &[], "echo x > /sys/kernel/uevent_helper 2>/dev/null");
    let cp = std::fs::read_to_string("/proc/sys/kernel/core_pattern").unwrap();
    assert!(!cp.contains("/bin/false"));
}

#[test]
fn host_block_devices_are_absent() {
    let ws = workspace();
    blocked(
        &ws,
        &[],
        "ls /dev/vda /dev/sda /dev/nvme0n1 /dev/mem /dev/kmsg 2>/dev/null | grep -q .",
    );
    blocked(&ws, &[], "head -c1 /dev/mem >/dev/null 2>&1");
}

// ---------------------------------------------------------------- protected paths

fn git_ws() -> Dir {
    let ws = workspace();
    std::fs::create_dir_all(ws.join(".git/hooks")).unwrap();
    std::fs::write(ws.join(".git/config"), "[core]\n").unwrap();
    std::fs::create_dir_all(ws.join("src")).unwrap();
    ws
}

#[test]
fn writing_git_config() {
    let ws = git_ws();
    blocked(&ws, &[], "echo '[core] fsmonitor = evil' >> .git/config");
    assert_eq!(
        std::fs::read_to_string(ws.join(".git/config")).unwrap(),
        "[core]\n"
    );
    control_succeeds(&ws, "true >> .git/config");
}

#[test]
fn creating_a_git_hook() {
    let ws = git_ws();
    blocked(
        &ws,
        &[],
        "printf '#!/bin/sh\\nevil\\n' > .git/hooks/pre-commit",
    );
    assert!(!ws.join(".git/hooks/pre-commit").exists());
}

#[test]
fn deleting_the_git_dir() {
    let ws = git_ws();
    blocked(&ws, &[], "rm -rf .git 2>/dev/null && test ! -e .git");
    assert!(ws.join(".git/config").exists());
}

#[test]
fn moving_the_git_dir_away() {
    let ws = git_ws();
    blocked(&ws, &[], "mv .git git-old 2>/dev/null");
    assert!(ws.join(".git/config").exists());
    assert!(!ws.join("git-old").exists());
}

#[test]
fn renaming_a_decoy_over_the_git_dir() {
    let ws = git_ws();
    blocked(
        &ws,
        &[],
        "mkdir -p decoy/hooks && echo evil > decoy/config && mv -T decoy .git 2>/dev/null",
    );
    blocked(
        &ws,
        &[],
        &format!(
            "{} -c 'import os; os.makedirs(\"d2\", exist_ok=True); os.rename(\"d2\", \".git\")' 2>/dev/null",
            python3().display()
        ),
    );
    assert_eq!(
        std::fs::read_to_string(ws.join(".git/config")).unwrap(),
        "[core]\n"
    );
}

#[test]
fn creating_a_protected_dir_that_does_not_exist_yet() {
    let ws = workspace();
    assert!(!ws.join(".tandem").exists());
    blocked(&ws, &[], "mkdir -p .tandem/x 2>/dev/null");
    blocked(&ws, &[], "echo 'model = \"evil\"' > .tandem/config.toml");
    blocked(&ws, &[], "mkdir -p .agents/x 2>/dev/null");
    blocked(&ws, &[], "git init -q . 2>/dev/null && test -f .git/HEAD");
    // At most the empty placeholder exists on the host.
    for name in [".tandem", ".agents", ".git"] {
        let p = ws.join(name);
        if p.exists() {
            assert!(p.is_dir());
            assert_eq!(
                std::fs::read_dir(&p).unwrap().count(),
                0,
                "{name} not empty"
            );
        }
    }
}

#[test]
fn planting_a_symlink_in_place_of_a_missing_protected_dir() {
    let ws = workspace();
    std::fs::create_dir(ws.join("decoy")).unwrap();
    blocked(&ws, &[], "ln -s decoy .agents 2>/dev/null");
    blocked(&ws, &[], "rmdir .agents 2>/dev/null && ln -s decoy .agents");
    assert!(!ws.join(".agents").is_symlink());
}

#[test]
fn a_planted_symlink_in_place_of_a_protected_dir_is_masked() {
    let ws = workspace();
    std::fs::create_dir(ws.join("decoy")).unwrap();
    std::fs::write(ws.join("decoy/config.toml"), "ok").unwrap();
    std::os::unix::fs::symlink("decoy", ws.join(".tandem")).unwrap();
    blocked(&ws, &[], "echo evil > .tandem/config.toml");
    blocked(&ws, &[], "echo evil > decoy/config.toml");
    blocked(&ws, &[], "rm -f .tandem 2>/dev/null && test ! -L .tandem");
    blocked(&ws, &[], "ln -sfn /etc .tandem 2>/dev/null");
    assert_eq!(
        std::fs::read_to_string(ws.join("decoy/config.toml")).unwrap(),
        "ok"
    );
    assert_eq!(
        std::fs::read_link(ws.join(".tandem")).unwrap(),
        std::path::PathBuf::from("decoy")
    );
}

#[test]
fn a_worktree_git_file_and_its_gitdir_stay_read_only() {
    let wt = workspace();
    let store = workspace();
    let main_git = store.join("main/.git");
    let gitdir = main_git.join("worktrees/wt");
    std::fs::create_dir_all(&gitdir).unwrap();
    std::fs::write(gitdir.join("HEAD"), "ref: refs/heads/main\n").unwrap();
    std::fs::write(gitdir.join("commondir"), "../..\n").unwrap();
    std::fs::write(main_git.join("config"), "[core]\n").unwrap();
    std::fs::write(wt.join(".git"), format!("gitdir: {}\n", gitdir.display())).unwrap();
    let args = ["--writable-root", store.path.to_str().unwrap()];
    blocked(&wt, &args, "echo 'gitdir: /tmp/evil' > .git");
    blocked(
        &wt,
        &args,
        &format!("echo evil > {}/HEAD", gitdir.display()),
    );
    blocked(
        &wt,
        &args,
        &format!("echo evil >> {}/config", main_git.display()),
    );
    blocked(&wt, &args, &format!("mkdir {}/hooks", main_git.display()));
    // The store root itself stays writable.
    let out = sandbox_sh(&wt.path, &args, &format!("echo fine > {}/ok", store.s()));
    ran(&out);
    assert!(store.join("ok").exists(), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(gitdir.join("HEAD")).unwrap(),
        "ref: refs/heads/main\n"
    );
}

#[test]
fn hard_linking_a_protected_file_into_the_root() {
    let ws = git_ws();
    blocked(
        &ws,
        &[],
        "ln .git/config cfg 2>/dev/null && echo evil >> cfg",
    );
    assert_eq!(
        std::fs::read_to_string(ws.join(".git/config")).unwrap(),
        "[core]\n"
    );
}

#[test]
fn protected_paths_via_dotdot_and_proc_magic_links() {
    let ws = git_ws();
    blocked(&ws, &[], "echo evil > src/../.git/x");
    blocked(&ws, &[], "echo evil > /proc/self/cwd/.git/x");
    blocked(
        &ws,
        &[],
        &format!("echo evil > /proc/self/root{}/.git/x", ws.s()),
    );
    assert!(!ws.join(".git/x").exists());
}

#[test]
fn unmounting_the_protection() {
    let ws = git_ws();
    blocked(
        &ws,
        &[],
        "umount .git 2>/dev/null || umount -l .git 2>/dev/null",
    );
    blocked(
        &ws,
        &[],
        "umount -l .git 2>/dev/null; echo evil > .git/config",
    );
}

// ---------------------------------------------------------------- mounts and namespaces

#[test]
fn mounting_a_filesystem() {
    let ws = workspace();
    std::fs::create_dir(ws.join("m")).unwrap();
    blocked(&ws, &[], "mount -t tmpfs none m 2>/dev/null");
    blocked(&ws, &[], "mount --bind / m 2>/dev/null");
}

#[test]
fn unmounting_the_private_tmp() {
    let ws = workspace();
    blocked(
        &ws,
        &[],
        "umount /tmp 2>/dev/null || umount -l /tmp 2>/dev/null",
    );
    blocked(&ws, &[], "umount -l /proc 2>/dev/null");
}

#[test]
fn pivot_root_and_chroot() {
    let ws = workspace();
    py_blocked(
        &ws,
        &[],
        "os.makedirs('new/old', exist_ok=True)\nr, e = sc(155, b'new', b'new/old')\nprint('ESCAPED' if r == 0 else f'blocked {e}')",
    );
    py_blocked(
        &ws,
        &[],
        "try:\n    os.chroot('.')\n    print('ESCAPED')\nexcept OSError as ex:\n    print('blocked', ex)",
    );
}

#[test]
fn unshare_back_out() {
    let ws = workspace();
    blocked(&ws, &[], "unshare -r true 2>/dev/null");
    blocked(&ws, &[], "unshare -m true 2>/dev/null");
    blocked(&ws, &[], "unshare -n true 2>/dev/null");
    py_blocked(
        &ws,
        &[],
        "r, e = sc(272, 0x10000000)\nprint('ESCAPED' if r == 0 else f'blocked {e}')",
    );
}

#[test]
fn clone_into_new_namespaces() {
    let ws = workspace();
    // clone(CLONE_NEWUSER|SIGCHLD): refused; clone3 answers ENOSYS (flags are unreadable).
    py_blocked(
        &ws,
        &[],
        "r, e = sc(56, 0x10000000 | 17, 0, 0, 0, 0)\nif r == 0: os._exit(0)\nprint('ESCAPED' if r > 0 else f'blocked {e}')",
    );
    py_blocked(
        &ws,
        &[],
        "import errno\nbuf = ctypes.create_string_buffer(88)\nr, e = sc(435, buf, 88)\nprint('ESCAPED' if r >= 0 else ('blocked' if e == errno.ENOSYS else f'ESCAPED? {e}'))",
    );
}

#[test]
fn setns_back_out() {
    let ws = workspace();
    py_blocked(
        &ws,
        &[],
        "ok = False\nfor ns in ['mnt','net','user','pid','ipc']:\n    try:\n        fd = os.open(f'/proc/1/ns/{ns}', os.O_RDONLY)\n    except OSError:\n        continue\n    r, e = sc(308, fd, 0)\n    ok = ok or r == 0\nprint('ESCAPED' if ok else 'blocked')",
    );
    blocked(&ws, &[], "nsenter -t 1 -m -u true 2>/dev/null");
}
