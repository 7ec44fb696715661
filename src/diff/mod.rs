//! The change model: two versions of a document, paired paragraph by paragraph, each pair split
//! into word-level chunks that are either the same on both sides or a change, and the pure
//! arithmetic of accepting or rejecting those changes. Pure data and `similar` calls only;
//! colour, width and layout belong to `render`.
//!
//! Paragraphs are paired by index when both sides share one segmentation ([`diff_by_index`]) and
//! aligned by content otherwise ([`diff_document`], see `align`). Inside a pair, `words` finds
//! the changes.

mod align;
mod decide;
mod words;

use std::ops::Range;
use std::time::Duration;

use serde::Serialize;

pub use decide::{Decision, apply, apply_document};
pub use words::diff_words;
use words::word_similarity;

/// One piece of a paragraph pair. Concatenating the `Same` texts with every change's `old` gives
/// the old paragraph; with every change's `new`, the new one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Chunk {
    Same {
        text: String,
    },
    /// `old` or `new` may be empty (a pure insertion or deletion), never both.
    Change {
        old: String,
        new: String,
        category: Category,
        /// For a small edit inside a word: which graphemes differ, for display only.
        #[serde(skip_serializing_if = "Option::is_none")]
        emphasis: Option<Emphasis>,
    },
}

/// What kind of change, for bulk decisions ("accept all punctuation changes") and styling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    /// Only whitespace differs.
    Whitespace,
    /// Only punctuation and typography (quotes, dashes, commas) differ.
    Punctuation,
    /// Only letter case differs.
    Case,
    Words,
}

/// A change's two sides cut into pieces, `(emphasised, text)`, so that the few graphemes that
/// differ inside a word can be shown (`Straße` → `Strasse`). The pieces concatenate to the side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Emphasis {
    pub old: Vec<(bool, String)>,
    pub new: Vec<(bool, String)>,
}

/// How a pair's paragraphs were matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Alignment {
    /// One old paragraph, one new (also when unchanged).
    OneToOne,
    /// One old paragraph became several new ones.
    Split,
    /// Several old paragraphs became one.
    Merge,
    /// Only the new side has it.
    Inserted,
    /// Only the old side has it.
    Deleted,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PairKind {
    Unchanged,
    Changed,
    /// Only the old side has this paragraph.
    Deleted,
    /// Only the new side has this paragraph.
    Inserted,
}

