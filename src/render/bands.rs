//! Rows that correspond: a pair cut into bands, each holding the same sentence (or the few
//! sentences that became one) in every pane, so that a side-by-side stays side by side however
//! differently its panes wrap. The two versions' sentences are matched by the text the word
//! diff found on both sides; the German pane, another language, by length and by the numbers
//! and names both languages share (`verify::align`).

use std::collections::HashMap;
use std::ops::Range;

use super::ColorMode;
use super::runs::{Side, runs_within};
use super::wrap::{Row, wrap};
use crate::diff::{Chunk, Pair};
use crate::repair::RepairMark;
use crate::verify::align::align;
use crate::verify::sentences;

/// Byte ranges of the German, the old and the new text that sit beside each other. The bands
/// of a pair tile each of its texts in order; any range may be empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Band {
    pub(super) source: Range<usize>,
    pub(super) old: Range<usize>,
    pub(super) new: Range<usize>,
}

/// Group shapes of the alignment: (old sentences, new sentences).
const MOVES: [(usize, usize); 7] = [(1, 1), (1, 0), (0, 1), (2, 1), (1, 2), (3, 1), (1, 3)];
/// How far from the diagonal a sentence may be paired, beyond the difference in counts: only a
/// strip of the table is filled, so a paragraph of a thousand lines stays linear.
const REACH: usize = 40;
/// The German alignment (`verify::align`) weighs names and numbers in every cell of its table;
/// past this many sentences or bands on a side the German and both versions stay one band.
const MAX_SOURCE_SENTENCES: usize = 120;

/// The bands of `pair`, with the German pane's `source` text when it is shown.
pub(super) fn bands(pair: &Pair, source: Option<&str>) -> Vec<Band> {
    let versions = versions(pair);
    match source {
        Some(source) => with_source(pair, source, versions),
        None => versions
            .into_iter()
            .map(|(old, new)| Band {
                source: 0..0,
                old,
                new,
            })
            .collect(),
    }
}

/// The panes of a pair side by side (the German first when given), each band wrapped to
/// `width` in every pane and padded with blank rows to its tallest pane, so that the next band
/// starts on the same row everywhere. `focus` marks one change, as the review does.
pub(super) fn columns(
    pair: &Pair,
    source: Option<(&str, &[RepairMark])>,
    width: usize,
    color: ColorMode,
    focus: Option<usize>,
) -> Vec<Vec<Row>> {
    let mut columns: Vec<Vec<Row>> = vec![Vec::new(); if source.is_some() { 3 } else { 2 }];
    for band in bands(pair, source.map(|(text, _)| text)) {
        let mut panes = Vec::with_capacity(columns.len());
        if let Some((text, marks)) = source {
            let runs = super::repairs::repaired_runs_within(text, marks, band.source.clone());
            panes.push(wrap(&runs, width, color));
        }
        for (side, range) in [(Side::Old, band.old), (Side::New, band.new)] {
            panes.push(wrap(
                &runs_within(pair, side, focus, Some(range)),
                width,
                color,
            ));
        }
        let height = panes.iter().map(Vec::len).max().unwrap_or(0);
        for (column, mut rows) in columns.iter_mut().zip(panes) {
            rows.resize(height, Row::default());
            column.extend(rows);
        }
    }
    columns
}

/// The part of `text`, which starts at byte `start` of its side, that lies `within` a range of
/// that side; empty when none does.
pub(super) fn clip<'t>(text: &'t str, start: usize, within: &Range<usize>) -> &'t str {
    let end = start + text.len();
    let from = within.start.clamp(start, end) - start;
    let to = within.end.clamp(start, end) - start;
    text.get(from..to).unwrap_or_default()
}

/// Byte ranges tiling `text`, one per sentence: each with the whitespace after it, the first
/// also with any before it. Empty for a text without a sentence.
fn spans(text: &str) -> Vec<Range<usize>> {
    let starts: Vec<usize> = sentences(text).into_iter().map(|s| s.start).collect();
    (0..starts.len())
        .map(|k| {
            let start = if k == 0 { 0 } else { starts[k] };
            start..starts.get(k + 1).copied().unwrap_or(text.len())
        })
        .collect()
}

/// What a sentence weighs in the alignment: its characters other than whitespace.
fn weight(text: &str) -> usize {
    text.chars().filter(|c| !c.is_whitespace()).count()
}

