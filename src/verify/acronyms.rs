//! The acronym-mismatch rule of the name check, for English output: an acronym in parentheses
//! must fit the words it follows ("Tensor Processing Units (TPUs)", not "tensor processing units
//! (GPUs)"). Judged only where the words before look like an expansion, and never for an
//! acronym that is German (the English may explain it with words that do not fit).

use super::names::{CONNECTORS, Shape, acronym_base, aliases, shape};
use super::text::tokens;
use super::{Check, Finding, Pair, Severity};

/// English acronyms in parentheses whose initials do not fit the words before them:
/// "tensor processing units (GPUs)". Judged only when the words before are a run of
/// capitalised words or two to five words after a determiner or preposition; German acronyms
/// are left alone.
pub(super) fn mismatches(pair: &Pair) -> Vec<Finding> {
    let out = pair.output;
    let mut findings = Vec::new();
    for (open, _) in out.match_indices('(') {
        let Some(close) = out[open..].find(')').map(|c| open + c) else {
            continue;
        };
        let inner = &out[open + 1..close];
        if shape(inner) != Some(Shape::Acronym) {
            continue;
        }
        let acronym = acronym_base(inner);
        let Some(expansion) = expansion_before(&out[..open]) else {
            continue;
        };
        if fits(acronym, &expansion) || german_acronym(pair.source, inner) {
            continue;
        }
        let message = format!(
            "acronym ({inner}) does not match the words before it: \"{}\"",
            expansion.join(" ")
        );
        findings.push(
            Finding::new(
                pair.id,
                Check::Name,
                "acronym-mismatch",
                Severity::Warning,
                message,
            )
            .in_output(open..close + 1),
        );
    }
    findings
}

/// The words of the clause that ends at the end of `head`.
fn clause_words(head: &str) -> Vec<&str> {
    let clause_start = head
        .rfind(|c: char| {
            matches!(
                c,
                ',' | ';' | ':' | '.' | '(' | ')' | '!' | '?' | '–' | '—' | '"' | '“' | '”' | '„'
            )
        })
        .map_or(0, |i| {
            i + head[i..].chars().next().map_or(1, char::len_utf8)
        });
    head[clause_start..].split_whitespace().collect()
}

/// Words that end a lower-case expansion when read backwards from the parenthesis:
/// determiners and prepositions ("rents its | tensor processing units (TPUs)").
const EXPANSION_STOPS: [&str; 20] = [
    "a", "an", "the", "its", "his", "her", "their", "our", "your", "my", "this", "that", "these",
    "those", "to", "from", "by", "with", "at", "as",
];

/// The words an acronym in parentheses could abbreviate: the capitalised run right before it
/// (two capitalised words or more), or else the two to five words after the last determiner,
/// preposition or possessive of the clause. `None` when neither fits: then nothing is judged.
fn expansion_before(head: &str) -> Option<Vec<&str>> {
    let words = clause_words(head);
    let capitalised = |w: &&str| w.chars().next().is_some_and(char::is_uppercase);
    let mut run = 0;
    let mut capitals = 0;
    for word in words.iter().rev() {
        if capitalised(word) {
            capitals += 1;
        } else if !(capitals > 0 && CONNECTORS.contains(word)) {
            break;
        }
        run += 1;
    }
    if capitals >= 2 {
        return Some(words[words.len() - run..].to_vec());
    }
    let is_stop = |w: &&str| {
        let lower = w.to_lowercase();
        EXPANSION_STOPS.contains(&lower.as_str()) || lower.ends_with("'s") || lower.ends_with("’s")
    };
    let tail_len = words.iter().rev().take_while(|w| !is_stop(w)).count();
    (2..=5)
        .contains(&tail_len)
        .then(|| words[words.len() - tail_len..].to_vec())
}

