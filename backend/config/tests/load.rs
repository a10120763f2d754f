//! `Config::load_with_env` behaviour that the fixture suite cannot express: where
//! `TANDEM_HOME` comes from, the working directory, and files that cannot be read.

use std::path::PathBuf;

use pretty_assertions::assert_eq;
use tandem_config::{Config, ConfigOverrides, agents_md};

fn overrides(cwd: PathBuf) -> ConfigOverrides {
    ConfigOverrides {
        cwd: Some(cwd),
        ..Default::default()
    }
}

#[test]
fn tandem_home_comes_from_the_environment_unless_overridden() {
    let env_home = tempfile::tempdir().unwrap();
    let explicit_home = tempfile::tempdir().unwrap();
    std::fs::write(
        env_home.path().join("config.toml"),
        "model = \"from-env-home\"\n",
    )
    .unwrap();
    std::fs::write(
        explicit_home.path().join("config.toml"),
        "model = \"explicit\"\n",
    )
    .unwrap();
    let env_value = env_home.path().display().to_string();
    let env = |name: &str| (name == "TANDEM_HOME").then(|| env_value.clone());

    let config = Config::load_with_env(overrides(env_home.path().to_owned()), env).unwrap();
    assert_eq!(config.tandem_home, env_home.path());
    assert_eq!(config.config_file, env_home.path().join("config.toml"));
    assert_eq!(config.model, "from-env-home");

    let mut o = overrides(env_home.path().to_owned());
    o.tandem_home = Some(explicit_home.path().to_owned());
    assert_eq!(Config::load_with_env(o, env).unwrap().model, "explicit");
}

#[test]
fn the_cwd_is_made_absolute_and_must_be_a_directory() {
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir(home.path().join("sub")).unwrap();
    let mut o = overrides(home.path().join("sub/../sub/."));
    o.tandem_home = Some(home.path().to_owned());
    assert_eq!(
        Config::load_with_env(o.clone(), |_| None).unwrap().cwd,
        home.path().join("sub")
    );

    o.cwd = Some(home.path().join("missing"));
    let err = Config::load_with_env(o.clone(), |_| None)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(&format!(
            "working directory {}: ",
            home.path().join("missing").display()
        )),
        "{err}"
    );

    std::fs::write(home.path().join("file"), "").unwrap();
    o.cwd = Some(home.path().join("file"));
    let err = Config::load_with_env(o, |_| None).unwrap_err().to_string();
    assert!(err.ends_with("file: not a directory"), "{err}");
}

#[test]
fn an_unreadable_config_file_is_an_error_naming_it() {
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir(home.path().join("config.toml")).unwrap();
    let mut o = overrides(home.path().to_owned());
    o.tandem_home = Some(home.path().to_owned());
    let err = Config::load_with_env(o, |_| None).unwrap_err().to_string();
    assert!(
        err.starts_with(&format!(
            "cannot read {}: ",
            home.path().join("config.toml").display()
        )),
        "{err}"
    );
}

#[test]
fn with_defaults_matches_loading_an_empty_home() {
    let home = tempfile::tempdir().unwrap();
    let mut o = overrides(home.path().to_owned());
    o.tandem_home = Some(home.path().to_owned());
    let loaded = Config::load_with_env(o, |_| None).unwrap();
    assert_eq!(
        Config::with_defaults(home.path().to_owned(), home.path().to_owned()),
        loaded
    );
    // And an empty home has no instruction files.
    assert_eq!(
        agents_md::discover(&loaded),
        agents_md::ProjectDocs::default()
    );
}
