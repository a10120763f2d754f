//! Loads config.toml with profiles and -c overrides, and finds AGENTS.md files.
