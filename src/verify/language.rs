//! The language check for English output: the output is not German (residue), does not repeat
//! the source (echo), and does not leave a German sentence untranslated. The word heuristics
//! are in [`super::residue`]. One finding per segment at most: an echo is also German, and
//! an untranslated sentence is also residue.

use super::residue::{is_echo, residue};
use super::text::{sentences, words};
use super::{Check, Finding, Pair, Severity};

/// A copied sentence counts from this many words: short ones ("Microsoft Azure.") may stay.
const COPIED_SENTENCE_WORDS: usize = 5;

pub(super) fn check(pair: &Pair) -> Option<Finding> {
    let finding = |rule, message: String| {
        Finding::new(pair.id, Check::Language, rule, Severity::Error, message)
    };
    if pair.output.trim().is_empty() {
        return (!pair.source.trim().is_empty())
            .then(|| finding("untranslated", "the output is empty".to_owned()));
    }
    if is_echo(pair.source, pair.output) {
        return Some(finding(
            "echo",
            "the output repeats the German source instead of translating it".to_owned(),
        ));
    }
    if let Some(span) = copied_sentence(pair) {
        let start = &pair.source[span.clone()];
        let message = format!("a German sentence was left untranslated: \"{start}\"");
        return Some(finding("untranslated", message).in_source(span));
    }
    if let Some(span) = german_sentence(pair.output) {
        let sentence = &pair.output[span.clone()];
        let message = format!("a sentence of the output is German: \"{sentence}\"");
        return Some(finding("untranslated", message).in_output(span));
    }
    let found = residue(pair.output);
    found.is_german().then(|| {
        let message = format!(
            "the output reads as German: {} of {} words are German function words",
            found.german, found.words
        );
        finding("german-residue", message)
    })
}

/// A sentence of the output that reads as German, even if not copied word for word (a German
/// sentence left at the end of an English paragraph). Only when the rest is not German too:
/// a wholly German output is residue.
fn german_sentence(output: &str) -> Option<std::ops::Range<usize>> {
    let spans = sentences(output);
    if spans.len() < 2 {
        return None;
    }
    spans.into_iter().find(|span| {
        let sentence = &output[span.clone()];
        words(sentence).len() >= COPIED_SENTENCE_WORDS && residue(sentence).is_german()
    })
}

/// A German sentence of the source that reappears word for word in the output.
fn copied_sentence(pair: &Pair) -> Option<std::ops::Range<usize>> {
    let output_words = words(pair.output);
    sentences(pair.source).into_iter().find(|span| {
        let sentence = &pair.source[span.clone()];
        let wanted = words(sentence);
        wanted.len() >= COPIED_SENTENCE_WORDS
            && residue(sentence).german >= 2
            && output_words
                .windows(wanted.len())
                .any(|window| window == wanted.as_slice())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(de: &str, en: &str) -> Option<&'static str> {
        let pair = Pair::english(de, en);
        check(&pair).map(|f| f.rule)
    }

    #[test]
    fn residue_echo_and_untranslated() {
        let de = "Die Kosten für den Ausbau werden weiter steigen, sagte der Minister.";
        assert_eq!(rule(de, de), Some("echo"));
        assert_eq!(
            rule(
                de,
                "The minister said that die Kosten für den Ausbau werden steigen."
            ),
            Some("german-residue")
        );
        assert_eq!(rule(de, "  "), Some("untranslated"));
        let two = "Der Zug ist pünktlich. Die Fahrgäste sind mit dem Service nicht zufrieden.";
        assert_eq!(
            rule(
                two,
                "The train is on time. Die Fahrgäste sind mit dem Service nicht zufrieden."
            ),
            Some("untranslated")
        );
    }

    /// A German sentence left at the end of an English paragraph, not copied from the source.
    #[test]
    fn a_german_sentence_at_the_end_is_caught() {
        let de = "Der Zug ist pünktlich. Die Fahrgäste sind mit dem Service sehr zufrieden.";
        let en = "The train is on time. Die Reisenden sind mit dem Angebot nicht zufrieden.";
        assert_eq!(rule(de, en), Some("untranslated"));
        let fine = "The train is on time. Passengers are very happy with the service.";
        assert_eq!(rule(de, fine), None);
    }

    #[test]
    fn english_with_german_names_is_clean() {
        let de = "Die Deutsche Bahn und die Bundesregierung streiten über „Das Boot“.";
        let en = "Deutsche Bahn and the federal government are arguing about \"Das Boot\".";
        assert_eq!(rule(de, en), None);
        assert_eq!(rule("Microsoft Azure", "Microsoft Azure"), None);
    }
}
