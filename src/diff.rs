//! The change model: two versions of a document, paired paragraph by paragraph, each pair split
//! into word-level chunks that are either the same on both sides or a change. Pure data and
//! `similar` calls only; colour, width and layout belong to `render`.

use std::ops::Range;
use std::time::{Duration, Instant};

use serde::Serialize;
use similar::{Algorithm, DiffOp, TextDiff};
use unicode_segmentation::UnicodeSegmentation;

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
}

impl Default for DiffOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_millis(200),
        }
    }
}

/// Paragraphs are paired by index (same segmentation on both sides); extra paragraphs on either
/// side are `Deleted`/`Inserted`.
pub fn diff_document(old: &[&str], new: &[&str], opts: &DiffOptions) -> DocumentDiff {
    let pairs = (0..old.len().max(new.len()))
        .map(|i| {
            let (old, new) = (old.get(i).copied(), new.get(i).copied());
            diff_pair(i, old.unwrap_or_default(), new.unwrap_or_default(), opts)
        })
        .collect();
    DocumentDiff { pairs }
}

/// A missing side is an empty text: the pair is then `Deleted` or `Inserted`.
fn diff_pair(index: usize, old: &str, new: &str, opts: &DiffOptions) -> Pair {
    let (kind, similarity) = if old == new {
        (PairKind::Unchanged, 1.0)
    } else if new.is_empty() {
        (PairKind::Deleted, 0.0)
    } else if old.is_empty() {
        (PairKind::Inserted, 0.0)
    } else {
        (PairKind::Changed, word_similarity(old, new, opts))
    };
    let alignment = match kind {
        PairKind::Deleted => Alignment::Deleted,
        PairKind::Inserted => Alignment::Inserted,
        _ => Alignment::OneToOne,
    };
    let side = |text: &str| {
        if text.is_empty() {
            index..index
        } else {
            index..index + 1
        }
    };
    Pair {
        index,
        kind,
        old: old.to_owned(),
        new: new.to_owned(),
        chunks: diff_words(old, new, opts),
        similarity,
        old_paragraphs: side(old),
        new_paragraphs: side(new),
        alignment,
        rewritten: false,
    }
}

/// Word-level diff of one paragraph (unicode words, Patience, with the options' timeout).
/// Consecutive changes are coalesced across whitespace-only equal runs, so "a b c" → "x y z"
/// is one change, not three. Invariant: the `Same` texts plus every `Change::old` concatenate to
/// `old`, and plus every `Change::new` to `new`.
pub fn diff_words(old: &str, new: &str, opts: &DiffOptions) -> Vec<Chunk> {
    if old == new {
        return same(old).into_iter().collect();
    }
    if old.is_empty() || new.is_empty() {
        return vec![change(old, new)];
    }
    let diff = TextDiff::configure()
        .algorithm(Algorithm::Patience)
        .timeout(opts.timeout)
        .diff_unicode_words(old, new);
    // Token ranges → byte ranges: tokens tile the input, so prefix sums of their lengths are the
    // byte offsets.
    let old_at = token_offsets(diff.iter_old_slices().map(|token| token.len()));
    let new_at = token_offsets(diff.iter_new_slices().map(|token| token.len()));

    let mut chunks: Vec<Chunk> = Vec::new();
    for op in diff.ops() {
        let (old_range, new_range) = (op.old_range(), op.new_range());
        let old_text = &old[old_at[old_range.start]..old_at[old_range.end]];
        let new_text = &new[new_at[new_range.start]..new_at[new_range.end]];
        match op {
            DiffOp::Equal { .. } => chunks.extend(same(old_text)),
            _ => push_change(&mut chunks, old_text, new_text),
        }
    }
    chunks
}

fn token_offsets(lengths: impl Iterator<Item = usize>) -> Vec<usize> {
    let mut offsets = vec![0];
    let mut at = 0;
    for len in lengths {
        at += len;
        offsets.push(at);
    }
    offsets
}

/// Appends a change, merging it into the previous change when only whitespace lies between.
fn push_change(chunks: &mut Vec<Chunk>, old: &str, new: &str) {
    let gap = match chunks.as_slice() {
        [.., Chunk::Change { .. }] => Some(String::new()),
        [.., Chunk::Change { .. }, Chunk::Same { text }] if is_blank(text) => Some(text.clone()),
        _ => None,
    };
    let Some(gap) = gap else {
        chunks.push(change(old, new));
        return;
    };
    if !gap.is_empty() {
        chunks.pop();
    }
    if let Some(Chunk::Change {
        old: prev_old,
        new: prev_new,
        ..
    }) = chunks.last_mut()
    {
        prev_old.push_str(&gap);
        prev_old.push_str(old);
        prev_new.push_str(&gap);
        prev_new.push_str(new);
    }
}

fn is_blank(text: &str) -> bool {
    text.chars().all(char::is_whitespace)
}

fn same(text: &str) -> Option<Chunk> {
    (!text.is_empty()).then(|| Chunk::Same {
        text: text.to_owned(),
    })
}

fn change(old: &str, new: &str) -> Chunk {
    Chunk::Change {
        old: old.to_owned(),
        new: new.to_owned(),
        category: Category::Words,
        emphasis: None,
    }
}

