//! The form check: the output's shape against the source's. Length ratio, paired quotation
//! marks, model commentary and refusals (the reply validator's detection, excused when the
//! source accounts for the phrase), a sentence cut off at the end, and one output segment per
//! input segment.

use std::ops::Range;

use super::commentary::commentary_with_source;
use super::{Check, Finding, Pair, Severity};
use crate::repair::{self, Rule};

/// Below this many characters a source is too short for a length ratio to mean anything.
const MIN_RATIO_CHARS: usize = 40;
const MIN_RATIO: f64 = 0.5;
const MAX_RATIO: f64 = 2.0;

/// Labels `commentary_with_source` gives to refusal text rather than commentary.
const REFUSAL_LABELS: [&str; 3] = ["I'm sorry", "I cannot", "As an AI"];

pub(super) fn check(pair: &Pair) -> Vec<Finding> {
    let mut findings = Vec::new();
    let finding = |rule, severity, message: String| {
        Finding::new(pair.id, Check::Form, rule, severity, message)
    };
    if let Some(label) = commentary_with_source(pair.source, pair.output) {
        let (rule, what) = if REFUSAL_LABELS.contains(&label) {
            ("refusal", "refusal")
        } else {
            ("commentary", "model commentary")
        };
        findings.push(finding(
            rule,
            Severity::Error,
            format!("the output contains {what} (\"{label}\")"),
        ));
    }
    if pair.output.trim().is_empty() {
        return findings; // the language check reports it; nothing else to measure
    }
    let (src_chars, out_chars) = (pair.source.chars().count(), pair.output.chars().count());
    if src_chars >= MIN_RATIO_CHARS {
        let ratio = out_chars as f64 / src_chars as f64;
        if !(MIN_RATIO..=MAX_RATIO).contains(&ratio) {
            let message = format!(
                "the output is {ratio:.2} times as long as the source ({out_chars} vs {src_chars} characters)"
            );
            findings.push(finding("length-ratio", Severity::Warning, message));
        }
    }
    if let Some(at) = unpaired_quote(pair.output)
        && source_quotes_pair(pair.source)
        // Markup or code the source carries too (`version="1.0"`) pairs no better there.
        && unpaired_quote(pair.source).is_none()
    {
        let glyph_len = pair.output[at..].chars().next().map_or(1, char::len_utf8);
        findings.push(
            finding(
                "unbalanced-quotes",
                Severity::Warning,
                "a quotation mark in the output has no partner".to_owned(),
            )
            .in_output(at..at + glyph_len),
        );
    }
    if ends_sentence(pair.source)
        && let Some(end) = open_end(pair.output)
        && looks_cut_off(pair.source, pair.output)
    {
        findings.push(
            finding(
                "truncated",
                Severity::Warning,
                "the output ends mid-sentence; the source ends with a full sentence".to_owned(),
            )
            .in_output(end),
        );
    }
    findings
}

/// One output segment per input segment.
pub(super) fn counts(source_segments: usize, output_segments: usize) -> Vec<Finding> {
    if source_segments == output_segments {
        return Vec::new();
    }
    let message = format!(
        "{output_segments} output segments for {source_segments} source segments; \
         each paragraph must come back as one"
    );
    vec![Finding::document(
        Check::Form,
        "segment-count",
        Severity::Error,
        message,
    )]
}

/// A source whose own quotes cannot be paired (a quotation that runs on into the next
/// paragraph, or MT damage) excuses the same in the output.
fn source_quotes_pair(source: &str) -> bool {
    !repair::repair(source, &[])
        .flags
        .iter()
        .any(|f| f.rule == Rule::QuoteStyle)
}

/// Byte offset of the first double quotation mark that cannot be paired. `„` and `“` open
/// (`“` closes a German `„`), `”` closes; a straight `"` opens after a space or bracket and
/// closes elsewhere, except after a digit (`27"` is inches).
pub(super) fn unpaired_quote(text: &str) -> Option<usize> {
    let mut open: Vec<(usize, char)> = Vec::new();
    let mut prev: Option<char> = None;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let next = chars.peek().map(|&(_, n)| n);
        // `27"` is inches, unless a straight quote is open: `"E5"` closes it.
        let straight_open = open.last().is_some_and(|&(_, o)| o == '"');
        let inches = !straight_open
            && prev.is_some_and(|p| p.is_ascii_digit())
            && next.is_none_or(|n| !n.is_alphanumeric());
        let opens_here =
            prev.is_none_or(|p| p.is_whitespace() || matches!(p, '(' | '[' | '—' | '–' | '-'));
        match c {
            '„' => open.push((i, c)),
            '“' if open.last().is_some_and(|&(_, o)| o == '„') => {
                open.pop();
            }
            '“' => open.push((i, c)),
            '"' if inches => {}
            '"' if opens_here => open.push((i, c)),
            '”' | '"' if open.is_empty() => return Some(i),
            '”' | '"' => {
                open.pop();
            }
            _ => {}
        }
        prev = Some(c);
    }
    open.first().map(|&(i, _)| i)
}

