//! `quotes = "straight"`: the curly quotation marks and apostrophes of a result made straight
//! (`“…”` and `„…“` become `"…"`, `‘`, `’` and `‚` become `'`), except inside the protected spans
//! that came back verbatim (code, URLs), which are never changed. Applied to results after the
//! cache, so the setting changes no cache key and switching it sends nothing. Pure text, below
//! both the pipeline, which straightens results, and the cache, whose refine decisions compare
//! texts with their marks folded.

use std::ops::Range;

/// Double quotation marks made `"`.
const DOUBLE: [char; 4] = ['“', '”', '„', '‟'];
/// Single quotation marks and apostrophes made `'`.
const SINGLE: [char; 4] = ['‘', '’', '‚', '‛'];

/// `text` with straight quotation marks, leaving every occurrence of a `kept` span alone.
pub(crate) fn straighten(text: &str, kept: &[&str]) -> String {
    if !text.contains(|c| DOUBLE.contains(&c) || SINGLE.contains(&c)) {
        return text.to_owned();
    }
    let spans: Vec<Range<usize>> = kept
        .iter()
        .filter(|span| !span.is_empty())
        .flat_map(|span| text.match_indices(span).map(|(at, s)| at..at + s.len()))
        .collect();
    text.char_indices()
        .map(|(at, c)| {
            if spans.iter().any(|s| s.contains(&at)) {
                c
            } else {
                fold(c)
            }
        })
        .collect()
}

/// A curly quotation mark or apostrophe made straight; any other character as it is.
fn fold(c: char) -> char {
    if DOUBLE.contains(&c) {
        '"'
    } else if SINGLE.contains(&c) {
        '\''
    } else {
        c
    }
}

/// `text` with every quotation mark and apostrophe straight, protected spans included: for
/// comparing texts regardless of `quotes`.
pub(crate) fn folded(text: &str) -> String {
    text.chars().map(fold).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curly_marks_and_apostrophes_become_straight() {
        assert_eq!(
            straighten("He said: “It’s ‘done’.” „Gut“, ‚ja‘", &[]),
            "He said: \"It's 'done'.\" \"Gut\", 'ja'"
        );
        assert_eq!(straighten("No quotes here.", &[]), "No quotes here.");
        // Guillemets are a style of their own, not curly quotes.
        assert_eq!(straighten("»Ja«", &[]), "»Ja«");
    }

    #[test]
    fn protected_spans_keep_their_marks() {
        let code = "`s.replace(\"’\", \"'\")`";
        let text = format!("Use {code} for “smart” apostrophes.");
        assert_eq!(
            straighten(&text, &[code]),
            format!("Use {code} for \"smart\" apostrophes.")
        );
    }
}
