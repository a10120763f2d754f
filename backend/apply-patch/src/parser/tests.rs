//! Unit tests of the parser: structure of the parsed patch, leniency, and
//! error positions.

use pretty_assertions::assert_eq;

use super::*;

fn lines(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn chunk(context: &[&str], old: &[&str], new: &[&str], eof: bool, line: usize) -> Chunk {
    Chunk {
        context: lines(context),
        old_lines: lines(old),
        new_lines: lines(new),
        is_end_of_file: eof,
        line,
    }
}

fn ops(text: &str) -> Vec<FileOp> {
    parse_patch(text).unwrap().ops
}

#[test]
fn parses_all_three_operations() {
    let text = "*** Begin Patch\n\
                *** Add File: path/add.py\n\
                +abc\n\
                +def\n\
                *** Delete File: path/delete.py\n\
                *** Update File: path/update.py\n\
                *** Move to: path/update2.py\n\
                @@ def f():\n\
                -    pass\n\
                +    return 123\n\
                *** End Patch";
    assert_eq!(
        ops(text),
        vec![
            FileOp::Add {
                path: "path/add.py".into(),
                contents: "abc\ndef\n".into(),
            },
            FileOp::Delete {
                path: "path/delete.py".into(),
            },
            FileOp::Update {
                path: "path/update.py".into(),
                move_to: Some("path/update2.py".into()),
                chunks: vec![chunk(
                    &["def f():"],
                    &["    pass"],
                    &["    return 123"],
                    false,
                    8
                )],
            },
        ]
    );
}

#[test]
fn context_lines_go_to_both_sides_and_blank_lines_are_empty_context() {
    let text = "*** Begin Patch\n*** Update File: f\n@@\n a\n\n-b\n+c\n d\n*** End Patch";
    let FileOp::Update { chunks, .. } = &ops(text)[0] else {
        panic!("not an update")
    };
    assert_eq!(
        chunks,
        &vec![chunk(
            &[],
            &["a", "", "b", "d"],
            &["a", "", "c", "d"],
            false,
            3
        )]
    );
}

#[test]
fn stacked_context_headers_accumulate_and_bare_ones_add_nothing() {
    let text =
        "*** Begin Patch\n*** Update File: f\n@@ class A\n@@\n@@   def run\n-x\n+y\n*** End Patch";
    let FileOp::Update { chunks, .. } = &ops(text)[0] else {
        panic!("not an update")
    };
    assert_eq!(chunks[0].context, lines(&["class A", "  def run"]));
}

#[test]
fn a_new_header_after_diff_lines_starts_a_new_chunk() {
    let text = "*** Begin Patch\n*** Update File: f\n@@ one\n-a\n+b\n@@ two\n-c\n+d\n*** End of File\n*** End Patch";
    let FileOp::Update { chunks, .. } = &ops(text)[0] else {
        panic!("not an update")
    };
    assert_eq!(
        chunks,
        &vec![
            chunk(&["one"], &["a"], &["b"], false, 3),
            chunk(&["two"], &["c"], &["d"], true, 6),
        ]
    );
}

#[test]
fn first_chunk_may_omit_the_header() {
    let text = "*** Begin Patch\n*** Update File: f\n import foo\n+bar\n*** End Patch";
    let FileOp::Update { chunks, .. } = &ops(text)[0] else {
        panic!("not an update")
    };
    assert_eq!(
        chunks,
        &vec![chunk(
            &[],
            &["import foo"],
            &["import foo", "bar"],
            false,
            3
        )]
    );
}

#[test]
fn git_style_ranges_are_dropped_from_headers() {
    assert_eq!(
        hunk_header("@@ -1,3 +1,4 @@ fn foo()"),
        Some(Some("fn foo()".into()))
    );
    assert_eq!(hunk_header("@@ -1 +1 @@"), Some(None));
    assert_eq!(hunk_header("@@ -12,7 +12,8 @@"), Some(None));
    // Not a range: kept verbatim.
    assert_eq!(hunk_header("@@ -x +y @@"), Some(Some("-x +y @@".into())));
    assert_eq!(hunk_header("@@  "), Some(None));
    assert_eq!(hunk_header("@@@ x"), None);
    assert_eq!(hunk_header(" @@ x"), None);
}

#[test]
fn heredoc_variants_are_unwrapped() {
    for opener in [
        "<<EOF",
        "<<'EOF'",
        "<<\"EOF\"",
        "<<-EOF",
        "apply_patch <<'EOF'",
        "applypatch <<END_OF_PATCH",
    ] {
        let delimiter = if opener.ends_with("END_OF_PATCH") {
            "END_OF_PATCH"
        } else {
            "EOF"
        };
        let text =
            format!("{opener}\n*** Begin Patch\n*** Delete File: x\n*** End Patch\n{delimiter}\n");
        assert_eq!(
            ops(&text),
            vec![FileOp::Delete { path: "x".into() }],
            "{opener}"
        );
    }
    assert_eq!(heredoc_delimiter("<<'EOF"), None);
    assert_eq!(heredoc_delimiter("<<"), None);
    assert_eq!(heredoc_delimiter("cat <<EOF"), None);
}

#[test]
fn markdown_fences_are_unwrapped() {
    let text = "```diff\n*** Begin Patch\n*** Delete File: x\n*** End Patch\n```\n";
    assert_eq!(ops(text), vec![FileOp::Delete { path: "x".into() }]);
    let text = "```\n<<'EOF'\n*** Begin Patch\n*** Delete File: x\n*** End Patch\nEOF\n```";
    assert_eq!(ops(text), vec![FileOp::Delete { path: "x".into() }]);
    assert_eq!(parse_patch("```\n```"), Err(ParseError::Empty));
}

#[test]
fn heredoc_line_numbers_count_the_opener() {
    let text = "<<'EOF'\n*** Begin Patch\n*** Bogus\n*** End Patch\nEOF\n";
    assert_eq!(
        parse_patch(text),
        Err(ParseError::InvalidHeader {
            line: 3,
            found: "*** Bogus".into()
        })
    );
}

#[test]
fn crlf_input_is_accepted() {
    let text = "*** Begin Patch\r\n*** Add File: a\r\n+x\r\n*** End Patch\r\n";
    assert_eq!(
        ops(text),
        vec![FileOp::Add {
            path: "a".into(),
            contents: "x\n".into()
        }]
    );
}

#[test]
fn padded_markers_and_paths_are_trimmed() {
    let text = "  *** Begin Patch  \n   *** Update File:   a.txt  \n  *** Move to:  b.txt \n@@\n-x\n+y\n  *** Delete File: c  \n*** End Patch ";
    assert_eq!(
        ops(text),
        vec![
            FileOp::Update {
                path: "a.txt".into(),
                move_to: Some("b.txt".into()),
                chunks: vec![chunk(&[], &["x"], &["y"], false, 4)],
            },
            FileOp::Delete { path: "c".into() },
        ]
    );
}

#[test]
fn blank_lines_between_sections_are_skipped() {
    let text = "*** Begin Patch\n\n*** Add File: a\n+1\n\n\n*** Delete File: b\n\n*** End Patch";
    assert_eq!(ops(text).len(), 2);
}

#[test]
fn add_file_keeps_blank_lines_followed_by_more_content() {
    let text = "*** Begin Patch\n*** Add File: a\n+1\n\n\n+2\n\n*** End Patch";
    assert_eq!(
        ops(text),
        vec![FileOp::Add {
            path: "a".into(),
            contents: "1\n\n\n2\n".into()
        }]
    );
}

#[test]
fn update_with_a_move_may_have_no_hunks() {
    let text = "*** Begin Patch\n*** Update File: a\n*** Move to: b\n*** End Patch";
    assert_eq!(
        ops(text),
        vec![FileOp::Update {
            path: "a".into(),
            move_to: Some("b".into()),
            chunks: vec![],
        }]
    );
}

#[test]
fn add_file_may_be_empty() {
    let text = "*** Begin Patch\n*** Add File: a\n*** Add File: b\n+x\n*** End Patch";
    assert_eq!(
        ops(text)[0],
        FileOp::Add {
            path: "a".into(),
            contents: String::new()
        }
    );
}

#[test]
fn errors_name_the_line() {
    let cases: Vec<(&str, ParseError)> = vec![
        ("", ParseError::Empty),
        (" \n\t\n", ParseError::Empty),
        ("<<EOF\n\nEOF", ParseError::Empty),
        (
            "hello",
            ParseError::MissingBegin {
                line: 1,
                found: "hello".into(),
            },
        ),
        (
            "\n\n*** Begin Patch",
            ParseError::MissingEnd {
                line: 3,
                found: "*** Begin Patch".into(),
            },
        ),
        (
            "*** Begin Patch\n\n*** End Patch",
            ParseError::NoOperations { line: 3 },
        ),
        (
            "*** Begin Patch\n*** Update File: f\n*** End Patch",
            ParseError::EmptyUpdate {
                line: 2,
                path: "f".into(),
            },
        ),
        (
            "*** Begin Patch\n*** Update File: f\n@@ x\n*** End Patch",
            ParseError::EmptyHunk {
                line: 3,
                path: "f".into(),
                hunk: 1,
            },
        ),
        (
            "*** Begin Patch\n*** Update File: f\n@@\n-a\n@@\n*** End Patch",
            ParseError::EmptyHunk {
                line: 5,
                path: "f".into(),
                hunk: 2,
            },
        ),
        (
            "*** Begin Patch\n*** Update File: f\n@@\n-a\n*** End of File\n*** End of File\n*** End Patch",
            ParseError::MisplacedEndOfFile { line: 6 },
        ),
        (
            "*** Begin Patch\n*** Update File: f\n@@\n*** End of File\n*** End Patch",
            ParseError::MisplacedEndOfFile { line: 4 },
        ),
        (
            "*** Begin Patch\n*** Update File: f\nbad\n*** End Patch",
            ParseError::UnexpectedLine {
                line: 3,
                path: "f".into(),
                hunk: 1,
                found: "bad".into(),
            },
        ),
        (
            "*** Begin Patch\n*** Move to: x\n*** End Patch",
            ParseError::MisplacedMove { line: 2 },
        ),
        (
            "*** Begin Patch\n*** Delete File:   \n*** End Patch",
            ParseError::MissingPath {
                line: 2,
                marker: "*** Delete File:".into(),
            },
        ),
        (
            "*** Begin Patch\n*** Update File: a\n*** Move to:\n@@\n-x\n*** End Patch",
            ParseError::MissingPath {
                line: 3,
                marker: "*** Move to:".into(),
            },
        ),
        (
            "*** Begin Patch\n*** Add File: a\n+x\ny\n*** End Patch",
            ParseError::AddLineWithoutPlus {
                line: 4,
                path: "a".into(),
                found: "y".into(),
            },
        ),
        (
            "*** Begin Patch\n*** Delete File: a\nstuff\n*** End Patch",
            ParseError::DeleteWithContent {
                line: 3,
                path: "a".into(),
                found: "stuff".into(),
            },
        ),
        (
            "*** Begin Patch\n*** Delete File: a\n*** End Patch\n*** Delete File: b\n*** End Patch",
            ParseError::TextAfterEnd { line: 3 },
        ),
        (
            "<<'EOF'\n*** Begin Patch\n*** Delete File: a\n*** End Patch",
            ParseError::UnterminatedHeredoc {
                line: 1,
                opener: "<<'EOF'".into(),
                delimiter: "EOF".into(),
            },
        ),
    ];
    for (text, want) in cases {
        assert_eq!(parse_patch(text), Err(want), "{text:?}");
    }
}

#[test]
fn error_messages_read_well() {
    let err = parse_patch("*** Begin Patch\n*** Update File: f\n@@\n-a\nnope\n*** End Patch")
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "patch line 5: unexpected line in hunk 1 of 'f': 'nope'; every hunk line must start with ' ' \
         (context), '-' (removed) or '+' (added), and a new hunk with '@@'"
    );
}

#[test]
fn hunk_lines_that_look_like_markers_stay_content() {
    // A removed line whose text starts with "***" is still a removed line.
    let text = "*** Begin Patch\n*** Update File: f\n@@\n-*** Update File: x\n+ok\n*** End Patch";
    let FileOp::Update { chunks, .. } = &ops(text)[0] else {
        panic!("not an update")
    };
    assert_eq!(chunks[0].old_lines, lines(&["*** Update File: x"]));
}

#[test]
fn padded_op_header_after_a_hunk_starts_a_new_operation() {
    let text =
        "*** Begin Patch\n*** Update File: f\n@@\n-a\n+b\n  *** Delete File: g\n*** End Patch";
    assert_eq!(ops(text).len(), 2);
}