/// Share of matching words, ignoring case, whitespace and punctuation. `TextDiff::ratio` counts
/// whitespace tokens, which makes unrelated prose look about half similar.
fn word_similarity(old: &str, new: &str, opts: &DiffOptions) -> f32 {
    let (old, new) = (old.to_lowercase(), new.to_lowercase());
    let old_words: Vec<&str> = old.unicode_words().collect();
    let new_words: Vec<&str> = new.unicode_words().collect();
    let deadline = Instant::now().checked_add(opts.timeout);
    let ops = similar::capture_diff_slices_deadline(
        Algorithm::Patience,
        &old_words,
        &new_words,
        deadline,
    );
    similar::diff_ratio(&ops, old_words.len(), new_words.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn words(old: &str, new: &str) -> Vec<Chunk> {
        diff_words(old, new, &DiffOptions::default())
    }

    fn s(text: &str) -> Chunk {
        Chunk::Same { text: text.into() }
    }

    fn c(old: &str, new: &str) -> Chunk {
        change(old, new)
    }

    fn rebuild(chunks: &[Chunk]) -> (String, String) {
        let (mut old, mut new) = (String::new(), String::new());
        for chunk in chunks {
            match chunk {
                Chunk::Same { text } => {
                    old.push_str(text);
                    new.push_str(text);
                }
                Chunk::Change { old: o, new: n, .. } => {
                    old.push_str(o);
                    new.push_str(n);
                }
            }
        }
        (old, new)
    }

    #[test]
    fn insert_delete_replace() {
        assert_eq!(
            words("Der Hund bellt.", "Der große Hund bellt."),
            [s("Der "), c("", "große "), s("Hund bellt.")]
        );
        assert_eq!(
            words("Der große Hund bellt.", "Der Hund bellt."),
            [s("Der "), c("große ", ""), s("Hund bellt.")]
        );
        assert_eq!(
            words("Der Hund bellt.", "Der Hund schläft."),
            [s("Der Hund "), c("bellt", "schläft"), s(".")]
        );
    }

    #[test]
    fn umlauts_stay_whole_words() {
        assert_eq!(
            words("Die Grosse der Apfel", "Die Größe der Äpfel"),
            [
                s("Die "),
                c("Grosse", "Größe"),
                s(" der "),
                c("Apfel", "Äpfel")
            ]
        );
        assert_eq!(
            words("Er ass viel.", "Er aß viel."),
            [s("Er "), c("ass", "aß"), s(" viel.")]
        );
    }

    #[test]
    fn changes_coalesce_across_whitespace_only() {
        assert_eq!(words("a b c", "x y z"), [c("a b c", "x y z")]);
        assert_eq!(
            words("Es war einmal ein Haus.", "Es gab früher ein Haus."),
            [s("Es "), c("war einmal", "gab früher"), s(" ein Haus.")]
        );
        // A real word in between keeps two changes apart.
        assert_eq!(
            words("rot und blau", "grün und gelb"),
            [c("rot", "grün"), s(" und "), c("blau", "gelb")]
        );
    }

    #[test]
    fn identical_and_empty_sides() {
        assert_eq!(words("Gleich.", "Gleich."), [s("Gleich.")]);
        assert_eq!(words("", ""), []);
        assert_eq!(words("", "Neu hier."), [c("", "Neu hier.")]);
        assert_eq!(words("Weg damit.", ""), [c("Weg damit.", "")]);
    }

    #[test]
    fn similarity_ignores_whitespace_case_and_punctuation() {
        let opts = DiffOptions::default();
        assert_eq!(word_similarity("Ein  Haus!", "ein haus", &opts), 1.0);
        assert_eq!(word_similarity("rot grün", "blau gelb", &opts), 0.0);
        let half = word_similarity("eins zwei", "eins drei", &opts);
        assert!((half - 0.5).abs() < 1e-6);
    }

    #[test]
    fn document_pairs_by_index() {
        let doc = diff_document(
            &["Gleich.", "Der Hund bellt.", "Nur alt."],
            &["Gleich.", "Der Hund schläft.", "Nur alt.", "Ganz neu."],
            &DiffOptions::default(),
        );
        let kinds: Vec<PairKind> = doc.pairs.iter().map(|pair| pair.kind).collect();
        assert_eq!(
            kinds,
            [
                PairKind::Unchanged,
                PairKind::Changed,
                PairKind::Unchanged,
                PairKind::Inserted
            ]
        );
        assert!(!doc.is_identical());
        assert_eq!(doc.changed_pairs(), 2);
        assert_eq!(doc.change_count(), 2);
        assert_eq!(doc.pairs[3].chunks, [c("", "Ganz neu.")]);

        let deleted = diff_document(&["a", "b"], &["a"], &DiffOptions::default());
        assert_eq!(deleted.pairs[1].kind, PairKind::Deleted);
        assert_eq!(deleted.pairs[1].chunks, [c("b", "")]);
        assert!(diff_document(&["a"], &["a"], &DiffOptions::default()).is_identical());
    }

    #[test]
    fn serializes_kebab_case() {
        let doc = diff_document(&["Der Hund"], &["Die Katze"], &DiffOptions::default());
        let json = serde_json::to_value(&doc).expect("plain data serializes");
        assert_eq!(json["pairs"][0]["kind"], "changed");
        assert_eq!(json["pairs"][0]["chunks"][0]["kind"], "change");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        #[test]
        fn chunks_concatenate_to_both_sides(
            old in "[a-cäöß ,.\n\u{4e2d}]{0,40}",
            new in "[a-cäöß ,.\n\u{4e2d}]{0,40}",
        ) {
            let chunks = words(&old, &new);
            prop_assert_eq!(rebuild(&chunks), (old.clone(), new.clone()));
            for chunk in &chunks {
                match chunk {
                    Chunk::Same { text } => prop_assert!(!text.is_empty()),
                    Chunk::Change { old, new, .. } => prop_assert!(!(old.is_empty() && new.is_empty())),
                }
            }
            // No two changes are separated by whitespace alone.
            for window in chunks.windows(3) {
                if let [Chunk::Change { .. }, Chunk::Same { text }, Chunk::Change { .. }] = window {
                    prop_assert!(!is_blank(text));
                }
            }
        }
    }
}
