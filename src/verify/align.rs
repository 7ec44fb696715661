//! Pairing the paragraphs of a German text with those of its translation by content, for
//! `check SOURCE TRANSLATION` on translations klartext did not make: a human original often
//! paragraphs differently (a heading on its own line, a list split otherwise, a sentence moved
//! to the next paragraph), and pairing by index would then compare every later paragraph with
//! the wrong one. A dynamic programme in the manner of Gale and Church over 1:1, 1:0, 0:1,
//! 2:1, 1:2, 3:1 and 1:3 groups, scored by length (English runs a little shorter than German)
//! and by anchors both languages share: numbers (separators ignored, so `1.400` meets `1,400`
//! and `1,4` meets `1.4`), and names, acronyms and codes that come through unchanged.

use std::collections::HashSet;
use std::ops::Range;

use super::names::shape;
use super::text::tokens;

/// Paragraphs `source` of the German paired with paragraphs `target` of the translation; one
/// side is empty for a paragraph that has no counterpart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub source: Range<usize>,
    pub target: Range<usize>,
}

/// The moves a group may make: (German paragraphs, translated paragraphs).
const MOVES: [(usize, usize); 7] = [(1, 1), (1, 0), (0, 1), (2, 1), (1, 2), (3, 1), (1, 3)];

/// Characters of English per character of German, on average.
const RATIO: f64 = 0.9;

/// Pair `source` and `target` paragraphs by content, in order.
pub fn align(source: &[&str], target: &[&str]) -> Vec<Group> {
    let (n, m) = (source.len(), target.len());
    let src: Vec<Features> = source.iter().map(|t| Features::of(t)).collect();
    let tgt: Vec<Features> = target.iter().map(|t| Features::of(t)).collect();
    // Cells far from the diagonal are never reached by a sensible pairing; a band keeps long
    // documents linear.
    let band = 40 + n.abs_diff(m);
    let diagonal = |i: usize| (i * m).checked_div(n).unwrap_or(0);
    let in_band = |i: usize, j: usize| diagonal(i).abs_diff(j) <= band;
    let mut cost = vec![vec![f64::INFINITY; m + 1]; n + 1];
    let mut back = vec![vec![(0usize, 0usize); m + 1]; n + 1];
    cost[0][0] = 0.0;
    for i in 0..=n {
        for j in 0..=m {
            if (i, j) == (0, 0) || !in_band(i, j) {
                continue;
            }
            for (di, dj) in MOVES {
                if di > i || dj > j {
                    continue;
                }
                let before = cost[i - di][j - dj];
                if !before.is_finite() {
                    continue;
                }
                let here = before + group_cost(&src[i - di..i], &tgt[j - dj..j]);
                if here < cost[i][j] {
                    cost[i][j] = here;
                    back[i][j] = (di, dj);
                }
            }
        }
    }
    let mut groups = Vec::new();
    let (mut i, mut j) = (n, m);
    while i > 0 || j > 0 {
        let (di, dj) = back[i][j];
        if (di, dj) == (0, 0) {
            // Unreachable outside the band: pair what is left one to one.
            return by_index(n, m);
        }
        groups.push(Group {
            source: i - di..i,
            target: j - dj..j,
        });
        i -= di;
        j -= dj;
    }
    groups.reverse();
    groups
}

/// Index pairing, for the degenerate case.
fn by_index(n: usize, m: usize) -> Vec<Group> {
    (0..n.max(m))
        .map(|k| Group {
            source: k.min(n)..(k + 1).min(n),
            target: k.min(m)..(k + 1).min(m),
        })
        .collect()
}

/// What the cost of a group is computed from.
struct Features {
    chars: usize,
    /// Numbers with their separators removed: `1.400` and `1,400` are both `1400`.
    numbers: HashSet<String>,
    /// Lower-cased words that may come through a translation unchanged: names, acronyms,
    /// codes, and any capitalised word of four letters or more.
    names: HashSet<String>,
    /// All lower-cased words, to find the names on the other side.
    words: HashSet<String>,
}

impl Features {
    fn of(text: &str) -> Self {
        let mut numbers = HashSet::new();
        let mut names = HashSet::new();
        let mut words = HashSet::new();
        for number in numbers_in(text) {
            numbers.insert(number);
        }
        for (_, token) in tokens(text) {
            let lower = token.to_lowercase();
            let capitalised =
                token.chars().next().is_some_and(char::is_uppercase) && token.chars().count() >= 4;
            if !token.chars().all(|c| c.is_ascii_digit()) && (capitalised || shape(token).is_some())
            {
                names.insert(lower.clone());
            }
            words.insert(lower);
        }
        Self {
            chars: text.chars().count(),
            numbers,
            names,
            words,
        }
    }
}

