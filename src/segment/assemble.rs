//! From what a format found to the final pieces. Parser offsets can nest, overlap or be
//! empty, so nothing here trusts them: segments are validated and trimmed, overlapping ones
//! dropped, and every gap between segments is filled with blocks. That is what makes the
//! cover-and-join invariant hold whatever the input.

use super::{Block, BlockKind, Layout, Piece, RawSegment, Segment, Segmented, spans};
use std::ops::Range;

pub(super) fn pieces(text: &str, layout: Layout) -> Segmented {
    let mut segments: Vec<Segment> = layout
        .segments
        .into_iter()
        .filter_map(|raw| finish(text, raw))
        .collect();
    segments.sort_by_key(|segment| segment.range.start);
    let mut gaps = GapFill {
        text,
        regions: regions(text, layout.regions),
        next_region: 0,
        pieces: Vec::with_capacity(2 * segments.len() + 1),
    };
    let mut pos = 0;
    let mut index = 0;
    for mut segment in segments {
        if segment.range.start < pos {
            continue; // overlaps the previous segment
        }
        gaps.fill(pos..segment.range.start);
        pos = segment.range.end;
        segment.index = index;
        index += 1;
        gaps.pieces.push(Piece::Segment(segment));
    }
    gaps.fill(pos..text.len());
    Segmented {
        pieces: gaps.pieces,
    }
}

/// Validates and trims a raw segment and settles its protected spans; `None` if nothing
/// translatable is left.
fn finish(text: &str, raw: RawSegment) -> Option<Segment> {
    let body = text.get(raw.range.clone())?;
    let lead = body.len() - body.trim_start().len();
    let range = raw.range.start + lead..raw.range.start + body.trim_end().len();
    if range.is_empty() {
        return None;
    }
    let body = &text[range.clone()];
    let inside = raw.protected.into_iter().filter_map(|span| {
        let start = span.start.max(range.start);
        let end = span.end.min(range.end);
        (start < end && text.is_char_boundary(start) && text.is_char_boundary(end))
            .then(|| start - range.start..end - range.start)
    });
    let protected = spans::merge(inside.chain(spans::bare_links(body)).collect());
    let mut free = 0;
    let mut translatable = false;
    for span in protected.iter().chain([&(body.len()..body.len())]) {
        translatable |= !body[free..span.start].trim().is_empty();
        free = span.end;
    }
    translatable.then_some(Segment {
        index: 0,
        kind: raw.kind,
        range,
        protected,
    })
}

/// Known block regions, valid, sorted and non-overlapping.
fn regions(text: &str, mut regions: Vec<Block>) -> Vec<Block> {
    regions.retain(|r| r.range.start < r.range.end && text.get(r.range.clone()).is_some());
    regions.sort_by_key(|r| r.range.start);
    let mut kept: Vec<Block> = Vec::with_capacity(regions.len());
    for region in regions {
        if kept
            .last()
            .is_none_or(|last| last.range.end <= region.range.start)
        {
            kept.push(region);
        }
    }
    kept
}

/// Fills the gaps between segments, left to right, with blocks.
struct GapFill<'t> {
    text: &'t str,
    regions: Vec<Block>,
    /// First region that may still reach into a later gap.
    next_region: usize,
    pieces: Vec<Piece>,
}

impl GapFill<'_> {
    fn fill(&mut self, gap: Range<usize>) {
        let mut at = gap.start;
        while let Some(region) = self.regions.get(self.next_region).cloned() {
            if region.range.start >= gap.end {
                break;
            }
            let start = region.range.start.max(at);
            let end = region.range.end.min(gap.end);
            if start < end {
                self.unlabelled(at..start);
                self.push(region.kind, start..end);
                at = end;
            }
            if region.range.end > gap.end {
                break; // continues past this gap, maybe into the next one
            }
            self.next_region += 1;
        }
        self.unlabelled(at..gap.end);
    }

    /// A stretch no format labelled: `Space` if it is only whitespace, else `Markup` with
    /// the blank lines before it and the line ending after it split off as `Space`.
    fn unlabelled(&mut self, range: Range<usize>) {
        let Some(stretch) = self.text.get(range.clone()) else {
            return;
        };
        if stretch.trim().is_empty() {
            return self.push(BlockKind::Space, range);
        }
        let lead = &stretch[..stretch.len() - stretch.trim_start().len()];
        let markup_start = range.start + lead.rfind('\n').map_or(0, |i| i + 1);
        let content_end = stretch.trim_end().len();
        let trail = &stretch[content_end..];
        let markup_end =
            range.start + content_end + trail.find(['\r', '\n']).unwrap_or(trail.len());
        self.push(BlockKind::Space, range.start..markup_start);
        self.push(BlockKind::Markup, markup_start..markup_end);
        self.push(BlockKind::Space, markup_end..range.end);
    }

    /// Appends a block, merged into the previous one if that is a block of the same kind.
    fn push(&mut self, kind: BlockKind, range: Range<usize>) {
        if range.is_empty() {
            return;
        }
        if let Some(Piece::Block(last)) = self.pieces.last_mut()
            && last.kind == kind
            && last.range.end == range.start
        {
            last.range.end = range.end;
            return;
        }
        self.pieces.push(Piece::Block(Block { kind, range }));
    }
}
