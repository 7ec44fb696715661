//! Reports of a `DocumentDiff` to keep or share: one self-contained HTML page, Markdown with
//! CriticMarkup, a schema-versioned JSON record and a unified diff with one paragraph per line.
//! Owns what they share: the input (titles, German source, findings, language hints), the
//! summary counts and where each change sits in its paragraph. Output is deterministic (no
//! timestamps, no hash-map order), so reports can be compared and snapshot-tested.

mod critic;
#[cfg(test)]
mod fixture;
mod page;
mod patch;
mod record;
pub mod run;

use std::io::{self, Write};
use std::ops::Range;

use unicode_segmentation::UnicodeSegmentation;

use super::{Note, NoteLevel};
use crate::count::plural;
use crate::diff::{Alignment, Category, Chunk, DocumentDiff, Pair, PairKind};
use crate::repair::RepairMark;

/// What a report shows besides the diff.
#[derive(Debug, Clone, Copy)]
pub struct ReportInput<'a> {
    pub diff: &'a DocumentDiff,
    /// Names of the old and new side, e.g. ("draft · deepl", "final · openai") or file names.
    pub titles: (&'a str, &'a str),
    /// A third column, the text both sides come from (the German): its title and one text per
    /// pair index.
    pub source: Option<(&'a str, &'a [String])>,
    /// Where the offline repairs wrote in each source text (by pair index; may be shorter or
    /// empty): the source is the German as it was sent, and the HTML marks them subtly.
    pub source_repairs: &'a [Vec<RepairMark>],
    /// The document the report is about (the input file), named in the HTML title and header.
    pub document: Option<&'a str>,
    /// Findings by pair index; may be shorter than the pairs, or empty.
    pub notes: &'a [Vec<Note>],
    /// What made the report, e.g. "klartext 0.1.0". Never a timestamp: reports must be
    /// reproducible.
    pub generator: &'a str,
    /// Languages of the texts, for `lang` attributes in HTML.
    pub langs: Langs<'a>,
    /// Put before every id and fragment link of the HTML, so that the reports of several
    /// documents can share one page (`f3-` makes `p1` `f3-p1`). Empty for a page of its own.
    pub id_prefix: &'a str,
}

impl<'a> ReportInput<'a> {
    /// A report of `diff` alone: no source column, no findings, languages unknown.
    pub fn new(diff: &'a DocumentDiff, titles: (&'a str, &'a str), generator: &'a str) -> Self {
        Self {
            diff,
            titles,
            source: None,
            source_repairs: &[],
            document: None,
            notes: &[],
            generator,
            langs: Langs::default(),
            id_prefix: "",
        }
    }

    fn notes_of(&self, pair: &Pair) -> &'a [Note] {
        self.notes.get(pair.index).map_or(&[][..], Vec::as_slice)
    }

    fn source_repairs_of(&self, pair: &Pair) -> &'a [RepairMark] {
        self.source_repairs
            .get(pair.index)
            .map_or(&[][..], Vec::as_slice)
    }

    fn source_of(&self, pair: &Pair) -> Option<&'a str> {
        let (_, texts) = self.source?;
        Some(texts.get(pair.index).map_or("", String::as_str))
    }
}

/// BCP 47 language tags of the texts ("de", "en-GB"), when known. Anything that is not a plain
/// tag (letters, digits, hyphens) is ignored.
#[derive(Debug, Clone, Copy, Default)]
pub struct Langs<'a> {
    pub old: Option<&'a str>,
    pub new: Option<&'a str>,
    pub source: Option<&'a str>,
}

/// Self-contained HTML page: inline CSS, no external assets, no script needed.
pub fn html(input: &ReportInput, out: &mut impl Write) -> io::Result<()> {
    page::write(input, out)
}

/// Markdown with CriticMarkup: every pair as one paragraph with its changes marked.
pub fn markdown(input: &ReportInput, out: &mut impl Write) -> io::Result<()> {
    critic::write(input, out)
}

/// JSON, schema `klartext.report/1`, with each change's byte ranges in its pair's texts.
pub fn json(input: &ReportInput, out: &mut impl Write) -> io::Result<()> {
    record::write(input, out)
}

/// The JSON record of [`json`] as a value, to be part of a larger document (a run's report).
pub fn json_value(input: &ReportInput) -> serde_json::Result<serde_json::Value> {
    record::value(input)
}

/// JSON text with the characters that could hide or reorder what an editor shows (bidi
/// overrides, C1 controls) written as `\uXXXX` escapes.
pub fn escape_invisible(json: &str) -> std::borrow::Cow<'_, str> {
    record::escape_invisible(json)
}

/// A unified diff with one paragraph per line and `context` paragraphs around each change;
/// nothing at all when the two sides are identical.
pub fn unified(input: &ReportInput, context: usize, out: &mut impl Write) -> io::Result<()> {
    patch::write(input, context, out)
}

