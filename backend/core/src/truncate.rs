//! Capping tool output before it goes back to the model.
//!
//! A build log can be megabytes; the model needs the start (what ran) and the end (what failed).
//! We keep both and say plainly what was cut, so the model never mistakes a cut for silence.

/// Keep at most `max_bytes` of `text`: the first and last halves, cut at line boundaries when
/// one is close and always at UTF-8 char boundaries, with a note of what was omitted.
pub fn head_tail(text: &str, max_bytes: usize) -> String {
    if text.len() <= max_bytes {
        return text.to_string();
    }
    let half = max_bytes / 2;
    let head_end = cut_back_to_line(text, floor_char_boundary(text, half));
    let tail_start = cut_forward_to_line(text, ceil_char_boundary(text, text.len() - half));
    let omitted = &text[head_end..tail_start];
    let omitted_lines = omitted.matches('\n').count();
    format!(
        "{}\n[... {} bytes ({} lines) omitted ...]\n{}",
        text[..head_end].trim_end_matches('\n'),
        omitted.len(),
        omitted_lines,
        &text[tail_start..]
    )
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_char_boundary(s: &str, mut i: usize) -> usize {
    while i < s.len() && !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// Prefer ending the head after a newline, if one is within the last quarter of the head.
fn cut_back_to_line(s: &str, end: usize) -> usize {
    match s[..end].rfind('\n') {
        Some(nl) if nl + 1 >= end - end / 4 => nl + 1,
        _ => end,
    }
}

/// Prefer starting the tail right after a newline, if one is within its first quarter.
fn cut_forward_to_line(s: &str, start: usize) -> usize {
    let window = (s.len() - start) / 4;
    match s[start..].find('\n') {
        Some(off) if off < window => start + off + 1,
        _ => start,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_untouched() {
        assert_eq!(head_tail("abc\n", 10), "abc\n");
    }

    #[test]
    fn long_text_keeps_head_and_tail_and_says_what_was_cut() {
        let text: String = (0..1000).map(|i| format!("line {i}\n")).collect();
        let out = head_tail(&text, 200);
        assert!(out.starts_with("line 0\n"), "{out}");
        assert!(out.ends_with("line 999\n"), "{out}");
        assert!(out.contains("bytes ("), "{out}");
        assert!(out.contains("lines) omitted"), "{out}");
        assert!(out.len() < 300);
    }

    #[test]
    fn never_splits_a_multibyte_char() {
        let text = "é".repeat(500);
        let out = head_tail(&text, 101);
        assert!(out.contains("omitted"));
    }
}
