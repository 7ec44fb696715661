//! The fused-heading flag: scraped articles often lose the line break before a heading, so the
//! heading ends up as a short, title-like tail after the paragraph's last sentence
//! (`… keinen Raum für Fehler. Cloud-Kosten-Falle`). Only flagged, never moved: the tail might
//! be a real, if clumsy, last sentence.

use std::ops::Range;

use super::scan::{run_after, run_before};
use super::{Flag, Rule};

/// Words before a full stop that is not a sentence end; single letters (`z. B.`, `d. h.`) and
/// numbers (`3. Oktober`) are caught separately.
const ABBREVIATIONS: [&str; 26] = [
    "Abb", "Bd", "Co", "Dr", "Fr", "Hr", "Inc", "Jh", "Kap", "Ltd", "Mio", "Mrd", "Nr", "Prof",
    "St", "Str", "Tel", "bspw", "bzw", "ca", "evtl", "ggf", "inkl", "sog", "usw", "vgl",
];

const MAX_WORDS: usize = 6;
const MAX_CHARS: usize = 80;

pub(super) fn flags(text: &str, protected: &[Range<usize>]) -> Vec<Flag> {
    fused_heading(text, protected)
        .map(|range| Flag {
            message: format!(
                "possible heading fused onto the end of the paragraph: „{}“",
                &text[range.clone()]
            ),
            rule: Rule::FusedHeading,
            range,
        })
        .into_iter()
        .collect()
}

/// The byte range of a title-like tail after the last sentence end, on the same line.
fn fused_heading(text: &str, protected: &[Range<usize>]) -> Option<Range<usize>> {
    let body = text.trim_end();
    let end_mark = body.rfind(['.', '!', '?'])?;
    if body[end_mark..].starts_with('.') {
        let token = run_before(body, end_mark, char::is_alphanumeric).1;
        let not_a_sentence_end = token.is_empty()
            || token.chars().count() == 1
            || token.chars().all(|c| c.is_ascii_digit())
            || ABBREVIATIONS.contains(&token);
        if not_a_sentence_end {
            return None;
        }
    }
    let mut pos = end_mark + 1;
    pos += run_after(body, pos, |c| {
        matches!(c, '“' | '”' | '"' | '«' | '»' | '\'' | '’' | ')')
    })
    .len();
    let gap = run_after(body, pos, |c| c == ' ' || c == '\t');
    if gap.is_empty() {
        return None;
    }
    let start = pos + gap.len();
    let tail = &body[start..];
    let range = start..body.len();

    let words: Vec<&str> = tail.split_whitespace().filter(|w| *w != "–").collect();
    let sentence_before = body[..end_mark].split_whitespace().count() >= 3;
    let title_words = words.iter().all(|w| {
        w.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '–' | '&' | '\'' | '’'))
    });
    let capitalised = words
        .iter()
        .filter(|w| w.chars().next().is_some_and(char::is_uppercase))
        .count();
    let looks_like_heading = (1..=MAX_WORDS).contains(&words.len())
        && tail.chars().count() <= MAX_CHARS
        && !tail.contains(['\n', '\r'])
        && tail.chars().next().is_some_and(char::is_uppercase)
        && title_words
        && capitalised * 2 > words.len();
    let touches_protected = protected
        .iter()
        .any(|r| r.start < range.end && end_mark < r.end);
    (sentence_before && looks_like_heading && !touches_protected).then_some(range)
}

#[cfg(test)]
mod tests {
    use crate::repair::{Rule, repair};

    fn heading(input: &str) -> Option<String> {
        let r = repair(input, &[]);
        let flag = r.flags.iter().find(|f| f.rule == Rule::FusedHeading)?;
        Some(input[flag.range.clone()].to_owned())
    }

    #[test]
    fn title_like_tail_is_flagged() {
        let cases = [
            (
                "Die Rechnung lässt keinen Raum für Fehler. Cloud-Kosten-Falle",
                "Cloud-Kosten-Falle",
            ),
            (
                "Der Umbau dauert Jahre. Die Zukunft der Cloud",
                "Die Zukunft der Cloud",
            ),
            (
                "Sie fragte: „Warum nicht?“ Neue Wege im Vertrieb  ",
                "Neue Wege im Vertrieb",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(heading(input).as_deref(), Some(want), "{input}");
        }
        let r = repair(cases[0].0, &[]);
        assert!(r.repairs.is_empty(), "flag only, never moved");
        assert!(r.flags[0].message.contains("Cloud-Kosten-Falle"));
    }

    #[test]
    fn normal_endings_are_not_headings() {
        for clean in [
            "Der Umbau dauert Jahre. Das ist bekannt.",
            "Der Umbau dauert Jahre. Das ist gut",
            "Wir sahen uns am 3. Oktober",
            "Die Praxis von Dr. Müller",
            "Das gilt z. B. Montags",
            "Mehr dazu steht hier. Siehe https://example.org/Info",
            "Vielen Dank für Ihre Geduld.\nMit freundlichen Grüßen\nAnna Schmidt",
            "Überschrift ohne Satz",
        ] {
            assert_eq!(heading(clean), None, "{clean}");
        }
    }
}
