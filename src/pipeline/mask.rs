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

/// `&`, `<` and `>` as references, so that only markers are markup.
fn escape(text: &str, style: MaskStyle) -> String {
    match style {
        MaskStyle::Brackets => text.to_owned(),
        MaskStyle::Xml => html_escape::encode_text(text).into_owned(),
    }
}

/// Every character reference decoded, once: services answer with XML's named ones, HTML's
/// (`&nbsp;`), decimal (`&#39;`) and hex ones (`&#x27;`). What is not a reference stays as it
/// is.
fn unescape(text: &str, style: MaskStyle) -> String {
    match style {
        MaskStyle::Brackets => text.to_owned(),
        MaskStyle::Xml => html_escape::decode_html_entities(text).into_owned(),
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
    use proptest::prelude::*;

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
        let numeric = "It&#39;s &#x3C;b&#62; &amp;amp; <k i=\"1\"/>&nbsp;C";
        let back = unmask(numeric, &masked).expect("ok");
        assert_eq!(
            back, "It's <b> &amp; `x<y>`\u{a0}C",
            "decoded once, spans verbatim"
        );
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

    /// How a service may write `c` back in XML or HTML mode, as `pick` chooses: as it is, by
    /// name, or as a decimal or hex reference; `&` and `<` never as they are. Control
    /// characters keep their form: XML has no references for most of them.
    fn written(c: char, pick: u8) -> String {
        let named = match c {
            '&' => Some("&amp;"),
            '<' => Some("&lt;"),
            '>' => Some("&gt;"),
            '"' => Some("&quot;"),
            '\'' => Some("&apos;"),
            _ => None,
        };
        let numeric = !c.is_control();
        match (pick % 4, named) {
            (2, _) if numeric => format!("&#{};", u32::from(c)),
            (3, _) if numeric => format!("&#x{:x};", u32::from(c)),
            (0, Some(_)) if !matches!(c, '&' | '<') => c.to_string(),
            (_, Some(name)) => name.to_owned(),
            _ => c.to_string(),
        }
    }

    /// What a service that changes nothing may answer for `sent`, a text's XML form: each
    /// character in the form `picks` chooses, each marker self-closing or an empty element.
    fn answered(sent: &str, picks: &[u8]) -> String {
        let mut picks = picks.iter().copied().cycle();
        let mut out = String::new();
        let mut rest = sent;
        loop {
            // Every `<` sent starts a marker: the text's own are escaped.
            let at = rest.find('<').unwrap_or(rest.len());
            // `escape` writes only these three names; `&amp;` goes last, so nothing is undone twice.
            let text = rest[..at].replace("&lt;", "<").replace("&gt;", ">");
            let text = text.replace("&amp;", "&");
            let forms = text.chars().zip(&mut picks);
            out.extend(forms.map(|(c, pick)| written(c, pick)));
            let Some(end) = rest[at..].find("/>").map(|end| at + end) else {
                return out;
            };
            out.push_str(&rest[at..end]);
            let empty_element = picks.next().unwrap_or_default() >= 128;
            out.push_str(if empty_element { "></k>" } else { "/>" });
            rest = &rest[end + 2..];
        }
    }

    /// Text rich in what escaping is about, and any character besides.
    fn text() -> impl Strategy<Value = String> {
        let special = [
            '&', '<', '>', '"', '\'', ';', '#', 'x', '1', 'k', '/', ' ', 'ä',
        ];
        let c = prop_oneof![3 => prop::sample::select(special.to_vec()), 1 => any::<char>()];
        prop::collection::vec(c, 0..40).prop_map(|chars| chars.into_iter().collect())
    }

    /// Sorted, non-overlapping, possibly empty or adjacent ranges of `text` at char boundaries.
    fn ranges(text: &str, cuts: &[prop::sample::Index]) -> Vec<Range<usize>> {
        let bounds: Vec<usize> = text.char_indices().map(|(at, _)| at).collect();
        let bounds = [bounds, vec![text.len()]].concat();
        let mut cuts: Vec<usize> = cuts.iter().map(|cut| *cut.get(&bounds)).collect();
        cuts.sort_unstable();
        cuts.chunks_exact(2).map(|pair| pair[0]..pair[1]).collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn xml_round_trips_through_any_escaping(
            text in text(),
            cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..8),
            picks in prop::collection::vec(any::<u8>(), 1..32),
        ) {
            let ranges = ranges(&text, &cuts);
            let masked = mask(&text, &ranges, MaskStyle::Xml);
            let answer = answered(&masked.text, &picks);
            prop_assert_eq!(unmask(&answer, &masked), Ok(text));
        }
    }
}
