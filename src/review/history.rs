//! Undo and redo: before each step, the verdicts of the documents it touches and where the
//! reviewer was; undoing puts them back and keeps the present for redo.

use std::collections::VecDeque;

use super::doc::Doc;
use super::record::Verdict;

/// Undo steps kept.
const DEPTH: usize = 500;

/// Where the reviewer was: position in the review and the change in focus.
pub(super) type Position = (usize, usize);

#[derive(Debug, Clone)]
pub(super) struct Snapshot {
    verdicts: Vec<(usize, Vec<Verdict>)>,
    at: Position,
}

impl Snapshot {
    /// The verdicts of the `touched` documents, at position `at`.
    pub(super) fn capture(docs: &[Doc], touched: &[usize], at: Position) -> Self {
        let verdicts = touched
            .iter()
            .map(|&d| (d, docs[d].items.iter().map(|i| i.verdict.clone()).collect()))
            .collect();
        Self { verdicts, at }
    }

    /// Put the verdicts back; the documents that changed and where the reviewer was.
    pub(super) fn restore(self, docs: &mut [Doc]) -> (Vec<usize>, Position) {
        let mut touched = Vec::with_capacity(self.verdicts.len());
        for (d, verdicts) in self.verdicts {
            for (item, verdict) in docs[d].items.iter_mut().zip(verdicts) {
                item.verdict = verdict;
            }
            touched.push(d);
        }
        (touched, self.at)
    }

    fn touched(&self) -> Vec<usize> {
        self.verdicts.iter().map(|(d, _)| *d).collect()
    }
}

#[derive(Debug, Clone, Default)]
pub(super) struct History {
    undo: VecDeque<Snapshot>,
    redo: Vec<Snapshot>,
}

impl History {
    /// Before a step: how things were. A new step forgets what was undone.
    pub(super) fn record(&mut self, before: Snapshot) {
        self.push_undo(before);
        self.redo.clear();
    }

    /// The snapshot to go back to, if any; the present (`docs` at `at`) is kept for redo.
    pub(super) fn undo(&mut self, docs: &[Doc], at: Position) -> Option<Snapshot> {
        let snapshot = self.undo.pop_back()?;
        self.redo
            .push(Snapshot::capture(docs, &snapshot.touched(), at));
        Some(snapshot)
    }

    /// The snapshot to go forward to, if any; the present is kept for undo.
    pub(super) fn redo(&mut self, docs: &[Doc], at: Position) -> Option<Snapshot> {
        let snapshot = self.redo.pop()?;
        self.push_undo(Snapshot::capture(docs, &snapshot.touched(), at));
        Some(snapshot)
    }

    fn push_undo(&mut self, snapshot: Snapshot) {
        self.undo.push_back(snapshot);
        if self.undo.len() > DEPTH {
            self.undo.pop_front();
        }
    }
}
