//! The performance workload shared by the benchmark and a correctness test:
//! a 20,000-line Rust-like file (`big.rs`) and a 50-hunk patch to it, each
//! hunk with an `@@ fn` header, three lines of context on each side, one
//! removed and two added lines.

/// Returns (file text, patch text, expected new text): 400 functions of 50
/// lines, every 8th changed.
pub fn fifty_hunks_twenty_thousand_lines() -> (String, String, String) {
    let mut file = String::new();
    let mut expected = String::new();
    let mut patch = String::from("*** Begin Patch\n*** Update File: big.rs\n");
    for f in 0..400 {
        let body = |v: &str| {
            let mut s = format!("fn func_{f}(x: u32) -> u32 {{\n");
            for l in 0..46 {
                s.push_str(&format!("    let v{l} = x + {l}; // {v}\n"));
            }
            s.push_str("    x\n}\n\n");
            s
        };
        file.push_str(&body("old"));
        if f % 8 == 0 {
            let mut e = body("old");
            e = e.replace(
                "    let v20 = x + 20; // old\n",
                "    let v20 = x + 20; // new\n    let extra = 1;\n",
            );
            expected.push_str(&e);
            patch.push_str(&format!("@@ fn func_{f}(x: u32) -> u32 {{\n"));
            for l in 17..20 {
                patch.push_str(&format!("     let v{l} = x + {l}; // old\n"));
            }
            patch.push_str("-    let v20 = x + 20; // old\n+    let v20 = x + 20; // new\n+    let extra = 1;\n");
            for l in 21..24 {
                patch.push_str(&format!("     let v{l} = x + {l}; // old\n"));
            }
        } else {
            expected.push_str(&body("old"));
        }
    }
    patch.push_str("*** End Patch\n");
    assert_eq!(file.lines().count(), 20_000);
    assert_eq!(patch.matches("\n@@ ").count(), 50);
    (file, patch, expected)
}