/// Counts shown at the top of every report.
#[derive(Debug, Clone, Default, PartialEq)]
struct Summary {
    /// By kind; these four add up to the number of pairs.
    unchanged: usize,
    changed: usize,
    inserted: usize,
    deleted: usize,
    /// By alignment; split and merged pairs are also counted by their kind.
    split: usize,
    merged: usize,
    /// `Change` chunks by category.
    whitespace: usize,
    punctuation: usize,
    case: usize,
    words: usize,
    errors: usize,
    warnings: usize,
    infos: usize,
    /// Share of matching words over the whole document, in `0..=1`.
    similarity: f64,
}

impl Summary {
    fn of(input: &ReportInput) -> Self {
        let mut summary = Self::default();
        // Each pair's similarity is 2·matches / (old + new words); weighting it by its word count
        // gives the same ratio for the whole document.
        let (mut matched, mut total) = (0.0, 0usize);
        for pair in &input.diff.pairs {
            *match pair.kind {
                PairKind::Unchanged => &mut summary.unchanged,
                PairKind::Changed => &mut summary.changed,
                PairKind::Inserted => &mut summary.inserted,
                PairKind::Deleted => &mut summary.deleted,
            } += 1;
            match pair.alignment {
                Alignment::Split => summary.split += 1,
                Alignment::Merge => summary.merged += 1,
                _ => {}
            }
            for chunk in &pair.chunks {
                if let Chunk::Change { category, .. } = chunk {
                    *match category {
                        Category::Whitespace => &mut summary.whitespace,
                        Category::Punctuation => &mut summary.punctuation,
                        Category::Case => &mut summary.case,
                        Category::Words => &mut summary.words,
                    } += 1;
                }
            }
            for note in input.notes_of(pair) {
                *match note.level {
                    NoteLevel::Error => &mut summary.errors,
                    NoteLevel::Warning => &mut summary.warnings,
                    NoteLevel::Info => &mut summary.infos,
                } += 1;
            }
            let words = pair.old.unicode_words().count() + pair.new.unicode_words().count();
            let similarity = if pair.kind == PairKind::Unchanged {
                1.0
            } else {
                f64::from(pair.similarity.clamp(0.0, 1.0))
            };
            matched += similarity * words as f64;
            total += words;
        }
        summary.similarity = if total == 0 {
            1.0
        } else {
            // Four decimals: enough for a percentage, and stable across platforms' float printing.
            (matched / total as f64 * 1e4).round() / 1e4
        };
        summary
    }

    fn pairs(&self) -> usize {
        self.unchanged + self.changed + self.inserted + self.deleted
    }

    fn changes(&self) -> usize {
        self.whitespace + self.punctuation + self.case + self.words
    }

    /// "12 paragraphs: 8 unchanged, 3 changed (1 split), 1 inserted"; zero counts left out.
    fn paragraphs_line(&self) -> String {
        let mut changed = format!("{} changed", self.changed);
        let reshaped: Vec<String> = [(self.split, "split"), (self.merged, "merged")]
            .into_iter()
            .filter(|(count, _)| *count > 0)
            .map(|(count, what)| format!("{count} {what}"))
            .collect();
        if !reshaped.is_empty() {
            changed = format!("{changed} ({})", reshaped.join(", "));
        }
        let parts = [
            (self.unchanged, format!("{} unchanged", self.unchanged)),
            (self.changed, changed),
            (self.inserted, format!("{} inserted", self.inserted)),
            (self.deleted, format!("{} deleted", self.deleted)),
        ];
        let parts: Vec<String> = parts
            .into_iter()
            .filter(|(count, _)| *count > 0)
            .map(|(_, text)| text)
            .collect();
        let total = self.pairs();
        let noun = plural(total, "paragraph", "paragraphs");
        if parts.is_empty() {
            format!("{total} {noun}")
        } else {
            format!("{total} {noun}: {}", parts.join(", "))
        }
    }

    /// "7 changes: 4 words, 2 punctuation, 1 case"; zero counts left out.
    fn changes_line(&self) -> String {
        let total = self.changes();
        let parts: Vec<String> = [
            (self.words, "words"),
            (self.punctuation, "punctuation"),
            (self.case, "case"),
            (self.whitespace, "whitespace"),
        ]
        .into_iter()
        .filter(|(count, _)| *count > 0)
        .map(|(count, what)| format!("{count} {what}"))
        .collect();
        let noun = plural(total, "change", "changes");
        if parts.is_empty() {
            format!("{total} {noun}")
        } else {
            format!("{total} {noun}: {}", parts.join(", "))
        }
    }

    /// "✗ 1 error, ⚠ 2 warnings" or "no findings"; the icons carry the level without colour.
    fn findings_line(&self) -> String {
        let parts: Vec<String> = level_counts(self.errors, self.warnings, self.infos)
            .into_iter()
            .map(|(_, count)| count)
            .collect();
        if parts.is_empty() {
            "no findings".to_owned()
        } else {
            parts.join(", ")
        }
    }
}

