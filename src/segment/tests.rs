//! Shared test helpers, the public API, and the cover-and-join invariant under proptest.

use super::*;
use proptest::prelude::*;

/// Checks every documented invariant of `segment(text, format)` and returns it.
pub(super) fn segmented(text: &str, format: Format) -> Segmented {
    let segmented = segment(text, format);
    let mut pos = 0;
    let mut index = 0;
    for piece in &segmented.pieces {
        let range = piece.range();
        assert_eq!(range.start, pos, "gap or overlap before {piece:?}");
        assert!(range.start < range.end, "empty piece {piece:?}");
        assert!(
            text.get(range.clone()).is_some(),
            "not on char boundaries: {piece:?}"
        );
        pos = range.end;
        if let Piece::Segment(segment) = piece {
            assert_eq!(segment.index, index);
            index += 1;
            let body = segment.text(text);
            assert_eq!(body, body.trim(), "untrimmed segment {segment:?}");
            let mut end = 0;
            for span in &segment.protected {
                assert!(end <= span.start && span.start < span.end, "{segment:?}");
                assert!(body.get(span.clone()).is_some(), "span outside {segment:?}");
                end = span.end;
            }
        }
    }
    assert_eq!(pos, text.len(), "pieces do not reach the end");
    assert_eq!(segmented.join(text), text);
    assert_eq!(segmented.segment_count(), index);
    segmented
}

/// `(kind, text)` of every segment, for readable asserts.
pub(super) fn segments(text: &str, format: Format) -> Vec<(SegmentKind, &str)> {
    segmented(text, format)
        .segments()
        .map(|segment| (segment.kind, segment.text(text)))
        .collect()
}

/// `(kind, text)` of every block.
pub(super) fn blocks(text: &str, format: Format) -> Vec<(BlockKind, &str)> {
    segmented(text, format)
        .pieces
        .into_iter()
        .filter_map(|piece| match piece {
            Piece::Block(block) => Some((block.kind, &text[block.range])),
            Piece::Segment(_) => None,
        })
        .collect()
}

/// The protected texts of every segment that has any, in order.
pub(super) fn protected(text: &str, format: Format) -> Vec<Vec<&str>> {
    segmented(text, format)
        .segments()
        .filter(|segment| !segment.protected.is_empty())
        .map(|segment| {
            let body = segment.text(text);
            segment
                .protected
                .iter()
                .map(|span| &body[span.clone()])
                .collect()
        })
        .collect()
}

#[test]
fn format_from_path_knows_markdown_extensions() {
    for name in [
        "a.md",
        "b.MD",
        "c.markdown",
        "d.Mdown",
        "e.mkd",
        "dir.md/f.md",
    ] {
        assert_eq!(
            Format::from_path(Path::new(name)),
            Format::Markdown,
            "{name}"
        );
    }
    for name in ["a.txt", "b", "md", ".md.txt", "c.mdx"] {
        assert_eq!(Format::from_path(Path::new(name)), Format::Plain, "{name}");
    }
}

#[test]
fn empty_and_whitespace_only_input_have_no_segments() {
    for format in [Format::Plain, Format::Markdown] {
        assert!(segmented("", format).pieces.is_empty());
        let text = " \n\t\r\n  \n";
        assert_eq!(segmented(text, format).segment_count(), 0);
        assert_eq!(blocks(text, format), [(BlockKind::Space, text)]);
    }
}

#[test]
fn every_sample_joins_back_in_both_formats() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("samples folder") {
        let path = entry.expect("folder entry").path();
        let text = std::fs::read_to_string(&path).expect("samples are UTF-8");
        let own = segmented(&text, Format::from_path(&path));
        assert!(own.segment_count() > 3, "{} has paragraphs", path.display());
        segmented(&text, Format::Plain);
        segmented(&text, Format::Markdown);
        seen += 1;
    }
    assert!(seen >= 3, "at least three samples");
}

