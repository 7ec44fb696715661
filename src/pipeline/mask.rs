//! Protected spans (inline code, URLs, link targets, markup prefixes) are never sent: before a
//! segment goes to a backend each span becomes a marker, and after the answer comes back every
//! marker must be there exactly once and is replaced by its span again. LLMs get `⟦1⟧` markers;
//! DeepL gets XML tags (with `tag_handling: xml`), which it is built to keep.

use std::ops::Range;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaskStyle {
    /// `⟦1⟧`, for language models (the prompts explain them).
    Brackets,
    /// `<k i="1"/>` in XML-escaped text, for translation services with tag handling.
    Xml,
}

/// A segment's text as sent, and the spans its markers stand for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Masked {
    pub text: String,
    spans: Vec<String>,
    style: MaskStyle,
    /// The text itself contains `⟦` (then an extra one in a reply proves nothing).
    own_brackets: bool,
}

impl Masked {
    pub fn has_spans(&self) -> bool {
        !self.spans.is_empty()
    }
}

fn marker(style: MaskStyle, n: usize) -> String {
    match style {
        MaskStyle::Brackets => format!("⟦{n}⟧"),
        MaskStyle::Xml => format!("<k i=\"{n}\"/>"),
    }
}

fn escape(text: &str, style: MaskStyle) -> String {
    match style {
        MaskStyle::Brackets => text.to_owned(),
        MaskStyle::Xml => text
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;"),
    }
}

fn unescape(text: &str, style: MaskStyle) -> String {
    match style {
        MaskStyle::Brackets => text.to_owned(),
        MaskStyle::Xml => text
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&"),
    }
}

/// Replace each protected range of `text` (sorted, non-overlapping, relative to `text`) by a
/// numbered marker.
pub fn mask(text: &str, protected: &[Range<usize>], style: MaskStyle) -> Masked {
    let mut out = String::with_capacity(text.len());
    let mut spans = Vec::with_capacity(protected.len());
    let mut at = 0;
    for range in protected {
        let (Some(before), Some(span)) = (text.get(at..range.start), text.get(range.clone()))
        else {
            continue; // a range that does not fit is left in the text, never lost
        };
        out.push_str(&escape(before, style));
        spans.push(span.to_owned());
        out.push_str(&marker(style, spans.len()));
        at = range.end;
    }
    out.push_str(&escape(text.get(at..).unwrap_or_default(), style));
    Masked {
        text: out,
        spans,
        style,
        own_brackets: text.contains('⟦'),
    }
}

/// Put the spans back into a backend's `output`. Every marker must occur exactly once.
pub fn unmask(output: &str, masked: &Masked) -> Result<String, String> {
    let mut text = output.to_owned();
    if masked.style == MaskStyle::Xml {
        // Some services write an empty element instead of a self-closing one.
        for n in 1..=masked.spans.len() {
            text = text.replace(&format!("<k i=\"{n}\"></k>"), &marker(MaskStyle::Xml, n));
        }
    }
    let mut pieces = Vec::with_capacity(masked.spans.len());
    for n in 1..=masked.spans.len() {
        let mark = marker(masked.style, n);
        match text.matches(&mark).count() {
            1 => pieces.push(mark),
            0 => return Err(format!("the protected span {mark} is missing")),
            _ => return Err(format!("the protected span {mark} occurs more than once")),
        }
    }
    // Split on the markers so spans are inserted verbatim, never unescaped.
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some((n, at)) = pieces
        .iter()
        .enumerate()
        .filter_map(|(n, mark)| rest.find(mark.as_str()).map(|at| (n, at)))
        .min_by_key(|&(_, at)| at)
    {
        out.push_str(&unescape(&rest[..at], masked.style));
        out.push_str(&masked.spans[n]);
        rest = &rest[at + pieces[n].len()..];
    }
    out.push_str(&unescape(rest, masked.style));
    if masked.style == MaskStyle::Brackets && out.contains('⟦') && !masked.own_brackets {
        return Err("the reply contains a marker that was never sent".to_owned());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brackets_round_trip() {
        let text = "Setze `max_idle` auf 5, siehe https://example.org/a?b=1.";
        let url = text.find("https").expect("url");
        let masked = mask(text, &[6..16, url..text.len() - 1], MaskStyle::Brackets);
        assert_eq!(masked.text, "Setze ⟦1⟧ auf 5, siehe ⟦2⟧.");
        let back = unmask("Set ⟦1⟧ to 5, see ⟦2⟧.", &masked).expect("all markers");
        assert_eq!(back, "Set `max_idle` to 5, see https://example.org/a?b=1.");
    }

    #[test]
    fn xml_escapes_text_but_never_spans() {
        let text = "A <b> & `x<y>` C";
        let code = text.find('`').expect("code");
        let span = code..code + 6;
        let masked = mask(text, std::slice::from_ref(&span), MaskStyle::Xml);
        assert_eq!(masked.text, "A &lt;b&gt; &amp; <k i=\"1\"/> C");
        let back = unmask("Ein &lt;b&gt; &amp; <k i=\"1\"></k> C", &masked).expect("ok");
        assert_eq!(back, "Ein <b> & `x<y>` C");
    }

    #[test]
    fn lost_or_doubled_markers_are_errors() {
        let span = 2..5;
        let masked = mask("a `b` c", std::slice::from_ref(&span), MaskStyle::Brackets);
        assert!(unmask("a c", &masked).is_err());
        assert!(unmask("a ⟦1⟧ ⟦1⟧ c", &masked).is_err());
        assert!(unmask("a ⟦1⟧ ⟦2⟧ c", &masked).is_err());
        let none = mask("plain", &[], MaskStyle::Brackets);
        assert_eq!(unmask("schlicht", &none).as_deref(), Ok("schlicht"));
        assert!(!none.has_spans());
    }
}
