//! The JSON report, schema `klartext.report/1`: the summary, then every pair with its exact
//! texts, its changes (with byte ranges into those texts) and its findings. Texts are not
//! sanitised here, so the ranges hold; JSON string escaping makes them safe to carry.

use std::borrow::Cow;
use std::io::{self, Write};
use std::ops::Range;

use serde::Serialize;

use super::{ReportInput, Summary, category_name, level_name, locate};
use crate::diff::{Alignment, PairKind};

pub(super) const SCHEMA: &str = "klartext.report/1";

#[derive(Serialize)]
struct Record<'a> {
    schema: &'static str,
    generator: &'a str,
    titles: Titles<'a>,
    summary: SummaryRecord,
    pairs: Vec<PairRecord<'a>>,
}

#[derive(Serialize)]
struct Titles<'a> {
    old: &'a str,
    new: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<&'a str>,
}

#[derive(Serialize)]
struct SummaryRecord {
    paragraphs: Paragraphs,
    changes: Changes,
    findings: Findings,
    /// Share of matching words over the whole document, `0..=1`.
    similarity: f64,
}

#[derive(Serialize)]
struct Paragraphs {
    total: usize,
    unchanged: usize,
    changed: usize,
    inserted: usize,
    deleted: usize,
    /// Also counted as changed.
    split: usize,
    merged: usize,
}

#[derive(Serialize)]
struct Changes {
    total: usize,
    words: usize,
    punctuation: usize,
    case: usize,
    whitespace: usize,
}

#[derive(Serialize)]
struct Findings {
    error: usize,
    warning: usize,
    info: usize,
}

#[derive(Serialize)]
struct PairRecord<'a> {
    /// Zero-based, as in the diff; anchors and ids count from one.
    index: usize,
    kind: PairKind,
    alignment: Alignment,
    old_paragraphs: Range<usize>,
    new_paragraphs: Range<usize>,
    similarity: f32,
    rewritten: bool,
    old: &'a str,
    new: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<&'a str>,
    changes: Vec<ChangeRecord<'a>>,
    notes: Vec<NoteRecord<'a>>,
}

#[derive(Serialize)]
struct ChangeRecord<'a> {
    /// `p{pair}-c{change}`, one-based, the same as the HTML report's anchors.
    id: String,
    category: &'static str,
    old: &'a str,
    new: &'a str,
    /// Byte range in the pair's `old` text (empty for an insertion).
    old_range: Range<usize>,
    new_range: Range<usize>,
}

#[derive(Serialize)]
struct NoteRecord<'a> {
    level: &'static str,
    text: &'a str,
}

pub(super) fn write(input: &ReportInput, out: &mut impl Write) -> io::Result<()> {
    let text = serde_json::to_string_pretty(&record(input)).map_err(io::Error::other)?;
    writeln!(out, "{}", escape_invisible(&text))
}

/// The record as a JSON value, to be part of a larger document.
pub(super) fn value(input: &ReportInput) -> serde_json::Result<serde_json::Value> {
    serde_json::to_value(record(input))
}

