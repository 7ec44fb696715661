//! A whole document through the repair pass: segment the source, repair each segment, and
//! put the document back together with every repair and flag located in document coordinates
//! and every protected span moved along with the repairs before it.

use std::ops::Range;

use serde::Serialize;

use super::{Flag, Repair, repair};
use crate::segment::{self, Format, Segmented};

/// A source document after the offline repair pass.
#[derive(Debug, Clone)]
pub struct RepairedDocument {
    pub segmented: Segmented,
    pub segments: Vec<RepairedSegment>,
    /// The whole repaired document: blocks unchanged, segments repaired.
    pub text: String,
}

/// One segment after repair. Ranges in `repairs` and `flags` are byte offsets in the source
/// document (not the segment).
#[derive(Debug, Clone, Serialize)]
pub struct RepairedSegment {
    pub index: usize,
    pub text: String,
    pub repairs: Vec<Repair>,
    pub flags: Vec<Flag>,
    /// Protected spans, relative to `text` (repairs shift them; they never touch them).
    #[serde(skip)]
    pub protected: Vec<Range<usize>>,
}

/// Segment `source` and run the offline repairs on every segment.
pub fn repair_document(source: &str, format: Format) -> RepairedDocument {
    let segmented = segment::segment(source, format);
    let segments: Vec<RepairedSegment> = segmented
        .segments()
        .map(|seg| {
            let offset = seg.range.start;
            let repaired = repair(seg.text(source), &seg.protected);
            let protected = shift_protected(&seg.protected, &repaired.repairs);
            RepairedSegment {
                index: seg.index,
                protected,
                text: repaired.text,
                repairs: repaired
                    .repairs
                    .into_iter()
                    .map(|r| Repair {
                        range: shift(&r.range, offset),
                        ..r
                    })
                    .collect(),
                flags: repaired
                    .flags
                    .into_iter()
                    .map(|f| Flag {
                        range: shift(&f.range, offset),
                        ..f
                    })
                    .collect(),
            }
        })
        .collect();
    let text = segmented.join_with(source, |seg| segments[seg.index].text.as_str().into());
    RepairedDocument {
        segmented,
        segments,
        text,
    }
}

/// Where each protected span (segment-relative) lies after the repairs: every repair before it
/// moves it by the change in length.
fn shift_protected(protected: &[Range<usize>], repairs: &[Repair]) -> Vec<Range<usize>> {
    protected
        .iter()
        .map(|span| {
            let delta: isize = repairs
                .iter()
                .filter(|r| r.range.end <= span.start)
                .map(|r| r.after.len() as isize - r.before.len() as isize)
                .sum();
            let move_by = |at: usize| at.saturating_add_signed(delta);
            move_by(span.start)..move_by(span.end)
        })
        .collect()
}

fn shift(range: &Range<usize>, offset: usize) -> Range<usize> {
    range.start + offset..range.end + offset
}

impl RepairedDocument {
    pub fn repair_count(&self) -> usize {
        self.segments.iter().map(|s| s.repairs.len()).sum()
    }

    pub fn flag_count(&self) -> usize {
        self.segments.iter().map(|s| s.flags.len()).sum()
    }

    /// Each segment as read and as repaired: the two sides of the repair diff, paired by
    /// index (repairs keep the segmentation).
    pub fn sides<'a>(&'a self, source: &'a str) -> (Vec<&'a str>, Vec<&'a str>) {
        let old = self.segmented.segments().map(|s| s.text(source)).collect();
        let new = self.segments.iter().map(|s| s.text.as_str()).collect();
        (old, new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repairs_are_located_in_the_document_and_blocks_survive() {
        let source = "Erster Absatz.\n\nEr sagte:”Hallo.”\n\n```\nCode:”x\n```\n";
        let doc = repair_document(source, Format::Markdown);
        assert!(doc.repair_count() > 0);
        for seg in &doc.segments {
            for r in &seg.repairs {
                assert_eq!(&source[r.range.clone()], r.before);
            }
        }
        assert!(
            doc.text.contains("Code:”x"),
            "code blocks are never repaired"
        );
        assert!(doc.text.starts_with("Erster Absatz.\n\n"));
    }

    #[test]
    fn clean_text_round_trips() {
        let source = "Ein ganz normaler Satz.\n\nNoch einer – mit „Anführungszeichen“.\n";
        let doc = repair_document(source, Format::Plain);
        assert_eq!(doc.text, source);
        let (old, new) = doc.sides(source);
        assert_eq!(old, new);
    }
}
