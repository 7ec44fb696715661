//! Paragraph alignment of two arbitrary documents: exact matches (ignoring whitespace) anchor
//! it, and each stretch between anchors is aligned by a small dynamic program over word
//! similarity that knows five moves: 1:1, deleted, inserted, merge (2:1) and split (1:2)
//! (`search`). A stretch too big for that is first cut by fuzzy anchors (`fuzzy`).

mod fuzzy;
mod search;

use std::collections::HashMap;
use std::ops::Range;

use similar::{Algorithm, DiffOp};
use unicode_segmentation::UnicodeSegmentation;

use super::DiffOptions;
use super::words::sequence_similarity;
use search::{Band, Move};

/// The paragraphs of each side that one pair holds; the ranges tile both documents in order.
pub(super) type Span = (Range<usize>, Range<usize>);

/// A span and, for a 1:1 pair, the word similarity the alignment already computed.
pub(super) type Aligned = (Span, Option<f32>);

/// Equal counts and every diagonal pair at least this similar: pair by index, no search.
const DIAGONAL_MIN: f32 = 0.5;
/// How often an oversized gap may be cut by fuzzy anchors, piece within piece.
const FUZZY_DEPTH: usize = 3;

pub(super) fn align(old: &[&str], new: &[&str], opts: &DiffOptions) -> Vec<Aligned> {
    let old_keys: Vec<String> = old.iter().map(|text| normalized(text)).collect();
    let new_keys: Vec<String> = new.iter().map(|text| normalized(text)).collect();
    let ops = similar::capture_diff_slices(Algorithm::Patience, &old_keys, &new_keys);
    let mut aligner = Aligner::new(old, new, opts);
    let mut spans = Vec::new();
    // Everything between two equal runs is one gap.
    let (mut gap_old, mut gap_new) = (0, 0);
    for op in &ops {
        if let DiffOp::Equal {
            old_index,
            new_index,
            len,
        } = *op
        {
            aligner.gap(gap_old..old_index, gap_new..new_index, &mut spans);
            // Equal up to whitespace: the same words.
            spans.extend((0..len).map(|k| {
                let (i, j) = (old_index + k, new_index + k);
                ((i..i + 1, j..j + 1), Some(1.0))
            }));
            (gap_old, gap_new) = (old_index + len, new_index + len);
        }
    }
    aligner.gap(gap_old..old.len(), gap_new..new.len(), &mut spans);
    spans
}

/// Trimmed, with every run of whitespace made one space: soft-wrapped and re-indented
/// paragraphs still match exactly.
fn normalized(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Lower-cased unicode words as ids of one shared vocabulary.
fn tokens(ids: &mut HashMap<String, u32>, text: &str) -> Tokens {
    let words: Vec<u32> = text
        .to_lowercase()
        .unicode_words()
        .map(|word| {
            let next = u32::try_from(ids.len()).unwrap_or(u32::MAX);
            *ids.entry(word.to_owned()).or_insert(next)
        })
        .collect();
    let mut sorted = words.clone();
    sorted.sort_unstable();
    Tokens { words, sorted }
}

/// One paragraph as lower-cased word ids, in order and sorted.
struct Tokens {
    words: Vec<u32>,
    sorted: Vec<u32>,
}

impl Tokens {
    /// An upper bound of the similarity with `other`: matches are at most the shared words.
    fn similarity_bound(&self, other: &Tokens) -> f32 {
        bag_similarity(&self.sorted, &other.sorted)
    }
}

/// `2 · shared / total` over two sorted bags of words: an upper bound of any diff ratio.
fn bag_similarity(a: &[u32], b: &[u32]) -> f32 {
    let (mut x, mut y) = (0, 0);
    let mut shared = 0;
    while let (Some(left), Some(right)) = (a.get(x), b.get(y)) {
        match left.cmp(right) {
            std::cmp::Ordering::Less => x += 1,
            std::cmp::Ordering::Greater => y += 1,
            std::cmp::Ordering::Equal => {
                shared += 1;
                x += 1;
                y += 1;
            }
        }
    }
    let total = a.len() + b.len();
    if total == 0 {
        1.0
    } else {
        2.0 * shared as f32 / total as f32
    }
}

const TOKENIZED: &str = "a gap's paragraphs are tokenized before they are compared";

/// Both documents' paragraphs as word ids (tokenized gap by gap, as they are needed), and the
/// similarities computed so far.
struct Aligner<'a> {
    old: &'a [&'a str],
    new: &'a [&'a str],
    opts: &'a DiffOptions,
    ids: HashMap<String, u32>,
    old_tokens: Vec<Option<Tokens>>,
    new_tokens: Vec<Option<Tokens>>,
    similarities: HashMap<(usize, usize), Known>,
}

/// What is known of a pair's similarity.
#[derive(Debug, Clone, Copy)]
enum Known {
    Exact(f32),
    AtMost(f32),
}