/// One old paragraph next to its counterpart.
fn place(kind: PairKind, old: &Range<usize>, new: &Range<usize>) -> String {
    let one_based = |range: &Range<usize>| match range.len() {
        0 | 1 => (range.start + 1).to_string(),
        _ => format!("{}–{}", range.start + 1, range.end),
    };
    let (old, new) = (one_based(old), one_based(new));
    match kind {
        PairKind::Deleted => old,
        PairKind::Inserted => new,
        _ if old == new => old,
        _ => format!("{old} → {new}"),
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pair {
    /// Zero-based position in the document diff (displays add one).
    pub index: usize,
    pub kind: PairKind,
    /// Empty for `Inserted`.
    pub old: String,
    /// Empty for `Deleted`.
    pub new: String,
    pub chunks: Vec<Chunk>,
    /// Word-only similarity in `0..=1`: whitespace and case do not count.
    pub similarity: f32,
    /// Which paragraphs of each side the pair holds (a split or merge spans several; their
    /// texts are joined with a blank line).
    pub old_paragraphs: Range<usize>,
    pub new_paragraphs: Range<usize>,
    pub alignment: Alignment,
    /// So different that word-by-word changes would be noise: show it as a whole replacement.
    pub rewritten: bool,
}

impl Pair {
    /// Where the pair sits in each text, one-based, as headers show it: `3`, `3 → 4`,
    /// `2 → 3–4` (a split), `5–6 → 5` (a merge); a deleted paragraph by its place in the old
    /// text, a new one by its place in the new. Never the pair's own index.
    pub fn place(&self) -> String {
        place(self.kind, &self.old_paragraphs, &self.new_paragraphs)
    }

    /// [`Pair::place`] for a run of consecutive pairs (a fold of unchanged paragraphs).
    pub fn place_of_run(pairs: &[&Pair]) -> String {
        match (pairs.first(), pairs.last()) {
            (Some(first), Some(last)) => place(
                PairKind::Unchanged,
                &(first.old_paragraphs.start..last.old_paragraphs.end),
                &(first.new_paragraphs.start..last.new_paragraphs.end),
            ),
            _ => String::new(),
        }
    }

    /// Number of `Change` chunks in this pair.
    pub fn change_count(&self) -> usize {
        self.chunks
            .iter()
            .filter(|chunk| matches!(chunk, Chunk::Change { .. }))
            .count()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DocumentDiff {
    pub pairs: Vec<Pair>,
}

impl DocumentDiff {
    /// True when no pair differs (also for two empty documents).
    pub fn is_identical(&self) -> bool {
        self.pairs
            .iter()
            .all(|pair| pair.kind == PairKind::Unchanged)
    }

    /// Pairs that are changed, deleted or inserted.
    pub fn changed_pairs(&self) -> usize {
        self.pairs
            .iter()
            .filter(|pair| pair.kind != PairKind::Unchanged)
            .count()
    }

    /// All `Change` chunks over all pairs.
    pub fn change_count(&self) -> usize {
        self.pairs.iter().map(Pair::change_count).sum()
    }
}

#[derive(Debug, Clone)]
pub struct DiffOptions {
    /// Deadline for each paragraph's word diff; past it `similar` returns a coarser diff
    /// instead of taking unbounded time.
    pub timeout: Duration,
    /// A changed pair whose word similarity is below this is shown as one whole replacement
    /// (`Pair::rewritten`): word-by-word confetti of a rewrite helps nobody.
    pub rewrite_below: f32,
}

impl Default for DiffOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_millis(200),
            rewrite_below: 0.35,
        }
    }
}

/// How a split or merged pair joins its paragraphs into one text.
pub const PARAGRAPH_JOIN: &str = "\n\n";

/// For two sides with the same segmentation (both come from klartext): paragraphs are paired by
/// index, extra paragraphs on either side are `Deleted`/`Inserted`. An empty paragraph counts as
/// missing.
pub fn diff_by_index(old: &[&str], new: &[&str], opts: &DiffOptions) -> DocumentDiff {
    let side = |texts: &[&str], i: usize| match texts.get(i) {
        Some(text) if !text.is_empty() => i..i + 1,
        _ => i.min(texts.len())..i.min(texts.len()),
    };
    let pairs = (0..old.len().max(new.len()))
        .map(|i| build_pair(i, (old, side(old, i)), (new, side(new, i)), None, opts))
        .collect();
    DocumentDiff { pairs }
}

/// For two arbitrary documents: paragraphs are aligned by content, so inserted, deleted, split
/// and merged paragraphs are recognised. Exact matches (ignoring whitespace) anchor the
/// alignment; the paragraphs between anchors are aligned by word similarity.
///
/// Two swapped paragraphs come out as one matched pair plus the other paragraph deleted at its
/// old place and inserted at its new one, the way line diffs show a move.
pub fn diff_document(old: &[&str], new: &[&str], opts: &DiffOptions) -> DocumentDiff {
    let pairs = align::align(old, new, opts)
        .into_iter()
        .enumerate()
        .map(|(index, ((old_range, new_range), similarity))| {
            build_pair(index, (old, old_range), (new, new_range), similarity, opts)
        })
        .collect();
    DocumentDiff { pairs }
}

/// A pair of the paragraphs `range` of each side; a side with an empty range is missing.
/// `similarity` is the pair's word similarity when the caller already knows it.
fn build_pair(
    index: usize,
    (old, old_paragraphs): (&[&str], Range<usize>),
    (new, new_paragraphs): (&[&str], Range<usize>),
    similarity: Option<f32>,
    opts: &DiffOptions,
) -> Pair {
    let old_text = old[old_paragraphs.clone()].join(PARAGRAPH_JOIN);
    let new_text = new[new_paragraphs.clone()].join(PARAGRAPH_JOIN);
    let kind = if old_text == new_text {
        PairKind::Unchanged
    } else if new_paragraphs.is_empty() {
        PairKind::Deleted
    } else if old_paragraphs.is_empty() {
        PairKind::Inserted
    } else {
        PairKind::Changed
    };
    let alignment = match (old_paragraphs.len(), new_paragraphs.len()) {
        (0, 0) | (1, 1) => Alignment::OneToOne,
        (0, _) => Alignment::Inserted,
        (_, 0) => Alignment::Deleted,
        (1, _) => Alignment::Split,
        _ => Alignment::Merge,
    };
    let similarity = match kind {
        PairKind::Unchanged => 1.0,
        PairKind::Deleted | PairKind::Inserted => 0.0,
        PairKind::Changed => {
            similarity.unwrap_or_else(|| word_similarity(&old_text, &new_text, opts))
        }
    };
    let rewritten = kind == PairKind::Changed && similarity < opts.rewrite_below;
    let chunks = if rewritten {
        vec![Chunk::Change {
            old: old_text.clone(),
            new: new_text.clone(),
            category: Category::Words,
            emphasis: None,
        }]
    } else {
        diff_words(&old_text, &new_text, opts)
    };
    Pair {
        index,
        kind,
        old: old_text,
        new: new_text,
        chunks,
        similarity,
        old_paragraphs,
        new_paragraphs,
        alignment,
        rewritten,
    }
}

#[cfg(test)]
mod tests;
