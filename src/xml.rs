//! XML for the translation-industry formats (TMX, XLIFF). Reading: the element, attribute and
//! text events their readers need, from `quick-xml`, which checks well-formedness (tags that
//! nest and close, quoted attributes, UTF-8) and reads references, CDATA, comments, processing
//! instructions and the DOCTYPE. Text arrives with its references resolved and its line
//! breaks as XML 1.0 defines them; adjacent pieces of text are one event. Writing: text and
//! attribute values escaped so that a parser reads them back as they were ([`escape`],
//! [`escape_attribute`]), and where a segment's protected spans go as the inline codes both
//! formats write them as ([`numbered`], [`locate`]).

use std::ops::Range;

use quick_xml::XmlVersion;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event as Raw};
use quick_xml::reader::Reader;

/// A piece of a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Start {
        /// The qualified name as written (`xml:lang`, `mq:status`).
        name: String,
        attrs: Vec<(String, String)>,
        /// `<name/>`: an [`Event::End`] follows at once.
        empty: bool,
        /// Where the tag ends (1 for the first line).
        line: usize,
    },
    End {
        name: String,
    },
    /// Character data inside the root element.
    Text(String),
}

/// A document that is not well-formed XML, with the line the reader stopped at.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (line {line})")]
pub struct XmlError {
    pub line: usize,
    pub message: String,
}

/// Every event of `xml` (a leading byte order mark is skipped).
pub fn events(xml: &str) -> Result<Vec<Event>, XmlError> {
    let xml = xml.strip_prefix('\u{feff}').unwrap_or(xml);
    let line_at = |at: u64| {
        xml[..usize::try_from(at).unwrap_or(usize::MAX).min(xml.len())]
            .matches('\n')
            .count()
            + 1
    };
    let fail = |at: u64, message: String| XmlError {
        line: line_at(at),
        message,
    };
    let mut reader = Reader::from_str(xml);
    reader.config_mut().check_end_names = true;
    let mut out = Vec::new();
    let mut depth = 0usize;
    let text = |out: &mut Vec<Event>, piece: &str| match out.last_mut() {
        Some(Event::Text(before)) => before.push_str(piece),
        _ => out.push(Event::Text(piece.to_owned())),
    };
    loop {
        let event = reader
            .read_event()
            .map_err(|e| fail(reader.error_position(), e.to_string()))?;
        let at = reader.buffer_position();
        match event {
            Raw::Start(start) => {
                depth += 1;
                let (name, attrs) = tag(&start).map_err(|m| fail(at, m))?;
                out.push(Event::Start {
                    name,
                    attrs,
                    empty: false,
                    line: line_at(at),
                });
            }
            Raw::Empty(start) => {
                let (name, attrs) = tag(&start).map_err(|m| fail(at, m))?;
                out.push(Event::Start {
                    name: name.clone(),
                    attrs,
                    empty: true,
                    line: line_at(at),
                });
                out.push(Event::End { name });
            }
            Raw::End(end) => {
                depth = depth.saturating_sub(1);
                out.push(Event::End {
                    name: end.name().as_ref().to_owned(),
                });
            }
            Raw::Text(t) if depth > 0 => text(&mut out, &t.xml10_content()),
            Raw::CData(c) if depth > 0 => text(&mut out, &c.xml10_content()),
            Raw::GeneralRef(r) if depth > 0 => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    Ok(None) => {
                        let name = r.xml10_content();
                        resolve_predefined_entity(&name)
                            .map(str::to_owned)
                            .ok_or_else(|| fail(at, format!("an unknown entity &{name};")))?
                    }
                    Err(e) => return Err(fail(at, e.to_string())),
                };
                text(&mut out, &resolved);
            }
            Raw::Eof => break,
            _ => {}
        }
    }
    if depth > 0 {
        return Err(fail(
            xml.len() as u64,
            "an element is never closed".to_owned(),
        ));
    }
    Ok(out)
}

/// A start tag's name and its attributes, values unescaped.
fn tag(start: &BytesStart) -> Result<(String, Vec<(String, String)>), String> {
    let name = start.name().as_ref().to_owned();
    let mut attrs = Vec::new();
    for attr in start.attributes() {
        let attr = attr.map_err(|e| format!("<{name}>: {e}"))?;
        // As a parser must: references resolved, whitespace characters as spaces.
        let value = attr
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|e| format!("<{name}>: {e}"))?;
        attrs.push((attr.key.as_ref().to_owned(), value.into_owned()));
    }
    Ok((name, attrs))
}

/// `s` as XML character data: `&`, `<` and `>` as references, a carriage return as `&#13;`
/// (a parser would turn a raw one into a line feed), and characters XML 1.0 cannot hold at
/// all (other control characters, U+FFFE, U+FFFF) as U+FFFD.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#13;"),
            '\t' | '\n' => out.push(c),
            c if c < ' ' || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// `s` as a double-quoted attribute value: [`escape`], and `"` too; tabs and line breaks as
