//! The offline verify pass: what a translation lost or invented, judged on the German source and
//! the output of one segment (quantities, names, language, form, glossary terms), whole-document
//! form (one output segment per input segment), and warnings about the German itself that hold
//! with no translation at all. Every issue is a [`Finding`] with a severity, pointing at a
//! segment and, where it can, at the spans involved. Word and shape heuristics only; pure, no
//! I/O. Each check errs on the side of silence: a finding should be worth a reader's look.

mod acronyms;
pub mod align;
mod commentary;
mod consistency;
mod doubt;
mod form;
mod glossary;
mod language;
mod names;
pub mod quantities;
mod residue;
mod source;
mod text;

#[cfg(test)]
mod real_tests;
#[cfg(test)]
mod tests;

use std::ops::Range;

use crate::config::Lang;
use crate::segment::SegmentId;

pub use commentary::{commentary, commentary_with_source};
pub use consistency::Rendered;
pub use doubt::{is_doubt, model_notes};
pub use residue::{Residue, german_residue, is_echo, residue};
pub(crate) use text::sentences;

/// How much a finding matters. `Error`: the output is wrong or unusable as it stands;
/// `Warning`: probably wrong, worth a look; `Info`: advisory.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

/// The family a finding belongs to; each has its own rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Check {
    Quantity,
    Name,
    Language,
    Form,
    Glossary,
    Source,
    /// The language model's own notes on its result: a doubt is a warning, any other an aside.
    Model,
    /// Across a document: one name rendered two ways.
    Consistency,
}

impl Check {
    pub const ALL: [Check; 8] = [
        Check::Quantity,
        Check::Name,
        Check::Language,
        Check::Form,
        Check::Glossary,
        Check::Source,
        Check::Model,
        Check::Consistency,
    ];

    /// Stable identifier, as used in reports and as the first half of `check/rule`.
    pub fn id(self) -> &'static str {
        match self {
            Check::Quantity => "quantity",
            Check::Name => "name",
            Check::Language => "language",
            Check::Form => "form",
            Check::Glossary => "glossary",
            Check::Source => "source",
            Check::Model => "model",
            Check::Consistency => "consistency",
        }
    }
}

/// One issue. Spans are byte ranges of the segment's source and output text.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Finding {
    /// The segment; `None` for document-wide findings ([`verify_counts`]).
    pub segment: Option<SegmentId>,
    pub check: Check,
    /// Stable rule id within the check, e.g. `missing-name`.
    pub rule: &'static str,
    pub severity: Severity,
    /// One English line for reports.
    pub message: String,
    pub source_span: Option<Range<usize>>,
    pub output_span: Option<Range<usize>>,
}

impl Finding {
    fn new(
        segment: SegmentId,
        check: Check,
        rule: &'static str,
        severity: Severity,
        message: String,
    ) -> Finding {
        Finding {
            segment: Some(segment),
            check,
            rule,
            severity,
            message,
            source_span: None,
            output_span: None,
        }
    }

    /// A finding about the whole document rather than one segment.
    fn document(check: Check, rule: &'static str, severity: Severity, message: String) -> Finding {
        Finding {
            segment: None,
            ..Finding::new(SegmentId::default(), check, rule, severity, message)
        }
    }

    fn in_source(mut self, span: Range<usize>) -> Finding {
        self.source_span = Some(span);
        self
    }

    fn in_output(mut self, span: Range<usize>) -> Finding {
        self.output_span = Some(span);
        self
    }
}

/// One segment to verify.
#[derive(Debug, Clone, Copy)]
pub struct Pair<'a> {
    pub id: SegmentId,
    /// The German as read (or as repaired: spans refer to whatever is given here).
    pub source: &'a str,
    /// The literal draft, when there is one; only used to make messages more precise.
    pub draft: Option<&'a str>,
    pub output: &'a str,
    /// The output's language: English, or German for the German-only mode.
    pub target: Lang,
}

#[cfg(test)]
impl<'a> Pair<'a> {
    /// A German source and its English output, for the checks' tests.
    pub(crate) fn english(source: &'a str, output: &'a str) -> Self {
        Self {
            id: SegmentId(0),
            source,
            draft: None,
            output,
            target: Lang::En,
        }
    }
}

/// What `verify` knows besides the pair.
#[derive(Debug, Default, Clone, Copy)]
pub struct Options<'a> {
    pub glossary: Option<&'a crate::glossary::Glossary>,
    /// Spans of `source` that must appear verbatim in the output (inline code, URLs, markup).
    pub protected: &'a [Range<usize>],
    /// The model's notes on this segment: a repair it names there is a repair, not a loss.
    pub notes: &'a [String],
}

/// Output-side checks of one segment (quantity, name, language, form, glossary). For German
/// output the checks that assume English (language, acronym expansions, glossary) are skipped.
pub fn verify(pair: &Pair, opts: &Options) -> Vec<Finding> {
    let output_is_german = pair.target == Lang::De;
    let mut findings: Vec<Finding> = quantities::check(pair.source, pair.output, output_is_german)
        .into_iter()
        .map(|issue| quantity_finding(pair.id, issue))
        .collect();
    findings.extend(names::check(pair, opts));
    if !output_is_german {
        findings.extend(acronyms::mismatches(pair));
        findings.extend(language::check(pair));
    }
    findings.extend(form::check(pair));
    if let (Some(glossary), false) = (opts.glossary, output_is_german) {
        findings.extend(glossary::check(pair, glossary));
    }
    findings
}

