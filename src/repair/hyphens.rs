//! Rules on hyphens: a suspended hyphen glued to the conjunction (`AWS-und Azure`), a hyphen
//! standing for a clause dash (`können-wir haben`, `Wort - Wort`), and a stray space before a
//! compound hyphen (`CD -ROM`). Real compounds (`E-Mail`, `schwarz-weiß`, `Ich-Erzähler`) never
//! match: every trigger needs a word from a closed list or a space where a compound has none.

use super::Rule;
use super::edit::EditSet;
use super::scan::{char_at, char_before, run_after, run_before};

/// Conjunctions after which a suspended hyphen (`Ein- und Ausgang`) stands.
const SUSPENDING: [&str; 4] = ["und", "oder", "bzw.", "sowie"];

/// Words that start a new clause and are never the second half of a compound.
/// `und`/`oder` are left to the suspended-hyphen rule: adding the missing space never harms a
/// real suspended compound, while a dash would.
const CLAUSE_STARTS: [&str; 19] = [
    "wir", "ich", "du", "er", "sie", "es", "ihr", "man", "aber", "doch", "denn", "dann", "das",
    "die", "der", "dies", "was", "wenn", "weil",
];

/// The word-like token starting at `pos` (letters, and a final dot for `bzw.`), if followed
/// by whitespace.
fn word_then_space(text: &str, pos: usize) -> Option<&str> {
    let letters = run_after(text, pos, char::is_alphabetic);
    let with_dot = if char_at(text, pos + letters.len()) == Some('.') {
        &text[pos..pos + letters.len() + 1]
    } else {
        letters
    };
    [with_dot, letters].into_iter().find(|candidate| {
        !candidate.is_empty()
            && char_at(text, pos + candidate.len()).is_some_and(char::is_whitespace)
    })
}

/// `AWS-und Azure` → `AWS- und Azure`.
pub(super) fn suspended_hyphen(text: &str, edits: &mut EditSet) {
    for (pos, _) in text.match_indices('-') {
        if !char_before(text, pos).is_some_and(char::is_alphanumeric) {
            continue;
        }
        if word_then_space(text, pos + 1).is_some_and(|w| SUSPENDING.contains(&w)) {
            edits.propose(Rule::SuspendedHyphen, pos..pos + 1, "- ");
        }
    }
}

/// `können-wir haben` → `können – wir haben`; `Wort - Wort` → `Wort – Wort`.
pub(super) fn clause_dash(text: &str, edits: &mut EditSet) {
    for (pos, _) in text.match_indices('-') {
        if glued_clause_dash(text, pos) {
            edits.propose(Rule::ClauseDash, pos..pos + 1, " – ");
        } else if spaced_clause_dash(text, pos) {
            edits.propose(Rule::ClauseDash, pos..pos + 1, "–");
        }
    }
}

/// A lowercase word of three or more letters, the hyphen, then a clause-starting word.
fn glued_clause_dash(text: &str, pos: usize) -> bool {
    let (word_start, word) = run_before(text, pos, char::is_alphabetic);
    let whole_word = char_before(text, word_start).is_none_or(|c| !c.is_alphanumeric() && c != '-');
    whole_word
        && word.chars().count() >= 3
        && word.chars().all(char::is_lowercase)
        && word_then_space(text, pos + 1).is_some_and(|w| CLAUSE_STARTS.contains(&w))
}

/// ` - ` with a word (or number) before and a word after, on one line. A list marker at the
/// start of a line has no word before it on that line, so it never matches.
fn spaced_clause_dash(text: &str, pos: usize) -> bool {
    let before = pos.checked_sub(1).and_then(|p| char_before(text, p));
    char_before(text, pos) == Some(' ')
        && char_at(text, pos + 1) == Some(' ')
        && before.is_some_and(char::is_alphanumeric)
        && char_at(text, pos + 2).is_some_and(char::is_alphabetic)
}

/// `CD -ROM` → `CD-ROM`, `USB -Stick` → `USB-Stick`: an acronym, one space, then a hyphen
/// glued to a capitalised word.
pub(super) fn spaced_hyphen(text: &str, edits: &mut EditSet) {
    for (pos, _) in text.match_indices(" -") {
        let (token_start, acronym) = run_before(text, pos, char::is_alphanumeric);
        let is_acronym = acronym.chars().count() >= 2
            && acronym
                .chars()
                .all(|c| c.is_uppercase() || c.is_ascii_digit())
            && acronym.chars().any(char::is_uppercase)
            && char_before(text, token_start).is_none_or(|c| !c.is_alphanumeric() && c != '-');
        let tail = run_after(text, pos + 2, char::is_alphanumeric);
        let joins_word =
            tail.chars().count() >= 2 && tail.chars().next().is_some_and(char::is_uppercase);
        if is_acronym && joins_word {
            edits.propose(Rule::SpacedHyphen, pos..pos + 2, "-");
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::repair::{Rule, repair};

    fn fixed(input: &str) -> String {
        repair(input, &[]).text
    }

    fn fires(input: &str) -> bool {
        !repair(input, &[]).repairs.is_empty()
    }

    #[test]
    fn suspended_hyphen_gets_its_space() {
        let cases = [
            ("das AWS-und Azure-Duopol", "das AWS- und Azure-Duopol"),
            ("Ein-oder Ausgang", "Ein- oder Ausgang"),
            ("Import-bzw. Exportdaten", "Import- bzw. Exportdaten"),
            ("Bild-sowie Tonqualität", "Bild- sowie Tonqualität"),
            (
                "wirtschafts-und sozialpolitisch",
                "wirtschafts- und sozialpolitisch",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(fixed(input), want, "{input}");
            assert_eq!(repair(input, &[]).repairs[0].rule, Rule::SuspendedHyphen);
        }
        for clean in [
            "Ein- und Ausgang",
            "Frage-und-Antwort-Spiel",
            "Rock-und-Pop-Abend",
        ] {
            assert!(!fires(clean), "{clean}");
        }
    }

    #[test]
    fn clause_dash_from_hyphen() {
        let cases = [
            (
                "Modelle bereitstellen können-wir haben keine.",
                "Modelle bereitstellen können – wir haben keine.",
            ),
            (
                "Es regnete-aber wir gingen.",
                "Es regnete – aber wir gingen.",
            ),
            ("Der Plan - er war gut.", "Der Plan – er war gut."),
        ];
        for (input, want) in cases {
            assert_eq!(fixed(input), want, "{input}");
        }
    }

    #[test]
    fn compounds_are_not_clause_dashes() {
        for clean in [
            "ein schwarz-weiß gedrucktes Heft",
            "die deutsch-französische Grenze",
            "per E-Mail an die AWS-Dienste",
            "der Ich-Erzähler im Nord-Süd-Gefälle",
            "Sie klopfte 2-mal.",
            "- erster Punkt\n- zweiter Punkt",
            "Seiten 3 - 5",
            "ein Kopf-an-Kopf-Rennen",
        ] {
            assert!(!fires(clean), "{clean}");
        }
    }

    #[test]
    fn spaced_hyphen_rejoins_compound() {
        assert_eq!(
            fixed("eine CD -ROM und ein USB -Stick"),
            "eine CD-ROM und ein USB-Stick"
        );
        for clean in [
            "die Option -v",
            "Er rief -Halt",
            "der Preis -5 Euro",
            "CD - ROM",
        ] {
            assert!(
                repair(clean, &[])
                    .repairs
                    .iter()
                    .all(|r| r.rule != Rule::SpacedHyphen),
                "{clean}"
            );
        }
    }
}