/// references, since a parser would turn them into spaces.
pub fn escape_attribute(s: &str) -> String {
    escape(s)
        .replace('"', "&quot;")
        .replace('\t', "&#9;")
        .replace('\n', "&#10;")
}

/// The protected `ranges` of `text` (sorted, not overlapping) as inline codes: each that is
/// a range of `text` numbered from 1, in order. Code `n` is the `n`th span [`spans`] gives.
pub fn numbered(text: &str, ranges: &[Range<usize>]) -> Vec<(Range<usize>, usize)> {
    ranges
        .iter()
        .filter(|r| text.get((*r).clone()).is_some())
        .cloned()
        .zip(1..)
        .collect()
}

/// The text of each protected range of `text` that is one, in order: code `n` is
/// `spans[n - 1]`.
pub fn spans<'a>(text: &'a str, ranges: &[Range<usize>]) -> Vec<&'a str> {
    ranges.iter().filter_map(|r| text.get(r.clone())).collect()
}

/// Where the spans (codes numbered from 1 in order) are in a translation, `text`, which
/// keeps them verbatim wherever it moved them; sorted by position. Longer spans are placed
/// first, so a span inside another is never split out of it; each takes its leftmost
/// occurrence not yet taken, so equal spans take their occurrences in order. A span `text`
/// lacks is not placed.
pub fn locate(text: &str, spans: &[&str]) -> Vec<(Range<usize>, usize)> {
    let mut order: Vec<usize> = (0..spans.len()).collect();
    order.sort_by_key(|&n| std::cmp::Reverse(spans[n].len()));
    let mut placed: Vec<(Range<usize>, usize)> = Vec::new();
    for n in order {
        let span = spans[n];
        let Some(first) = span.chars().next() else {
            continue;
        };
        let mut from = 0;
        while let Some(at) = text.get(from..).and_then(|rest| rest.find(span)) {
            let range = from + at..from + at + span.len();
            if placed
                .iter()
                .all(|(p, _)| range.end <= p.start || p.end <= range.start)
            {
                placed.push((range, n + 1));
                break;
            }
            from = range.start + first.len_utf8();
        }
    }
    placed.sort_by_key(|(r, _)| r.start);
    placed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_attributes_and_text_with_references_and_cdata() {
        let xml = "\u{feff}<?xml version=\"1.0\"?>\n<!DOCTYPE tmx SYSTEM \"tmx14.dtd\">\
                   <a x=\"1 &amp; 2\"><!-- no --><b/>A &lt;b&gt; &#233;<![CDATA[<c>]]>\r\nz</a>";
        assert_eq!(
            events(xml).unwrap(),
            vec![
                Event::Start {
                    name: "a".into(),
                    attrs: vec![("x".into(), "1 & 2".into())],
                    empty: false,
                    line: 2
                },
                Event::Start {
                    name: "b".into(),
                    attrs: vec![],
                    empty: true,
                    line: 2
                },
                Event::End { name: "b".into() },
                Event::Text("A <b> é<c>\nz".into()),
                Event::End { name: "a".into() },
            ]
        );
    }

    #[test]
    fn what_is_not_well_formed_is_an_error_with_its_line() {
        let err = events("<a>\n<b></a>").unwrap_err();
        assert_eq!(err.line, 2, "{err}");
        assert!(
            events("<a>&nbsp;</a>")
                .unwrap_err()
                .message
                .contains("&nbsp;")
        );
        assert!(events("<a>").is_err());
    }

    #[test]
    fn text_and_attributes_are_escaped() {
        assert_eq!(escape("a < b && c > d"), "a &lt; b &amp;&amp; c &gt; d");
        assert_eq!(escape("\"quoted\" 'x'"), "\"quoted\" 'x'");
        assert_eq!(escape("line\r\nnext\tcol"), "line&#13;\nnext\tcol");
        assert_eq!(
            escape("bell\u{7} nul\u{0} \u{FFFF}"),
            "bell\u{FFFD} nul\u{FFFD} \u{FFFD}"
        );
        assert_eq!(
            escape_attribute("say \"hi\" & <go>\n"),
            "say &quot;hi&quot; &amp; &lt;go&gt;&#10;"
        );
    }

    #[test]
    fn a_span_inside_another_and_repeated_spans_are_placed_once_each() {
        assert_eq!(
            locate("x `ab` and ab and `ab`", &["ab", "`ab`", "`ab`"]),
            vec![(2..6, 2), (11..13, 1), (18..22, 3)]
        );
        // A span the English lost is simply not there.
        assert_eq!(locate("nothing", &["`x`"]), vec![]);
        // An occurrence overlapping one already taken does not hide an overlapping next one.
        assert_eq!(
            locate("QQababa", &["QQa", "aba"]),
            vec![(0..3, 1), (4..7, 2)]
        );
    }

    #[test]
    fn ranges_that_are_not_in_the_text_are_not_numbered() {
        let text = "a `b` c";
        let ranges = [2..5, 6..9, 6..7];
        assert_eq!(numbered(text, &ranges), vec![(2..5, 1), (6..7, 2)]);
        assert_eq!(spans(text, &ranges), vec!["`b`", "c"]);
    }
}
