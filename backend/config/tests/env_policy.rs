//! `[shell_environment_policy]`: what reaches the commands the agent runs.

use std::collections::BTreeMap;

use pretty_assertions::assert_eq;
use tandem_config::{Config, ConfigOverrides, Inherit, ShellEnvironmentPolicy};

fn vars() -> Vec<(String, String)> {
    [
        ("HOME", "/home/u"),
        ("PATH", "/usr/bin"),
        ("LANG", "C.UTF-8"),
        ("LC_ALL", "C"),
        ("TERM", "xterm"),
        ("OPENAI_API_KEY", "sk-1"),
        ("GITHUB_TOKEN", "ghp"),
        ("DB_PASSWORD", "hunter2"),
        ("aws_secret_access_key", "x"),
        ("Keyboard_Layout", "us"),
        ("EDITOR", "vi"),
        ("AWS_REGION", "eu-west-1"),
        ("CARGO_HOME", "/c"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

fn names(env: &BTreeMap<String, String>) -> Vec<&str> {
    env.keys().map(String::as_str).collect()
}

#[test]
fn default_drops_secret_looking_names_case_insensitively() {
    let env = ShellEnvironmentPolicy::default().apply(vars());
    assert_eq!(
        names(&env),
        [
            "AWS_REGION",
            "CARGO_HOME",
            "EDITOR",
            "HOME",
            "LANG",
            "LC_ALL",
            "PATH",
            "TERM"
        ]
    );
}

#[test]
fn ignore_default_excludes_keeps_everything() {
    let policy = ShellEnvironmentPolicy {
        ignore_default_excludes: true,
        ..Default::default()
    };
    assert_eq!(policy.apply(vars()).len(), vars().len());
}

#[test]
fn core_keeps_the_basics_only() {
    let policy = ShellEnvironmentPolicy {
        inherit: Inherit::Core,
        ..Default::default()
    };
    assert_eq!(
        names(&policy.apply(vars())),
        ["HOME", "LANG", "LC_ALL", "PATH", "TERM"]
    );
}

#[test]
fn none_keeps_only_what_is_set() {
    let policy = ShellEnvironmentPolicy {
        inherit: Inherit::None,
        set: BTreeMap::from([("CI".to_owned(), "1".to_owned())]),
        ..Default::default()
    };
    assert_eq!(
        policy.apply(vars()),
        BTreeMap::from([("CI".to_owned(), "1".to_owned())])
    );
}

#[test]
fn exclude_then_include_only_then_set() {
    let policy = ShellEnvironmentPolicy {
        exclude: vec!["aws_*".into()],
        include_only: vec!["PATH".into(), "HOME".into(), "aws_*".into()],
        // Set beats include_only and the default excludes: the user asked for it by name.
        set: BTreeMap::from([
            ("MY_TOKEN".to_owned(), "t".to_owned()),
            ("PATH".to_owned(), "/opt/bin".to_owned()),
        ]),
        ..Default::default()
    };
    let env = policy.apply(vars());
    assert_eq!(names(&env), ["HOME", "MY_TOKEN", "PATH"]);
    assert_eq!(env["PATH"], "/opt/bin");
}

#[test]
fn the_policy_is_read_from_config_toml() {
    let home = tempfile::tempdir().unwrap();
    std::fs::write(
        home.path().join("config.toml"),
        "[shell_environment_policy]\ninherit = \"core\"\nexclude = [\"LC_*\"]\nset = { CI = \"true\" }\n",
    )
    .unwrap();
    let config = Config::load_with_env(
        ConfigOverrides {
            cwd: Some(home.path().to_owned()),
            tandem_home: Some(home.path().to_owned()),
            ..Default::default()
        },
        |_| None,
    )
    .unwrap();
    let env = config.shell_environment_policy.apply(vars());
    assert_eq!(names(&env), ["CI", "HOME", "LANG", "PATH", "TERM"]);
}