impl<'a> Aligner<'a> {
    fn new(old: &'a [&'a str], new: &'a [&'a str], opts: &'a DiffOptions) -> Self {
        Self {
            old,
            new,
            opts,
            ids: HashMap::new(),
            old_tokens: std::iter::repeat_with(|| None).take(old.len()).collect(),
            new_tokens: std::iter::repeat_with(|| None).take(new.len()).collect(),
            similarities: HashMap::new(),
        }
    }

    /// Tokenizes the paragraphs of a gap (only gaps are ever compared by similarity).
    fn tokenize(&mut self, old: Range<usize>, new: Range<usize>) {
        for i in old {
            if self.old_tokens[i].is_none() {
                self.old_tokens[i] = Some(tokens(&mut self.ids, self.old[i]));
            }
        }
        for j in new {
            if self.new_tokens[j].is_none() {
                self.new_tokens[j] = Some(tokens(&mut self.ids, self.new[j]));
            }
        }
    }

    fn old_tokens(&self, i: usize) -> &Tokens {
        self.old_tokens[i].as_ref().expect(TOKENIZED)
    }

    fn new_tokens(&self, j: usize) -> &Tokens {
        self.new_tokens[j].as_ref().expect(TOKENIZED)
    }

    /// Word similarity of old paragraph `i` and new paragraph `j` (absolute indices), if it is
    /// at least `min`. The exact value (a Patience diff) is only computed when a cheap upper
    /// bound does not already rule it out; both are cached.
    fn similarity(&mut self, i: usize, j: usize, min: f32) -> Option<f32> {
        let bound = match self.similarities.get(&(i, j)) {
            Some(&Known::Exact(similarity)) => return (similarity >= min).then_some(similarity),
            Some(&Known::AtMost(bound)) => bound,
            None => self.old_tokens(i).similarity_bound(self.new_tokens(j)),
        };
        if bound < min {
            self.similarities.insert((i, j), Known::AtMost(bound));
            return None;
        }
        let (old, new) = (self.old_tokens(i), self.new_tokens(j));
        let similarity = sequence_similarity(&old.words, &new.words, self.opts);
        self.similarities.insert((i, j), Known::Exact(similarity));
        (similarity >= min).then_some(similarity)
    }

    /// The exact similarity of a pair, if it was computed.
    fn known(&self, i: usize, j: usize) -> Option<f32> {
        match self.similarities.get(&(i, j)) {
            Some(&Known::Exact(similarity)) => Some(similarity),
            _ => None,
        }
    }

    /// Word similarity of the paragraphs `old` joined against those of `new` joined.
    fn group_similarity(&self, old: Range<usize>, new: Range<usize>) -> f32 {
        let old: Vec<u32> = old
            .flat_map(|i| self.old_tokens(i).words.iter().copied())
            .collect();
        let new: Vec<u32> = new
            .flat_map(|j| self.new_tokens(j).words.iter().copied())
            .collect();
        sequence_similarity(&old, &new, self.opts)
    }

    /// Aligns the paragraphs between two anchors, appending their spans in order.
    fn gap(&mut self, old: Range<usize>, new: Range<usize>, spans: &mut Vec<Aligned>) {
        self.gap_within(old, new, FUZZY_DEPTH, spans);
    }

    fn gap_within(
        &mut self,
        old: Range<usize>,
        new: Range<usize>,
        depth: usize,
        spans: &mut Vec<Aligned>,
    ) {
        let (n, m) = (old.len(), new.len());
        if n == 0 || m == 0 {
            let (old_end, new_start) = (old.end, new.start);
            spans.extend(old.map(|i| ((i..i + 1, new_start..new_start), None)));
            spans.extend(new.map(|j| ((old_end..old_end, j..j + 1), None)));
            return;
        }
        self.tokenize(old.clone(), new.clone());
        let diagonal = |aligner: &mut Self, k| {
            let (i, j) = (old.start + k, new.start + k);
            aligner.similarity(i, j, DIAGONAL_MIN).is_some()
        };
        if n == m && (0..n).all(|k| diagonal(self, k)) {
            spans.extend((0..n).map(|k| {
                let (i, j) = (old.start + k, new.start + k);
                ((i..i + 1, j..j + 1), self.known(i, j))
            }));
            return;
        }
        if depth > 0 && !Band::fits(n, m) {
            let anchors = self.fuzzy_anchors(old.clone(), new.clone());
            if !anchors.is_empty() {
                let (mut i, mut j) = (old.start, new.start);
                for (anchor_old, anchor_new) in anchors {
                    self.gap_within(i..anchor_old, j..anchor_new, depth - 1, spans);
                    let span = (anchor_old..anchor_old + 1, anchor_new..anchor_new + 1);
                    spans.push((span, self.known(anchor_old, anchor_new)));
                    (i, j) = (anchor_old + 1, anchor_new + 1);
                }
                self.gap_within(i..old.end, j..new.end, depth - 1, spans);
                return;
            }
        }
        let moves = self.search(old.clone(), new.clone());
        let (mut i, mut j) = (old.start, new.start);
        for step in moves {
            let (di, dj) = step.size();
            let similarity = if step == Move::OneToOne {
                self.known(i, j)
            } else {
                None
            };
            spans.push(((i..i + di, j..j + dj), similarity));
            (i, j) = (i + di, j + dj);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spans(old: &[&str], new: &[&str]) -> Vec<Span> {
        let aligned = align(old, new, &DiffOptions::default());
        aligned.into_iter().map(|(span, _)| span).collect()
    }

    #[test]
    fn normalising_ignores_layout_whitespace() {
        assert_eq!(
            normalized("  Ein\n  Absatz\tmit  Umbruch "),
            "Ein Absatz mit Umbruch"
        );
    }

    #[test]
    fn unrelated_paragraphs_are_never_forced_together() {
        assert_eq!(
            spans(
                &["Der Hund schläft im Garten."],
                &["Morgen regnet es in Hamburg."]
            ),
            [(0..1, 0..0), (1..1, 0..1)]
        );
    }
}
