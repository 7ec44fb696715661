//! XLIFF 1.2 for CAT tools (OmegaT, memoQ, Trados, Phrase, Okapi): `fix --report FILE.xlf`
//! writes one `<file>` per document and one `<trans-unit>` per paragraph (the repaired German
//! as `<source>`, the result as `<target>`, the draft as an `<alt-trans>` proposal, verify's
//! findings and the model's notes as `<note>`s), and `review --apply FILE.xlf` reads the
//! targets back as review decisions. Protected spans (inline code, URLs, link targets) travel
//! as `<ph>` inline codes holding the original text, so a translator moves them but cannot
//! break them; a unit whose codes were removed or altered is refused. Pure: writing goes to a
//! `Write`, reading takes the file's text.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::ops::Range;

use super::record::{Paragraph, Record, Verdict};
use crate::verify::Severity;
use crate::xml::{self, Event};

pub const NAMESPACE: &str = "urn:oasis:names:tc:xliff:document:1.2";

/// What a `<target>` is made of: text, and inline codes by their id (`1` for the first span).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inline {
    Text(String),
    Code { id: String, text: String },
}

/// The XML declaration and the opening `<xliff>`.
pub fn write_head(out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>")?;
    writeln!(out, "<xliff version=\"1.2\" xmlns=\"{NAMESPACE}\">")
}

/// The closing `</xliff>`.
pub fn write_tail(out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "</xliff>")
}

/// One document as a `<file>`: `original` is its input name, each paragraph a `<trans-unit>`
/// whose id is the paragraph's (`s3`). `tool_version` names klartext's version.
pub fn write_file(record: &Record, tool_version: &str, out: &mut dyn Write) -> io::Result<()> {
    let markdown = crate::segment::Format::from_path(std::path::Path::new(&record.input))
        == crate::segment::Format::Markdown;
    writeln!(
        out,
        "  <file original=\"{}\" source-language=\"de\" target-language=\"{}\" datatype=\"{}\" \
         tool-id=\"klartext\">",
        xml::escape_attribute(&record.input),
        xml::escape_attribute(&record.to),
        if markdown { "x-markdown" } else { "plaintext" }
    )?;
    writeln!(out, "    <header>")?;
    writeln!(
        out,
        "      <tool tool-id=\"klartext\" tool-name=\"klartext\" tool-version=\"{}\"/>",
        xml::escape_attribute(tool_version)
    )?;
    writeln!(out, "    </header>")?;
    writeln!(out, "    <body>")?;
    for paragraph in &record.paragraphs {
        write_unit(record, paragraph, out)?;
    }
    writeln!(out, "    </body>")?;
    writeln!(out, "  </file>")
}

fn write_unit(record: &Record, p: &Paragraph, out: &mut dyn Write) -> io::Result<()> {
    let spans = source_spans(p);
    let state = if p.is_flagged() {
        "needs-review-translation"
    } else {
        "translated"
    };
    writeln!(
        out,
        "      <trans-unit id=\"{}\" xml:space=\"preserve\">",
        xml::escape_attribute(&p.id.to_string())
    )?;
    writeln!(
        out,
        "        <source xml:lang=\"de\">{}</source>",
        inline(&split_source(p))
    )?;
    writeln!(
        out,
        "        <target xml:lang=\"{}\" state=\"{state}\">{}</target>",
        xml::escape_attribute(&record.to),
        inline(&split_found(&p.new, &spans))
    )?;
    if let Some(old) = p.old.as_ref().filter(|old| **old != p.new) {
        writeln!(
            out,
            "        <alt-trans alttranstype=\"proposal\" origin=\"{}\"><target xml:lang=\"{}\">{}</target></alt-trans>",
            xml::escape_attribute(&record.titles.0),
            xml::escape_attribute(&record.to),
            inline(&split_found(old, &spans))
        )?;
    }
    for finding in p.findings_shown() {
        let from = if finding.is_model() {
            "model"
        } else {
            "verify"
        };
        let priority = match finding.severity {
            Severity::Error => 1,
            Severity::Warning => 2,
            Severity::Info => 5,
        };
        let check = finding.check.as_deref().unwrap_or("verify");
        writeln!(
            out,
            "        <note from=\"{from}\" priority=\"{priority}\" annotates=\"target\">{}</note>",
            xml::escape(&format!(
                "{} · {check}: {}",
                severity_name(finding.severity),
                finding.message
            ))
        )?;
    }
    writeln!(out, "      </trans-unit>")
}