#[test]
fn join_with_replaces_segments_and_keeps_blocks() {
    let text = "# Titel\n\nEin Satz mit `code`.\n";
    let segmented = segmented(text, Format::Markdown);
    let joined = segmented.join_with(text, |segment| Cow::Owned(format!("<{}>", segment.index)));
    assert_eq!(joined, "# <0>\n\n<1>\n");
}

#[test]
fn content_hash_is_sixteen_hex_chars_of_blake3() {
    let hash = content_hash("Guten Tag");
    assert_eq!(hash.len(), 16);
    assert!(hash.chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(hash, blake3::hash("Guten Tag".as_bytes()).to_hex()[..16]);
    assert_ne!(hash, content_hash("Guten Tag."));
}

#[test]
fn serializes_kinds_in_kebab_case() {
    let text = "## Titel\n\n| Zelle |\n|---|\n";
    let json = serde_json::to_value(segmented(text, Format::Markdown)).expect("serializable");
    let pieces = json["pieces"].as_array().expect("pieces array");
    assert_eq!(pieces[0]["Block"]["kind"], "markup");
    assert_eq!(
        pieces[1]["Segment"]["kind"],
        serde_json::json!({"heading": {"level": 2}})
    );
    assert_eq!(
        pieces[1]["Segment"]["range"],
        serde_json::json!({"start": 3, "end": 8})
    );
    assert_eq!(pieces[4]["Segment"]["kind"], "table-cell");
}

/// A markdown-ish alphabet, so that real structures (lists, quotes, tables, code) occur.
const MARKDOWNISH: &[&str] = &[
    "#", ">", "-", "*", "`", "```", "|", "[", "]", "(", ")", "!", "<", "\n", "\r\n", " ", "  ",
    "    ", "Wort", "ä", "Öß", "„", "“", "1.", "---", "www.x.de", "a@b.de", "\\", "_", "^",
];

/// Lines that look like parts of real documents.
const DOCUMENTISH: &[&str] = &[
    "# Überschrift",
    "Titel",
    "=====",
    "---",
    "",
    "  ",
    "Ein Satz mit **Nachdruck** und [Link](https://example.org \"T\").",
    "Noch ein Satz mit `Code` und ![Bild](b.png).",
    "Eine sehr lange Zeile, wie maschinell übersetzte Artikel sie haben, mit einem Link auf \
     www.beispiel.de und weiter, bis über hundert Zeichen.",
    "- Punkt eins",
    "  fortgesetzt",
    "* Punkt",
    "1. Erstens",
    "> Zitat",
    "> > tiefer",
    "| a | b |",
    "|---|:-:|",
    "```rust",
    "```",
    "    eingerückt",
    "<div>",
    "</div>",
    "[^1]: Fußnote",
    "[ref]: https://example.org",
    "Text[^1] <b>x</b> „Zitat“",
    "www.beispiel.de, post@beispiel.de",
];

fn concat_of(tokens: &'static [&'static str], max: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(proptest::sample::select(tokens), 0..max)
        .prop_map(|tokens| tokens.concat())
}

fn lines_of(lines: &'static [&'static str], max: usize) -> impl Strategy<Value = String> {
    let line = (
        proptest::sample::select(lines),
        prop_oneof![Just("\n"), Just("\r\n")],
    );
    proptest::collection::vec(line, 0..max).prop_map(|lines| {
        lines
            .into_iter()
            .map(|(line, ending)| format!("{line}{ending}"))
            .collect()
    })
}

proptest! {
    #[test]
    fn any_string_joins_back(text in any::<String>()) {
        segmented(&text, Format::Plain);
        segmented(&text, Format::Markdown);
    }

    #[test]
    fn markdownish_strings_join_back(text in concat_of(MARKDOWNISH, 80)) {
        segmented(&text, Format::Plain);
        segmented(&text, Format::Markdown);
    }

    #[test]
    fn documentish_strings_join_back(text in lines_of(DOCUMENTISH, 30)) {
        segmented(&text, Format::Plain);
        segmented(&text, Format::Markdown);
    }
}
