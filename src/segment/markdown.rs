//! Markdown segments from pulldown-cmark's offset events: which runs of inline content are
//! segments, of what kind, and which bytes inside them are protected.
//!
//! A segment is a maximal run of inline events directly inside one block (a paragraph, a
//! heading, a table cell, or a tight list item's text). Its kind comes from the block around
//! it: headings and table cells are themselves; any other text inside a list item — tight
//! or loose, every paragraph of it — is `ListItem`; text inside a block quote (and not in a
//! list within it) is `Quote`; everything else is `Paragraph`. A run with a line longer than
//! [`LONG_LINE`] characters is cut at its soft breaks outside links and emphasis, one segment
//! per line, as in plain text.

use super::{Block, BlockKind, LONG_LINE, Layout, RawSegment, SegmentKind, spans};
use pulldown_cmark::{Event, LinkType, Options, Parser, Tag, TagEnd};
use std::ops::Range;

pub(super) fn layout(text: &str) -> Layout {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_YAML_STYLE_METADATA_BLOCKS;
    let mut walker = Walker {
        text,
        blocks: Vec::new(),
        run: None,
        segments: Vec::new(),
        regions: Vec::new(),
    };
    for (event, range) in Parser::new_ext(text, options).into_offset_iter() {
        walker.event(event, range);
    }
    walker.close_run();
    Layout {
        segments: walker.segments,
        regions: walker.regions,
    }
}

/// What an open block means for the text directly inside it.
#[derive(Debug, Clone, Copy)]
enum Container {
    Heading(u8),
    Item,
    Quote,
    Cell,
    /// Code, HTML and front matter: their inner events are not text.
    Opaque,
    Other,
}

/// An open link or emphasis-like span inside the current run.
struct InlineSpan {
    range: Range<usize>,
    link: Option<LinkType>,
    /// Start of the first and end of the last child, to find a link's text.
    children: Option<Range<usize>>,
}

/// The segment being collected: a run of inline events in the innermost block.
struct Run {
    range: Range<usize>,
    protected: Vec<Range<usize>>,
    open: Vec<InlineSpan>,
    /// Nesting depth inside an image: its alt text is part of the protected image.
    image_depth: usize,
    /// The last line break, so the continuation prefix after it (`> `, indentation) can be
    /// protected.
    after_break: Option<LineBreak>,
    /// From the end of a line to the start of the next, for each soft break outside links
    /// and emphasis: where the run is cut if it turns out not to be hard-wrapped.
    cuts: Vec<Range<usize>>,
}

struct LineBreak {
    range: Range<usize>,
    /// Whether the run may be cut here.
    cut: bool,
}

struct Walker<'t> {
    text: &'t str,
    blocks: Vec<Container>,
    run: Option<Run>,
    segments: Vec<RawSegment>,
    regions: Vec<Block>,
}