/// Marks that may follow the final punctuation of a sentence.
fn is_trailing_mark(c: char) -> bool {
    matches!(
        c,
        '"' | '“' | '”' | '»' | '«' | '\'' | '’' | ')' | ']' | '*' | '_'
    )
}

/// Whether the text ends with terminal punctuation (before any closing quotes or brackets).
fn ends_sentence(text: &str) -> bool {
    text.trim_end()
        .trim_end_matches(is_trailing_mark)
        .ends_with(['.', '!', '?', '…'])
}

/// An output without a closing stop is cut off when it ends on a comma, colon, dash or a
/// word that cannot end an English sentence, or is far shorter than its source; a caption or
/// list line a writer left without a stop ("… next to a job") is not.
fn looks_cut_off(source: &str, output: &str) -> bool {
    // English, and German for `--to de`.
    const OPEN_WORDS: [&str; 44] = [
        "a", "an", "the", "and", "or", "but", "of", "to", "in", "on", "at", "by", "for", "with",
        "from", "as", "that", "which", "is", "are", "was", "were", "be", "its", "der", "die",
        "das", "den", "dem", "des", "ein", "eine", "und", "oder", "aber", "mit", "von", "zu", "im",
        "am", "beim", "für", "auf", "dass",
    ];
    let body = output.trim_end();
    if body.ends_with([',', ';', ':', '-', '–', '—', '(']) {
        return true;
    }
    let last_word = body
        .rsplit(|c: char| !c.is_alphanumeric())
        .find(|w| !w.is_empty())
        .map(str::to_lowercase)
        .unwrap_or_default();
    let short = (body.chars().count() as f64) < source.trim().chars().count() as f64 * 0.45;
    OPEN_WORDS.contains(&last_word.as_str()) || short
}

/// The last character's span when the text stops without terminal punctuation.
fn open_end(text: &str) -> Option<Range<usize>> {
    if ends_sentence(text) {
        return None;
    }
    let body = text.trim_end();
    let last = body.chars().next_back()?;
    Some(body.len() - last.len_utf8()..body.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(de: &str, en: &str) -> Vec<&'static str> {
        let pair = Pair::english(de, en);
        check(&pair).into_iter().map(|f| f.rule).collect()
    }

    const DE: &str = "Der Konzern meldete am Dienstag einen deutlichen Gewinnanstieg.";

    #[test]
    fn clean_output_has_no_form_findings() {
        assert!(rules(DE, "The group reported a sharp rise in profit on Tuesday.").is_empty());
        assert!(rules("Kurz.", "Short.").is_empty());
        assert!(
            rules(
                "Er nannte den Film „Das Boot“ ein Meisterwerk.",
                "He called the film \"Das Boot\" a masterpiece."
            )
            .is_empty()
        );
    }

    #[test]
    fn length_ratio_bounds() {
        assert_eq!(rules(DE, "Profit rose."), ["length-ratio"]);
        let long = "The group, which is one of the largest in the country and employs thousands, \
                    reported on Tuesday a sharp and unexpected rise in profit for the quarter.";
        assert_eq!(rules(DE, long), ["length-ratio"]);
    }

    #[test]
    fn commentary_and_refusal() {
        assert_eq!(
            rules(
                DE,
                "Here is the translation:\nThe group reported a rise in profit."
            ),
            ["commentary"]
        );
        assert_eq!(
            rules(DE, "I'm sorry, but I cannot translate this text for you."),
            ["refusal"]
        );
        let first_person = "„Es tut mir leid“, sagte sie.";
        assert!(rules(first_person, "\"I'm sorry,\" she said.").is_empty());
    }

    #[test]
    fn quotes_and_truncation() {
        assert_eq!(
            rules("Sie sagte: „Wir bleiben.“", "She said: \"We are staying."),
            ["unbalanced-quotes"]
        );
        assert_eq!(unpaired_quote("A 27\" screen and “quoted” text."), None);
        assert_eq!(
            unpaired_quote("the Enterprise Suite, \"E5\", and more"),
            None
        );
        assert_eq!(unpaired_quote("He said ”no“."), Some(8));
        assert_eq!(
            rules(DE, "The group reported on Tuesday a sharp rise in profit,"),
            ["truncated"]
        );
        assert_eq!(
            rules(DE, "The group reported on Tuesday a sharp rise in"),
            ["truncated"]
        );
        assert!(rules("Überschrift ohne Punkt", "Heading without a stop").is_empty());
        // A line a writer left without a stop, as human originals have them.
        assert!(
            rules(
                "Das Menü finden Sie, indem Sie auf das Symbol neben einem Job klicken.",
                "The menu is found by clicking the icon next to a job"
            )
            .is_empty()
        );
        assert!(rules(DE, "The group reported").contains(&"truncated"));
    }

    #[test]
    fn segment_count() {
        assert!(counts(3, 3).is_empty());
        let found = counts(3, 2);
        assert_eq!(found[0].rule, "segment-count");
        assert_eq!(found[0].severity, Severity::Error);
    }
}
