//! The checked-in generated files and `docs/protocol.md` must match the Rust source.

use std::path::{Path, PathBuf};
use tandem_protocol_ext::generate;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn check(path: &str, want: &str) {
    let full = root().join(path);
    let have = std::fs::read_to_string(&full).unwrap_or_default();
    if have != want {
        let diff = similar::TextDiff::from_lines(&have, want)
            .unified_diff()
            .context_radius(2)
            .header(path, "generated")
            .to_string();
        panic!(
            "{path} is out of date with protocol-ext/src.\n\
             Regenerate it with:\n\n    {}\n\n{diff}",
            generate::REGENERATE
        );
    }
}

#[test]
fn typescript_is_up_to_date() {
    check(generate::TYPESCRIPT_PATH, &generate::typescript());
}

#[test]
fn json_schema_is_up_to_date() {
    check(generate::SCHEMA_PATH, &generate::json_schema());
}

/// FNV-1a over the crate's Rust sources (sorted, line endings normalised): stable across
/// platforms and Rust versions, unlike `DefaultHasher`.
fn source_hash() -> String {
    let mut files = Vec::new();
    let mut stack = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("src")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "rs") {
                files.push(p);
            }
        }
    }
    files.sort();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap().replace("\r\n", "\n");
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        for b in name.bytes().chain(text.bytes()) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

/// Like rust-analyzer's `lsp-extensions.md` guard: change a method, then update the doc and
/// the hash in it.
#[test]
fn protocol_doc_is_up_to_date() {
    let doc = std::fs::read_to_string(root().join("docs/protocol.md")).unwrap_or_default();
    let hash = source_hash();
    let marker = format!("<!-- protocol-ext source hash: {hash} -->");
    assert!(
        doc.contains(&marker),
        "protocol-ext/src changed, so docs/protocol.md may be stale. Update the page to match, \
         then replace its hash line with:\n\n{marker}\n"
    );
    for m in tandem_protocol_ext::METHODS {
        assert!(
            doc.contains(&format!("`{}`", m.method)),
            "docs/protocol.md does not document `{}`",
            m.method
        );
    }
}