impl Walker<'_> {
    fn event(&mut self, event: Event<'_>, range: Range<usize>) {
        match event {
            Event::Start(tag) => self.start(tag, range),
            Event::End(tag) => self.end(tag),
            Event::Text(_) => self.leaf(range, Leaf::Text),
            Event::SoftBreak => self.leaf(range, Leaf::Break),
            Event::HardBreak => self.leaf(range, Leaf::HardBreak),
            Event::Code(_)
            | Event::InlineHtml(_)
            | Event::Html(_)
            | Event::FootnoteReference(_)
            | Event::InlineMath(_)
            | Event::DisplayMath(_)
            | Event::TaskListMarker(_) => self.leaf(range, Leaf::Protected),
            Event::Rule => {}
        }
    }

    fn start(&mut self, tag: Tag<'_>, range: Range<usize>) {
        let container = match tag {
            Tag::Emphasis
            | Tag::Strong
            | Tag::Strikethrough
            | Tag::Superscript
            | Tag::Subscript => return self.inline_start(range, None),
            Tag::Link { link_type, .. } => return self.inline_start(range, Some(link_type)),
            Tag::Image { .. } => return self.image_start(range),
            Tag::Heading { level, .. } => Container::Heading(level as u8),
            Tag::Item => Container::Item,
            Tag::BlockQuote(_) => Container::Quote,
            Tag::TableCell => Container::Cell,
            Tag::CodeBlock(_) => self.opaque(BlockKind::Code, range),
            Tag::HtmlBlock => self.opaque(BlockKind::Html, range),
            Tag::MetadataBlock(_) => self.opaque(BlockKind::FrontMatter, range),
            _ => Container::Other,
        };
        self.close_run();
        self.blocks.push(container);
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Emphasis
            | TagEnd::Strong
            | TagEnd::Strikethrough
            | TagEnd::Superscript
            | TagEnd::Subscript
            | TagEnd::Link => self.inline_end(),
            TagEnd::Image => {
                if let Some(run) = &mut self.run {
                    run.image_depth = run.image_depth.saturating_sub(1);
                }
            }
            _ => {
                self.close_run();
                self.blocks.pop();
            }
        }
    }

    fn opaque(&mut self, kind: BlockKind, range: Range<usize>) -> Container {
        self.regions.push(Block { kind, range });
        Container::Opaque
    }

    fn in_image(&self) -> bool {
        self.run.as_ref().is_some_and(|run| run.image_depth > 0)
    }

    /// The run that inline content at `range` belongs to, opened if needed; `None` where
    /// inline events are not text (code, HTML) or are part of an image.
    fn touch(&mut self, range: &Range<usize>) -> Option<&mut Run> {
        if self.in_image() || matches!(self.blocks.last(), Some(Container::Opaque)) {
            return None;
        }
        let run = self.run.get_or_insert_with(|| Run {
            range: range.clone(),
            protected: Vec::new(),
            open: Vec::new(),
            image_depth: 0,
            after_break: None,
            cuts: Vec::new(),
        });
        if let Some(line_break) = run.after_break.take() {
            if range.start > line_break.range.end {
                run.protected.push(line_break.range.end..range.start);
            }
            if line_break.cut {
                run.cuts.push(line_break.range.start..range.start);
            }
        }
        run.range.start = run.range.start.min(range.start);
        run.range.end = run.range.end.max(range.end);
        if let Some(parent) = run.open.last_mut() {
            let children = parent.children.get_or_insert(range.clone());
            children.start = children.start.min(range.start);
            children.end = children.end.max(range.end);
        }
        Some(run)
    }

    fn leaf(&mut self, range: Range<usize>, leaf: Leaf) {
        let text = self.text;
        let Some(run) = self.touch(&range) else {
            return;
        };
        match leaf {
            Leaf::Text => {}
            Leaf::Protected => run.protected.push(range),
            Leaf::Break => {
                let cut = run.open.is_empty();
                run.after_break = Some(LineBreak { range, cut });
            }
            Leaf::HardBreak => {
                // Trailing spaces or a backslash carry the meaning; the line ending is text.
                let marker = text.get(range.clone()).unwrap_or_default();
                let marker_len = marker.trim_end_matches(['\r', '\n']).len();
                run.protected.push(range.start..range.start + marker_len);
                run.after_break = Some(LineBreak { range, cut: false });
            }
        }
    }

    fn inline_start(&mut self, range: Range<usize>, link: Option<LinkType>) {
        if self.in_image() {
            // Keep the nesting balanced for `inline_end`; an image protects all of itself.
            if let Some(run) = &mut self.run {
                run.open.push(InlineSpan {
                    range,
                    link: None,
                    children: None,
                });
            }
        } else if let Some(run) = self.touch(&range) {
            run.open.push(InlineSpan {
                range,
                link,
                children: None,
            });
        }
    }

    fn inline_end(&mut self) {
        let Some(run) = &mut self.run else {
            return;
        };
        let Some(span) = run.open.pop() else {
            return;
        };
        let Some(link) = span.link else {
            return;
        };
        match (link, span.children) {
            (LinkType::Autolink | LinkType::Email, _) | (_, None) => run.protected.push(span.range),
            (_, Some(text)) => {
                // `[` and `](url "title")` / `][ref]` / `]`: the link text stays translatable.
                run.protected.push(span.range.start..text.start);
                run.protected.push(text.end..span.range.end);
            }
        }
    }

    fn image_start(&mut self, range: Range<usize>) {
        if self.in_image() {
            if let Some(run) = &mut self.run {
                run.image_depth += 1;
            }
        } else if let Some(run) = self.touch(&range) {
            run.protected.push(range);
            run.image_depth = 1;
        }
    }

    /// Ends the current run: it becomes a segment of the innermost block's kind.
    fn close_run(&mut self) {
        let Some(run) = self.run.take() else {
            return;
        };
        let kind = match self.blocks.last() {
            Some(Container::Heading(level)) => SegmentKind::Heading { level: *level },
            Some(Container::Cell) => SegmentKind::TableCell,
            _ => self
                .blocks
                .iter()
                .rev()
                .find_map(|block| match block {
                    Container::Item => Some(SegmentKind::ListItem),
                    Container::Quote => Some(SegmentKind::Quote),
                    _ => None,
                })
                .unwrap_or(SegmentKind::Paragraph),
        };
        let lines = lines(self.text, run.range, &run.cuts);
        if let [range] = lines.as_slice() {
            self.segments.push(RawSegment {
                kind,
                range: range.clone(),
                protected: run.protected,
            });
            return;
        }
        // Hand each line the spans that reach into it; the assembler clips them.
        let protected = spans::merge(run.protected);
        let mut first = 0;
        for range in lines {
            while protected
                .get(first)
                .is_some_and(|span| span.end <= range.start)
            {
                first += 1;
            }
            let reaching = protected[first..]
                .iter()
                .take_while(|span| span.start < range.end);
            self.segments.push(RawSegment {
                kind,
                protected: reaching.cloned().collect(),
                range,
            });
        }
    }
}

