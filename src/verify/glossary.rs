//! The glossary check: every term whose German form occurs in the source must appear in the
//! English output as the glossary says. Case does not matter for a translated term
//! ("copilot" for "Copilot" at a sentence start is fine); a term mapped to itself must appear
//! exactly as written, because keeping its spelling is the point of such an entry.

use super::text::contains_term;
use super::{Check, Finding, Pair, Severity};
use crate::glossary::{Glossary, Term};

pub(super) fn check(pair: &Pair, glossary: &Glossary) -> Vec<Finding> {
    glossary
        .hits(pair.source)
        .into_iter()
        .filter(|term| !used(term, pair.output))
        .map(|term| {
            let message = if term.keeps() {
                format!("glossary: \"{}\" must stay as written", term.de)
            } else {
                format!(
                    "glossary: \"{}\" should be rendered as \"{}\"",
                    term.de, term.en
                )
            };
            let finding = Finding::new(
                pair.id,
                Check::Glossary,
                "glossary-miss",
                Severity::Warning,
                message,
            );
            match find_ignoring_case(pair.source, &term.de) {
                Some(at) => finding.in_source(at..at + term.de.len()),
                None => finding,
            }
        })
        .collect()
}

fn used(term: &Term, output: &str) -> bool {
    if term.keeps() {
        output.contains(&term.en)
    } else {
        contains_term(output, &term.en)
    }
}

/// Where `needle` first occurs in `text`, ignoring ASCII case (enough to point at a term).
fn find_ignoring_case(text: &str, needle: &str) -> Option<usize> {
    (0..text.len())
        .filter(|&i| text.is_char_boundary(i))
        .find(|&i| {
            text.get(i..i + needle.len())
                .is_some_and(|s| s.eq_ignore_ascii_case(needle))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn misses(de: &str, en: &str, terms: &[(&str, &str)]) -> Vec<String> {
        let glossary = Glossary::from_terms(terms.iter().map(|(d, e)| Term::new(*d, *e)).collect());
        let pair = Pair::english(de, en);
        check(&pair, &glossary)
            .into_iter()
            .map(|f| f.message)
            .collect()
    }

    #[test]
    fn translated_terms_ignore_case_and_plural() {
        let terms = [("Kopilot", "Copilot"), ("Der Rand", "The Verge")];
        assert!(misses("Der Kopilot hilft.", "copilot helps.", &terms).is_empty());
        assert!(misses("Die Kopiloten helfen.", "The Copilots help.", &terms).is_empty());
        assert!(
            misses(
                "Laut Der Rand ist es so.",
                "According to The Verge, it is.",
                &terms
            )
            .is_empty()
        );
        let missed = misses(
            "Laut Der Rand ist es so.",
            "According to The Edge, it is.",
            &terms,
        );
        assert_eq!(missed.len(), 1);
        assert!(missed[0].contains("The Verge"));
    }

    #[test]
    fn kept_terms_must_match_exactly() {
        let terms = [("BahnCard", "BahnCard")];
        assert!(misses("Mit der BahnCard.", "With the BahnCard.", &terms).is_empty());
        assert_eq!(
            misses("Mit der BahnCard.", "With the rail card.", &terms).len(),
            1
        );
    }
}
