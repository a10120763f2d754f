//! Every ```toml example in docs/config.md must load: documentation that errors is worse than
//! none. Each block is loaded on its own, as a whole config.toml.

use tandem_config::{Config, ConfigOverrides};

#[test]
fn every_toml_example_in_the_docs_loads() {
    let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/config.md");
    let text = std::fs::read_to_string(&docs).unwrap();
    let blocks: Vec<&str> = text
        .split("```toml\n")
        .skip(1)
        .map(|rest| rest.split("```").next().unwrap())
        .collect();
    assert!(blocks.len() >= 10, "found only {} examples", blocks.len());
    for block in blocks {
        let home = tempfile::tempdir().unwrap();
        std::fs::write(home.path().join("config.toml"), block).unwrap();
        let result = Config::load_with_env(
            ConfigOverrides {
                cwd: Some(home.path().to_owned()),
                tandem_home: Some(home.path().to_owned()),
                ..Default::default()
            },
            |_| None,
        );
        match result {
            Ok(config) => assert!(config.warnings.is_empty(), "{block}\n{:?}", config.warnings),
            Err(e) => panic!("this example does not load:\n{block}\n{e}"),
        }
    }
}