/// The run as one segment, or one per line if a line is too long to be hard-wrapped.
fn lines(text: &str, run: Range<usize>, cuts: &[Range<usize>]) -> Vec<Range<usize>> {
    let mut lines = Vec::with_capacity(cuts.len() + 1);
    let mut start = run.start;
    for cut in cuts {
        lines.push(start..cut.start);
        start = cut.end;
    }
    lines.push(start..run.end);
    let too_long = |line: &Range<usize>| {
        text.get(line.clone())
            .is_some_and(|line| line.chars().count() > LONG_LINE)
    };
    if lines.iter().any(too_long) {
        lines
    } else {
        vec![run]
    }
}

#[derive(Debug, Clone, Copy)]
enum Leaf {
    Text,
    Protected,
    Break,
    HardBreak,
}

#[cfg(test)]
mod tests {
    use super::super::tests::{blocks, protected, segmented, segments};
    use super::super::{
        BlockKind::{self, Code, FrontMatter, Html, Markup, Space},
        Format,
        SegmentKind::{self, Heading, ListItem, Paragraph, Quote, TableCell},
    };

    const DOCUMENT: &str = "---
title: Beispiel
---

# Ein Titel #

Ein Absatz mit [einem Link](https://example.org \"Titel\") und `inline code`.

- erster Punkt
- zweiter Punkt
  mit Fortsetzung

1. lockerer Punkt

   zweiter Absatz darin

```rust
let x = 1;
```

> Ein Zitat über
> zwei Zeilen.

| Name | Wert |
|------|-----:|
| Höhe | 3 m  |
";

    #[test]
    fn document_segments_have_the_right_kinds_and_texts() {
        assert_eq!(
            segments(DOCUMENT, Format::Markdown),
            [
                (Heading { level: 1 }, "Ein Titel"),
                (
                    Paragraph,
                    "Ein Absatz mit [einem Link](https://example.org \"Titel\") und `inline code`."
                ),
                (ListItem, "erster Punkt"),
                (ListItem, "zweiter Punkt\n  mit Fortsetzung"),
                (ListItem, "lockerer Punkt"),
                (ListItem, "zweiter Absatz darin"),
                (Quote, "Ein Zitat über\n> zwei Zeilen."),
                (TableCell, "Name"),
                (TableCell, "Wert"),
                (TableCell, "Höhe"),
                (TableCell, "3 m"),
            ]
        );
    }

    #[test]
    fn document_protects_link_targets_code_and_continuation_prefixes() {
        assert_eq!(
            protected(DOCUMENT, Format::Markdown),
            [
                vec!["[", "](https://example.org \"Titel\")", "`inline code`"],
                vec!["  "],
                vec!["> "],
            ]
        );
    }

    #[test]
    fn document_blocks_are_kept_as_markup_code_and_front_matter() {
        let non_space: Vec<(BlockKind, &str)> = blocks(DOCUMENT, Format::Markdown)
            .into_iter()
            .filter(|(kind, _)| *kind != Space)
            .collect();
        assert_eq!(
            non_space,
            [
                (FrontMatter, "---\ntitle: Beispiel\n---"),
                (Markup, "# "),
                (Markup, " #"),
                (Markup, "- "),
                (Markup, "- "),
                (Markup, "1. "),
                (Code, "```rust\nlet x = 1;\n```"),
                (Markup, "> "),
                (Markup, "| "),
                (Markup, " | "),
                (Markup, " |\n|------|-----:|\n| "),
                (Markup, " | "),
                (Markup, "  |"),
            ]
        );
    }

    #[test]
    fn images_autolinks_html_and_footnote_references_are_protected() {
        let text = "Siehe ![ein *Bild*](b.png), <https://example.org>, <a@b.de>, \
                    [Verweis][ref], <b>fett</b>[^1] und www.beispiel.de.\n\n\
                    [ref]: https://example.org\n[^1]: Eine Fußnote.\n";
        assert_eq!(
            segments(text, Format::Markdown),
            [
                (
                    Paragraph,
                    "Siehe ![ein *Bild*](b.png), <https://example.org>, <a@b.de>, \
                     [Verweis][ref], <b>fett</b>[^1] und www.beispiel.de."
                ),
                (Paragraph, "Eine Fußnote."),
            ]
        );
        assert_eq!(
            protected(text, Format::Markdown),
            [[
                "![ein *Bild*](b.png)",
                "<https://example.org>",
                "<a@b.de>",
                "[",
                "][ref]",
                "<b>",
                "</b>[^1]",
                "www.beispiel.de"
            ]]
        );
        assert_eq!(
            blocks(text, Format::Markdown),
            [
                (Space, "\n\n"),
                (Markup, "[ref]: https://example.org\n[^1]: "),
                (Space, "\n"),
            ]
        );
    }

    #[test]
    fn html_blocks_indented_code_and_rules_are_blocks() {
        let text = "<div>\nroh\n</div>\n\nText.\n\n    eingerückter Code\n\n***\n";
        assert_eq!(segments(text, Format::Markdown), [(Paragraph, "Text.")]);
        assert_eq!(
            blocks(text, Format::Markdown),
            [
                (Html, "<div>\nroh\n</div>\n"),
                (Space, "\n"),
                (Space, "\n\n    "),
                (Code, "eingerückter Code\n"),
                (Space, "\n"),
                (Markup, "***"),
                (Space, "\n"),
            ]
        );
    }

    #[test]
    fn setext_headings_hard_breaks_and_crlf_quotes() {
        let text = "Titel\r\n=====\r\n\r\n> Zeile eins  \r\n> Zeile zwei\\\r\n> Zeile drei\r\n";
        assert_eq!(
            segments(text, Format::Markdown),
            [
                (Heading { level: 1 }, "Titel"),
                (Quote, "Zeile eins  \r\n> Zeile zwei\\\r\n> Zeile drei"),
            ]
        );
        assert_eq!(
            protected(text, Format::Markdown),
            [["  ", "> ", "\\", "> "]]
        );
    }

    #[test]
    fn nested_lists_and_lists_in_quotes() {
        let text =
            "- außen\n  - innen\n- wieder außen\n\n> - Punkt im Zitat\n>\n> Absatz im Zitat\n";
        let kinds: Vec<(SegmentKind, &str)> = segments(text, Format::Markdown);
        assert_eq!(
            kinds,
            [
                (ListItem, "außen"),
                (ListItem, "innen"),
                (ListItem, "wieder außen"),
                (ListItem, "Punkt im Zitat"),
                (Quote, "Absatz im Zitat"),
            ]
        );
    }

    #[test]
    fn paragraphs_with_long_lines_are_cut_into_lines() {
        let long = "Dieser Absatz steht allein auf einer sehr langen Zeile, wie es maschinell übersetzte Artikel gern tun.";
        assert!(long.chars().count() > super::LONG_LINE);
        let text = format!(
            "{long}\nZweiter *Absatz\nmit* `Code`.\n> {long}\n> Kurz.\n\nKurz\numbrochen.\n"
        );
        assert_eq!(
            segments(&text, Format::Markdown),
            [
                (Paragraph, long),
                (Paragraph, "Zweiter *Absatz\nmit* `Code`."),
                (Quote, long),
                (Quote, "Kurz."),
                (Paragraph, "Kurz\numbrochen."),
            ]
        );
        let blocks = blocks(&text, Format::Markdown);
        assert_eq!(blocks[..3], [(Space, "\n"), (Space, "\n"), (Markup, "> ")]);
        // The `> ` before the cut-off line is markup between segments, not protected inside one.
        assert_eq!(protected(&text, Format::Markdown), [["`Code`"]]);
    }

    #[test]
    fn a_paragraph_that_is_only_an_image_is_markup() {
        let text = "![Logo](logo.png)\n\nText.\n";
        assert_eq!(segments(text, Format::Markdown), [(Paragraph, "Text.")]);
        assert_eq!(
            blocks(text, Format::Markdown)[0],
            (Markup, "![Logo](logo.png)")
        );
    }

    #[test]
    fn segment_ranges_never_overlap_even_when_parser_ranges_nest() {
        let text = "> - a\n>   > b\n>   c\n> d\n\n* ![x ![y](z)](w) **[l](u)**\n";
        let segmented = segmented(text, Format::Markdown);
        assert!(segmented.segment_count() >= 3);
    }
}