/// The old and new byte ranges of each band of the two versions.
fn versions(pair: &Pair) -> Vec<(Range<usize>, Range<usize>)> {
    let whole = vec![(0..pair.old.len(), 0..pair.new.len())];
    let (old, new) = (spans(&pair.old), spans(&pair.new));
    if old.len() <= 1 && new.len() <= 1 {
        return whole;
    }
    let shared = shared(pair, &old, &new);
    let weights = |text: &str, spans: &[Range<usize>]| -> Vec<usize> {
        spans.iter().map(|s| weight(&text[s.clone()])).collect()
    };
    let (old_weights, new_weights) = (weights(&pair.old, &old), weights(&pair.new, &new));
    let groups = monotone(old.len(), new.len(), |olds, news| {
        let a = old_weights[olds.clone()].iter().sum();
        let b = new_weights[news.clone()].iter().sum();
        let common = |i: Range<usize>, j: Range<usize>| -> usize {
            i.flat_map(|i| j.clone().map(move |j| (i, j)))
                .filter_map(|cell| shared.get(&cell))
                .sum()
        };
        let together = common(olds.clone(), news.clone());
        // Sentences that share nothing with the other side of a group that shares something
        // ride along: they cost what they would cost on their own.
        let riders: f64 = if together == 0 {
            0.0
        } else {
            let old_riders = olds
                .clone()
                .filter(|&i| common(i..i + 1, news.clone()) == 0)
                .map(|i| old_weights[i]);
            let new_riders = news
                .clone()
                .filter(|&j| common(olds.clone(), j..j + 1) == 0)
                .map(|j| new_weights[j]);
            old_riders.chain(new_riders).map(alone).sum()
        };
        group_cost((olds.len(), news.len()), a, b, together) + riders
    });
    let Some(groups) = groups else {
        return whole;
    };
    let (mut at_old, mut at_new) = (0, 0);
    let mut bands: Vec<(Range<usize>, Range<usize>)> = groups
        .into_iter()
        .map(|(olds, news)| {
            let old = bytes(&old, &olds, at_old);
            let new = bytes(&new, &news, at_new);
            (at_old, at_new) = (old.end, new.end);
            (old, new)
        })
        .collect();
    // A side without a sentence (only whitespace) still belongs somewhere.
    if let Some((old, new)) = bands.last_mut() {
        (old.end, new.end) = (pair.old.len(), pair.new.len());
    }
    bands
}

/// The bytes of the spans `group`, or an empty range at `at` for no spans.
fn bytes(spans: &[Range<usize>], group: &Range<usize>, at: usize) -> Range<usize> {
    let last = group.end.checked_sub(1).and_then(|last| spans.get(last));
    match (spans.get(group.start), last) {
        (Some(first), Some(last)) if !group.is_empty() => first.start..last.end,
        _ => at..at,
    }
}

/// How much text the word diff found the same in old sentence `i` and new sentence `j`, by
/// `(i, j)`: walks the chunks, cutting each shared run where a sentence starts on either side.
fn shared(
    pair: &Pair,
    old: &[Range<usize>],
    new: &[Range<usize>],
) -> HashMap<(usize, usize), usize> {
    let span_at = |spans: &[Range<usize>], at: usize| spans.partition_point(|s| s.end <= at);
    let mut shared = HashMap::new();
    let (mut at_old, mut at_new) = (0, 0);
    for chunk in &pair.chunks {
        match chunk {
            Chunk::Same { text } => {
                let mut k = 0;
                while k < text.len() {
                    let (i, j) = (span_at(old, at_old + k), span_at(new, at_new + k));
                    let (Some(o), Some(n)) = (old.get(i), new.get(j)) else {
                        break;
                    };
                    let end = (o.end - at_old).min(n.end - at_new).min(text.len());
                    let Some(piece) = text.get(k..end) else {
                        break;
                    };
                    *shared.entry((i, j)).or_default() += weight(piece);
                    k = end;
                }
                at_old += text.len();
                at_new += text.len();
            }
            Chunk::Change { old, new, .. } => {
                at_old += old.len();
                at_new += new.len();
            }
        }
    }
    shared
}

