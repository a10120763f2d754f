//! The command line of `tandem-sandbox` (also reached through the arg0 trick): parses flags
//! into a [`SandboxPolicy`], runs the command, and turns the outcome into our exit status. The
//! only module that prints: `--probe` and `--print-plan` JSON to stdout, one-line errors to
//! stderr before exit 125.
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "this is the binary's user interface"
)]

use crate::error::SandboxError;
use crate::oneshot::Outcome;
use crate::policy::SandboxPolicy;
use crate::{inspect, landlock_layer, mountplan, oneshot, probe, seccomp, sys, zygote};
use clap::Parser;
use serde::Serialize;
use std::ffi::OsString;
use std::path::PathBuf;
use tandem_protocol::SandboxMode;

/// Exit status of a sandbox failure (the command never ran).
pub const EXIT_SANDBOX_FAILURE: i32 = 125;

#[derive(Debug, Parser)]
#[command(
    name = "tandem-sandbox",
    about = "Run a command under kernel-enforced isolation (namespaces + Landlock + seccomp).",
    after_help = "Exit status: the command's own, or 125 when the sandbox cannot be set up."
)]
struct Cli {
    /// read-only, workspace-write (default) or danger-full-access.
    #[arg(long, value_parser = parse_mode)]
    mode: Option<SandboxMode>,
    /// Working directory of the command (writable in workspace-write). Default: current dir.
    #[arg(long)]
    cwd: Option<PathBuf>,
    /// An extra writable directory (repeatable).
    #[arg(long = "writable-root", value_name = "DIR")]
    writable_roots: Vec<PathBuf>,
    /// Allow network access (off by default).
    #[arg(long)]
    network: bool,
    /// Print which layers this kernel can enforce, as JSON, and exit.
    #[arg(long)]
    probe: bool,
    /// Read the whole policy from a JSON file (the library's SandboxPolicy).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["mode", "cwd", "writable_roots", "network", "policy_json"])]
    json_policy: Option<PathBuf>,
    /// The policy as inline JSON (what the library's command_for passes).
    #[arg(long, hide = true, conflicts_with_all = ["mode", "cwd", "writable_roots", "network"])]
    policy_json: Option<String>,
    /// Opt in to the Landlock-only fallback on hosts without user namespaces.
    #[arg(long)]
    allow_landlock_only: bool,
    /// Use the Landlock-only fallback even where namespaces work (needs --allow-landlock-only).
    #[arg(long)]
    force_landlock_only: bool,
    /// Run without Landlock on kernels that lack it (mount layer only).
    #[arg(long)]
    allow_no_landlock: bool,
    /// Maximum processes + threads per command.
    #[arg(long, value_name = "N")]
    max_processes: Option<u32>,
    /// Maximum size of any written file (bytes, or with K/M/G suffix).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    max_file_size: Option<u64>,
    /// Keep this environment variable even if it looks like a secret (repeatable).
    #[arg(long = "keep-env", value_name = "NAME")]
    keep_env: Vec<String>,
    /// Print the mount plan, Landlock rules and seccomp rules as JSON, and exit.
    #[arg(long)]
    print_plan: bool,
    /// Serve as a session zygote on fd 3 (started by SessionSandbox).
    #[arg(long, hide = true)]
    zygote: bool,
    /// Benchmark N spawns through a session zygote against N bare spawns.
    #[arg(long, hide = true, value_name = "N")]
    bench_zygote: Option<usize>,
    /// The command and its arguments.
    #[arg(last = true, value_name = "COMMAND")]
    command: Vec<OsString>,
}

fn parse_mode(s: &str) -> Result<SandboxMode, String> {
    s.parse()
}

fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (num, mult) = match s.chars().last() {
        Some('k' | 'K') => (&s[..s.len() - 1], 1u64 << 10),
        Some('m' | 'M') => (&s[..s.len() - 1], 1 << 20),
        Some('g' | 'G') => (&s[..s.len() - 1], 1 << 30),
        _ => (s, 1),
    };
    num.parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("invalid size `{s}`"))
}

fn policy_from(cli: &Cli) -> Result<SandboxPolicy, SandboxError> {
    let mut policy = if let Some(file) = &cli.json_policy {
        let text = std::fs::read_to_string(file)
            .map_err(|e| SandboxError::io(format!("reading {}", file.display()), e))?;
        serde_json::from_str(&text)
            .map_err(|e| SandboxError::InvalidPolicy(format!("{}: {e}", file.display())))?
    } else if let Some(json) = &cli.policy_json {
        serde_json::from_str(json).map_err(|e| SandboxError::InvalidPolicy(e.to_string()))?
    } else {
        SandboxPolicy {
            mode: cli.mode.unwrap_or(SandboxMode::WorkspaceWrite),
            cwd: cli.cwd.clone(),
            writable_roots: cli.writable_roots.clone(),
            network: cli.network,
            ..SandboxPolicy::default()
        }
    };
    policy.allow_landlock_only_fallback |= cli.allow_landlock_only;
    policy.force_landlock_only |= cli.force_landlock_only;
    policy.allow_without_landlock |= cli.allow_no_landlock;
    if let Some(n) = cli.max_processes {
        policy.limits.max_processes = n;
    }
    if let Some(n) = cli.max_file_size {
        policy.limits.max_file_size = n;
    }
    policy.env.keep.extend(cli.keep_env.iter().cloned());
    Ok(policy)
}

