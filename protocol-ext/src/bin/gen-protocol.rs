//! Writes the generated TypeScript and JSON Schema of the custom LSP methods.
//!
//! Run from anywhere in the repository: `cargo run -p tandem-protocol-ext --bin gen-protocol`.

use std::path::Path;
use tandem_protocol_ext::generate;

fn main() -> std::io::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for (path, text) in [
        (generate::TYPESCRIPT_PATH, generate::typescript()),
        (generate::SCHEMA_PATH, generate::json_schema()),
    ] {
        let full = root.join(path);
        if let Some(dir) = full.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&full, text)?;
        #[allow(clippy::print_stderr)]
        {
            eprintln!("wrote {path}");
        }
    }
    Ok(())
}
