//! Anchors for a gap too big to search whole, found the way Patience finds its anchors: by
//! words that occur exactly once on each side.

use std::collections::HashMap;
use std::ops::Range;

use super::{Aligner, Tokens};

/// Fuzzy anchors: 1:1 pairs at least this similar, linked by words found nowhere else.
const FUZZY_ANCHOR_MIN: f32 = 0.6;

impl Aligner<'_> {
    /// Anchors for a gap too big to search whole, in the spirit of Patience: a word that occurs
    /// in exactly one paragraph of each side votes for pairing those two. Pairs that are each
    /// other's best vote and similar enough, longest increasing chain of them.
    pub(super) fn fuzzy_anchors(
        &mut self,
        old: Range<usize>,
        new: Range<usize>,
    ) -> Vec<(usize, usize)> {
        let old_places = places(old.map(|i| (i, self.old_tokens(i))));
        let new_places = places(new.map(|j| (j, self.new_tokens(j))));
        let mut votes: HashMap<(usize, usize), u32> = HashMap::new();
        for (word, place) in old_places {
            if let (Place::Once(i), Some(&Place::Once(j))) = (place, new_places.get(&word)) {
                *votes.entry((i, j)).or_insert(0) += 1;
            }
        }
        // Sorted, so that ties are settled the same way on every run.
        let mut votes: Vec<((usize, usize), u32)> = votes.into_iter().collect();
        votes.sort_unstable();
        let mut best_old: HashMap<usize, (u32, usize)> = HashMap::new();
        let mut best_new: HashMap<usize, (u32, usize)> = HashMap::new();
        for &((i, j), count) in &votes {
            let old_best = best_old.entry(i).or_insert((count, j));
            if count > old_best.0 {
                *old_best = (count, j);
            }
            let new_best = best_new.entry(j).or_insert((count, i));
            if count > new_best.0 {
                *new_best = (count, i);
            }
        }
        let mut candidates: Vec<(usize, usize)> = best_old
            .into_iter()
            .filter(|&(i, (_, j))| best_new.get(&j).is_some_and(|&(_, back)| back == i))
            .map(|(i, (_, j))| (i, j))
            .collect();
        candidates.sort_unstable();
        candidates.retain(|&(i, j)| self.similarity(i, j, FUZZY_ANCHOR_MIN).is_some());
        longest_increasing_chain(&candidates)
    }
}

/// In how many of one side's paragraphs a word occurs.
#[derive(Clone, Copy)]
enum Place {
    Once(usize),
    Often,
}

fn places<'t>(paragraphs: impl Iterator<Item = (usize, &'t Tokens)>) -> HashMap<u32, Place> {
    let mut places = HashMap::new();
    for (at, tokens) in paragraphs {
        let mut words = tokens.sorted.clone();
        words.dedup();
        for word in words {
            places
                .entry(word)
                .and_modify(|place| *place = Place::Often)
                .or_insert(Place::Once(at));
        }
    }
    places
}

/// The longest chain of `(old, new)` pairs (sorted by `old`, each index used once) whose `new`
/// indices increase too: patience sorting with back links.
fn longest_increasing_chain(pairs: &[(usize, usize)]) -> Vec<(usize, usize)> {
    // `tails[k]`: index of the pair ending the best chain of length k + 1 found so far.
    let mut tails: Vec<usize> = Vec::new();
    let mut before: Vec<Option<usize>> = vec![None; pairs.len()];
    for (at, &(_, j)) in pairs.iter().enumerate() {
        let length = tails.partition_point(|&tail| pairs[tail].1 < j);
        before[at] = length.checked_sub(1).map(|k| tails[k]);
        if length == tails.len() {
            tails.push(at);
        } else {
            tails[length] = at;
        }
    }
    let mut chain = Vec::with_capacity(tails.len());
    let mut at = tails.last().copied();
    while let Some(here) = at {
        chain.push(pairs[here]);
        at = before[here];
    }
    chain.reverse();
    chain
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chains_keep_order_on_both_sides() {
        assert_eq!(
            longest_increasing_chain(&[(0, 5), (1, 1), (2, 2), (3, 0), (4, 3), (5, 9)]),
            [(1, 1), (2, 2), (4, 3), (5, 9)]
        );
        assert_eq!(longest_increasing_chain(&[]), []);
    }
}