/// Lower is better: the text of the two versions the group does not share, a price for each
/// group that is not one to one, and how unlike the group's lengths are (as Gale and Church
/// measure it), counted in the measure the shorter side is not shared: a sentence that lost a
/// clause is still the same sentence, while rewritten sentences pair by length. A sentence
/// without counterpart costs less than one glued to a neighbour, so that an inserted sentence
/// gets rows of its own.
fn group_cost(shape: (usize, usize), old: usize, new: usize, shared: usize) -> f64 {
    let price = match shape {
        (1, 1) => 0.0,
        (1, 0) | (0, 1) => 1.0,
        (2, 1) | (1, 2) => 2.0,
        _ => 4.0,
    };
    let unshared = (old + new).saturating_sub(2 * shared) as f64;
    let rewritten = match old.min(new) {
        0 => 1.0,
        shorter => (1.0 - shared as f64 / shorter as f64).max(0.0),
    };
    price + unshared / 10.0 + rewritten * length_cost(old, new)
}

/// How unlikely two lengths are for one text, after Gale and Church.
fn length_cost(old: usize, new: usize) -> f64 {
    let (old, new) = (old as f64, new as f64);
    let delta = (new - old) / (6.8 * (old + new) / 2.0 + 1.0).sqrt();
    (delta * delta / 2.0).min(12.0)
}

/// The length cost of a sentence without counterpart.
fn alone(weight: usize) -> f64 {
    length_cost(weight, 0)
}

/// The cheapest monotone grouping of `m` old and `n` new units into [`MOVES`], as ranges of
/// each; `None` when the strip of the table holds no path (it always should).
fn monotone(
    m: usize,
    n: usize,
    cost: impl Fn(Range<usize>, Range<usize>) -> f64,
) -> Option<Vec<(Range<usize>, Range<usize>)>> {
    let reach = REACH + m.abs_diff(n);
    let diagonal = |i: usize| (i * n).checked_div(m).unwrap_or(0);
    let low = |i: usize| diagonal(i).saturating_sub(reach);
    let high = |i: usize| (diagonal(i) + reach).min(n);
    // Row `i` holds columns `low(i)..=high(i)`: (cost so far, the move that got there).
    let mut table: Vec<Vec<(f64, usize)>> = (0..=m)
        .map(|i| vec![(f64::INFINITY, usize::MAX); high(i) - low(i) + 1])
        .collect();
    let cell = |table: &[Vec<(f64, usize)>], i: usize, j: usize| {
        j.checked_sub(low(i))
            .and_then(|k| table.get(i).and_then(|row| row.get(k)))
            .copied()
    };
    table[0][0].0 = 0.0;
    for i in 0..=m {
        for j in low(i)..=high(i) {
            for (k, &(di, dj)) in MOVES.iter().enumerate() {
                if di > i || dj > j {
                    continue;
                }
                let Some((before, _)) = cell(&table, i - di, j - dj) else {
                    continue;
                };
                if !before.is_finite() {
                    continue;
                }
                let here = before + cost(i - di..i, j - dj..j);
                let slot = &mut table[i][j - low(i)];
                if here < slot.0 {
                    *slot = (here, k);
                }
            }
        }
    }
    let mut groups = Vec::new();
    let (mut i, mut j) = (m, n);
    while i > 0 || j > 0 {
        let (_, k) = cell(&table, i, j)?;
        let &(di, dj) = MOVES.get(k)?;
        groups.push((i - di..i, j - dj..j));
        (i, j) = (i - di, j - dj);
    }
    groups.reverse();
    Some(groups)
}

