//! Small text scans the checks share: word tokens with their byte spans (the one tokenizer of
//! `verify`), a case-insensitive search for a term at a word start, and a conservative sentence
//! splitter for German.

use std::ops::Range;

/// Maximal runs of letters and digits, with their byte ranges. Hyphens, dots and apostrophes
/// split, so `KI-Chips` gives `KI` and `Chips`.
pub(super) fn tokens(text: &str) -> Vec<(Range<usize>, &str)> {
    let mut found = Vec::new();
    let mut start: Option<usize> = None;
    for (i, c) in text
        .char_indices()
        .chain(std::iter::once((text.len(), ' ')))
    {
        if c.is_alphanumeric() {
            start.get_or_insert(i);
        } else if let Some(s) = start.take() {
            found.push((s..i, &text[s..i]));
        }
    }
    found
}

/// The words of `text`, lower-cased: [`tokens`] without their spans.
pub(super) fn words(text: &str) -> Vec<String> {
    tokens(text)
        .into_iter()
        .map(|(_, word)| word.to_lowercase())
        .collect()
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric()
}

/// Whether `needle` occurs in `haystack`, ignoring case, starting a word and ending one; the
/// word may go on with a plural `s`/`es` (`TPU` is found in "TPUs", `GB300` in "GB300s").
/// Ends that are not letters or digits (`u.s.`, `$`) need no boundary.
pub(super) fn contains_term(haystack: &str, needle: &str) -> bool {
    let (hay, needle) = (haystack.to_lowercase(), needle.to_lowercase());
    if needle.is_empty() {
        return false;
    }
    let needs_start = needle.chars().next().is_some_and(is_word_char);
    let needs_end = needle.chars().next_back().is_some_and(is_word_char);
    let free = |s: &str| !s.chars().next().is_some_and(is_word_char);
    hay.match_indices(&needle).any(|(at, _)| {
        let start_ok = !needs_start || !hay[..at].chars().next_back().is_some_and(is_word_char);
        let tail = &hay[at + needle.len()..];
        let end_ok = !needs_end
            || free(tail)
            || ["s", "es"]
                .iter()
                .any(|e| tail.strip_prefix(e).is_some_and(free));
        start_ok && end_ok
    })
}

/// Words before a full stop that does not end a sentence, German and English.
const ABBREVIATIONS: [&str; 35] = [
    "Abb", "Co", "Corp", "Dr", "Fig", "Fr", "Hr", "Inc", "Jh", "Jr", "Ltd", "Mio", "Mr", "Mrd",
    "Mrs", "Ms", "No", "Nr", "Prof", "Sr", "St", "Str", "Tsd", "approx", "bspw", "bzw", "ca",
    "etc", "evtl", "ggf", "inkl", "sog", "usw", "vgl", "vs",
];

/// Sentences of `text` as byte ranges, trimmed. A sentence ends at `.`, `!`, `?` or `…` (and
/// any closing quotes or brackets after it) before whitespace, or at a line break. A full stop
/// after a single letter, a number of one or two digits (an ordinal) or a common abbreviation
/// (`z. B.`, `U.S.`, `3. Mai`, `Dr.`, `Mr.`) does not end one; nor does one inside a number
/// (`1.4`).
pub(crate) fn sentences(text: &str) -> Vec<Range<usize>> {
    let mut found = Vec::new();
    let mut start = 0;
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    for (k, &(i, c)) in chars.iter().enumerate() {
        let end = if c == '\n' {
            Some(i)
        } else if matches!(c, '.' | '!' | '?' | '…') {
            let mut j = k + 1;
            while chars
                .get(j)
                .is_some_and(|&(_, n)| matches!(n, '"' | '“' | '”' | '«' | '»' | '’' | ')' | ']'))
            {
                j += 1;
            }
            let before_space = chars.get(j).is_none_or(|&(_, n)| n.is_whitespace());
            let end = chars.get(j).map_or(text.len(), |&(at, _)| at);
            (before_space && (c != '.' || ends_sentence_at(text, i))).then_some(end)
        } else {
            None
        };
        if let Some(end) = end
            && end > start
        {
            push_trimmed(text, start..end, &mut found);
            start = end;
        }
    }
    push_trimmed(text, start..text.len(), &mut found);
    found
}

fn push_trimmed(text: &str, range: Range<usize>, out: &mut Vec<Range<usize>>) {
    let piece = &text[range.clone()];
    let lead = piece.len() - piece.trim_start().len();
    let trimmed = piece.trim();
    if !trimmed.is_empty() {
        let start = range.start + lead;
        out.push(start..start + trimmed.len());
    }
}

/// Whether the full stop at `dot` ends a sentence rather than an abbreviation or ordinal. A
/// year (`in 2024.`) or a product number (`Office 365.`) ends one; `3.` and `19.` are
/// ordinals.
fn ends_sentence_at(text: &str, dot: usize) -> bool {
    let word: &str = text[..dot]
        .rsplit(|c: char| !c.is_alphanumeric())
        .next()
        .unwrap_or_default();
    !(word.is_empty()
        || word.chars().count() == 1
        || (word.len() <= 2 && word.chars().all(|c| c.is_ascii_digit()))
        || ABBREVIATIONS.contains(&word))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_split_on_hyphens_and_dots() {
        let words: Vec<&str> = tokens("KI-Chips für das.NET (TPUs)")
            .into_iter()
            .map(|(_, w)| w)
            .collect();
        assert_eq!(words, ["KI", "Chips", "für", "das", "NET", "TPUs"]);
    }

    #[test]
    fn terms_are_found_at_word_starts_with_plurals() {
        assert!(contains_term("Google's TPUs are fast", "TPU"));
        assert!(contains_term("OpenAI's model", "openai"));
        assert!(contains_term("the U.S. market", "u.s."));
        assert!(!contains_term("the GB3000 rack", "GB300"));
        assert!(!contains_term("aircraft", "ai"));
    }

    #[test]
    fn sentences_skip_abbreviations_and_ordinals() {
        let text = "Am 3. Mai kam z. B. Dr. Weber. Er sagte: „Gut.“ Dann ging er.\nNeue Zeile";
        let got: Vec<&str> = sentences(text).into_iter().map(|r| &text[r]).collect();
        assert_eq!(
            got,
            [
                "Am 3. Mai kam z. B. Dr. Weber.",
                "Er sagte: „Gut.“",
                "Dann ging er.",
                "Neue Zeile"
            ]
        );
    }

    #[test]
    fn english_sentences_skip_abbreviations_and_decimals() {
        let text = "The U.S. firm grew 1.4 percent, e.g. in Ohio. Mr. Smith left in 2024. Fine.";
        let got: Vec<&str> = sentences(text).into_iter().map(|r| &text[r]).collect();
        assert_eq!(
            got,
            [
                "The U.S. firm grew 1.4 percent, e.g. in Ohio.",
                "Mr. Smith left in 2024.",
                "Fine."
            ]
        );
    }
}
