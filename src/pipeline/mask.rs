//! Protected spans (inline code, URLs, link targets, markup prefixes) are never sent. A
//! segment is masked once, when the passes first see it, and everything a request carries is
//! built from the masked form: the segment itself (each span a numbered marker), the context
//! around other segments (each span an unnumbered `⟦…⟧`), a draft of it (each span found again
//! and given the segment's own marker) and the text glossary terms are looked up in. After the
//! answer comes back every marker must be there exactly once and is replaced by its span
//! again. LLMs get `⟦1⟧` markers; DeepL gets XML tags (with `tag_handling: xml`), which it is
//! built to keep.

use std::ops::Range;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaskStyle {
    /// `⟦1⟧`, for language models (the prompts explain them).
    Brackets,
    /// `<k i="1"/>` in XML-escaped text, for translation services with tag handling.
    Xml,
}

/// What a protected span looks like in context: unnumbered, so it is never taken for one of
/// the segment's markers, and a reply that copies it fails validation like any stray marker.
pub const CONTEXT_PLACEHOLDER: &str = "⟦…⟧";

/// A segment with its protected spans taken out: the only form of it that may be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Masked {
    /// The text around the spans, as it is: one piece more than there are spans.
    pieces: Vec<String>,
    spans: Vec<String>,
    /// The text itself contains `⟦` (then an extra one in a reply proves nothing).
    own_brackets: bool,
}

impl Masked {
    pub fn has_spans(&self) -> bool {
        !self.spans.is_empty()
    }

    /// The segment as sent in `style`: each span its numbered marker.
    pub fn text(&self, style: MaskStyle) -> String {
        let mut out = escape(&self.pieces[0], style);
        for (n, piece) in self.pieces[1..].iter().enumerate() {
            out.push_str(&marker(style, n + 1));
            out.push_str(&escape(piece, style));
        }
        out
    }

    /// The segment as context for others: each span `⟦…⟧`. Also the text glossary terms are
    /// looked up in, so a term that occurs only inside a span is not sent either.
    pub fn context(&self) -> String {
        self.pieces.join(CONTEXT_PLACEHOLDER)
    }

    /// `draft`, a translation of this segment that came back with the spans verbatim, with
    /// each span replaced by this segment's marker for it (`⟦n⟧`), wherever the translation
    /// moved it. Longer spans are found first, so a span inside another is never split out of
    /// it; equal spans take their occurrences in order. A span the draft lacks is not there to
    /// be sent.
    pub fn draft(&self, draft: &str) -> String {
        let mut parts = vec![Part::Text(draft.to_owned())];
        let mut order: Vec<usize> = (0..self.spans.len()).collect();
        order.sort_by_key(|&n| std::cmp::Reverse(self.spans[n].len()));
        for n in order {
            let span = self.spans[n].as_str();
            if span.is_empty() {
                continue;
            }
            let found = parts.iter().enumerate().find_map(|(at, part)| match part {
                Part::Text(text) => text.find(span).map(|i| (at, i)),
                Part::Marker(_) => None,
            });
            let Some((at, i)) = found else { continue };
            let Part::Text(text) = parts.remove(at) else {
                continue;
            };
            let after = Part::Text(text[i + span.len()..].to_owned());
            let before = Part::Text(text[..i].to_owned());
            parts.splice(at..at, [before, Part::Marker(n + 1), after]);
        }
        parts
            .iter()
            .map(|part| match part {
                Part::Text(text) => text.clone(),
                Part::Marker(n) => marker(MaskStyle::Brackets, *n),
            })
            .collect()
    }