/// "✗ 1 error", "⚠ 2 warnings", "ℹ 1 note" for the non-zero counts, most severe first.
fn level_counts(errors: usize, warnings: usize, infos: usize) -> Vec<(NoteLevel, String)> {
    [
        (NoteLevel::Error, errors),
        (NoteLevel::Warning, warnings),
        (NoteLevel::Info, infos),
    ]
    .into_iter()
    .filter(|(_, count)| *count > 0)
    .map(|(level, count)| {
        let text = format!("{} {count} {}", level.marker(), level_noun(level, count));
        (level, text)
    })
    .collect()
}

fn notes_counts(notes: &[Note]) -> Vec<(NoteLevel, String)> {
    let count = |level| notes.iter().filter(|n| n.level == level).count();
    level_counts(
        count(NoteLevel::Error),
        count(NoteLevel::Warning),
        count(NoteLevel::Info),
    )
}

fn level_noun(level: NoteLevel, count: usize) -> &'static str {
    match level {
        NoteLevel::Error => plural(count, "error", "errors"),
        NoteLevel::Warning => plural(count, "warning", "warnings"),
        NoteLevel::Info => plural(count, "note", "notes"),
    }
}

fn level_name(level: NoteLevel) -> &'static str {
    match level {
        NoteLevel::Error => "error",
        NoteLevel::Warning => "warning",
        NoteLevel::Info => "info",
    }
}

fn category_name(category: Category) -> &'static str {
    match category {
        Category::Whitespace => "whitespace",
        Category::Punctuation => "punctuation",
        Category::Case => "case",
        Category::Words => "words",
    }
}

fn percent(similarity: f64) -> String {
    format!("{}%", (similarity.clamp(0.0, 1.0) * 100.0).round())
}

/// One `Change` chunk of a pair with where it sits: byte ranges into the pair's old and new text.
struct Located<'p> {
    /// One-based within its pair, as in the `p3-c2` anchors.
    number: usize,
    old: &'p str,
    new: &'p str,
    category: Category,
    old_range: Range<usize>,
    new_range: Range<usize>,
}

/// The pair's changes with byte ranges, found by walking the chunks: `Same` text advances both
/// sides, a change advances each side by its own length.
fn locate(pair: &Pair) -> Vec<Located<'_>> {
    let (mut at_old, mut at_new) = (0, 0);
    let mut changes = Vec::new();
    for chunk in &pair.chunks {
        match chunk {
            Chunk::Same { text } => {
                at_old += text.len();
                at_new += text.len();
            }
            Chunk::Change {
                old, new, category, ..
            } => {
                changes.push(Located {
                    number: changes.len() + 1,
                    old,
                    new,
                    category: *category,
                    old_range: at_old..at_old + old.len(),
                    new_range: at_new..at_new + new.len(),
                });
                at_old += old.len();
                at_new += new.len();
            }
        }
    }
    changes
}

/// Anchor of a pair, one-based like its `¶` number.
fn anchor(pair: &Pair) -> String {
    format!("p{}", pair.index + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_counts_kinds_categories_and_findings() {
        let fixture = fixture::Fixture::new();
        let summary = Summary::of(&fixture.input());
        assert_eq!(
            (
                summary.unchanged,
                summary.changed,
                summary.inserted,
                summary.deleted
            ),
            (4, 4, 1, 1)
        );
        assert_eq!((summary.split, summary.merged), (1, 0));
        assert_eq!(
            (
                summary.words,
                summary.punctuation,
                summary.case,
                summary.whitespace
            ),
            (8, 2, 1, 1)
        );
        assert_eq!((summary.errors, summary.warnings, summary.infos), (1, 1, 1));
        assert!(summary.similarity > 0.0 && summary.similarity < 1.0);
        assert_eq!(
            summary.paragraphs_line(),
            "10 paragraphs: 4 unchanged, 4 changed (1 split), 1 inserted, 1 deleted"
        );
        assert_eq!(summary.findings_line(), "✗ 1 error, ⚠ 1 warning, ℹ 1 note");
    }

    #[test]
    fn empty_document_is_fully_similar() {
        let diff = DocumentDiff { pairs: Vec::new() };
        let summary = Summary::of(&ReportInput::new(&diff, ("a", "b"), "test"));
        assert_eq!(summary.similarity, 1.0);
        assert_eq!(summary.paragraphs_line(), "0 paragraphs");
        assert_eq!(summary.changes_line(), "0 changes");
        assert_eq!(summary.findings_line(), "no findings");
    }

    #[test]
    fn located_ranges_cut_out_the_change_texts() {
        let fixture = fixture::Fixture::new();
        for pair in &fixture.diff.pairs {
            for change in locate(pair) {
                assert_eq!(&pair.old[change.old_range.clone()], change.old);
                assert_eq!(&pair.new[change.new_range.clone()], change.new);
            }
        }
    }
}
