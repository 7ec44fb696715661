//! The dynamic program that aligns one gap between anchors: the cheapest path of 1:1, deleted,
//! inserted, merge and split moves through a band of the cost matrix.

use std::ops::Range;

use super::{Aligner, Tokens, bag_similarity};

/// Cost of leaving a paragraph unpaired: two unpaired paragraphs (1.2) cost more than any 1:1
/// pair that is allowed at all.
const UNPAIRED: f32 = 0.6;
/// Extra cost of a merge or split over a 1:1 pair.
const REGROUPED: f32 = 0.3;
/// Below this word similarity two paragraphs are unrelated and never paired 1:1.
const ONE_TO_ONE_MIN: f32 = 0.2;
/// Each part of a merge or split must share at least this much with the other side.
const PART_MIN: f32 = 0.15;
/// Extra diagonals on each side of the band, room for local detours (a swap, a split).
const SLACK: usize = 6;
/// A gap whose band would exceed this many cells is first cut by fuzzy anchors; a piece still
/// too big gets a band of fixed width around the straight line from its start to its end, so
/// that the time stays bounded (at some risk to that piece's alignment).
const CELL_BUDGET: usize = 400_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Move {
    Start,
    OneToOne,
    Deleted,
    Inserted,
    Merge,
    Split,
}

impl Move {
    /// Old and new paragraphs the move consumes.
    pub(super) fn size(self) -> (usize, usize) {
        match self {
            Move::Start => (0, 0),
            Move::OneToOne => (1, 1),
            Move::Deleted => (1, 0),
            Move::Inserted => (0, 1),
            Move::Merge => (2, 1),
            Move::Split => (1, 2),
        }
    }
}

impl Aligner<'_> {
    /// The cheapest sequence of moves through the gap, within a band of the cost matrix.
    pub(super) fn search(&mut self, old: Range<usize>, new: Range<usize>) -> Vec<Move> {
        let band = Band::new(old.len(), new.len());
        let mut cost = vec![f32::INFINITY; band.cells()];
        let mut moves = vec![Move::Start; band.cells()];
        for i in 0..=old.len() {
            for j in band.rows[i].clone() {
                let cell = band.cell(i, j).expect("iterating the band's own cells");
                if i == 0 && j == 0 {
                    cost[cell] = 0.0;
                    continue;
                }
                // On a tie 1:1 beats inserted beats deleted (so deletions come first in order);
                // a merge or split must be strictly cheaper. 1:1 goes before the regroupings so
                // that their expensive price is rarely needed.
                let mut best = (f32::INFINITY, Move::Start);
                let from = |step: Move| {
                    let (di, dj) = step.size();
                    band.cell_before(i, j, di, dj)
                        .map(|from| cost[from])
                        .filter(|cost| cost.is_finite())
                };
                let (i0, j0) = (old.start + i, new.start + j);
                for step in [
                    Move::Deleted,
                    Move::Inserted,
                    Move::OneToOne,
                    Move::Split,
                    Move::Merge,
                ] {
                    let Some(before) = from(step) else {
                        continue;
                    };
                    // Even a perfect match could not beat the best so far.
                    let tie_wins = matches!(step, Move::Inserted | Move::OneToOne);
                    let floor = match step {
                        Move::OneToOne | Move::Start => 0.0,
                        Move::Split | Move::Merge => REGROUPED,
                        Move::Deleted | Move::Inserted => UNPAIRED,
                    };
                    if before + floor > best.0 || (!tie_wins && before + floor == best.0) {
                        continue;
                    }
                    let price = match step {
                        Move::Deleted | Move::Inserted => Some(UNPAIRED),
                        Move::Split => self.regroup_price(i0 - 1..i0, j0 - 2..j0, best.0 - before),
                        Move::Merge => self.regroup_price(i0 - 2..i0, j0 - 1..j0, best.0 - before),
                        Move::OneToOne => {
                            // Only a similarity that would beat the best so far matters.
                            let min = ONE_TO_ONE_MIN.max(1.0 - (best.0 - before));
                            self.similarity(i0 - 1, j0 - 1, min)
                                .map(|similarity| 1.0 - similarity)
                        }
                        Move::Start => None,
                    };
                    if let Some(price) = price {
                        let total = before + price;
                        if total < best.0 || (tie_wins && total == best.0) {
                            best = (total, step);
                        }
                    }
                }
                cost[cell] = best.0;
                moves[cell] = best.1;
            }
        }
        self.trace(&band, &moves, old.len(), new.len())
    }

    /// Price of pairing the paragraphs `old` and `new` as one merge or split, if each part
    /// overlaps the other side and the price is at most `ceiling` (else it cannot win).
    fn regroup_price(&mut self, old: Range<usize>, new: Range<usize>, ceiling: f32) -> Option<f32> {
        // Cheapest test first: could the joined texts be similar enough at all?
        let needed = 1.0 + REGROUPED - ceiling;
        let bag = |tokens: Vec<&Tokens>| {
            let mut bag: Vec<u32> = tokens
                .iter()
                .flat_map(|t| t.sorted.iter().copied())
                .collect();
            bag.sort_unstable();
            bag
        };
        let old_bag = bag(old.clone().map(|i| self.old_tokens(i)).collect());
        let new_bag = bag(new.clone().map(|j| self.new_tokens(j)).collect());
        if bag_similarity(&old_bag, &new_bag) < needed {
            return None;
        }
        for i in old.clone() {
            for j in new.clone() {
                self.similarity(i, j, PART_MIN)?;
            }
        }
        let price = 1.0 - self.group_similarity(old, new) + REGROUPED;
        (price <= ceiling).then_some(price)
    }

    fn trace(&self, band: &Band, moves: &[Move], n: usize, m: usize) -> Vec<Move> {
        let mut path = Vec::new();
        let (mut i, mut j) = (n, m);
        while i > 0 || j > 0 {
            let step = band.cell(i, j).map_or(Move::Start, |cell| moves[cell]);
            if step == Move::Start {
                // Unreachable end (cannot happen with a connected band): give up gracefully.
                path.clear();
                path.extend(std::iter::repeat_n(Move::Deleted, n));
                path.extend(std::iter::repeat_n(Move::Inserted, m));
                return path;
            }
            let (di, dj) = step.size();
            path.push(step);
            (i, j) = (i - di, j - dj);
        }
        path.reverse();
        path
    }
}