/// The bands of both versions placed beside the German's sentences: a German sentence whose
/// translation spans several bands joins them into one.
fn with_source(
    pair: &Pair,
    source: &str,
    versions: Vec<(Range<usize>, Range<usize>)>,
) -> Vec<Band> {
    let german = spans(source);
    let one = || {
        vec![Band {
            source: 0..source.len(),
            old: 0..pair.old.len(),
            new: 0..pair.new.len(),
        }]
    };
    if german.len() <= 1
        || versions.len() <= 1
        || german.len().max(versions.len()) > MAX_SOURCE_SENTENCES
    {
        return one();
    }
    // The English of each band: the old version's, or the new one's where the old has none.
    let english: Vec<&str> = versions
        .iter()
        .map(|(old, new)| match pair.old.get(old.clone()) {
            Some(text) if !text.is_empty() => text,
            _ => pair.new.get(new.clone()).unwrap_or_default(),
        })
        .collect();
    let sentences: Vec<&str> = german.iter().map(|s| &source[s.clone()]).collect();
    let (mut at_source, mut at_old, mut at_new) = (0, 0, 0);
    align(&sentences, &english)
        .into_iter()
        .map(|group| {
            let source = bytes(&german, &group.source, at_source);
            let joined = &versions[group.target.clone()];
            let (old, new) = match (joined.first(), joined.last()) {
                (Some(first), Some(last)) => (first.0.start..last.0.end, first.1.start..last.1.end),
                _ => (at_old..at_old, at_new..at_new),
            };
            (at_source, at_old, at_new) = (source.end, old.end, new.end);
            Band { source, old, new }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::diff::{DiffOptions, diff_by_index};

    fn pair(old: &str, new: &str) -> Pair {
        diff_by_index(&[old], &[new], &DiffOptions::default())
            .pairs
            .remove(0)
    }

    /// Each band as (old text, new text), trimmed.
    fn texts(pair: &Pair, bands: &[Band]) -> Vec<(String, String)> {
        bands
            .iter()
            .map(|b| {
                (
                    pair.old[b.old.clone()].trim().to_owned(),
                    pair.new[b.new.clone()].trim().to_owned(),
                )
            })
            .collect()
    }

    fn owned(rows: &[(&str, &str)]) -> Vec<(String, String)> {
        rows.iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    }

    #[test]
    fn sentences_pair_one_to_one_across_a_rewrite() {
        let pair = pair(
            "The firm, founded in 1998 in a garage in Stuttgart, grew fast. It was good. Shares rose.",
            "The firm grew fast. The year was an excellent one for all involved. Shares rose.",
        );
        assert_eq!(
            texts(&pair, &bands(&pair, None)),
            owned(&[
                (
                    "The firm, founded in 1998 in a garage in Stuttgart, grew fast.",
                    "The firm grew fast."
                ),
                (
                    "It was good.",
                    "The year was an excellent one for all involved."
                ),
                ("Shares rose.", "Shares rose."),
            ])
        );
    }

    #[test]
    fn merged_split_and_inserted_sentences() {
        let merged = pair(
            "Sales rose. Profits fell. Nobody knows why.",
            "Sales rose, but profits fell. Nobody knows why.",
        );
        assert_eq!(
            texts(&merged, &bands(&merged, None)),
            owned(&[
                ("Sales rose. Profits fell.", "Sales rose, but profits fell."),
                ("Nobody knows why.", "Nobody knows why."),
            ])
        );
        let inserted = pair(
            "The ferry leaves every hour. Tickets are sold on board.",
            "The ferry leaves every hour. In a storm a bus runs instead. Tickets are sold on board.",
        );
        assert_eq!(
            texts(&inserted, &bands(&inserted, None)),
            owned(&[
                (
                    "The ferry leaves every hour.",
                    "The ferry leaves every hour."
                ),
                ("", "In a storm a bus runs instead."),
                ("Tickets are sold on board.", "Tickets are sold on board."),
            ])
        );
    }

    #[test]
    fn a_rewritten_pair_pairs_its_sentences_by_length() {
        let pair = pair(
            "Revenue last year came to four billion euros in total. Staff numbers stayed flat.",
            "The company took in some four billion the year before. Its headcount did not move.",
        );
        assert!(pair.rewritten);
        assert_eq!(bands(&pair, None).len(), 2);
    }

    #[test]
    fn the_german_joins_the_bands_its_sentence_spans() {
        let pair = pair(
            "Sales rose by 4 percent. Profits fell. Nobody knows why.",
            "Sales rose by 4 percent. Profits fell. Nobody knows the reason.",
        );
        let german = "Der Umsatz stieg um 4 Prozent, der Gewinn sank. Niemand weiß, warum.";
        let bands = bands(&pair, Some(german));
        let rows: Vec<(&str, &str)> = bands
            .iter()
            .map(|b| {
                (
                    german[b.source.clone()].trim(),
                    pair.old[b.old.clone()].trim(),
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                (
                    "Der Umsatz stieg um 4 Prozent, der Gewinn sank.",
                    "Sales rose by 4 percent. Profits fell."
                ),
                ("Niemand weiß, warum.", "Nobody knows why.")
            ]
        );
    }

    #[test]
    fn clipping_keeps_the_part_within() {
        assert_eq!(clip("abcdef", 10, &(12..14)), "cd");
        assert_eq!(clip("abcdef", 10, &(0..11)), "a");
        assert_eq!(clip("abcdef", 10, &(16..20)), "");
        assert_eq!(clip("abcdef", 10, &(0..30)), "abcdef");
    }

    fn text() -> impl Strategy<Value = String> {
        prop::collection::vec(
            prop_oneof![
                "[a-zA-Zäöü]{1,9}",
                Just(" ".to_owned()),
                Just(". ".to_owned()),
                Just("\n\n".to_owned()),
                "[!?…,\t\u{301}]{1,2}",
            ],
            0..40,
        )
        .prop_map(|parts| parts.concat())
    }

    /// The real set (`tests/data/real`): the German, the draft and the final text of every
    /// paragraph the restorations hold. Wherever they have as many sentences, each band holds
    /// one sentence of each; where they do not, bands still correspond (counted, not judged).
    #[test]
    fn real_paragraphs_band_one_sentence_each_where_counts_agree() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/real");
        let mut folders: Vec<_> = std::fs::read_dir(&root)
            .expect("the real set")
            .flatten()
            .map(|entry| entry.path())
            .filter(|path| path.is_dir())
            .collect();
        folders.sort();
        let (mut agreeing, mut several) = (0, 0);
        for folder in folders {
            let text = std::fs::read_to_string(folder.join("restored.json")).expect("restored");
            let json: serde_json::Value = serde_json::from_str(&text).expect("JSON");
            for segment in json["segments"].as_array().expect("segments") {
                let text = |key: &str| segment[key].as_str().expect("a text").to_owned();
                let (german, draft, fixed) = (text("source"), text("draft"), text("final_text"));
                let counts = [
                    spans(&german).len(),
                    spans(&draft).len(),
                    spans(&fixed).len(),
                ];
                if counts.iter().all(|&n| n < 2) {
                    continue;
                }
                several += 1;
                let pair = pair(&draft, &fixed);
                let bands = bands(&pair, Some(&german));
                if counts.iter().all(|&n| n == counts[0]) {
                    agreeing += 1;
                    for band in &bands {
                        let one = [
                            &german[band.source.clone()],
                            &draft[band.old.clone()],
                            &fixed[band.new.clone()],
                        ]
                        .map(|text| spans(text).len());
                        assert_eq!(one, [1, 1, 1], "{}: {german}", folder.display());
                    }
                }
            }
        }
        assert!(
            agreeing > 50 && several > agreeing,
            "{agreeing} of {several}"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Bands tile every text in order, and cutting a side into bands loses nothing.
        #[test]
        fn bands_tile_every_text(old in text(), new in text(), german in text()) {
            tile(&old, &new, &german)?;
        }
    }

    /// Cases the property found: a deleted paragraph break (and a tab) cut off at a band's end.
    #[test]
    fn a_change_cut_at_a_band_end_loses_nothing() {
        for (old, new) in [
            (". \n\n?", ". "),
            ("ü\n\n. A", " ü!\n\n\n\nAü\n\näa"),
            (". \n\n\t…", ". "),
        ] {
            tile(old, new, "").expect("bands tile the texts");
        }
    }

    /// Bands tile every text in order, and cutting a side into bands loses nothing.
    fn tile(old: &str, new: &str, german: &str) -> Result<(), TestCaseError> {
        let pair = pair(old, new);
        for source in [None, Some(german)] {
            let bands = bands(&pair, source);
            let mut at = (0, 0, 0);
            for band in &bands {
                prop_assert_eq!(band.old.start, at.0);
                prop_assert_eq!(band.new.start, at.1);
                prop_assert!(source.is_none() || band.source.start == at.2);
                at = (band.old.end, band.new.end, band.source.end);
            }
            prop_assert_eq!((at.0, at.1), (old.len(), new.len()));
            prop_assert!(source.is_none() || at.2 == german.len());
            // A change cut so that one piece is only whitespace shows that piece with
            // visible stand-ins (`↵`, `→`, `·` and a zero-width space): read them back, a tab
            // as a tab elsewhere is shown (`visible::TAB`).
            let unshown = |t: String| -> String {
                t.chars()
                    .filter(|&c| c != '\u{200B}')
                    .map(|c| match c {
                        '↵' => "\n".to_owned(),
                        '→' => crate::render::visible::TAB.to_owned(),
                        '·' => " ".to_owned(),
                        c => c.to_string(),
                    })
                    .collect()
            };
            for side in [Side::Old, Side::New] {
                let whole: String = runs_within(&pair, side, None, None)
                    .into_iter()
                    .map(|(_, t)| unshown(t.into_owned()))
                    .collect();
                let cut: String = bands
                    .iter()
                    .flat_map(|b| {
                        let range = if side == Side::Old { &b.old } else { &b.new };
                        runs_within(&pair, side, None, Some(range.clone()))
                    })
                    .map(|(_, t)| unshown(t.into_owned()))
                    .collect();
                prop_assert_eq!(whole, cut);
            }
        }
        Ok(())
    }
}