fn fail(e: &SandboxError) -> i32 {
    eprintln!("tandem-sandbox: {e}");
    EXIT_SANDBOX_FAILURE
}

/// What `--probe` prints: the probe plus the verdict for the given flags.
#[derive(Serialize)]
struct ProbeReport {
    #[serde(flatten)]
    probe: probe::Probe,
    policy: PolicySummary,
    enforcement: probe::Enforcement,
}

#[derive(Serialize)]
struct PolicySummary {
    mode: SandboxMode,
    network: bool,
    allow_landlock_only_fallback: bool,
    force_landlock_only: bool,
    allow_without_landlock: bool,
}

#[derive(Serialize)]
struct PlanReport {
    mount_plan: mountplan::MountPlan,
    landlock: landlock_layer::LandlockRules,
    seccomp_denied: Vec<seccomp::DenyRule>,
}

/// The common invocations without clap: policy flags (or `--policy-json`, what
/// [`crate::command_for`] passes), `--`, and the command. Building clap's parser costs about
/// 0.1 ms of every one-shot spawn; this covers what the kernel and scripts send. Anything else
/// (help, `--probe`, a repeated or conflicting flag, a value that looks like a flag, a bad
/// value) returns None and goes to clap, which accepts or rejects it with its usual message;
/// whatever this accepts, clap parses to the same `Cli` (a unit test holds them together).
fn parse_fast(args: &[OsString]) -> Option<Cli> {
    let mut cli = Cli {
        mode: None,
        cwd: None,
        writable_roots: Vec::new(),
        network: false,
        probe: false,
        json_policy: None,
        policy_json: None,
        allow_landlock_only: false,
        force_landlock_only: false,
        allow_no_landlock: false,
        max_processes: None,
        max_file_size: None,
        keep_env: Vec::new(),
        print_plan: false,
        zygote: false,
        bench_zygote: None,
        command: Vec::new(),
    };
    let mut it = args.iter().skip(1);
    // A flag's value: the next argument, which must not look like a flag.
    fn value<'a>(it: &mut impl Iterator<Item = &'a OsString>) -> Option<&'a OsString> {
        it.next()
            .filter(|v| !v.as_encoded_bytes().starts_with(b"-"))
    }
    fn text(v: &OsString) -> Option<String> {
        v.to_str().map(str::to_owned)
    }
    loop {
        let arg = it.next()?.to_str()?;
        match arg {
            "--" => break,
            "--cwd" if cli.cwd.is_none() => cli.cwd = Some(value(&mut it)?.into()),
            "--mode" if cli.mode.is_none() => {
                cli.mode = Some(parse_mode(value(&mut it)?.to_str()?).ok()?);
            }
            "--writable-root" => cli.writable_roots.push(value(&mut it)?.into()),
            "--network" if !cli.network => cli.network = true,
            "--policy-json" if cli.policy_json.is_none() => {
                cli.policy_json = Some(text(value(&mut it)?)?);
            }
            "--max-processes" if cli.max_processes.is_none() => {
                cli.max_processes = Some(value(&mut it)?.to_str()?.parse().ok()?);
            }
            "--max-file-size" if cli.max_file_size.is_none() => {
                cli.max_file_size = Some(parse_size(value(&mut it)?.to_str()?).ok()?);
            }
            "--keep-env" => cli.keep_env.push(text(value(&mut it)?)?),
            "--allow-landlock-only" if !cli.allow_landlock_only => cli.allow_landlock_only = true,
            "--force-landlock-only" if !cli.force_landlock_only => cli.force_landlock_only = true,
            "--allow-no-landlock" if !cli.allow_no_landlock => cli.allow_no_landlock = true,
            _ => return None,
        }
    }
    let conflicts = cli.mode.is_some() || cli.cwd.is_some() || !cli.writable_roots.is_empty();
    if cli.policy_json.is_some() && (conflicts || cli.network) {
        return None;
    }
    cli.command = it.cloned().collect();
    (!cli.command.is_empty()).then_some(cli)
}