fn severity_name(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "info",
    }
}

/// The protected spans of a paragraph's German, in order: inline code `n` is `spans[n - 1]`.
fn source_spans(p: &Paragraph) -> Vec<&str> {
    xml::spans(p.sent(), &p.protected)
}

/// The German as sent, its protected spans as inline codes `1`, `2`, ….
fn split_source(p: &Paragraph) -> Vec<Inline> {
    split(p.sent(), &xml::numbered(p.sent(), &p.protected))
}

/// A translation with the spans found in it again ([`xml::locate`]).
fn split_found(text: &str, spans: &[&str]) -> Vec<Inline> {
    split(text, &xml::locate(text, spans))
}

/// `text` with the placed ranges (sorted, not overlapping; each with its code's number) as
/// inline codes.
fn split(text: &str, placed: &[(Range<usize>, usize)]) -> Vec<Inline> {
    let mut parts = Vec::new();
    let mut at = 0;
    for (range, n) in placed {
        let (Some(before), Some(span)) = (text.get(at..range.start), text.get(range.clone()))
        else {
            continue;
        };
        if !before.is_empty() {
            parts.push(Inline::Text(before.to_owned()));
        }
        parts.push(Inline::Code {
            id: n.to_string(),
            text: span.to_owned(),
        });
        at = range.end;
    }
    if let Some(rest) = text.get(at..).filter(|r| !r.is_empty()) {
        parts.push(Inline::Text(rest.to_owned()));
    }
    parts
}

/// Text and `<ph>` codes as element content.
fn inline(parts: &[Inline]) -> String {
    let mut out = String::new();
    for part in parts {
        match part {
            Inline::Text(t) => out.push_str(&xml::escape(t)),
            Inline::Code { id, text: span } => {
                let _ = write!(
                    out,
                    "<ph id=\"{}\" ctype=\"{}\" equiv-text=\"{}\">{}</ph>",
                    xml::escape_attribute(id),
                    kind(span),
                    xml::escape_attribute(span),
                    xml::escape(span)
                );
            }
        }
    }
    out
}

/// What kind of protected span this is, as a `ctype` (`x-` values are XLIFF's extension
/// point).
fn kind(span: &str) -> &'static str {
    if span.starts_with('`') {
        "x-code"
    } else if span.starts_with("![") {
        "image"
    } else if span.starts_with("](") || span.starts_with('[') {
        "x-link"
    } else if span.starts_with('<') && !span.contains("://") && !span.contains('@') {
        "x-html"
    } else if span.contains("://") || span.starts_with("www.") || span.contains('@') {
        "x-url"
    } else {
        "x-protected"
    }
}

/// One `<trans-unit>` as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    /// The `original` of its `<file>`.
    pub file: String,
    pub id: String,
    /// The `state` of its `<target>`.
    pub state: Option<String>,
    /// `approved="yes"` on the unit (how some tools mark a confirmed segment).
    pub approved: bool,
    /// The `<target>`; `None` when there is none.
    pub target: Option<Vec<Inline>>,
}

/// Why an XLIFF file cannot be read or applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XliffError {
    #[error("is not well-formed XML: {0}")]
    Syntax(String),
    #[error("is not XLIFF 1.2 (the root is <{0}>)")]
    NotXliff(String),
}

/// What went wrong with one unit's inline codes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("the inline code {id} ({text}) was removed")]
    Removed { id: String, text: String },
    #[error("the inline code {id} was changed from {was} to {now}")]
    Altered {
        id: String,
        was: String,
        now: String,
    },
    #[error("the inline code {0} occurs more than once")]
    Twice(String),
    #[error("the target has an inline code {0} that the source does not")]
    Unknown(String),
    #[error("the target has a <{0}> element; only the <ph> codes klartext wrote can be read back")]
    Element(String),
}