/// What a run that translates reports about the German itself: the source warnings (a fused
/// heading, unbalanced quotes, a fragment), without the notes and without those the
/// translation is judged on instead (scale words, by the quantity check). `--dry-run` reports
/// exactly these, so it agrees with the run.
pub fn verify_source_for_translation(id: SegmentId, source: &str) -> Vec<Finding> {
    verify_source(id, source)
        .into_iter()
        .filter(|f| f.severity > Severity::Info && f.rule != "scale-word")
        .collect()
}

/// German-only warnings (source-side): they run with no translation at all.
pub fn verify_source(id: SegmentId, source: &str) -> Vec<Finding> {
    // Scale words the German may have got wrong: a remark on the source (check `source`,
    // rule `scale-word`), judged against a translation by the quantity check instead.
    let mut findings: Vec<Finding> = quantities::source_warnings(source)
        .into_iter()
        .map(|issue| Finding {
            check: Check::Source,
            rule: "scale-word",
            ..quantity_finding(id, issue)
        })
        .collect();
    findings.extend(source::check(id, source));
    findings
}

/// A paragraph of a German document, with its protected spans.
#[derive(Debug, Clone, Copy)]
pub struct Paragraph<'a> {
    pub text: &'a str,
    pub protected: &'a [Range<usize>],
}

/// A whole translation made elsewhere against its German (`check SOURCE TRANSLATION`): the
/// paragraphs are paired by content ([`align::align`]), each group is checked as one pair
/// (under the id of its first German paragraph), a German paragraph with no counterpart is a
/// warning and a translated one with no German a note; a name rendered two ways across the
/// document is a warning ([`verify_consistency`]).
pub fn verify_document(
    source: &[Paragraph<'_>],
    output: &[&str],
    target: Lang,
    glossary: Option<&crate::glossary::Glossary>,
) -> Vec<Finding> {
    let texts: Vec<&str> = source.iter().map(|p| p.text).collect();
    let mut findings = Vec::new();
    let mut paired: Vec<(SegmentId, String, String)> = Vec::new();
    for group in align::align(&texts, output) {
        let id = SegmentId(group.source.start);
        if group.target.is_empty() {
            let message = "no counterpart in the translation: missing, or moved beyond \
                           recognition"
                .to_owned();
            findings.push(Finding::new(
                id,
                Check::Form,
                "unmatched-paragraph",
                Severity::Warning,
                message,
            ));
            continue;
        }
        if group.source.is_empty() {
            let message = format!(
                "translated paragraph {} has no counterpart in the German",
                group.target.start + 1
            );
            findings.push(Finding::document(
                Check::Form,
                "added-paragraph",
                Severity::Info,
                message,
            ));
            continue;
        }
        // A group of several German paragraphs is checked as one text; their protected spans
        // move with them.
        let mut joined = String::new();
        let mut protected = Vec::new();
        for paragraph in &source[group.source.clone()] {
            if !joined.is_empty() {
                joined.push_str("\n\n");
            }
            let at = joined.len();
            protected.extend(paragraph.protected.iter().map(|r| r.start + at..r.end + at));
            joined.push_str(paragraph.text);
        }
        let translated = output[group.target.clone()].join("\n\n");
        findings.extend(verify(
            &Pair {
                id,
                source: &joined,
                draft: None,
                output: &translated,
                target,
            },
            &Options {
                glossary,
                protected: &protected,
                ..Options::default()
            },
        ));
        paired.push((id, joined, translated));
    }
    // One name rendered two ways across the document (English only).
    if target == Lang::En {
        let rendered: Vec<Rendered> = paired
            .iter()
            .map(|(id, source, output)| Rendered {
                id: *id,
                source,
                output,
                terms: &[],
            })
            .collect();
        findings.extend(verify_consistency(&rendered, glossary));
    }
    findings
}

/// Whole-document consistency: a name the document renders two ways (the model's reported
/// `terms`, and capitalised German words some paragraph keeps verbatim) gets a warning on each
/// paragraph that differs from the rendering most use. English output only; the glossary's
/// terms are left to the glossary check.
pub fn verify_consistency(
    segments: &[Rendered],
    glossary: Option<&crate::glossary::Glossary>,
) -> Vec<Finding> {
    consistency::check(segments, glossary)
}

/// Whole-document form checks: one output segment per input segment.
pub fn verify_counts(source_segments: usize, output_segments: usize) -> Vec<Finding> {
    form::counts(source_segments, output_segments)
}

/// The highest severity among `findings`.
pub fn worst(findings: &[Finding]) -> Option<Severity> {
    findings.iter().map(|f| f.severity).max()
}

fn quantity_finding(segment: SegmentId, issue: quantities::QuantityIssue) -> Finding {
    let severity = if issue.error {
        Severity::Error
    } else {
        Severity::Warning
    };
    Finding {
        segment: Some(segment),
        check: Check::Quantity,
        rule: issue.rule,
        severity,
        message: issue.message,
        source_span: issue.source_span,
        output_span: issue.output_span,
    }
}
