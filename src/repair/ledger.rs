//! The ledger: repairs recorded against the ORIGINAL input while passes keep editing the
//! current text. Each pass's edits are composed in; an edit that rewrites the output of an
//! earlier record absorbs that record, so the final records stay exact, sorted and disjoint.

use std::ops::Range;

use super::edit::Edit;
use super::{Repair, Rule};

/// `original[range]` is replaced by `after`.
#[derive(Debug, Clone)]
struct Record {
    range: Range<usize>,
    after: String,
    rule: Rule,
}

impl Record {
    /// How much longer the output is than the input it replaces.
    fn growth(&self) -> isize {
        self.after.len() as isize - self.range.len() as isize
    }
}

pub(super) struct Ledger<'a> {
    original: &'a str,
    /// Sorted by range, disjoint, each with a non-empty range.
    records: Vec<Record>,
}

fn shift(pos: usize, by: isize) -> usize {
    pos.checked_add_signed(by)
        .expect("ledger offsets stay inside the text")
}

impl<'a> Ledger<'a> {
    pub fn new(original: &'a str) -> Self {
        Self {
            original,
            records: Vec::new(),
        }
    }

    /// The original with every record applied.
    pub fn current(&self) -> String {
        let mut out = String::with_capacity(self.original.len());
        let mut last = 0;
        for r in &self.records {
            out.push_str(&self.original[last..r.range.start]);
            out.push_str(&r.after);
            last = r.range.end;
        }
        out.push_str(&self.original[last..]);
        out
    }

    /// Map a range of the original that no record touches into the current text.
    pub fn to_current(&self, range: &Range<usize>) -> Range<usize> {
        let map = |pos: usize| {
            let growth: isize = self
                .records
                .iter()
                .filter(|r| r.range.end <= pos)
                .map(Record::growth)
                .sum();
            shift(pos, growth)
        };
        map(range.start)..map(range.end)
    }

    /// Where each record's output sits in the current text.
    fn spans(&self) -> Vec<Range<usize>> {
        let mut growth = 0isize;
        self.records
            .iter()
            .map(|r| {
                let start = shift(r.range.start, growth);
                growth += r.growth();
                start..start + r.after.len()
            })
            .collect()
    }

    /// Compose edits made on `current` (== `self.current()`); edits are sorted and disjoint.
    pub fn compose(&mut self, current: &str, edits: Vec<Edit>) {
        let spans = self.spans();
        let overlaps = |span: &Range<usize>, r: &Range<usize>| {
            if span.is_empty() {
                r.start < span.start && span.start < r.end
            } else {
                span.start < r.end && r.start < span.end
            }
        };

        // Group edits with the records they touch; spans are sorted, so one sweep widens a
        // range over every record it overlaps.
        let mut groups: Vec<(Range<usize>, Vec<Edit>)> = Vec::new();
        for edit in edits {
            let mut range = edit.range.clone();
            for span in &spans {
                if overlaps(span, &range) {
                    range.start = range.start.min(span.start);
                    range.end = range.end.max(span.end);
                }
            }
            match groups.last_mut() {
                Some((last, members)) if last.end > range.start => {
                    last.end = last.end.max(range.end);
                    members.push(edit);
                }
                _ => groups.push((range, vec![edit])),
            }
        }

        let mut kept: Vec<Record> = Vec::with_capacity(self.records.len() + groups.len());
        let mut absorbed = vec![false; self.records.len()];
        let mut fresh = Vec::with_capacity(groups.len());
        for (range, members) in groups {
            let inside: Vec<usize> = (0..spans.len())
                .filter(|&i| overlaps(&spans[i], &range))
                .collect();
            for &i in &inside {
                absorbed[i] = true;
            }
            // Records wholly before a position shift it; at the end of the group that includes
            // the absorbed ones, but not an empty output sitting exactly there (it follows).
            let growth_before = |pos: usize, at_end: bool| -> isize {
                (0..spans.len())
                    .filter(|&i| {
                        let empty_here = spans[i].is_empty() && spans[i].start == pos;
                        spans[i].end <= pos && !(at_end && empty_here && !inside.contains(&i))
                    })
                    .map(|i| self.records[i].growth())
                    .sum()
            };
            let orig_start = shift(range.start, -growth_before(range.start, false));
            let orig_end = shift(range.end, -growth_before(range.end, true));

            let mut after = String::new();
            let mut cursor = range.start;
            // The latest pass names the record: later passes are the more specific rules.
            let rule = members
                .last()
                .expect("a group holds at least one edit")
                .rule;
            for edit in members {
                after.push_str(&current[cursor..edit.range.start]);
                after.push_str(&edit.after);
                cursor = edit.range.end;
            }
            after.push_str(&current[cursor..range.end]);
            if self.original[orig_start..orig_end] != after {
                fresh.push(Record {
                    range: orig_start..orig_end,
                    after,
                    rule,
                });
            }
        }
        for (record, gone) in self.records.drain(..).zip(absorbed) {
            if !gone {
                kept.push(record);
            }
        }
        kept.extend(fresh);
        kept.sort_by_key(|r| r.range.start);
        self.records = kept;
    }

    pub fn into_repairs(self) -> Vec<Repair> {
        let original = self.original;
        self.records
            .into_iter()
            .map(|r| Repair {
                rule: r.rule,
                before: original[r.range.clone()].to_owned(),
                range: r.range,
                after: r.after,
            })
            .collect()
    }
}