/// Parses `args` (argv[0] included) and runs. Returns the exit status; may instead never
/// return (exec in danger-full-access, or death by the command's signal).
pub fn main(args: impl IntoIterator<Item = OsString>) -> i32 {
    let args: Vec<OsString> = args.into_iter().collect();
    let parsed = match parse_fast(&args) {
        Some(cli) => Ok(cli),
        None => Cli::try_parse_from(args),
    };
    let cli = match parsed {
        Ok(c) => c,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                print!("{e}");
                return 0;
            }
            let first = e.to_string();
            let line = first
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("invalid arguments");
            eprintln!("tandem-sandbox: {}", line.trim_start_matches("error: "));
            return EXIT_SANDBOX_FAILURE;
        }
    };
    crate::timing::mark("parsed");
    let policy = match policy_from(&cli) {
        Ok(p) => p,
        Err(e) if cli.zygote => return zygote_refuse(&e),
        Err(e) => return fail(&e),
    };
    if cli.probe {
        let probe = probe::probe();
        let report = ProbeReport {
            enforcement: probe.enforcement_for(&policy),
            probe,
            policy: PolicySummary {
                mode: policy.mode,
                network: policy.network,
                allow_landlock_only_fallback: policy.allow_landlock_only_fallback,
                force_landlock_only: policy.force_landlock_only,
                allow_without_landlock: policy.allow_without_landlock,
            },
        };
        return match serde_json::to_string_pretty(&report) {
            Ok(s) => {
                println!("{s}");
                0
            }
            Err(e) => fail(&SandboxError::Protocol(e.to_string())),
        };
    }
    let resolved = match policy.resolve() {
        Ok(r) => r,
        Err(e) if cli.zygote => return zygote_refuse(&e),
        Err(e) => return fail(&e),
    };
    crate::timing::mark("resolved");
    if cli.zygote {
        return zygote::serve(&resolved);
    }
    if cli.print_plan {
        let prepared = match inspect::prepare_namespaced(&resolved) {
            Ok(p) => p,
            Err(e) => return fail(&e),
        };
        let report = PlanReport {
            mount_plan: mountplan::plan(&resolved, &prepared.facts),
            landlock: landlock_layer::namespace_rules(&resolved),
            seccomp_denied: seccomp::deny_rules(resolved.network),
        };
        return match serde_json::to_string_pretty(&report) {
            Ok(s) => {
                println!("{s}");
                0
            }
            Err(e) => fail(&SandboxError::Protocol(e.to_string())),
        };
    }
    if cli.command.is_empty() {
        return fail(&SandboxError::InvalidPolicy(
            "no command given (usage: tandem-sandbox [OPTIONS] -- COMMAND [ARGS...])".into(),
        ));
    }
    if let Some(n) = cli.bench_zygote {
        let exe = match std::env::current_exe() {
            Ok(e) => e,
            Err(e) => return fail(&SandboxError::io("current_exe", e)),
        };
        return match crate::bench::run(&exe, &policy, &cli.command, n) {
            Ok(r) => {
                println!("{}", serde_json::to_string_pretty(&r).unwrap_or_default());
                0
            }
            Err(e) => fail(&e),
        };
    }
    match oneshot::run(&resolved, &cli.command) {
        Ok(Outcome::Status(status)) => exit_like(status),
        Err(e) => fail(&e),
    }
}

/// In zygote mode, tells the library why we cannot start, over the control socket.
fn zygote_refuse(e: &SandboxError) -> i32 {
    let _ = crate::wire::send(
        // SAFETY: fd 3 is the control socket in zygote mode (SessionSandbox::start put it there).
        unsafe { std::os::fd::BorrowedFd::borrow_raw(zygote::CONTROL_FD) },
        &zygote::failed_frame(e),
        &[],
    );
    EXIT_SANDBOX_FAILURE
}