/// Every `<trans-unit>` of an XLIFF 1.2 document (`<mrk>` inside a target is read through).
pub fn read(xml: &str) -> Result<Vec<Unit>, XliffError> {
    let events = parse(xml)?;
    let mut units = Vec::new();
    let mut file = String::new();
    let mut unit: Option<Unit> = None;
    // Inside the unit's own <target> (not an <alt-trans>'s): its parts, and a code being read.
    let mut target: Option<Vec<Inline>> = None;
    let mut code: Option<(String, String)> = None;
    let mut alt_depth = 0usize;
    let mut root_seen = false;
    for event in events {
        match event {
            Event::Start {
                name, attrs, empty, ..
            } => {
                let local = local(&name);
                if !root_seen {
                    root_seen = true;
                    if local != "xliff" {
                        return Err(XliffError::NotXliff(name));
                    }
                    continue;
                }
                let get = |key: &str| attrs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
                if let Some(parts) = target.as_mut() {
                    match local {
                        "ph" if code.is_none() => {
                            let id = get("id").unwrap_or_default();
                            if empty {
                                parts.push(Inline::Code {
                                    id,
                                    text: String::new(),
                                });
                            } else {
                                code = Some((id, String::new()));
                            }
                        }
                        "mrk" => {}
                        _ if code.is_some() && local == "sub" => {}
                        other => parts.push(Inline::Code {
                            id: format!("<{other}>"),
                            text: String::new(),
                        }),
                    }
                    continue;
                }
                match local {
                    "file" => file = get("original").unwrap_or_default(),
                    "trans-unit" => {
                        unit = Some(Unit {
                            file: file.clone(),
                            id: get("id").unwrap_or_default(),
                            state: None,
                            approved: get("approved").as_deref() == Some("yes"),
                            target: None,
                        });
                    }
                    "alt-trans" if !empty => alt_depth += 1,
                    "target" if alt_depth == 0 => {
                        if let Some(u) = unit.as_mut() {
                            u.state = get("state");
                            if empty {
                                u.target = Some(Vec::new());
                            } else {
                                target = Some(Vec::new());
                            }
                        }
                    }
                    _ => {}
                }
            }
            Event::End { name } => {
                let local = local(&name);
                if target.is_some() {
                    match local {
                        "ph" => {
                            if let (Some((id, text)), Some(parts)) = (code.take(), target.as_mut())
                            {
                                parts.push(Inline::Code { id, text });
                            }
                        }
                        "target" if code.is_none() => {
                            if let Some(u) = unit.as_mut() {
                                u.target = target.take();
                            }
                        }
                        _ => {}
                    }
                    continue;
                }
                match local {
                    "alt-trans" => alt_depth = alt_depth.saturating_sub(1),
                    "trans-unit" => units.extend(unit.take()),
                    _ => {}
                }
            }
            Event::Text(t) => {
                if let Some((_, text)) = code.as_mut() {
                    text.push_str(&t);
                } else if let Some(parts) = target.as_mut() {
                    match parts.last_mut() {
                        Some(Inline::Text(last)) => last.push_str(&t),
                        _ => parts.push(Inline::Text(t)),
                    }
                }
            }
        }
    }
    if !root_seen {
        return Err(XliffError::Syntax("no root element".to_owned()));
    }
    Ok(units)
}

/// The text a target stands for, its codes checked against the paragraph's protected spans
/// and the codes klartext wrote into this target: none removed, none altered, none added.
pub fn restore(p: &Paragraph, parts: &[Inline]) -> Result<String, CodeError> {
    let spans = source_spans(p);
    let written: Vec<String> = xml::locate(&p.new, &spans)
        .into_iter()
        .map(|(_, n)| n.to_string())
        .collect();
    let mut seen: Vec<&str> = Vec::new();
    let mut out = String::new();
    for part in parts {
        match part {
            Inline::Text(t) => out.push_str(t),
            Inline::Code { id, text } => {
                if let Some(element) = id.strip_prefix('<').and_then(|e| e.strip_suffix('>')) {
                    return Err(CodeError::Element(element.to_owned()));
                }
                let span = id
                    .parse::<usize>()
                    .ok()
                    .and_then(|n| n.checked_sub(1))
                    .and_then(|n| spans.get(n))
                    .ok_or_else(|| CodeError::Unknown(id.clone()))?;
                if seen.contains(&id.as_str()) {
                    return Err(CodeError::Twice(id.clone()));
                }
                if text != span {
                    return Err(CodeError::Altered {
                        id: id.clone(),
                        was: (*span).to_owned(),
                        now: text.clone(),
                    });
                }
                seen.push(id);
                out.push_str(span);
            }
        }
    }
    if let Some(missing) = written.iter().find(|id| !seen.contains(&id.as_str())) {
        let text = missing
            .parse::<usize>()
            .ok()
            .and_then(|n| spans.get(n.wrapping_sub(1)))
            .map_or_else(String::new, |s| (*s).to_owned());
        return Err(CodeError::Removed {
            id: missing.clone(),
            text,
        });
    }
    Ok(out)
}

