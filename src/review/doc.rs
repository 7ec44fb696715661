//! The decisions model: one document under review, its paragraphs as diff pairs with the
//! reviewer's verdict on each (whole, per change, or an edit), the text those verdicts make,
//! and the decisions saved for it.

use std::borrow::Cow;

use super::record::{Choice, Decisions, Record, Saved, Verdict};
use crate::diff::{Category, Chunk, Decision, DiffOptions, Pair, apply, diff_by_index};
use crate::verify::Severity;

/// One output under review.
#[derive(Debug, Clone)]
pub struct Doc {
    /// The output as shown on screen (a path relative to what was opened).
    pub name: String,
    pub record: Record,
    /// One per paragraph of the record.
    pub items: Vec<Item>,
    /// The output's text as it is on disk now.
    pub on_disk: String,
}

/// One paragraph: the rejected text against the accepted one, and the reviewer's verdict.
#[derive(Debug, Clone)]
pub struct Item {
    pub pair: Pair,
    pub verdict: Verdict,
    /// Carries a warning or error, or a doubt of the model's: shown even when unchanged.
    pub flagged: bool,
}

impl Item {
    /// Has something to decide or read: a draft that differs from the correction, or a
    /// paragraph verify or the model has doubts about, changed or not.
    pub fn reviewable(&self) -> bool {
        self.pair.change_count() > 0 || self.flagged
    }

    pub fn is_pending(&self) -> bool {
        match &self.verdict {
            Verdict::Pending => true,
            Verdict::Changes { changes } => changes.contains(&Choice::Pending),
            Verdict::Accept | Verdict::Reject | Verdict::Edit { .. } => false,
        }
    }

    /// The text this paragraph will be written as. Pending changes keep the correction, the
    /// text `fix` wrote.
    pub fn result(&self) -> Cow<'_, str> {
        match &self.verdict {
            Verdict::Pending | Verdict::Accept => Cow::Borrowed(&self.pair.new),
            Verdict::Reject => Cow::Borrowed(&self.pair.old),
            Verdict::Edit { text } => Cow::Borrowed(text),
            Verdict::Changes { changes } => {
                let decisions: Vec<Decision> = changes
                    .iter()
                    .map(|c| match c {
                        Choice::Reject => Decision::Reject,
                        Choice::Accept | Choice::Pending => Decision::Accept,
                    })
                    .collect();
                Cow::Owned(apply(&self.pair, &decisions))
            }
        }
    }

    /// What the reviewer made of it, as a translation memory marks it.
    pub fn outcome(&self) -> Outcome {
        match &self.verdict {
            Verdict::Pending => Outcome::Undecided,
            Verdict::Accept => Outcome::Accepted,
            Verdict::Reject => Outcome::Rejected,
            Verdict::Edit { .. } => Outcome::Edited,
            Verdict::Changes { changes } if changes.iter().all(|c| *c == Choice::Pending) => {
                Outcome::Undecided
            }
            Verdict::Changes { .. } => Outcome::Mixed,
        }
    }

    /// The choice for change `k` as the verdict implies it.
    pub fn choice(&self, k: usize) -> Choice {
        match &self.verdict {
            Verdict::Pending | Verdict::Edit { .. } => Choice::Pending,
            Verdict::Accept => Choice::Accept,
            Verdict::Reject => Choice::Reject,
            Verdict::Changes { changes } => changes.get(k).copied().unwrap_or(Choice::Pending),
        }
    }

    pub(super) fn categories(&self) -> impl Iterator<Item = Category> + '_ {
        self.pair.chunks.iter().filter_map(|chunk| match chunk {
            Chunk::Change { category, .. } => Some(*category),
            Chunk::Same { .. } => None,
        })
    }

    /// Set change `k`, turning a whole-paragraph verdict into per-change choices, and back
    /// into one verdict once every change agrees.
    pub(super) fn set_change(&mut self, k: usize, choice: Choice) {
        let count = self.pair.change_count();
        let mut changes: Vec<Choice> = (0..count).map(|i| self.choice(i)).collect();
        if let Some(slot) = changes.get_mut(k) {
            *slot = choice;
        }
        self.verdict = if changes.iter().all(|c| *c == Choice::Accept) {
            Verdict::Accept
        } else if changes.iter().all(|c| *c == Choice::Reject) {
            Verdict::Reject
        } else if changes.iter().all(|c| *c == Choice::Pending) {
            Verdict::Pending
        } else {
            Verdict::Changes { changes }
        };
    }
}

