//! Conversions between editor positions and UTF-8 byte offsets, in one place.
//!
//! Editors count columns in UTF-16 code units (the LSP default), UTF-8 bytes or Unicode scalar
//! values, depending on what was negotiated. Inside this crate every position is a UTF-8 byte
//! offset (or a [`LineCol`] whose column is a byte count); this module is the only place that
//! knows about the other encodings, so an encoding bug is fixed here and nowhere else.
//!
//! Rules, from the LSP specification and the behaviour of mainstream servers:
//!
//! - Lines end at `\n`, `\r\n` or `\r`; the line terminator is not part of the line, so a column
//!   can never point inside or after it.
//! - "If the character value is greater than the line length it defaults back to the line
//!   length": columns past the end of a line are clamped to its end.
//! - A line past the last line means the end of the document (the spec is silent; helix and
//!   rust-analyzer do this, and it is what a client that appends at "line N+1" means).
//! - A column that falls inside a character (between the two halves of a surrogate pair, or
//!   inside a multi-byte UTF-8 sequence) is rounded down to the start of that character.
//!
//! The text is never normalised: a CRLF document stays CRLF, because agent tools read these
//! buffers and write them back to disk, byte for byte.

use ropey::{Rope, RopeSlice};

/// How an editor counts columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Encoding {
    /// UTF-8 code units (bytes). Preferred: no conversion inside a line.
    Utf8,
    /// UTF-16 code units: the LSP default, and the only one every client supports.
    #[default]
    Utf16,
    /// Unicode scalar values.
    Utf32,
}

/// A position as an editor sends it: zero-based line, and a column in some [`Encoding`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Position {
    pub line: u32,
    pub character: u32,
}

impl Position {
    pub const fn new(line: u32, character: u32) -> Self {
        Self { line, character }
    }
}

/// A range as an editor sends it; `end` is exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Range {
    pub start: Position,
    pub end: Position,
}

impl Range {
    pub const fn new(start: Position, end: Position) -> Self {
        Self { start, end }
    }
}

/// A position inside this crate: zero-based line and UTF-8 byte column within that line.
///
/// It is used where a position must survive edits elsewhere in the document better than a
/// byte offset would (a focus or a diagnostic stays on "its" line while the user types on
/// another one), and for display.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct LineCol {
    pub line: u32,
    pub col: u32,
}

impl LineCol {
    pub const fn new(line: u32, col: u32) -> Self {
        Self { line, col }
    }
}

/// The length of a line without its terminator, in bytes.
fn content_len_bytes(line: RopeSlice<'_>) -> usize {
    let n = line.len_bytes();
    if n == 0 {
        return 0;
    }
    match line.byte(n - 1) {
        b'\n' if n >= 2 && line.byte(n - 2) == b'\r' => n - 2,
        b'\n' | b'\r' => n - 1,
        _ => n,
    }
}

/// Rounds a byte offset down to the start of the character that contains it.
fn floor_char_boundary(text: &Rope, offset: usize) -> usize {
    let offset = offset.min(text.len_bytes());
    text.char_to_byte(text.byte_to_char(offset))
}

/// The byte offset of an editor position, clamped as the module documentation describes.
pub fn position_to_offset(text: &Rope, pos: Position, enc: Encoding) -> usize {
    let line_idx = pos.line as usize;
    if line_idx >= text.len_lines() {
        return text.len_bytes();
    }
    let line_start = text.line_to_byte(line_idx);
    let line = text.line(line_idx);
    let content = content_len_bytes(line);
    let character = pos.character as usize;
    let in_line = match enc {
        Encoding::Utf8 => {
            let col = character.min(content);
            // Round down inside the line, so a column in the middle of a character stays on it.
            line.char_to_byte(line.byte_to_char(col))
        }
        Encoding::Utf16 => {
            let content_chars = line.byte_to_char(content);
            let content_cu = line.char_to_utf16_cu(content_chars);
            // `utf16_cu_to_char` rounds a unit inside a surrogate pair down to its character.
            line.char_to_byte(line.utf16_cu_to_char(character.min(content_cu)))
        }
        Encoding::Utf32 => {
            let content_chars = line.byte_to_char(content);
            line.char_to_byte(character.min(content_chars))
        }
    };
    line_start + in_line
}

/// The editor position of a byte offset. Offsets past the end are clamped to the end, and an
/// offset inside a character or a line terminator is moved to a position the editor can show.
pub fn offset_to_position(text: &Rope, offset: usize, enc: Encoding) -> Position {
    let offset = floor_char_boundary(text, offset);
    let line_idx = text.byte_to_line(offset);
    let line_start = text.line_to_byte(line_idx);
    let line = text.line(line_idx);
    let col_bytes = (offset - line_start).min(content_len_bytes(line));
    let character = match enc {
        Encoding::Utf8 => col_bytes,
        Encoding::Utf16 => line.char_to_utf16_cu(line.byte_to_char(col_bytes)),
        Encoding::Utf32 => line.byte_to_char(col_bytes),
    };
    Position::new(line_idx as u32, character as u32)
}

/// The byte range of an editor range. A reversed range is put in order rather than rejected:
/// some clients send selections with the anchor after the head.
pub fn range_to_offsets(text: &Rope, range: Range, enc: Encoding) -> std::ops::Range<usize> {
    let a = position_to_offset(text, range.start, enc);
    let b = position_to_offset(text, range.end, enc);
    a.min(b)..a.max(b)
}

/// The editor range of a byte range.
pub fn offsets_to_range(text: &Rope, range: std::ops::Range<usize>, enc: Encoding) -> Range {
    Range::new(
        offset_to_position(text, range.start, enc),
        offset_to_position(text, range.end, enc),
    )
}

/// The byte offset of a [`LineCol`], clamped like an editor position.
pub fn line_col_to_offset(text: &Rope, pos: LineCol) -> usize {
    position_to_offset(text, Position::new(pos.line, pos.col), Encoding::Utf8)
}

/// The [`LineCol`] of a byte offset.
pub fn offset_to_line_col(text: &Rope, offset: usize) -> LineCol {
    let p = offset_to_position(text, offset, Encoding::Utf8);
    LineCol::new(p.line, p.character)
}

/// Converts an editor position to a [`LineCol`] against the text it refers to.
pub fn position_to_line_col(text: &Rope, pos: Position, enc: Encoding) -> LineCol {
    offset_to_line_col(text, position_to_offset(text, pos, enc))
}

/// Converts a [`LineCol`] to an editor position against the text it refers to.
pub fn line_col_to_position(text: &Rope, pos: LineCol, enc: Encoding) -> Position {
    offset_to_position(text, line_col_to_offset(text, pos), enc)
}

#[cfg(test)]
#[path = "position_tests.rs"]
mod tests;
