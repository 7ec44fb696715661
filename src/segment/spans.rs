//! Bare URLs and e-mail addresses in running text, found so they can be protected: a
//! translation must never touch them. Also the small range arithmetic protected spans need.

use std::ops::Range;

/// URL and e-mail spans in `text`, sorted and non-overlapping, relative to `text`.
pub(super) fn bare_links(text: &str) -> Vec<Range<usize>> {
    let mut found = urls(text);
    found.extend(emails(text));
    merge(found)
}

/// Sorts ranges and merges those that overlap or touch; drops empty ones.
pub(super) fn merge(mut ranges: Vec<Range<usize>>) -> Vec<Range<usize>> {
    ranges.retain(|r| r.start < r.end);
    ranges.sort_by_key(|r| (r.start, r.end));
    let mut merged: Vec<Range<usize>> = Vec::with_capacity(ranges.len());
    for r in ranges {
        match merged.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => merged.push(r),
        }
    }
    merged
}

const URL_PREFIXES: [&str; 3] = ["https://", "http://", "www."];

/// `http://`, `https://` and `www.` links up to whitespace, minus trailing punctuation that
/// belongs to the sentence (`.,;:!?`, closing quotes, an unbalanced `)` or `]`).
fn urls(text: &str) -> Vec<Range<usize>> {
    let mut found = Vec::new();
    let mut resume = 0;
    for (start, _) in text.char_indices() {
        if start < resume || !starts_word(text, start) {
            continue;
        }
        let Some(prefix) = URL_PREFIXES.iter().find(|p| {
            text.get(start..start + p.len())
                .is_some_and(|s| s.eq_ignore_ascii_case(p))
        }) else {
            continue;
        };
        let rest = &text[start..];
        let raw_len = rest.find(ends_url).unwrap_or(rest.len());
        let len = trim_url_tail(&rest[..raw_len]);
        // `www.` or `http://` alone is a word, not a link.
        let after_prefix = rest.get(prefix.len()..len).unwrap_or_default();
        if after_prefix.chars().any(char::is_alphanumeric) {
            found.push(start..start + len);
            resume = start + len;
        }
    }
    found
}

fn starts_word(text: &str, at: usize) -> bool {
    text[..at]
        .chars()
        .next_back()
        .is_none_or(|c| !(c.is_alphanumeric() || c == '/' || c == '.' || c == '@'))
}

/// Characters that can never be part of a URL written in running text.
fn ends_url(c: char) -> bool {
    c.is_whitespace() || matches!(c, '<' | '>' | '"' | '`' | '„' | '“' | '”' | '«' | '»')
}

/// Length of `url` once sentence punctuation glued to its end is cut off.
fn trim_url_tail(url: &str) -> usize {
    // Counted once, updated as brackets are cut: recounting per character is quadratic.
    let mut parens = bracket_excess(url, '(', ')');
    let mut squares = bracket_excess(url, '[', ']');
    let mut end = url.len();
    while let Some(c) = url[..end].chars().next_back() {
        let strip = match c {
            '.' | ',' | ';' | ':' | '!' | '?' | '\'' | '’' | '‘' | '›' | '‹' | '*' => true,
            ')' if parens > 0 => {
                parens -= 1;
                true
            }
            ']' if squares > 0 => {
                squares -= 1;
                true
            }
            _ => false,
        };
        if !strip {
            break;
        }
        end -= c.len_utf8();
    }
    end
}

/// How many more closing than opening brackets `s` has.
fn bracket_excess(s: &str, open: char, close: char) -> usize {
    s.matches(close)
        .count()
        .saturating_sub(s.matches(open).count())
}

fn is_local_part(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '%' | '+' | '-')
}

fn is_domain(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '-')
}

/// `name@example.org` (with a `mailto:` in front, if there is one).
fn emails(text: &str) -> Vec<Range<usize>> {
    let mut found = Vec::new();
    for (at, _) in text.match_indices('@') {
        // All scanned characters are ASCII, so byte arithmetic stays on char boundaries.
        let before = &text[..at];
        let local_len = before.len() - before.trim_end_matches(is_local_part).len();
        let mut start = at - local_len;
        while text[start..at].starts_with('.') {
            start += 1;
        }
        let after = &text[at + 1..];
        let domain_len = after.len() - after.trim_start_matches(is_domain).len();
        let domain = after[..domain_len].trim_end_matches(['.', '-']);
        let tld = domain.rsplit('.').next().unwrap_or("");
        let valid = start < at
            && domain.contains('.')
            && !domain.starts_with(['.', '-'])
            && !domain.contains("..")
            && tld.len() >= 2
            && tld.chars().all(|c| c.is_ascii_alphabetic());
        if !valid {
            continue;
        }
        let mailto = "mailto:";
        if start >= mailto.len()
            && text
                .get(start - mailto.len()..start)
                .is_some_and(|s| s.eq_ignore_ascii_case(mailto))
        {
            start -= mailto.len();
        }
        found.push(start..at + 1 + domain.len());
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn links(text: &str) -> Vec<&str> {
        bare_links(text).into_iter().map(|r| &text[r]).collect()
    }

    #[test]
    fn urls_stop_before_sentence_punctuation() {
        assert_eq!(
            links("Siehe https://example.org/a?b=1. Oder http://x.de/pfad, bitte!"),
            ["https://example.org/a?b=1", "http://x.de/pfad"]
        );
        assert_eq!(links("(www.beispiel.de)"), ["www.beispiel.de"]);
        assert_eq!(
            links("Quelle: „https://example.org/bericht“."),
            ["https://example.org/bericht"]
        );
        assert_eq!(
            links("https://de.wikipedia.org/wiki/Bank_(Möbel))"),
            ["https://de.wikipedia.org/wiki/Bank_(Möbel)"]
        );
        assert_eq!(links("HTTPS://EXAMPLE.ORG!"), ["HTTPS://EXAMPLE.ORG"]);
        assert_eq!(links("(siehe http://x.de/a_(b)))."), ["http://x.de/a_(b)"]);
    }

    #[test]
    fn bare_prefixes_and_glued_words_are_not_links() {
        assert!(links("Das www. allein und http:// allein").is_empty());
        assert!(links("abcwww.example.org").is_empty());
    }

    #[test]
    fn emails_are_found_with_optional_mailto() {
        assert_eq!(
            links("Schreiben Sie an info@beispiel.de. Oder an mailto:a.b+c@mail.example.com!"),
            ["info@beispiel.de", "mailto:a.b+c@mail.example.com"]
        );
        assert!(links("@handle und a@b und x@y.1").is_empty());
    }

    #[test]
    fn merge_joins_overlapping_and_touching_ranges() {
        assert_eq!(merge(vec![5..7, 0..2, 1..3, 3..4, 9..9]), vec![0..4, 5..7]);
    }
}
