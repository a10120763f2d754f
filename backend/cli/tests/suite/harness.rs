//! The harness: a temporary `$TANDEM_HOME` and workspace, a scripted model server, and a way
//! to run the real `tandem` binary against them and read its JSON events.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use tandem_scripted_model::{Scenario, ScriptedServer};
use tempfile::TempDir;

pub struct TestEnv {
    pub home: TempDir,
    pub work: TempDir,
    pub server: ScriptedServer,
}

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repo root")
}

impl TestEnv {
    /// A server replaying `scenario` (TOML), speaking `wire` ("responses" or "chat").
    pub fn new(scenario: &str, wire: &str) -> Self {
        let scenario = Scenario::from_toml_str(scenario).expect("scenario parses");
        let server = ScriptedServer::start(scenario).expect("scripted server starts");
        let home = tempfile::tempdir().expect("home");
        let work = tempfile::tempdir().expect("work");
        let env = TestEnv { home, work, server };
        env.write_config(wire, "");
        env
    }

    /// Replay a scenario file from `fixtures/scenarios/`.
    pub fn from_fixture(name: &str, wire: &str) -> Self {
        let text = std::fs::read_to_string(repo_root().join("fixtures/scenarios").join(name))
            .expect("fixture");
        Self::new(&text, wire)
    }

    /// (Re)write config.toml, with `extra` TOML appended at the top level.
    pub fn write_config(&self, wire: &str, extra: &str) {
        // Top-level keys in `extra` must come before any table; tables in it go after ours.
        let (top, tables) = match extra
            .find("\n[")
            .or_else(|| extra.starts_with('[').then_some(0))
        {
            Some(i) => extra.split_at(i),
            None => (extra, ""),
        };
        let config = format!(
            "{top}\nmodel = \"scripted-model\"\nmodel_provider = \"scripted\"\n\n[model_providers.scripted]\nname = \"Scripted\"\nbase_url = \"{}\"\nwire_api = \"{wire}\"\nrequest_max_retries = 2\n{tables}\n",
            self.server.base_url()
        );
        std::fs::write(self.home.path().join("config.toml"), config).expect("write config");
    }

    /// Copy a fixture repository into the workspace.
    pub fn with_repo(self, name: &str) -> Self {
        copy_dir(
            &repo_root().join("fixtures/repos").join(name),
            self.work.path(),
        );
        self
    }

    pub fn write(&self, rel: &str, text: &str) {
        let path = self.work.path().join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.work.path().join(rel)).expect("read")
    }

    pub fn command(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_tandem"));
        c.current_dir(self.work.path())
            .env("TANDEM_HOME", self.home.path())
            .env_remove("OPENAI_API_KEY")
            .env_remove("OPENAI_BASE_URL")
            .env_remove("RUST_LOG");
        c
    }

    /// `tandem exec --json ARGS...`
    pub fn exec_json(&self, args: &[&str]) -> Run {
        let output = self
            .command()
            .arg("exec")
            .arg("--json")
            .args(args)
            .output()
            .expect("run tandem");
        Run::from(output)
    }

    pub fn requests(&self) -> Vec<Value> {
        self.server.requests().into_iter().map(|r| r.body).collect()
    }
}

pub struct Run {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
    pub events: Vec<Value>,
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
        let events = stdout
            .lines()
            .filter(|l| l.starts_with('{'))
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
            .collect();
        Run {
            status: o.status.code().unwrap_or(-1),
            stdout,
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
            events,
        }
    }
}

impl Run {
    pub fn types(&self) -> Vec<String> {
        self.events
            .iter()
            .map(|e| e["type"].as_str().unwrap_or("?").to_string())
            .collect()
    }

    /// The completed items of one type.
    pub fn completed(&self, item_type: &str) -> Vec<&Value> {
        self.events
            .iter()
            .filter(|e| e["type"] == "item.completed" && e["item"]["type"] == item_type)
            .map(|e| &e["item"])
            .collect()
    }

    #[track_caller]
    pub fn assert_ok(&self) {
        assert_eq!(
            self.status, 0,
            "tandem failed\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
    }
}

/// The text of every function_call_output in a recorded request body, both wire formats.
pub fn tool_outputs(body: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(items) = body["input"].as_array() {
        for i in items {
            if i["type"] == "function_call_output" {
                out.push(i["output"].as_str().unwrap_or_default().to_string());
            }
        }
    }
    if let Some(messages) = body["messages"].as_array() {
        for m in messages {
            if m["role"] == "tool" {
                out.push(m["content"].as_str().unwrap_or_default().to_string());
            }
        }
    }
    out
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("read fixture dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            std::fs::create_dir_all(&target).expect("mkdir");
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// A scenario step that calls one tool.
pub fn call(name: &str, args: Value) -> String {
    format!(
        "[[step]]\n[[step.output]]\ntype = \"function_call\"\nname = \"{name}\"\narguments = '''{}'''\n",
        args
    )
}

/// A scenario step that answers with a message.
pub fn say(text: &str) -> String {
    format!("[[step]]\n[[step.output]]\ntype = \"message\"\ntext = \"{text}\"\n")
}
