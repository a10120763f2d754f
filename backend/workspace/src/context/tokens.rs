//! A cheap token estimate, good enough to keep a budget.
//!
//! Real tokenizers average about four characters of English or code per token, and about one
//! token per CJK character or emoji. So: ASCII bytes count a quarter token each (rounded up),
//! and every non-ASCII character counts one whole token. It over-counts accented Latin text
//! a little, which errs on the side of staying within budget, and it runs at memory speed
//! (one pass over the bytes, no tables).

/// The estimated number of tokens in `text`.
pub fn estimate_tokens(text: &str) -> usize {
    let mut ascii = 0usize;
    let mut other = 0usize;
    for &b in text.as_bytes() {
        if b < 0x80 {
            ascii += 1;
        } else if b >= 0xC0 {
            // A lead byte starts one non-ASCII character; continuation bytes (0x80..0xC0) are
            // part of it.
            other += 1;
        }
    }
    ascii.div_ceil(4) + other
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimates() {
        for (text, tokens) in [
            ("", 0),
            ("abc", 1),
            ("abcd", 1),
            ("abcde", 2),
            ("fn main() {}\n", 4),
            ("日本語", 3),
            ("😀😀", 2),
            ("é", 1),
        ] {
            assert_eq!(estimate_tokens(text), tokens, "{text:?}");
        }
    }
}