/// Whether the acronym can be read out of the words: its letters appear in order (the
/// Schwartz–Hearst test, the first letter starting a word), or at least its first letter starts
/// one of the last few words ("graphics processors (GPUs)" is loose but not wrong).
fn fits(acronym: &str, words: &[&str]) -> bool {
    let long: Vec<char> = words
        .join(" ")
        .chars()
        .flat_map(char::to_lowercase)
        .collect();
    let short: Vec<char> = acronym
        .chars()
        .flat_map(char::to_lowercase)
        .filter(|c| c.is_alphanumeric())
        .collect();
    let Some(&first) = short.first() else {
        return true;
    };
    let content: Vec<&&str> = words.iter().filter(|w| !CONNECTORS.contains(*w)).collect();
    let last_few = &content[content.len().saturating_sub(short.len())..];
    let first_starts_a_word = last_few.iter().any(|w| {
        w.chars()
            .find(|c| c.is_alphanumeric())
            .is_some_and(|c| c.to_lowercase().eq(std::iter::once(first)))
    });
    first_starts_a_word || letters_in_order(&short, &long)
}

fn letters_in_order(short: &[char], long: &[char]) -> bool {
    let mut l = long.len();
    for (s, &c) in short.iter().enumerate().rev() {
        loop {
            if l == 0 {
                return false;
            }
            l -= 1;
            let word_start = l == 0 || !long[l - 1].is_alphanumeric();
            if long[l] == c && (s > 0 || word_start) {
                break;
            }
        }
    }
    true
}

/// The acronym is German, so English words need not fit it: a known German acronym, one the
/// source uses without explaining it (the English added an explanation: "the German Football
/// Association (DFB)"), or one the source puts in parentheses after German words it fits
/// ("Bundesamt für Sicherheit in der Informationstechnik (BSI)").
fn german_acronym(source: &str, acronym: &str) -> bool {
    let base = acronym_base(acronym);
    if !aliases(acronym).is_empty() || !aliases(base).is_empty() {
        return true;
    }
    let needle = format!("({acronym})");
    let in_source = tokens(source).iter().any(|(_, w)| *w == acronym);
    if in_source && !source.contains(&needle) {
        return true;
    }
    let short: Vec<char> = base.chars().flat_map(char::to_lowercase).collect();
    source.match_indices(&needle).any(|(at, _)| {
        let words = clause_words(&source[..at]);
        let nearby = &words[words.len().saturating_sub(short.len() + 5)..];
        let long: Vec<char> = nearby
            .join(" ")
            .chars()
            .flat_map(char::to_lowercase)
            .collect();
        letters_in_order(&short, &long)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Lang;
    use crate::segment::SegmentId;

    fn rules(de: &str, en: &str) -> Vec<&'static str> {
        let pair = Pair::english(de, en);
        mismatches(&pair).into_iter().map(|f| f.rule).collect()
    }

    #[test]
    fn an_expansion_must_fit_its_acronym() {
        let ecb = "Die Europäische Zentralbank (EZB) hält die Zinsen.";
        assert_eq!(
            rules(ecb, "The European Central Bank (IMF) holds rates."),
            ["acronym-mismatch"]
        );
        assert!(rules(ecb, "The European Central Bank (ECB) holds rates.").is_empty());
        let found = mismatches(&Pair {
            id: SegmentId(0),
            source: ecb,
            draft: None,
            output: "The European Central Bank (IMF) holds rates.",
            target: Lang::En,
        });
        let span = found[0].output_span.clone().expect("located in the output");
        assert_eq!(span, 26..31);
    }

    #[test]
    fn acronym_in_parentheses_must_fit() {
        let de = "Googles Tensor-Verarbeitungseinheiten (TPUs).";
        assert_eq!(
            rules(de, "Google's tensor processing units (GPUs)."),
            ["acronym-mismatch"]
        );
        for fine in [
            "Google's Tensor Processing Units (TPUs).",
            "Google's graphics processors (GPUs).",
            "Google said the chips (TPUs) sold well.",
        ] {
            assert!(!rules(de, fine).contains(&"acronym-mismatch"), "{fine}");
        }
        let bsi = "Das Bundesamt für Sicherheit in der Informationstechnik (BSI) warnt.";
        assert_eq!(
            rules(
                bsi,
                "The Federal Office for Information Security (BSI) warns."
            ),
            Vec::<&str>::new()
        );
    }
}
