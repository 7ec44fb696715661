//! A whole document through the repair pass: segment the source, repair each segment, and
//! put the document back together with every repair and flag located in document coordinates
//! and every protected span moved along with the repairs before it.

use std::ops::Range;

use serde::{Deserialize, Serialize};

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

/// A repair as it shows in the repaired text of its segment, so that a view of the German that
/// was sent can mark it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepairMark {
    /// Byte range of `after` in the repaired segment; empty when the repair only removed text.
    pub range: Range<usize>,
    /// The rule's id (`glued-quote`).
    pub rule: String,
    pub before: String,
    pub after: String,
}

impl RepairMark {
    /// `glued-quote: ,, → „` (spaces shown as `·`), for a tooltip.
    pub fn label(&self) -> String {
        let shown = |text: &str| {
            if text.is_empty() {
                "nothing".to_owned()
            } else {
                text.replace(' ', "·")
            }
        };
        format!(
            "{}: {} → {}",
            self.rule,
            shown(&self.before),
            shown(&self.after)
        )
    }

    /// The usable marks of `text` that lie inside `range`, moved to count from its start: the
    /// marks of one band of a side-by-side.
    pub fn within(text: &str, marks: &[RepairMark], range: &Range<usize>) -> Vec<RepairMark> {
        Self::usable(text, marks)
            .into_iter()
            .filter(|m| range.start <= m.range.start && m.range.end <= range.end)
            .map(|m| RepairMark {
                range: m.range.start - range.start..m.range.end - range.start,
                ..m.clone()
            })
            .collect()
    }

    /// The marks of `text` that fit it (on character boundaries, in order, not overlapping) and
    /// show something: marks read from a file are checked before they are used.
    pub fn usable<'m>(text: &str, marks: &'m [RepairMark]) -> Vec<&'m RepairMark> {
        let mut usable = Vec::with_capacity(marks.len());
        let mut end = 0;
        for mark in marks {
            let range = mark.range.clone();
            if range.start < end || range.is_empty() || text.get(range.clone()).is_none() {
                continue;
            }
            end = range.end;
            usable.push(mark);
        }
        usable
    }
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

    /// Every segment's repairs located in its repaired text, by segment index.
    pub fn marks(&self) -> Vec<Vec<RepairMark>> {
        self.segmented
            .segments()
            .zip(&self.segments)
            .map(|(seg, repaired)| {
                let mut repairs: Vec<&Repair> = repaired.repairs.iter().collect();
                repairs.sort_by_key(|r| (r.range.start, r.range.end));
                // How far the repairs so far moved the text after them.
                let mut delta: isize = 0;
                repairs
                    .into_iter()
                    .map(|r| {
                        let start = r
                            .range
                            .start
                            .saturating_sub(seg.range.start)
                            .saturating_add_signed(delta);
                        delta += r.after.len() as isize - r.before.len() as isize;
                        RepairMark {
                            range: start..start + r.after.len(),
                            rule: r.rule.id().to_owned(),
                            before: r.before.clone(),
                            after: r.after.clone(),
                        }
                    })
                    .collect()
            })
            .collect()
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
    fn marks_locate_each_repair_in_the_repaired_text() {
        let source = "Erster Absatz.\n\nSie erklärte:”Wir bleiben.”Danach ging sie.\n\nZweimal:”Ja” und  \"Nein\" , sagte er.\n";
        let doc = repair_document(source, Format::Plain);
        let marks = doc.marks();
        assert_eq!(marks.len(), doc.segments.len());
        assert!(marks[0].is_empty());
        assert_eq!(
            doc.segments[1].text,
            "Sie erklärte: „Wir bleiben.“ Danach ging sie."
        );
        for (seg, marks) in doc.segments.iter().zip(&marks) {
            assert_eq!(marks.len(), seg.repairs.len());
            for mark in marks {
                assert_eq!(&seg.text[mark.range.clone()], mark.after, "{mark:?}");
            }
        }
        let usable = RepairMark::usable(&doc.segments[2].text, &marks[2]);
        assert!(usable.len() >= 2, "{marks:?}");
        let label = marks[1][0].label();
        assert!(
            label.starts_with("glued-quote: ") || label.starts_with("quote-style: "),
            "{label}"
        );
    }

    #[test]
    fn marks_that_do_not_fit_the_text_are_left_out() {
        let mark = |range: Range<usize>| RepairMark {
            range,
            rule: "glued-quote".into(),
            before: ",,".into(),
            after: "„".into(),
        };
        let marks = [mark(0..3), mark(1..2), mark(4..4), mark(4..99), mark(5..8)];
        let usable = RepairMark::usable("„Hallo“", &marks);
        // 1..2 is inside „ (and overlaps), 4..4 shows nothing, 4..99 is past the end.
        assert_eq!(usable, [&marks[0], &marks[4]]);
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
