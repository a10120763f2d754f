//! Splitting file text into lines while remembering each line's ending.
//!
//! Matching works on line contents only, but output must keep untouched lines
//! byte-for-byte (a CRLF file stays CRLF, a mixed file keeps its mix), so every
//! line keeps its own terminator and new lines get the file's dominant one.
//! Untouched stretches are copied from the original text in one piece, which
//! is why line positions are kept as slices of the source string.

/// A line terminator, stored in one byte per line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ending {
    /// The last line of a file without a final newline.
    None,
    Lf,
    CrLf,
}

impl Ending {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Ending::None => "",
            Ending::Lf => "\n",
            Ending::CrLf => "\r\n",
        }
    }
}

/// A file's text as lines, borrowed from the original string.
#[derive(Debug)]
pub(crate) struct FileText<'a> {
    /// The whole text.
    pub src: &'a str,
    /// Line contents without terminators (slices of `src`).
    pub texts: Vec<&'a str>,
    /// Each line's terminator.
    pub endings: Vec<Ending>,
    /// The terminator for lines we insert: CRLF if most lines use it.
    pub eol: &'static str,
    /// False only for a non-empty file whose last line has no terminator. We
    /// keep that state: editing such a file does not add a final newline,
    /// which would show up as an unrelated change in diffs.
    pub final_newline: bool,
}

impl<'a> FileText<'a> {
    pub(crate) fn parse(src: &'a str) -> Self {
        let estimate = src.len() / 32 + 1;
        let mut texts = Vec::with_capacity(estimate);
        let mut endings = Vec::with_capacity(estimate);
        let (mut crlf, mut lf) = (0usize, 0usize);
        // Byte checks instead of `strip_suffix`, which calls `memcmp` per
        // line and showed up in profiles of 20,000-line files.
        for piece in src.split_inclusive('\n') {
            let bytes = piece.as_bytes();
            let n = bytes.len();
            let (body, ending) = if n >= 2 && bytes[n - 1] == b'\n' && bytes[n - 2] == b'\r' {
                crlf += 1;
                (&piece[..n - 2], Ending::CrLf)
            } else if n >= 1 && bytes[n - 1] == b'\n' {
                lf += 1;
                (&piece[..n - 1], Ending::Lf)
            } else {
                (piece, Ending::None)
            };
            texts.push(body);
            endings.push(ending);
        }
        FileText {
            src,
            texts,
            endings,
            eol: if crlf > lf { "\r\n" } else { "\n" },
            final_newline: src.is_empty() || src.ends_with('\n'),
        }
    }

    /// Number of lines.
    pub(crate) fn len(&self) -> usize {
        self.texts.len()
    }

    /// Byte offset of line `i` in `src`.
    fn offset(&self, i: usize) -> usize {
        self.texts[i].as_ptr() as usize - self.src.as_ptr() as usize
    }

    /// Appends lines `from..to` (with their terminators) to `out` in one copy.
    /// A last line without a terminator gets `eol`; the caller strips the
    /// final terminator again if the file had none.
    pub(crate) fn copy_lines(&self, from: usize, to: usize, out: &mut String) {
        if from >= to {
            return;
        }
        let last = to - 1;
        let end = self.offset(last) + self.texts[last].len() + self.endings[last].as_str().len();
        out.push_str(&self.src[self.offset(from)..end]);
        if self.endings[last] == Ending::None {
            out.push_str(self.eol);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Ending, FileText};

    #[test]
    fn splits_lf_and_keeps_missing_final_newline() {
        let f = FileText::parse("a\nb");
        assert_eq!(f.texts, ["a", "b"]);
        assert_eq!(f.endings, [Ending::Lf, Ending::None]);
        assert!(!f.final_newline);
        assert_eq!(f.eol, "\n");
    }

    #[test]
    fn detects_crlf_as_dominant() {
        let f = FileText::parse("a\r\nb\r\nc\n");
        assert_eq!(f.texts, ["a", "b", "c"]);
        assert_eq!(f.endings, [Ending::CrLf, Ending::CrLf, Ending::Lf]);
        assert_eq!(f.eol, "\r\n");
        assert!(f.final_newline);
    }

    #[test]
    fn empty_text_has_no_lines() {
        let f = FileText::parse("");
        assert!(f.texts.is_empty());
        assert!(f.final_newline);
    }

    #[test]
    fn copies_ranges_verbatim_and_terminates_the_last_line() {
        let f = FileText::parse("a\r\nb\nc");
        let mut out = String::new();
        f.copy_lines(0, 2, &mut out);
        assert_eq!(out, "a\r\nb\n");
        out.clear();
        f.copy_lines(1, 3, &mut out);
        assert_eq!(out, "b\nc\n");
        out.clear();
        f.copy_lines(2, 2, &mut out);
        assert_eq!(out, "");
    }
}
