//! `tandem exec`: run one task headless, for CI and scripts.
//!
//! This shell only drives the kernel: it builds the config from flags, submits one turn, and
//! prints events, either for people (progress on stderr, the final answer on stdout) or as
//! `codex exec --json` compatible JSON lines on stdout.

mod cli;
mod human;

pub use cli::{ExecArgs, ResumeArgs, SharedConfigArgs};

use anyhow::Context;
use std::io::Write;
use std::path::PathBuf;
use tandem_core::{Kernel, KernelOptions, SandboxHelper, SessionStore};
use tandem_protocol::events::{EventMsg, ThreadEvent};
use tandem_protocol::ops::{Op, UserInput};
use tandem_protocol::{ApprovalPolicy, ReviewDecision, SandboxMode};

/// Run `tandem exec`; returns the process exit code.
pub async fn run(args: ExecArgs, sandbox_helper: Option<SandboxHelper>) -> anyhow::Result<i32> {
    let (prompt_arg, resume) = match &args.command {
        Some(cli::ExecCommand::Resume(r)) if r.last && r.prompt.is_none() => {
            (r.session_id.clone(), Some(r))
        }
        Some(cli::ExecCommand::Resume(r)) => (r.prompt.clone(), Some(r)),
        None => (args.prompt.clone(), None),
    };
    let prompt = read_prompt(prompt_arg)?;
    let mut overrides = args.config.to_overrides()?;
    // `tandem exec` is headless: by default it may read but not write, and never asks.
    if args.full_auto {
        overrides
            .sandbox_mode
            .get_or_insert(SandboxMode::WorkspaceWrite);
        overrides
            .approval_policy
            .get_or_insert(ApprovalPolicy::OnRequest);
    }
    let config = tandem_config::Config::load(overrides)?;
    let resume_path = match resume {
        Some(r) => {
            let store = SessionStore::new(&config.tandem_home);
            Some(match (&r.session_id, r.last) {
                (Some(_), true) if r.prompt.is_some() => {
                    anyhow::bail!("give either a session id or --last, not both")
                }
                (_, true) => store.last()?,
                (Some(id), false) => store.find(id)?,
                (None, false) => anyhow::bail!("`tandem exec resume` needs a session id or --last"),
            })
        }
        None => None,
    };
    let mut kernel = Kernel::spawn(
        config,
        KernelOptions {
            resume: resume_path,
            sandbox_helper,
            ..KernelOptions::default()
        },
    )?;
    kernel.submit(Op::UserTurn {
        input: vec![UserInput::Text { text: prompt }],
        overrides: Default::default(),
    })?;

    let mut printer = human::Printer::new(!args.json);
    let mut last_message: Option<String> = None;
    let mut exit_code = 0;
    let mut interrupts = 0;
    let mut turn_over = false;
    loop {
        let event = tokio::select! {
            e = kernel.next_event() => e,
            _ = tokio::signal::ctrl_c() => {
                interrupts += 1;
                if interrupts > 1 {
                    return Ok(130);
                }
                let _ = writeln!(std::io::stderr(), "interrupting… (press Ctrl-C again to quit at once)");
                kernel.submit(Op::Interrupt)?;
                continue;
            }
        };
        let Some(event) = event else { break };
        if args.json {
            // The JSON stream on stdout is Codex's stable projection, which has no warnings;
            // they still matter (a weaker sandbox, a failed compaction), so they go to stderr.
            if let EventMsg::Warning { message } = &event.msg {
                let _ = writeln!(std::io::stderr(), "warning: {message}");
            }
            if let Some(stable) = ThreadEvent::from_event(&event) {
                let mut out = std::io::stdout().lock();
                serde_json::to_writer(&mut out, &stable)?;
                out.write_all(b"\n")?;
                out.flush()?;
            }
        } else {
            printer.print(&event);
        }
        match &event.msg {
            EventMsg::ApprovalRequest(req) => {
                // Nobody can answer in a headless run: deny, and say how to avoid the question.
                printer.note(&format!(
                    "approval needed ({:?}) for {} — denied: `tandem exec` cannot ask. Allow it up front with -s/-a, or run it yourself.",
                    req.kind,
                    req.command.as_ref().map(|c| c.join(" ")).unwrap_or_else(|| "a patch".into())
                ));
                kernel.submit(Op::Approval {
                    id: req.id.clone(),
                    decision: ReviewDecision::Deny,
                })?;
            }
            EventMsg::TurnCompleted {
                last_agent_message, ..
            } => {
                last_message.clone_from(last_agent_message);
                turn_over = true;
            }
            EventMsg::TurnFailed { .. } | EventMsg::TurnAborted { .. } => {
                exit_code = 1;
                turn_over = true;
            }
            EventMsg::ShutdownComplete => break,
            _ => {}
        }
        if turn_over {
            turn_over = false;
            kernel.submit(Op::Shutdown)?;
        }
    }
    if let Some(path) = &args.output_last_message {
        std::fs::write(path, last_message.clone().unwrap_or_default()).with_context(|| {
            format!("cannot write --output-last-message file {}", path.display())
        })?;
    }
    if !args.json
        && let Some(message) = &last_message
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{message}")?;
    }
    Ok(exit_code)
}

fn read_prompt(arg: Option<String>) -> anyhow::Result<String> {
    match arg.as_deref() {
        Some("-") | None => {
            use std::io::{IsTerminal, Read};
            if arg.is_none() && std::io::stdin().is_terminal() {
                anyhow::bail!(
                    "no prompt given: pass it as an argument, or `-` to read it from stdin"
                );
            }
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .context("cannot read the prompt from stdin")?;
            if text.trim().is_empty() {
                anyhow::bail!("the prompt read from stdin is empty");
            }
            Ok(text)
        }
        Some(p) => Ok(p.to_string()),
    }
}

/// Where the `tandem` binary that is running lives, to re-run it as the sandbox helper.
pub fn self_as_sandbox_helper() -> Option<SandboxHelper> {
    let exe: PathBuf = std::env::current_exe().ok()?;
    Some(SandboxHelper {
        exe,
        arg0: Some("tandem-sandbox".into()),
    })
}
