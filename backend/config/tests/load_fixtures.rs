//! Data-driven tests of `Config::load`: one directory per case under `tests/fixtures/load/`.
//!
//! A case directory holds:
//! - `config.toml` (optional; absent means "no file"), used as `$TANDEM_HOME/config.toml`;
//! - `overrides.toml` (optional): `cli = ["k=v", ...]` (each parsed by `parse_cli_override`),
//!   `profile`, `model`, `sandbox_mode`, `approval_policy`, and `env = { NAME = "value" }` for
//!   the environment lookups (`OPENAI_BASE_URL`);
//! - either `expected_error.txt`, the exact one-line message, or `expected.json`, a subset of
//!   the resolved `Config` serialized as JSON (each top-level key given must match exactly).
//!
//! The case directory is both `TANDEM_HOME` and the cwd, and `{dir}` in the expectations stands
//! for its path. `TANDEM_BLESS=1` rewrites `expected_error.txt` files from the actual output.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use pretty_assertions::assert_eq;
use serde::Deserialize;
use tandem_config::{Config, ConfigOverrides, parse_cli_override};

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct CaseOverrides {
    #[serde(default)]
    cli: Vec<String>,
    profile: Option<String>,
    model: Option<String>,
    sandbox_mode: Option<tandem_protocol::SandboxMode>,
    approval_policy: Option<tandem_protocol::ApprovalPolicy>,
    #[serde(default)]
    env: BTreeMap<String, String>,
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/load")
}

fn run_case(dir: &Path) -> Result<serde_json::Value, String> {
    let case: CaseOverrides = match std::fs::read_to_string(dir.join("overrides.toml")) {
        Ok(text) => toml::from_str(&text).expect("overrides.toml"),
        Err(_) => CaseOverrides::default(),
    };
    let mut cli_overrides = Vec::new();
    for arg in &case.cli {
        cli_overrides.push(parse_cli_override(arg).map_err(|e| e.to_string())?);
    }
    let overrides = ConfigOverrides {
        cwd: Some(dir.to_owned()),
        model: case.model,
        profile: case.profile,
        sandbox_mode: case.sandbox_mode,
        approval_policy: case.approval_policy,
        cli_overrides,
        tandem_home: Some(dir.to_owned()),
    };
    let env = case.env;
    Config::load_with_env(overrides, |name| env.get(name).cloned())
        .map(|config| serde_json::to_value(config).unwrap())
        .map_err(|e| e.to_string())
}

#[test]
fn load_fixtures() {
    let bless = std::env::var_os("TANDEM_BLESS").is_some();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(
        dirs.len() >= 30,
        "expected the fixture suite, found {}",
        dirs.len()
    );
    let mut failures = Vec::new();
    for dir in &dirs {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let placeholder = |s: &str| s.replace(&dir.display().to_string(), "{dir}");
        let actual = run_case(dir);
        let error_file = dir.join("expected_error.txt");
        let json_file = dir.join("expected.json");
        if error_file.exists() {
            let want = std::fs::read_to_string(&error_file).unwrap();
            let got = match &actual {
                Err(e) => placeholder(e),
                Ok(_) => "<loaded without error>".to_owned(),
            };
            if bless && actual.is_err() {
                std::fs::write(&error_file, format!("{got}\n")).unwrap();
            } else if want.trim_end() != got {
                failures.push(format!(
                    "{name}:\n  want: {}\n  got:  {got}",
                    want.trim_end()
                ));
            }
        } else if json_file.exists() {
            let want: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&json_file).unwrap())
                    .unwrap_or_else(|e| panic!("{name}/expected.json: {e}"));
            let got = match actual {
                Ok(v) => {
                    serde_json::from_str::<serde_json::Value>(&placeholder(&v.to_string())).unwrap()
                }
                Err(e) => {
                    failures.push(format!("{name}: unexpected error: {}", placeholder(&e)));
                    continue;
                }
            };
            for (key, want_value) in want.as_object().expect("expected.json is an object") {
                let got_value = got.get(key).unwrap_or(&serde_json::Value::Null);
                if got_value != want_value {
                    failures.push(format!(
                        "{name}: `{key}`\n  want: {want_value}\n  got:  {got_value}"
                    ));
                }
            }
        } else {
            panic!("{name}: needs expected_error.txt or expected.json");
        }
    }
    assert_eq!(
        failures,
        Vec::<String>::new(),
        "{} of {} cases failed",
        failures.len(),
        dirs.len()
    );
}