impl Doc {
    /// A document under review, with the decisions saved earlier that still apply.
    pub fn new(name: String, record: Record, saved: &Decisions, on_disk: String) -> Self {
        let old: Vec<&str> = record.paragraphs.iter().map(|p| p.rejected()).collect();
        let new: Vec<&str> = record.paragraphs.iter().map(|p| p.new.as_str()).collect();
        let diff = diff_by_index(&old, &new, &DiffOptions::default());
        let items = diff
            .pairs
            .into_iter()
            .zip(&record.paragraphs)
            .map(|(pair, paragraph)| {
                let verdict = match saved.verdict_for(paragraph) {
                    Some(Verdict::Changes { changes }) if changes.len() != pair.change_count() => {
                        Verdict::Pending
                    }
                    Some(verdict) => verdict.clone(),
                    None => Verdict::Pending,
                };
                Item {
                    pair,
                    verdict,
                    flagged: paragraph.is_flagged(),
                }
            })
            .collect();
        Self {
            name,
            record,
            items,
            on_disk,
        }
    }

    /// The output with every verdict applied.
    pub fn text(&self) -> String {
        let texts: Vec<Cow<'_, str>> = self.items.iter().map(Item::result).collect();
        self.record.rebuild(&texts)
    }

    /// The decisions to save: every paragraph with a verdict, keyed by its text.
    pub fn decisions(&self) -> Decisions {
        let mut decisions = Decisions::new(&self.record.output);
        decisions.paragraphs = self
            .items
            .iter()
            .zip(&self.record.paragraphs)
            .filter(|(item, _)| item.verdict != Verdict::Pending)
            .map(|(item, paragraph)| Saved {
                id: paragraph.id,
                key: Some(paragraph.key()),
                verdict: item.verdict.clone(),
            })
            .collect();
        decisions
    }

    /// Tallies over the paragraphs with something to decide.
    pub fn counts(&self) -> Counts {
        let mut counts = Counts::default();
        for item in self.items.iter().filter(|i| i.reviewable()) {
            counts.add(item);
        }
        counts
    }

    /// Whether the output on disk differs from what the verdicts make of it.
    pub fn unwritten(&self) -> bool {
        self.text() != self.on_disk
    }

    /// How much this output needs the reviewer: its paragraphs with errors, with warnings or
    /// the model's doubts, and with changes.
    pub fn attention(&self) -> Attention {
        let mut attention = Attention::default();
        for (item, paragraph) in self.items.iter().zip(&self.record.paragraphs) {
            if !item.reviewable() {
                continue;
            }
            let worst = paragraph.findings_shown().iter().map(|f| f.severity).max();
            if worst == Some(Severity::Error) {
                attention.errors += 1;
            } else if item.flagged {
                attention.warnings += 1;
            }
            if item.pair.change_count() > 0 {
                attention.changed += 1;
            }
        }
        attention
    }

    /// Set every reviewable paragraph's verdict (non-interactive review).
    pub fn decide_all(&mut self, verdict: &Verdict) {
        for item in self.items.iter_mut().filter(|i| i.reviewable()) {
            item.verdict = verdict.clone();
        }
    }
}

/// What the reviewer made of a paragraph: its text is [`Item::result`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The correction, kept.
    Accepted,
    /// The draft (or the German as read), kept instead.
    Rejected,
    /// The reviewer's own text.
    Edited,
    /// Some changes accepted, some rejected (any left open keep the correction).
    Mixed,
    /// No decision: the correction stands.
    Undecided,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::Rejected => "rejected",
            Self::Edited => "edited",
            Self::Mixed => "mixed",
            Self::Undecided => "undecided",
        }
    }
}

/// Paragraphs of an output that need the reviewer, by reason (a paragraph with an error is
/// not counted again among the warnings; one with findings is also counted as changed when it
/// is).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Attention {
    pub errors: usize,
    /// Warnings of verify's, or the model's doubts.
    pub warnings: usize,
    pub changed: usize,
}

/// Which outputs a review takes first: errors, then warnings and doubts, then changes, then
/// the rest (nothing to decide).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Urgency {
    Errors,
    Warnings,
    Changes,
    Nothing,
}

impl Attention {
    pub fn urgency(&self) -> Urgency {
        if self.errors > 0 {
            Urgency::Errors
        } else if self.warnings > 0 {
            Urgency::Warnings
        } else if self.changed > 0 {
            Urgency::Changes
        } else {
            Urgency::Nothing
        }
    }
}

/// Tallies over the reviewable paragraphs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub total: usize,
    pub accepted: usize,
    pub rejected: usize,
    pub edited: usize,
    /// Some changes accepted, some rejected.
    pub mixed: usize,
    pub pending: usize,
}

impl Counts {
    pub(super) fn add(&mut self, item: &Item) {
        self.total += 1;
        match &item.verdict {
            _ if item.is_pending() => self.pending += 1,
            Verdict::Accept => self.accepted += 1,
            Verdict::Reject => self.rejected += 1,
            Verdict::Edit { .. } => self.edited += 1,
            Verdict::Changes { .. } | Verdict::Pending => self.mixed += 1,
        }
    }
}