fn record<'a>(input: &ReportInput<'a>) -> Record<'a> {
    let summary = Summary::of(input);
    Record {
        schema: SCHEMA,
        generator: input.generator,
        titles: Titles {
            old: input.titles.0,
            new: input.titles.1,
            source: input.source.map(|(title, _)| title),
        },
        summary: SummaryRecord {
            paragraphs: Paragraphs {
                total: summary.pairs(),
                unchanged: summary.unchanged,
                changed: summary.changed,
                inserted: summary.inserted,
                deleted: summary.deleted,
                split: summary.split,
                merged: summary.merged,
            },
            changes: Changes {
                total: summary.changes(),
                words: summary.words,
                punctuation: summary.punctuation,
                case: summary.case,
                whitespace: summary.whitespace,
            },
            findings: Findings {
                error: summary.errors,
                warning: summary.warnings,
                info: summary.infos,
            },
            similarity: summary.similarity,
        },
        pairs: input
            .diff
            .pairs
            .iter()
            .map(|pair| PairRecord {
                index: pair.index,
                kind: pair.kind,
                alignment: pair.alignment,
                old_paragraphs: pair.old_paragraphs.clone(),
                new_paragraphs: pair.new_paragraphs.clone(),
                similarity: pair.similarity,
                rewritten: pair.rewritten,
                old: &pair.old,
                new: &pair.new,
                source: input.source_of(pair),
                changes: locate(pair)
                    .into_iter()
                    .map(|change| ChangeRecord {
                        id: format!("{}-c{}", super::anchor(pair), change.number),
                        category: category_name(change.category),
                        old: change.old,
                        new: change.new,
                        old_range: change.old_range,
                        new_range: change.new_range,
                    })
                    .collect(),
                notes: input
                    .notes_of(pair)
                    .iter()
                    .map(|note| NoteRecord {
                        level: level_name(note.level),
                        text: &note.text,
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// JSON allows DEL, C1 controls and bidi overrides raw inside strings, where they can reorder
/// or hide what a terminal or editor shows. Written as `\uXXXX` escapes they parse back to the
/// same text. They never occur outside strings, so the whole document can be mapped.
pub(super) fn escape_invisible(json: &str) -> Cow<'_, str> {
    let invisible = |c: char| {
        matches!(
            c,
            '\u{7f}'..='\u{9f}'
                | '\u{061c}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{2066}'..='\u{2069}'
        )
    };
    if !json.chars().any(invisible) {
        return Cow::Borrowed(json);
    }
    let mut escaped = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if invisible(c) {
            escaped.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            escaped.push(c);
        }
    }
    Cow::Owned(escaped)
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::super::fixture::Fixture;
    use super::*;

    fn render(input: &ReportInput) -> String {
        let mut out = Vec::new();
        write(input, &mut out).expect("writing to a Vec cannot fail");
        String::from_utf8(out).expect("JSON is UTF-8")
    }

    fn range(value: &Value) -> Range<usize> {
        let at = |key: &str| {
            value[key]
                .as_u64()
                .and_then(|n| usize::try_from(n).ok())
                .expect("a range bound")
        };
        at("start")..at("end")
    }

    #[test]
    fn parses_and_round_trips_key_fields() {
        let fixture = Fixture::new();
        let input = fixture.input();
        let json: Value = serde_json::from_str(&render(&input)).expect("valid JSON");
        assert_eq!(json["schema"], SCHEMA);
        assert_eq!(json["generator"], "klartext test");
        assert_eq!(json["titles"]["old"], "draft · <deepl>");
        assert_eq!(json["titles"]["source"], "German");
        assert_eq!(json["summary"]["paragraphs"]["total"], 10);
        assert_eq!(json["summary"]["paragraphs"]["split"], 1);
        assert_eq!(json["summary"]["findings"]["error"], 1);
        let pairs = json["pairs"].as_array().expect("pairs");
        assert_eq!(pairs.len(), fixture.diff.pairs.len());
        for (record, pair) in pairs.iter().zip(&fixture.diff.pairs) {
            assert_eq!(record["index"], pair.index);
            assert_eq!(record["old"], pair.old.as_str());
            assert_eq!(record["new"], pair.new.as_str());
            assert_eq!(record["rewritten"], pair.rewritten);
            let changes = record["changes"].as_array().expect("changes");
            assert_eq!(changes.len(), pair.change_count());
            for change in changes {
                let (old, new) = (range(&change["old_range"]), range(&change["new_range"]));
                assert_eq!(change["old"], &pair.old[old]);
                assert_eq!(change["new"], &pair.new[new]);
            }
        }
        assert_eq!(pairs[0]["kind"], "changed");
        assert_eq!(pairs[4]["alignment"], "split");
        assert_eq!(pairs[4]["new_paragraphs"]["end"], 6);
        assert_eq!(pairs[0]["changes"][1]["id"], "p1-c2");
        assert_eq!(pairs[0]["changes"][2]["category"], "punctuation");
        assert_eq!(pairs[8]["notes"][0]["level"], "error");
        // Exact texts, control characters included, so the byte ranges hold.
        assert!(pairs[3]["old"].as_str().is_some_and(|s| s.contains('\x1b')));
        assert!(
            pairs[3]["old"]
                .as_str()
                .is_some_and(|s| s.contains('\u{202E}'))
        );
    }

    #[test]
    fn invisible_characters_are_written_as_escapes() {
        let fixture = Fixture::new();
        let text = render(&fixture.input());
        assert!(!text.contains('\u{202E}'));
        assert!(text.contains("here\\u202e"));
        assert_eq!(escape_invisible("a\u{85}b\u{2066}"), "a\\u0085b\\u2066");
    }

    #[test]
    fn snapshot_json() {
        let fixture = Fixture::new();
        insta::assert_snapshot!(render(&fixture.input()));
    }
}