/// The decision a unit stands for: its target equal to the correction accepts it (unless the
/// state still asks for a review or a translation and the unit is not approved: then no
/// decision), equal to the draft rejects it, anything else is an edit. No target, or an empty
/// one: no decision.
pub fn verdict(p: &Paragraph, unit: &Unit) -> Result<Option<Verdict>, CodeError> {
    let Some(parts) = &unit.target else {
        return Ok(None);
    };
    let text = restore(p, parts)?;
    if text.trim().is_empty() {
        return Ok(None);
    }
    let open = !unit.approved
        && unit
            .state
            .as_deref()
            .is_some_and(|s| s == "new" || s.starts_with("needs-"));
    Ok(if text == p.new {
        (!open).then_some(Verdict::Accept)
    } else if p.old.as_deref() == Some(text.as_str()) {
        Some(Verdict::Reject)
    } else {
        Some(Verdict::Edit { text })
    })
}

fn local(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

/// The document's events, from the shared XML reader (`crate::xml`, quick-xml).
fn parse(xml: &str) -> Result<Vec<Event>, XliffError> {
    crate::xml::events(xml).map_err(|e| XliffError::Syntax(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::{LineEnding, TextEncoding};
    use crate::review::record::{FindingNote, RECORD_SCHEMA};
    use crate::segment::SegmentId;

    fn record() -> Record {
        let german = "Setze `max_idle` auf 5, siehe [Doku](https://example.org/a?b=1&c=2).";
        let code = german.find('`').expect("code");
        let link = german.find("](").expect("link");
        Record {
            schema: RECORD_SCHEMA.to_owned(),
            input: "a.de.md".to_owned(),
            output: "a.en.md".to_owned(),
            encoding: TextEncoding::Utf8 { bom: false },
            line_ending: LineEnding::Lf,
            titles: ("draft · deepl".to_owned(), "final · openai".to_owned()),
            to: "en".to_owned(),
            blocks: vec![String::new(), "\n".into()],
            paragraphs: vec![Paragraph {
                id: SegmentId(0),
                german: german.into(),
                repaired: None,
                repairs: vec![],
                protected: vec![
                    code..code + 10,
                    german.find('[').expect("[")..german.find('[').expect("[") + 1,
                    link..german.len() - 1,
                ],
                old: Some("Set `max_idle` on 5, see [docs](https://example.org/a?b=1&c=2).".into()),
                new: "Set `max_idle` to 5, see [the docs](https://example.org/a?b=1&c=2).".into(),
                notes: vec![],
                findings: vec![FindingNote {
                    severity: Severity::Warning,
                    message: "5 < 6 & \"so\"".into(),
                    check: Some("quantity".into()),
                }],
            }],
        }
    }

    fn written(record: &Record) -> String {
        let mut out = Vec::new();
        write_head(&mut out).expect("writes");
        write_file(record, "0.1.0", &mut out).expect("writes");
        write_tail(&mut out).expect("writes");
        String::from_utf8(out).expect("UTF-8")
    }

    #[test]
    fn protected_spans_are_inline_codes_on_both_sides() {
        let xml = written(&record());
        assert!(
            xml.contains(
                "<source xml:lang=\"de\">Setze <ph id=\"1\" ctype=\"x-code\" \
                 equiv-text=\"`max_idle`\">`max_idle`</ph> auf 5, siehe <ph id=\"2\""
            ),
            "{xml}"
        );
        assert!(
            xml.contains(
                "the docs<ph id=\"3\" ctype=\"x-link\" \
                 equiv-text=\"](https://example.org/a?b=1&amp;c=2)\">\
                 ](https://example.org/a?b=1&amp;c=2)</ph>.</target>"
            ),
            "{xml}"
        );
        assert!(xml.contains("state=\"needs-review-translation\""), "{xml}");
        assert!(xml.contains("alttranstype=\"proposal\""), "{xml}");
        assert!(
            xml.contains(
                "<note from=\"verify\" priority=\"2\" annotates=\"target\">warning · quantity: \
                 5 &lt; 6 &amp; \"so\"</note>"
            ),
            "{xml}"
        );
    }

    #[test]
    fn what_is_written_reads_back_as_it_was() {
        let record = record();
        let units = read(&written(&record)).expect("reads");
        assert_eq!(units.len(), 1);
        assert_eq!(units[0].file, "a.de.md");
        assert_eq!(units[0].id, "s0");
        assert_eq!(units[0].state.as_deref(), Some("needs-review-translation"));
        let p = &record.paragraphs[0];
        let parts = units[0].target.as_ref().expect("a target");
        assert_eq!(restore(p, parts).as_deref(), Ok(p.new.as_str()));
        // Still asking for review: no decision; confirmed: accepted.
        assert_eq!(verdict(p, &units[0]), Ok(None));
        let mut confirmed = units[0].clone();
        confirmed.state = Some("translated".into());
        assert_eq!(verdict(p, &confirmed), Ok(Some(Verdict::Accept)));
        let mut approved = units[0].clone();
        approved.approved = true;
        assert_eq!(verdict(p, &approved), Ok(Some(Verdict::Accept)));
    }

    #[test]
    fn edited_targets_become_decisions() {
        let record = record();
        let p = &record.paragraphs[0];
        let xml = written(&record).replace("</ph> to 5, see ", "</ph> to five, see ");
        let units = read(&xml).expect("reads");
        assert_eq!(
            verdict(p, &units[0]),
            Ok(Some(Verdict::Edit {
                text: "Set `max_idle` to five, see [the docs](https://example.org/a?b=1&c=2)."
                    .into()
            }))
        );
        let draft = written(&record)
            .replace("</ph> to 5, see ", "</ph> on 5, see ")
            .replace("</ph>the docs<ph", "</ph>docs<ph");
        let units = read(&draft).expect("reads");
        assert_eq!(verdict(p, &units[0]), Ok(Some(Verdict::Reject)));
    }

    #[test]
    fn broken_inline_codes_are_refused() {
        let record = record();
        let p = &record.paragraphs[0];
        let xml = written(&record);
        let target_code =
            "<ph id=\"1\" ctype=\"x-code\" equiv-text=\"`max_idle`\">`max_idle`</ph> to";
        assert!(xml.contains(target_code));
        let removed = xml.replace(target_code, "max_idle to");
        let units = read(&removed).expect("reads");
        assert!(matches!(
            verdict(p, &units[0]),
            Err(CodeError::Removed { ref id, .. }) if id == "1"
        ));
        let altered = xml.replace(
            target_code,
            "<ph id=\"1\" ctype=\"x-code\">`max_idle2`</ph> to",
        );
        let units = read(&altered).expect("reads");
        assert!(matches!(
            verdict(p, &units[0]),
            Err(CodeError::Altered { .. })
        ));
        let unknown = xml.replace(target_code, "<ph id=\"9\">x</ph> to");
        let units = read(&unknown).expect("reads");
        assert_eq!(verdict(p, &units[0]), Err(CodeError::Unknown("9".into())));
    }

    #[test]
    fn the_reader_takes_what_cat_tools_add() {
        let xml = "\u{feff}<?xml version='1.0'?>\n<!-- a tool -->\n<xliff version='1.2' \
                   xmlns:mq='x'><file original='a.txt' datatype='plaintext' \
                   source-language='de'><body><trans-unit id='s1' mq:status='done'>\
                   <source>A</source><target state='final'><mrk mtype='seg' mid='1'>B &amp; \
                   &#x43;<![CDATA[<d>]]></mrk></target><alt-trans><target>old</target>\
                   </alt-trans></trans-unit></body></file></xliff>";
        let units = read(xml).expect("reads");
        assert_eq!(
            units,
            vec![Unit {
                file: "a.txt".into(),
                id: "s1".into(),
                state: Some("final".into()),
                approved: false,
                target: Some(vec![Inline::Text("B & C<d>".into())]),
            }]
        );
        assert!(matches!(read("<a><b></a>"), Err(XliffError::Syntax(_))));
        assert!(matches!(read("<tmx/>"), Err(XliffError::NotXliff(_))));
    }
}