/// The cells of the `(n + 1) × (m + 1)` cost matrix that are searched, row by row. Rows are
/// contiguous, their starts and ends never decrease, and the band links `(0, 0)` to `(n, m)`.
pub(super) struct Band {
    rows: Vec<Range<usize>>,
    /// Index of each row's first cell in the flat cell vectors.
    offsets: Vec<usize>,
}

impl Band {
    /// Whether every diagonal between the start's and the end's fits the budget.
    pub(super) fn fits(n: usize, m: usize) -> bool {
        (n + 1) * (n.abs_diff(m) + 2 * SLACK + 1) <= CELL_BUDGET
    }

    fn new(n: usize, m: usize) -> Self {
        // Every diagonal between the start's and the end's, plus slack: enough for any mix of
        // insertions and deletions in one direction.
        let low = n.saturating_sub(m) + SLACK;
        let high = m.saturating_sub(n) + SLACK;
        let rows: Vec<Range<usize>> = if Self::fits(n, m) {
            (0..=n)
                .map(|i| i.saturating_sub(low)..(i + high).min(m) + 1)
                .collect()
        } else {
            // A fixed half-width around the straight line, wide enough that neighbouring rows
            // always touch.
            let half = (CELL_BUDGET / (2 * (n + 1)))
                .max(SLACK)
                .max(m.div_ceil(n) + 1);
            (0..=n)
                .map(|i| {
                    let centre = (i * m + n / 2) / n;
                    centre.saturating_sub(half)..(centre + half).min(m) + 1
                })
                .collect()
        };
        let mut offsets = Vec::with_capacity(rows.len());
        let mut at = 0;
        for row in &rows {
            offsets.push(at);
            at += row.len();
        }
        Self { rows, offsets }
    }

    fn cells(&self) -> usize {
        self.rows
            .last()
            .zip(self.offsets.last())
            .map_or(0, |(row, offset)| offset + row.len())
    }

    fn cell(&self, i: usize, j: usize) -> Option<usize> {
        let row = self.rows.get(i)?;
        row.contains(&j).then(|| self.offsets[i] + j - row.start)
    }

    /// The cell a move of `(di, dj)` into `(i, j)` comes from, if it is in the band.
    fn cell_before(&self, i: usize, j: usize, di: usize, dj: usize) -> Option<usize> {
        self.cell(i.checked_sub(di)?, j.checked_sub(dj)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_are_connected_and_bounded() {
        for (n, m) in [
            (1, 1),
            (5, 3),
            (3, 5),
            (1, 40),
            (40, 1),
            (3000, 3400),
            (9000, 2),
        ] {
            let band = Band::new(n, m);
            assert!(band.cell(0, 0).is_some() && band.cell(n, m).is_some());
            for i in 0..n {
                let (this, next) = (&band.rows[i], &band.rows[i + 1]);
                assert!(this.start <= next.start && this.end <= next.end);
                assert!(this.end > next.start, "rows {i} and {} touch", i + 1);
            }
            assert!(band.cells() <= 2 * CELL_BUDGET, "{n}×{m}: {}", band.cells());
        }
    }
}
