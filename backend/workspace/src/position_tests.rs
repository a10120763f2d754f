//! Table tests for the position conversions: every row is one fact about one encoding.

use super::*;
use pretty_assertions::assert_eq;

const ASCII: &str = "hello\nworld";
// 日 本 語 are 3 bytes, 1 UTF-16 unit and 1 scalar each.
const CJK: &str = "日本語x\nab";
// 😀 is 4 bytes, 2 UTF-16 units (a surrogate pair) and 1 scalar.
const EMOJI: &str = "a😀b\n😀";
const CRLF: &str = "ab\r\ncd\r\n";
const LONE_CR: &str = "ab\rcd";
const MIXED: &str = "é😀日\r\nz";

use Encoding::{Utf8, Utf16, Utf32};

/// (name, text, line, character, encoding, expected byte offset)
#[allow(clippy::type_complexity)]
const TO_OFFSET: &[(&str, &str, u32, u32, Encoding, usize)] = &[
    ("ascii start", ASCII, 0, 0, Utf16, 0),
    ("ascii mid", ASCII, 0, 3, Utf8, 3),
    ("ascii second line", ASCII, 1, 2, Utf32, 8),
    ("ascii past line end clamps", ASCII, 0, 99, Utf16, 5),
    ("ascii last line past end clamps", ASCII, 1, 99, Utf16, 11),
    ("line past eof is eof", ASCII, 7, 0, Utf16, 11),
    ("cjk utf16 counts one per char", CJK, 0, 2, Utf16, 6),
    ("cjk utf32 counts one per char", CJK, 0, 3, Utf32, 9),
    ("cjk utf8 counts bytes", CJK, 0, 6, Utf8, 6),
    ("cjk utf8 inside a char rounds down", CJK, 0, 4, Utf8, 3),
    ("cjk end of line", CJK, 0, 4, Utf16, 10),
    ("cjk second line", CJK, 1, 1, Utf16, 12),
    ("emoji utf16 after pair", EMOJI, 0, 3, Utf16, 5),
    ("emoji utf16 inside pair rounds down", EMOJI, 0, 2, Utf16, 1),
    ("emoji utf32 after emoji", EMOJI, 0, 2, Utf32, 5),
    ("emoji utf8 after emoji", EMOJI, 0, 5, Utf8, 5),
    ("emoji utf8 inside rounds down", EMOJI, 0, 3, Utf8, 1),
    ("emoji utf16 past end clamps", EMOJI, 0, 9, Utf16, 6),
    ("emoji on last line", EMOJI, 1, 2, Utf16, 11),
    ("emoji on last line inside pair", EMOJI, 1, 1, Utf16, 7),
    (
        "crlf end of first line excludes terminator",
        CRLF,
        0,
        2,
        Utf16,
        2,
    ),
    ("crlf past end clamps before cr", CRLF, 0, 3, Utf16, 2),
    ("crlf second line", CRLF, 1, 1, Utf8, 5),
    ("crlf empty last line", CRLF, 2, 0, Utf16, 8),
    ("crlf empty last line clamps", CRLF, 2, 5, Utf16, 8),
    ("lone cr is a line break", LONE_CR, 1, 1, Utf16, 4),
    ("lone cr clamps before cr", LONE_CR, 0, 9, Utf16, 2),
    ("mixed utf16", MIXED, 0, 3, Utf16, 6),
    ("mixed utf16 end", MIXED, 0, 4, Utf16, 9),
    ("mixed utf32", MIXED, 0, 2, Utf32, 6),
    ("mixed utf8 clamps before crlf", MIXED, 0, 50, Utf8, 9),
    ("mixed second line", MIXED, 1, 1, Utf16, 12),
    ("empty text", "", 0, 5, Utf16, 0),
];

#[test]
fn positions_convert_to_byte_offsets() {
    for &(name, text, line, character, enc, expected) in TO_OFFSET {
        let rope = Rope::from_str(text);
        let got = position_to_offset(&rope, Position::new(line, character), enc);
        assert_eq!(
            got, expected,
            "{name}: ({line}, {character}) {enc:?} in {text:?}"
        );
    }
}

/// (name, text, byte offset, encoding, expected (line, character))
// A table reads best as tuples; a struct would triple its length.
#[allow(clippy::type_complexity)]
const TO_POSITION: &[(&str, &str, usize, Encoding, (u32, u32))] = &[
    ("ascii", ASCII, 8, Utf16, (1, 2)),
    ("ascii eof", ASCII, 11, Utf16, (1, 5)),
    ("past eof clamps", ASCII, 99, Utf16, (1, 5)),
    ("cjk utf16", CJK, 6, Utf16, (0, 2)),
    ("cjk utf8", CJK, 6, Utf8, (0, 6)),
    ("cjk inside char rounds down", CJK, 7, Utf16, (0, 2)),
    ("emoji utf16 counts the pair", EMOJI, 5, Utf16, (0, 3)),
    ("emoji utf32", EMOJI, 5, Utf32, (0, 2)),
    ("emoji utf8", EMOJI, 5, Utf8, (0, 5)),
    ("crlf start of second line", CRLF, 4, Utf16, (1, 0)),
    (
        "crlf between cr and lf clamps to line end",
        CRLF,
        3,
        Utf16,
        (0, 2),
    ),
    ("crlf eof", CRLF, 8, Utf16, (2, 0)),
    ("lone cr", LONE_CR, 3, Utf16, (1, 0)),
    ("mixed", MIXED, 6, Utf16, (0, 3)),
    ("mixed utf32", MIXED, 9, Utf32, (0, 3)),
];

#[test]
fn byte_offsets_convert_to_positions() {
    for &(name, text, offset, enc, (line, character)) in TO_POSITION {
        let rope = Rope::from_str(text);
        let got = offset_to_position(&rope, offset, enc);
        assert_eq!(
            got,
            Position::new(line, character),
            "{name}: {offset} {enc:?} in {text:?}"
        );
    }
}

#[test]
fn every_char_boundary_round_trips_in_every_encoding() {
    for text in [ASCII, CJK, EMOJI, CRLF, LONE_CR, MIXED] {
        let rope = Rope::from_str(text);
        for (offset, _) in text.char_indices().chain([(text.len(), ' ')]) {
            // The byte between CR and LF is not a position an editor can name.
            if offset > 0
                && text.as_bytes()[offset - 1] == b'\r'
                && text[offset..].starts_with('\n')
            {
                continue;
            }
            for enc in [Utf8, Utf16, Utf32] {
                let pos = offset_to_position(&rope, offset, enc);
                assert_eq!(
                    position_to_offset(&rope, pos, enc),
                    offset,
                    "{offset} via {pos:?} {enc:?} in {text:?}"
                );
            }
        }
    }
}

#[test]
fn reversed_ranges_are_put_in_order() {
    let rope = Rope::from_str(ASCII);
    let range = Range::new(Position::new(1, 2), Position::new(0, 1));
    assert_eq!(range_to_offsets(&rope, range, Utf16), 1..8);
}

#[test]
fn line_cols_are_byte_columns() {
    let rope = Rope::from_str(MIXED);
    assert_eq!(line_col_to_offset(&rope, LineCol::new(0, 6)), 6);
    assert_eq!(offset_to_line_col(&rope, 12), LineCol::new(1, 1));
    assert_eq!(
        position_to_line_col(&rope, Position::new(0, 3), Utf16),
        LineCol::new(0, 6)
    );
    assert_eq!(
        line_col_to_position(&rope, LineCol::new(0, 6), Utf16),
        Position::new(0, 3)
    );
}
