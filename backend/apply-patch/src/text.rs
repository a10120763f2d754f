//! Splitting file text into lines while remembering each line's ending.
//!
//! Matching works on line contents only, but output must keep untouched lines
//! byte-for-byte (a CRLF file stays CRLF, a mixed file keeps its mix), so every
//! line keeps its own terminator and new lines get the file's dominant one.

/// A file's text as lines, borrowed from the original string.
#[derive(Debug)]
pub(crate) struct FileText<'a> {
    /// Line contents without terminators.
    pub texts: Vec<&'a str>,
    /// Each line's terminator: `"\n"`, `"\r\n"`, or `""` for a last line
    /// without one.
    pub endings: Vec<&'a str>,
    /// The terminator for lines we insert: CRLF if most lines use it.
    pub eol: &'static str,
    /// False only for a non-empty file whose last line has no terminator. We
    /// keep that state: editing such a file does not add a final newline,
    /// which would show up as an unrelated change in diffs.
    pub final_newline: bool,
}

impl<'a> FileText<'a> {
    pub(crate) fn parse(text: &'a str) -> Self {
        let mut texts = Vec::new();
        let mut endings = Vec::new();
        let (mut crlf, mut lf) = (0usize, 0usize);
        for piece in text.split_inclusive('\n') {
            let (body, ending) = if let Some(b) = piece.strip_suffix("\r\n") {
                crlf += 1;
                (b, &piece[b.len()..])
            } else if let Some(b) = piece.strip_suffix('\n') {
                lf += 1;
                (b, &piece[b.len()..])
            } else {
                (piece, "")
            };
            texts.push(body);
            endings.push(ending);
        }
        FileText {
            texts,
            endings,
            eol: if crlf > lf { "\r\n" } else { "\n" },
            final_newline: text.is_empty() || text.ends_with('\n'),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::FileText;

    #[test]
    fn splits_lf_and_keeps_missing_final_newline() {
        let f = FileText::parse("a\nb");
        assert_eq!(f.texts, ["a", "b"]);
        assert_eq!(f.endings, ["\n", ""]);
        assert!(!f.final_newline);
        assert_eq!(f.eol, "\n");
    }

    #[test]
    fn detects_crlf_as_dominant() {
        let f = FileText::parse("a\r\nb\r\nc\n");
        assert_eq!(f.texts, ["a", "b", "c"]);
        assert_eq!(f.endings, ["\r\n", "\r\n", "\n"]);
        assert_eq!(f.eol, "\r\n");
        assert!(f.final_newline);
    }

    #[test]
    fn empty_text_has_no_lines() {
        let f = FileText::parse("");
        assert!(f.texts.is_empty());
        assert!(f.final_newline);
    }
}