    /// The words of `text` (the segment, or a translation of it with the spans verbatim) at
    /// `range`, masked like [`Masked::draft`], so that verify can point a model at them.
    /// A range that cuts into a span is widened over the whole span, so no part of one is
    /// ever sent; `None` for a range that does not fit `text`.
    pub fn excerpt(&self, text: &str, range: Range<usize>) -> Option<String> {
        let (mut start, mut end) = (range.start, range.end);
        text.get(start..end)?;
        let found: Vec<Range<usize>> = self
            .spans
            .iter()
            .filter(|s| !s.is_empty())
            .flat_map(|span| text.match_indices(span.as_str()))
            .map(|(at, span)| at..at + span.len())
            .collect();
        // Widening may reach another span: repeat until nothing more is cut.
        while let Some(cut) = found
            .iter()
            .find(|s| s.start < end && start < s.end && (s.start < start || s.end > end))
        {
            start = start.min(cut.start);
            end = end.max(cut.end);
        }
        Some(self.draft(text.get(start..end)?))
    }
}

/// A piece of a draft being masked.
enum Part {
    Text(String),
    Marker(usize),
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

/// Take each protected range of `text` (sorted, non-overlapping, relative to `text`) out.
pub fn mask(text: &str, protected: &[Range<usize>]) -> Masked {
    let mut pieces = Vec::with_capacity(protected.len() + 1);
    let mut spans = Vec::with_capacity(protected.len());
    let mut at = 0;
    for range in protected {
        let (Some(before), Some(span)) = (text.get(at..range.start), text.get(range.clone()))
        else {
            continue; // a range that does not fit is left in the text, never lost
        };
        pieces.push(before.to_owned());
        spans.push(span.to_owned());
        at = range.end;
    }
    pieces.push(text.get(at..).unwrap_or_default().to_owned());
    Masked {
        pieces,
        spans,
        own_brackets: text.contains('⟦'),
    }
}

/// Put the spans back into a backend's `output`, written in `style`. Every marker must occur
/// exactly once.
pub fn unmask(output: &str, masked: &Masked, style: MaskStyle) -> Result<String, String> {
    let mut text = output.to_owned();
    if style == MaskStyle::Xml {
        // Some services write an empty element instead of a self-closing one.
        for n in 1..=masked.spans.len() {
            text = text.replace(&format!("<k i=\"{n}\"></k>"), &marker(MaskStyle::Xml, n));
        }
    }
    let mut pieces = Vec::with_capacity(masked.spans.len());
    for n in 1..=masked.spans.len() {
        let mark = marker(style, n);
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
        out.push_str(&unescape(&rest[..at], style));
        out.push_str(&masked.spans[n]);
        rest = &rest[at + pieces[n].len()..];
    }
    out.push_str(&unescape(rest, style));
    if style == MaskStyle::Brackets && out.contains('⟦') && !masked.own_brackets {
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
        let masked = mask(text, &[6..16, url..text.len() - 1]);
        assert_eq!(
            masked.text(MaskStyle::Brackets),
            "Setze ⟦1⟧ auf 5, siehe ⟦2⟧."
        );
        let back = unmask("Set ⟦1⟧ to 5, see ⟦2⟧.", &masked, MaskStyle::Brackets);
        assert_eq!(
            back.as_deref(),
            Ok("Set `max_idle` to 5, see https://example.org/a?b=1.")
        );
    }

    #[test]
    fn xml_escapes_text_but_never_spans() {
        let text = "A <b> & `x<y>` C";
        let code = text.find('`').expect("code");
        let span = code..code + 6;
        let masked = mask(text, std::slice::from_ref(&span));
        assert_eq!(
            masked.text(MaskStyle::Xml),
            "A &lt;b&gt; &amp; <k i=\"1\"/> C"
        );
        let back = unmask(
            "Ein &lt;b&gt; &amp; <k i=\"1\"></k> C",
            &masked,
            MaskStyle::Xml,
        );
        assert_eq!(back.as_deref(), Ok("Ein <b> & `x<y>` C"));
        let numeric = "It&#39;s &#x3C;b&#62; &amp;amp; <k i=\"1\"/>&nbsp;C";
        let back = unmask(numeric, &masked, MaskStyle::Xml);
        assert_eq!(
            back.as_deref(),
            Ok("It's <b> &amp; `x<y>`\u{a0}C"),
            "decoded once, spans verbatim"
        );
    }

    #[test]
    fn lost_or_doubled_markers_are_errors() {
        let span = 2..5;
        let masked = mask("a `b` c", std::slice::from_ref(&span));
        let brackets = |reply| unmask(reply, &masked, MaskStyle::Brackets);
        assert!(brackets("a c").is_err());
        assert!(brackets("a ⟦1⟧ ⟦1⟧ c").is_err());
        assert!(brackets("a ⟦1⟧ ⟦2⟧ c").is_err());
        assert!(
            brackets("a ⟦1⟧ ⟦…⟧ c").is_err(),
            "a context placeholder copied"
        );
        let none = mask("plain", &[]);
        let back = unmask("schlicht", &none, MaskStyle::Brackets);
        assert_eq!(back.as_deref(), Ok("schlicht"));
        assert!(!none.has_spans());
    }

    #[test]
    fn context_shows_every_span_as_one_unnumbered_placeholder() {
        let text = "Mit `a` und https://x.example/y.";
        let url = text.find("https").expect("url");
        let masked = mask(text, &[4..7, url..text.len() - 1]);
        assert_eq!(masked.context(), "Mit ⟦…⟧ und ⟦…⟧.");
        assert_eq!(mask("Nichts", &[]).context(), "Nichts");
    }

    #[test]
    fn a_draft_gets_the_segments_markers_wherever_its_spans_moved() {
        // Source spans: `b`, then `a`, then a URL that contains another span's text.
        let text = "Erst `b`, dann `a`, siehe https://x.example/`a`/ und `a`.";
        let find = |s: &str, from: usize| text[from..].find(s).map(|i| from + i).expect(s);
        let b = find("`b`", 0);
        let a = find("`a`", 0);
        let url = find("https", 0);
        let url_end = find(" und", url);
        let last = find("`a`", url_end);
        let masked = mask(text, &[b..b + 3, a..a + 3, url..url_end, last..last + 3]);
        assert_eq!(
            masked.text(MaskStyle::Brackets),
            "Erst ⟦1⟧, dann ⟦2⟧, siehe ⟦3⟧ und ⟦4⟧."
        );
        let draft = "See https://x.example/`a`/ for `a` first, then `b`, and `a`.";
        assert_eq!(
            masked.draft(draft),
            "See ⟦3⟧ for ⟦2⟧ first, then ⟦1⟧, and ⟦4⟧.",
            "moved spans keep the source's numbers; the URL is not split at its `a`"
        );
        assert_eq!(masked.draft("Only `b` made it."), "Only ⟦1⟧ made it.");
        assert_eq!(mask("Nichts", &[]).draft("Nothing"), "Nothing");
    }

    #[test]
    fn an_excerpt_never_carries_part_of_a_span() {
        let text = "Siehe https://x.example/a und 4 Billionen.";
        let url = text.find("https").expect("url");
        let span = url..url + 19;
        let masked = mask(text, std::slice::from_ref(&span));
        let cut = text.find("example").expect("inside the URL");
        assert_eq!(
            masked.excerpt(text, cut..cut + 13).as_deref(),
            Some("⟦1⟧ und"),
            "widened over the whole span, then masked"
        );
        let number = text.find('4').expect("number");
        assert_eq!(
            masked.excerpt(text, number..number + 11).as_deref(),
            Some("4 Billionen")
        );
        let english = "See https://x.example/a and 4 trillion.";
        assert_eq!(
            masked.excerpt(english, 0..10).as_deref(),
            Some("See ⟦1⟧"),
            "spans are found wherever a translation put them"
        );
        assert_eq!(masked.excerpt(text, 3..400), None);
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
            let masked = mask(&text, &ranges);
            let answer = answered(&masked.text(MaskStyle::Xml), &picks);
            prop_assert_eq!(unmask(&answer, &masked, MaskStyle::Xml), Ok(text));
        }
    }
}
