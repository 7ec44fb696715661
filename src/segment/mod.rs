//! Segmentation owns the split of a document's text into an ordered list of pieces:
//! *segments*, the units that are repaired and translated (normally paragraphs), and
//! *blocks*, carried through unchanged (blank lines, markup, code, HTML, front matter),
//! each with its exact byte range, plus the protected spans inside segments (URLs, inline
//! code, link targets, …) that must never be changed or sent. The invariant everything
//! downstream relies on: the pieces are contiguous, cover `0..text.len()` in order, and
//! [`Segmented::join`] gives back the input byte for byte. Pure code, no I/O.
//!
//! Plain text ([`Format::Plain`]): paragraphs are separated by blank (empty or
//! whitespace-only) lines; a segment is a paragraph trimmed of surrounding whitespace and
//! its inner line breaks are soft wraps kept inside it. But if any line of a blank-line
//! separated block is longer than 100 characters, the block is evidently not hard-wrapped
//! (machine-translated articles often put one paragraph per line), and then every line of
//! it is its own segment. `\r\n` is handled like `\n`. Bare URLs and e-mail addresses are
//! protected.
//!
//! Markdown ([`Format::Markdown`], parsed with pulldown-cmark): headings, paragraphs, list
//! item text, block quote text and table cells are segments (see the `markdown` module for
//! which kind each gets); code, HTML and front matter are blocks of their own kind, and
//! list markers, `#`, `> `, pipes and everything else outside segments are `Markup`.
//! Protected inside segments: inline code, a link's `[` and `](url "title")` (its text stays
//! translatable), whole images, autolinks, inline HTML, footnote references, hard-break
//! markers, continuation-line prefixes (`> `, indentation) and bare URLs and e-mails. The
//! long-line rule holds here too: a paragraph with a line over 100 characters is split at
//! its line breaks (those outside links and emphasis), one segment per line.
//!
//! A segment whose text is protected from end to end (a paragraph that is only an image or
//! a URL) has nothing to translate and becomes a `Markup` block instead.

mod assemble;
mod id;
mod markdown;
mod plain;
mod spans;

pub use id::SegmentId;

use serde::Serialize;
use std::borrow::Cow;
use std::ops::Range;
use std::path::Path;

/// How a document's text is to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Plain,
    Markdown,
}

impl Format {
    /// Markdown for `.md`, `.markdown`, `.mdown` and `.mkd` (any case), plain text otherwise.
    pub fn from_path(path: &Path) -> Format {
        let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        match extension.to_ascii_lowercase().as_str() {
            "md" | "markdown" | "mdown" | "mkd" => Format::Markdown,
            _ => Format::Plain,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SegmentKind {
    Paragraph,
    Heading { level: u8 },
    ListItem,
    Quote,
    TableCell,
}

/// A unit of text to repair and translate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Segment {
    /// 0-based position among the segments only (blocks not counted).
    pub index: usize,
    pub kind: SegmentKind,
    /// Byte range in the document text; never empty, never starts or ends with whitespace.
    pub range: Range<usize>,
    /// Byte ranges relative to the segment start, sorted, non-overlapping and inside the
    /// segment, that must never be changed or sent for translation.
    pub protected: Vec<Range<usize>>,
}

impl Segment {
    pub fn id(&self) -> SegmentId {
        SegmentId(self.index)
    }

    /// This segment's text in `doc`, the text it was segmented from (empty for another text
    /// whose bytes do not fit).
    pub fn text<'a>(&self, doc: &'a str) -> &'a str {
        doc.get(self.range.clone()).unwrap_or_default()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BlockKind {
    /// Whitespace only: blank lines, line endings, indentation.
    Space,
    /// Structure that is not text: list markers, `#`, `> `, table pipes, thematic breaks, …
    Markup,
    Code,
    Html,
    FrontMatter,
}

/// A stretch of the document carried through unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Block {
    pub kind: BlockKind,
    pub range: Range<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Piece {
    Segment(Segment),
    Block(Block),
}

impl Piece {
    /// Byte range in the document text.
    pub fn range(&self) -> &Range<usize> {
        match self {
            Piece::Segment(segment) => &segment.range,
            Piece::Block(block) => &block.range,
        }
    }
}

/// A document's pieces, in order, covering its whole text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Segmented {
    pub pieces: Vec<Piece>,
}

/// Splits `text` into segments and blocks; see the module documentation for the rules.
pub fn segment(text: &str, format: Format) -> Segmented {
    let layout = match format {
        Format::Plain => plain::layout(text),
        Format::Markdown => markdown::layout(text),
    };
    assemble::pieces(text, layout)
}

impl Segmented {
    pub fn segments(&self) -> impl Iterator<Item = &Segment> {
        self.pieces.iter().filter_map(|piece| match piece {
            Piece::Segment(segment) => Some(segment),
            Piece::Block(_) => None,
        })
    }

    pub fn segment_count(&self) -> usize {
        self.segments().count()
    }

    /// Rebuilds the document, replacing each segment's text with `replace(segment)`; blocks
    /// are copied from `text`.
    pub fn join_with<'t>(
        &self,
        text: &'t str,
        mut replace: impl FnMut(&Segment) -> Cow<'t, str>,
    ) -> String {
        let mut out = String::with_capacity(text.len());
        for piece in &self.pieces {
            match piece {
                Piece::Segment(segment) => out.push_str(&replace(segment)),
                Piece::Block(block) => {
                    out.push_str(text.get(block.range.clone()).unwrap_or_default());
                }
            }
        }
        out
    }

    /// The text around the segments: `blocks[i]` comes before segment `i`, the last after the
    /// last segment (one more than there are segments; consecutive blocks joined).
    pub fn blocks_around_segments(&self, text: &str) -> Vec<String> {
        let mut blocks = vec![String::new()];
        for piece in &self.pieces {
            match piece {
                Piece::Segment(_) => blocks.push(String::new()),
                Piece::Block(block) => {
                    if let (Some(last), Some(text)) =
                        (blocks.last_mut(), text.get(block.range.clone()))
                    {
                        last.push_str(text);
                    }
                }
            }
        }
        blocks
    }

    /// The document unchanged: equal to `text`, the text this was segmented from.
    pub fn join(&self, text: &str) -> String {
        self.join_with(text, |segment| Cow::Borrowed(segment.text(text)))
    }
}

/// Content hash of a segment's text: the first 16 hex characters of its blake3 hash.
pub fn content_hash(text: &str) -> String {
    let mut hex = blake3::hash(text.as_bytes()).to_hex().to_string();
    hex.truncate(16);
    hex
}

/// A paragraph with a line longer than this many characters is not hard-wrapped text:
/// machine-translated articles often put one paragraph per line with no blank lines between
/// them, so then every line is its own segment.
const LONG_LINE: usize = 100;

/// A segment as a format finds it, before trimming and validation by the assembler.
struct RawSegment {
    kind: SegmentKind,
    /// Byte range in the document; may carry surrounding whitespace.
    range: Range<usize>,
    /// Absolute byte ranges, in any order, possibly overlapping or reaching outside `range`.
    protected: Vec<Range<usize>>,
}

/// What a format finds in a document: segments, and regions known to be a particular kind
/// of block. Everything else becomes `Space` or `Markup`.
struct Layout {
    segments: Vec<RawSegment>,
    regions: Vec<Block>,
}

#[cfg(test)]
mod tests;
