//! Plain-text paragraphs: blank-line separated, or one per line when the text is evidently
//! not hard-wrapped (see [`LONG_LINE`]).

use super::{LONG_LINE, Layout, RawSegment, SegmentKind};
use std::ops::Range;

pub(super) fn layout(text: &str) -> Layout {
    let mut segments = Vec::new();
    // Content ranges (line ending excluded) of the non-blank lines of the current block.
    let mut block: Vec<Range<usize>> = Vec::new();
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        let content = line.strip_suffix('\n').unwrap_or(line);
        let content = content.strip_suffix('\r').unwrap_or(content);
        let range = pos..pos + content.len();
        pos += line.len();
        if content.trim().is_empty() {
            close_block(text, &mut block, &mut segments);
        } else {
            block.push(range);
        }
    }
    close_block(text, &mut block, &mut segments);
    Layout {
        segments,
        regions: Vec::new(),
    }
}

/// Turns the lines of one blank-line separated block into one or more paragraphs; the
/// assembler trims them and fills what lies between with `Space` blocks.
fn close_block(text: &str, block: &mut Vec<Range<usize>>, segments: &mut Vec<RawSegment>) {
    let (Some(first), Some(last)) = (block.first(), block.last()) else {
        return;
    };
    let paragraph = |range| RawSegment {
        kind: SegmentKind::Paragraph,
        range,
        protected: Vec::new(),
    };
    let unwrapped = block
        .iter()
        .any(|line| text[line.clone()].chars().count() > LONG_LINE);
    if unwrapped {
        segments.extend(block.iter().cloned().map(paragraph));
    } else {
        segments.push(paragraph(first.start..last.end));
    }
    block.clear();
}

#[cfg(test)]
mod tests {
    use super::super::tests::{blocks, protected, segments};
    use super::super::{BlockKind, Format, SegmentKind::Paragraph};

    #[test]
    fn blank_lines_separate_paragraphs_and_soft_wraps_stay_inside() {
        let text = "Der erste Absatz\nist umbrochen.\n\n  \nDer zweite Absatz.";
        assert_eq!(
            segments(text, Format::Plain),
            [
                (Paragraph, "Der erste Absatz\nist umbrochen."),
                (Paragraph, "Der zweite Absatz.")
            ]
        );
        assert_eq!(
            blocks(text, Format::Plain),
            [(BlockKind::Space, "\n\n  \n")]
        );
    }

    #[test]
    fn long_lines_make_one_paragraph_per_line() {
        let long = "Dieser Satz ist so lang, dass er allein eine ganze Zeile füllt und offensichtlich nicht von Hand umbrochen wurde.";
        assert!(long.chars().count() > super::super::LONG_LINE);
        let text = format!("{long}\nKurz danach.\n  {long}  \n\nKurz\nund umbrochen.\n");
        assert_eq!(
            segments(&text, Format::Plain),
            [
                (Paragraph, long),
                (Paragraph, "Kurz danach."),
                (Paragraph, long),
                (Paragraph, "Kurz\nund umbrochen.")
            ]
        );
    }

    #[test]
    fn line_length_counts_characters_not_bytes() {
        // 60 umlauts are 120 bytes but only 60 characters: still hard-wrapped text.
        let text = format!("{}\nzweite Zeile", "ä".repeat(60));
        assert_eq!(segments(&text, Format::Plain).len(), 1);
    }

    #[test]
    fn crlf_is_handled_like_lf() {
        let text = "Erste Zeile\r\nzweite Zeile\r\n\r\nNeuer Absatz\r\n";
        assert_eq!(
            segments(text, Format::Plain),
            [
                (Paragraph, "Erste Zeile\r\nzweite Zeile"),
                (Paragraph, "Neuer Absatz")
            ]
        );
        assert_eq!(
            blocks(text, Format::Plain),
            [(BlockKind::Space, "\r\n\r\n"), (BlockKind::Space, "\r\n")]
        );
    }

    #[test]
    fn surrounding_whitespace_is_space() {
        let text = "\n\n   Eingerückter Text.  \t\n\n";
        assert_eq!(
            segments(text, Format::Plain),
            [(Paragraph, "Eingerückter Text.")]
        );
        assert_eq!(
            blocks(text, Format::Plain),
            [
                (BlockKind::Space, "\n\n   "),
                (BlockKind::Space, "  \t\n\n")
            ]
        );
    }

    #[test]
    fn urls_and_emails_are_protected() {
        let text = "Mehr unter https://example.org/seite?x=1, www.beispiel.de oder\nper Mail an redaktion@beispiel.de.";
        assert_eq!(
            protected(text, Format::Plain),
            [[
                "https://example.org/seite?x=1",
                "www.beispiel.de",
                "redaktion@beispiel.de"
            ]]
        );
    }

    #[test]
    fn a_paragraph_that_is_only_a_url_is_not_a_segment() {
        let text = "Text davor.\n\nhttps://example.org/\n";
        assert_eq!(segments(text, Format::Plain), [(Paragraph, "Text davor.")]);
        assert_eq!(
            blocks(text, Format::Plain),
            [
                (BlockKind::Space, "\n\n"),
                (BlockKind::Markup, "https://example.org/"),
                (BlockKind::Space, "\n")
            ]
        );
    }
}