/// Exits the way the command did: same code, or death by the same signal.
fn exit_like(status: i32) -> i32 {
    if libc::WIFEXITED(status) {
        return libc::WEXITSTATUS(status);
    }
    if libc::WIFSIGNALED(status) {
        let sig = libc::WTERMSIG(status);
        let none = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: plain syscalls; we want to die exactly like the command did, without a core
        // dump of our own.
        unsafe {
            libc::setrlimit(libc::RLIMIT_CORE, &none);
        }
        sys::set_signal_handler(sig, libc::SIG_DFL);
        sys::sigmask(libc::SIG_UNBLOCK, &[sig]);
        // SAFETY: plain syscalls.
        unsafe {
            libc::kill(libc::getpid(), sig);
        }
        return 128 + sig;
    }
    EXIT_SANDBOX_FAILURE
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Cli {
        Cli::try_parse_from(std::iter::once("tandem-sandbox").chain(args.iter().copied())).unwrap()
    }

    #[test]
    fn defaults_are_workspace_write_without_network() {
        let cli = parse(&["--", "true"]);
        let p = policy_from(&cli).unwrap();
        assert_eq!(p.mode, SandboxMode::WorkspaceWrite);
        assert!(!p.network);
        assert_eq!(cli.command, [OsString::from("true")]);
    }

    #[test]
    fn flags_fill_the_policy() {
        let cli = parse(&[
            "--mode",
            "read-only",
            "--cwd",
            "/tmp",
            "--writable-root",
            "/a",
            "--writable-root",
            "/b",
            "--network",
            "--max-processes",
            "77",
            "--max-file-size",
            "3M",
            "--keep-env",
            "GH_TOKEN",
            "--",
            "ls",
            "-la",
        ]);
        let p = policy_from(&cli).unwrap();
        assert_eq!(p.mode, SandboxMode::ReadOnly);
        assert_eq!(p.writable_roots, [PathBuf::from("/a"), PathBuf::from("/b")]);
        assert!(p.network);
        assert_eq!(p.limits.max_processes, 77);
        assert_eq!(p.limits.max_file_size, 3 << 20);
        assert_eq!(p.env.keep, ["GH_TOKEN"]);
        assert_eq!(cli.command, [OsString::from("ls"), OsString::from("-la")]);
    }

    #[test]
    fn command_arguments_may_look_like_flags() {
        let cli = parse(&["--", "sh", "-c", "--network"]);
        assert!(!cli.network);
        assert_eq!(cli.command.len(), 3);
    }

    #[test]
    fn json_policy_conflicts_with_flags() {
        let r = Cli::try_parse_from(["x", "--json-policy", "/p.json", "--network", "--", "true"]);
        assert!(r.is_err());
    }

    #[test]
    fn bad_usage_is_exit_125() {
        assert_eq!(main(["x", "--mode", "bogus"].map(OsString::from)), 125);
        assert_eq!(main(["x"].map(OsString::from)), 125);
    }

    /// Every invocation the fast parser takes must parse the same with clap.
    #[test]
    fn the_fast_parser_agrees_with_clap() {
        let accepted: &[&[&str]] = &[
            &["--", "true"],
            &["--cwd", "/w", "--", "sh", "-c", "--network"],
            &["--policy-json", "{}", "--", "cargo", "build"],
            &[
                "--policy-json",
                "{\"network\":true}",
                "--keep-env",
                "A_KEY",
                "--",
                "x",
            ],
            &[
                "--mode",
                "read-only",
                "--cwd",
                "/w",
                "--writable-root",
                "/a",
                "--writable-root",
                "/b",
                "--network",
                "--max-processes",
                "77",
                "--max-file-size",
                "3M",
                "--keep-env",
                "GH_TOKEN",
                "--keep-env",
                "X",
                "--allow-landlock-only",
                "--force-landlock-only",
                "--allow-no-landlock",
                "--",
                "ls",
                "--",
                "-la",
            ],
        ];
        for args in accepted {
            let argv: Vec<OsString> = std::iter::once("tandem-sandbox")
                .chain(args.iter().copied())
                .map(OsString::from)
                .collect();
            let fast = parse_fast(&argv).unwrap_or_else(|| panic!("fast path refused {args:?}"));
            let slow = Cli::try_parse_from(&argv).unwrap();
            assert_eq!(format!("{fast:?}"), format!("{slow:?}"), "{args:?}");
        }
        let refused: &[&[&str]] = &[
            &["--probe"],
            &["--help"],
            &["--"],
            &["true"],
            &["--cwd", "/a", "--cwd", "/b", "--", "x"],
            &["--cwd", "--network", "--", "x"],
            &["--mode", "bogus", "--", "x"],
            &["--max-processes", "-1", "--", "x"],
            &["--max-file-size", "0", "--", "x"],
            &["--policy-json", "{}", "--network", "--", "x"],
            &["--policy-json", "{}", "--cwd", "/w", "--", "x"],
            &["--json-policy", "/p.json", "--", "x"],
            &["--cwd=/w", "--", "x"],
            &["--network", "--network", "--", "x"],
            &["--print-plan", "--", "x"],
            &["--zygote"],
        ];
        for args in refused {
            let argv: Vec<OsString> = std::iter::once("tandem-sandbox")
                .chain(args.iter().copied())
                .map(OsString::from)
                .collect();
            assert!(parse_fast(&argv).is_none(), "{args:?} must go to clap");
        }
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("10"), Ok(10));
        assert_eq!(parse_size("2k"), Ok(2048));
        assert_eq!(parse_size("1G"), Ok(1 << 30));
        assert!(parse_size("0").is_err());
        assert!(parse_size("x").is_err());
    }
}