/// Runs of digits with the separators between them (`.`, `,`, thin spaces) dropped.
fn numbers_in(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut current = String::new();
    let chars: Vec<char> = text.chars().collect();
    for (k, &c) in chars.iter().enumerate() {
        if c.is_ascii_digit() {
            current.push(c);
            continue;
        }
        let joins = matches!(c, '.' | ',' | '\u{202f}' | '\u{a0}' | '\'')
            && !current.is_empty()
            && chars.get(k + 1).is_some_and(char::is_ascii_digit);
        if !joins && !current.is_empty() {
            found.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        found.push(current);
    }
    found
}

/// Lower is better. Length agreement, shared and unshared numbers, shared names, and a price
/// for each group that is not one to one.
fn group_cost(source: &[Features], target: &[Features]) -> f64 {
    let shape_price = match (source.len(), target.len()) {
        (1, 1) => 0.0,
        (1, 0) | (0, 1) => 5.0,
        (2, 1) | (1, 2) => 2.0,
        _ => 4.0,
    };
    if source.is_empty() || target.is_empty() {
        // A paragraph without counterpart: the longer, the less likely.
        let chars: usize = source.iter().chain(target).map(|f| f.chars).sum();
        return shape_price + (chars as f64 / 200.0).min(4.0);
    }
    let ls: usize = source.iter().map(|f| f.chars).sum();
    let lt: usize = target.iter().map(|f| f.chars).sum();
    let expected = ls as f64 * RATIO;
    let delta = (lt as f64 - expected) / (6.8 * (ls as f64 + lt as f64) / 2.0 + 1.0).sqrt();
    let length = (delta * delta / 2.0).min(12.0);

    let union = |sides: &[Features], pick: fn(&Features) -> &HashSet<String>| {
        sides
            .iter()
            .flat_map(|f| pick(f).iter().cloned())
            .collect::<HashSet<String>>()
    };
    let (src_numbers, tgt_numbers) = (union(source, |f| &f.numbers), union(target, |f| &f.numbers));
    let shared_numbers = src_numbers.intersection(&tgt_numbers).count() as f64;
    let unshared = src_numbers.symmetric_difference(&tgt_numbers).count() as f64;
    let src_names = union(source, |f| &f.names);
    let tgt_words = union(target, |f| &f.words);
    let shared_names = src_names.intersection(&tgt_words).count() as f64;
    shape_price + length + 1.5 * unshared - 3.0 * shared_numbers - 2.0 * shared_names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(groups: &[Group]) -> Vec<(Vec<usize>, Vec<usize>)> {
        groups
            .iter()
            .map(|g| (g.source.clone().collect(), g.target.clone().collect()))
            .collect()
    }

    #[test]
    fn one_to_one_when_the_paragraphs_correspond() {
        let de = [
            "Microsoft hat 2024 rund 1.400 Mitarbeiter eingestellt.",
            "Der Umsatz stieg um 12,5 Prozent auf 4 Milliarden Dollar.",
            "Windows 11 erhält ein Update.",
        ];
        let en = [
            "Microsoft hired about 1,400 people in 2024.",
            "Revenue rose 12.5 percent to $4 billion.",
            "Windows 11 gets an update.",
        ];
        assert_eq!(
            pairs(&align(&de, &en)),
            [(vec![0], vec![0]), (vec![1], vec![1]), (vec![2], vec![2])]
        );
    }

    #[test]
    fn a_heading_on_its_own_line_and_a_dropped_paragraph_do_not_shift_the_rest() {
        let de = [
            "Azure-Preise für 2025 Die Preise steigen ab dem 1. März um 9 Prozent.",
            "Kunden mit Verträgen vor 2024 zahlen weiterhin 120 Euro pro Monat.",
            "Dieser Artikel wurde maschinell übersetzt.",
            "Weitere Informationen erhalten Sie beim Support unter 0800 123 456.",
        ];
        let en = [
            "Azure pricing for 2025",
            "Prices rise by 9 percent from March 1.",
            "Customers with contracts from before 2024 keep paying 120 euros a month.",
            "For more information, call support at 0800 123 456.",
        ];
        // The disclaimer the English lacks may stand alone or ride along with a neighbour;
        // what matters is that no later paragraph is paired with the wrong one.
        let groups = pairs(&align(&de, &en));
        assert_eq!(groups[0], (vec![0], vec![0, 1]), "{groups:?}");
        assert!(
            groups.iter().any(|(s, t)| s.contains(&1) && t == &[2]),
            "{groups:?}"
        );
        assert_eq!(groups.last(), Some(&(vec![3], vec![3])), "{groups:?}");
    }

    #[test]
    fn a_list_split_differently_is_merged() {
        let de = [
            "Schritt 1: Öffnen Sie die Einstellungen. Schritt 2: Wählen Sie Konto.",
            "Schritt 3: Klicken Sie auf Speichern.",
        ];
        let en = [
            "Step 1: Open Settings.",
            "Step 2: Select Account.",
            "Step 3: Click Save.",
        ];
        assert_eq!(
            pairs(&align(&de, &en)),
            [(vec![0], vec![0, 1]), (vec![1], vec![2])]
        );
    }

    #[test]
    fn empty_sides() {
        assert!(align(&[], &[]).is_empty());
        assert_eq!(pairs(&align(&["Eins."], &[])), [(vec![0], vec![])]);
        assert_eq!(pairs(&align(&[], &["One."])), [(vec![], vec![0])]);
    }

    #[test]
    fn numbers_ignore_separators() {
        assert_eq!(
            numbers_in("1.400 und 1,4 sowie 2024."),
            ["1400", "14", "2024"]
        );
        assert_eq!(numbers_in("1,400 and 1.4, then 7."), ["1400", "14", "7"]);
    }
}
