//! The names the model sees for MCP tools: `mcp__<server>__<tool>`.
//!
//! Model APIs accept function names matching `^[a-zA-Z0-9_-]+$` of at most 64 characters, while
//! MCP server and tool names are free-form (dots, slashes, spaces, non-ASCII). So every character
//! outside that set becomes `_`, and a name that would be longer than 64 characters is cut and
//! given a short hash of the *original* server and tool names, which keeps it stable across
//! sessions (prompt caches and recorded rollouts rely on a tool keeping its name) and keeps two
//! long names that share a prefix apart.
//!
//! Sanitising is lossy (`a.b` and `a_b` both become `a_b`), so names are never parsed back:
//! [`ToolNamer`] assigns every name once and the manager resolves names through the map it
//! builds. When two different tools land on the same name, the one that sorts later gets the
//! hash suffix.

use std::collections::BTreeSet;

/// The prefix of every MCP tool name, so the model and the kernel can tell them apart.
pub const PREFIX: &str = "mcp__";
/// Separates the server from the tool.
pub const SEPARATOR: &str = "__";
/// The longest function name the model APIs accept.
pub const MAX_NAME_LEN: usize = 64;
/// Hex digits of the hash suffix: 32 bits, plenty to keep a handful of long names apart.
const HASH_HEX_LEN: usize = 8;

/// Replaces every character outside `[a-zA-Z0-9_-]` with `_`; an empty name becomes `_`.
pub fn sanitize(name: &str) -> String {
    let out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() { "_".to_owned() } else { out }
}

/// The name the model sees for `tool` of `server`, before collisions are considered.
///
/// Always valid: only `[a-zA-Z0-9_-]`, at most [`MAX_NAME_LEN`] characters.
pub fn qualified_name(server: &str, tool: &str) -> String {
    let plain = format!("{PREFIX}{}{SEPARATOR}{}", sanitize(server), sanitize(tool));
    if plain.len() <= MAX_NAME_LEN {
        plain
    } else {
        with_hash_suffix(&plain, server, tool)
    }
}

/// `base` cut short enough to take `_<hash>` and stay within [`MAX_NAME_LEN`].
///
/// `base` is ASCII (it comes from [`sanitize`]), so cutting at any byte is safe.
fn with_hash_suffix(base: &str, server: &str, tool: &str) -> String {
    let hash = short_hash(server, tool);
    let keep = MAX_NAME_LEN - 1 - HASH_HEX_LEN;
    let base = &base[..base.len().min(keep)];
    format!("{base}_{hash}")
}

/// FNV-1a (64 bits) over `server`, a NUL and `tool`, folded to 32 bits of hex.
///
/// A hash of our own rather than a crypto crate: it only has to be stable across builds and
/// platforms (it is part of a name the model has seen) and spread well, not resist attackers.
fn short_hash(server: &str, tool: &str) -> String {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut h = OFFSET;
    for byte in server.bytes().chain([0u8]).chain(tool.bytes()) {
        h ^= u64::from(byte);
        h = h.wrapping_mul(PRIME);
    }
    let folded = (h >> 32) ^ (h & 0xffff_ffff);
    format!("{folded:0width$x}", width = HASH_HEX_LEN)
}

/// Hands out unique qualified names, in a deterministic order.
///
/// Feed it tools sorted by (server, tool) so the same set of tools always gets the same names.
#[derive(Debug, Default)]
pub struct ToolNamer {
    taken: BTreeSet<String>,
}

impl ToolNamer {
    pub fn new() -> Self {
        Self::default()
    }

    /// The qualified name for `tool` of `server`, made unique among those handed out so far.
    pub fn assign(&mut self, server: &str, tool: &str) -> String {
        let mut name = qualified_name(server, tool);
        if self.taken.contains(&name) {
            name = with_hash_suffix(&name, server, tool);
            // Two tools whose sanitised names *and* hashes collide: astronomically rare, but a
            // counter keeps the names unique rather than silently shadowing a tool.
            let mut n = 2u32;
            while self.taken.contains(&name) {
                let suffix = format!("_{n}");
                let mut base = qualified_name(server, tool);
                base.truncate(MAX_NAME_LEN - suffix.len());
                name = format!("{base}{suffix}");
                n += 1;
            }
        }
        self.taken.insert(name.clone());
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid(name: &str) -> bool {
        !name.is_empty()
            && name.len() <= MAX_NAME_LEN
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    }

    #[test]
    fn sanitize_table() {
        let cases = [
            ("echo", "echo"),
            ("get-sum", "get-sum"),
            ("read_text_file", "read_text_file"),
            ("files.read", "files_read"),
            ("a/b c", "a_b_c"),
            ("héllo", "h_llo"),
            ("日本", "__"),
            ("tool:v2", "tool_v2"),
            ("", "_"),
            ("UPPER-lower_09", "UPPER-lower_09"),
        ];
        for (input, want) in cases {
            assert_eq!(sanitize(input), want, "sanitize({input:?})");
        }
    }

    #[test]
    fn qualified_name_table() {
        let cases = [
            ("everything", "echo", "mcp__everything__echo"),
            ("everything", "get-sum", "mcp__everything__get-sum"),
            ("my.server", "do thing", "mcp__my_server__do_thing"),
            ("fs", "read_text_file", "mcp__fs__read_text_file"),
        ];
        for (server, tool, want) in cases {
            let got = qualified_name(server, tool);
            assert_eq!(got, want, "qualified_name({server:?}, {tool:?})");
            assert!(valid(&got));
        }
    }

    #[test]
    fn exactly_64_characters_is_kept_whole() {
        // "mcp__" (5) + "s" (1) + "__" (2) + 56 = 64.
        let tool = "t".repeat(56);
        let name = qualified_name("s", &tool);
        assert_eq!(name.len(), 64);
        assert_eq!(name, format!("mcp__s__{tool}"));
    }

    #[test]
    fn overlong_names_are_cut_and_hashed_stably() {
        let tool = "t".repeat(57);
        let name = qualified_name("s", &tool);
        assert_eq!(name.len(), 64);
        assert!(valid(&name));
        assert!(name.starts_with("mcp__s__ttt"));
        // Stable: the same inputs always give the same name (it is part of what the model saw).
        assert_eq!(name, qualified_name("s", &tool));
        assert_eq!(
            name,
            "mcp__s__ttttttttttttttttttttttttttttttttttttttttttttttt_f911f754"
        );

        // Two long names that only differ past the cut stay apart.
        let a = qualified_name("server", &format!("{}a", "x".repeat(80)));
        let b = qualified_name("server", &format!("{}b", "x".repeat(80)));
        assert_ne!(a, b);
        assert!(valid(&a) && valid(&b));
    }

    #[test]
    fn long_unicode_names_stay_valid() {
        let name = qualified_name(&"サーバー".repeat(10), &"ツール".repeat(20));
        assert!(valid(&name), "{name}");
    }

    #[test]
    fn namer_keeps_colliding_names_apart() {
        let mut namer = ToolNamer::new();
        let first = namer.assign("a.b", "x");
        let second = namer.assign("a_b", "x");
        assert_eq!(first, "mcp__a_b__x");
        assert_ne!(first, second);
        assert!(second.starts_with("mcp__a_b__x_"), "{second}");
        assert!(valid(&second));
        // `__` inside names cannot fool the map either.
        let third = namer.assign("a", "b__x");
        let fourth = namer.assign("a__b", "x");
        assert_ne!(third, fourth);
        assert!(valid(&third) && valid(&fourth));
    }
}
