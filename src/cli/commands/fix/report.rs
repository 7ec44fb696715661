//! The reports of `fix`: the `--json` report on stdout (schema `klartext.fix/2`, one entry per
//! input, everything a script or a later review needs) and the run record
//! (`klartext.run/2`, [`RunHead`] and one [`FileEntry`] per input: the counts, and per
//! paragraph the findings, notes, repairs and refine round, without the texts), written as a
//! folder run's `OUT/klartext-report.json` and as `--report FILE.json` over several files.
//! Both are made of [`FileReport`]s built one way from the pipeline's outcome, and the run's
//! [`Totals`] are their sum. Byte ranges are offsets in the decoded text (UTF-8, LF line
//! endings); a finding's spans are offsets in its paragraph's German and result.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use super::deliver::Delivered;
use crate::backend::Usage;
use crate::cli::args::FailOn;
use crate::config::Lang;
use crate::count::grouped;
use crate::files::{LineEnding, TextEncoding};
use crate::pipeline::{
    DocumentError, Estimate, Outcome, PassPlan, RefineOutcome, SegmentFailure, SegmentResult,
    Spent, Translated, Work,
};
use crate::repair::{Flag, Repair, RepairedSegment};
use crate::segment::SegmentId;
use crate::verify::{Check, Finding, Severity};

pub const SCHEMA: &str = "klartext.fix/2";
pub const RUN_SCHEMA: &str = "klartext.run/2";

/// How much of a document a report keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    /// Findings, repairs and every segment's way through the passes.
    Full,
    /// Counts only.
    Counts,
}

#[derive(Debug, Serialize)]
pub struct RunReport<'a> {
    pub schema: &'static str,
    /// No API pass ran: the result is the repaired German.
    pub offline: bool,
    pub dry_run: bool,
    pub files: &'a [FileReport],
    /// Per backend name.
    pub usage: &'a BTreeMap<String, Usage>,
    /// What the run spent, per backend and per pass (absent offline and for a dry run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost: Option<&'a Spent>,
    /// `--dry-run`: what the run would cost, synchronously and with `--batch-api`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub estimate: Option<&'a Estimate>,
    /// `--dry-run`: the plans of every file added up per pass, with the run's tokens sent
    /// per paragraph token.
    #[serde(skip_serializing_if = "<[PassPlan]>::is_empty")]
    pub plan: &'a [PassPlan],
}

/// The run record (`klartext.run/2`) but for its `files`, which follow as [`FileEntry`]s.
#[derive(Serialize)]
pub struct RunHead<'a> {
    pub schema: &'static str,
    pub generator: &'static str,
    /// No API pass ran: the results are the repaired German.
    pub offline: bool,
    pub dry_run: bool,
    /// Ctrl-C: files not started are listed as `not_started`.
    pub interrupted: bool,
    /// Backends that stopped during the run (quota, auth, failing past their retries).
    pub stopped: &'a [String],
    /// The sum of the files (usage: of the run, every request sent).
    pub totals: &'a Totals,
    /// Per backend, every request sent, failed ones included.
    pub usage: &'a BTreeMap<String, Usage>,
    /// What the run spent, per backend and per pass (absent offline and for a dry run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost: Option<&'a Spent>,
    /// `--dry-run`: what the run would cost, synchronously and with `--batch-api`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub estimate: Option<&'a Estimate>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileStatus {
    Ok,
    /// Finished, with verify's errors or warnings to check.
    Flagged,
    Empty,
    Failed,
    /// Nothing of it was sent: Ctrl-C, or every backend had stopped.
    NotStarted,
}

/// A document's counts, the same in `--json`, the run record and the summary.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Counts {
    pub paragraphs: usize,
    /// Paragraphs whose result differs from what it is compared with (the draft, or the
    /// German offline).
    pub changed: usize,
    pub repairs: usize,
    pub flags: usize,
    /// Verify's error- and warning-level findings, the model's doubts among the warnings.
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
    /// The model's notes that doubt its own result.
    pub doubts: usize,
}

#[derive(Debug, Serialize)]
pub struct FileReport {
    pub input: String,
    pub status: FileStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoding: Option<TextEncoding>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line_ending: Option<LineEnding>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    #[serde(flatten)]
    pub counts: Counts,
    /// Which backends made the draft, the result and the refined paragraphs.
    #[serde(skip_serializing_if = "Backends::is_empty")]
    pub backends: Backends,
    /// What this document's replies reported, per backend.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub usage: BTreeMap<String, Usage>,
    /// Offline and with `--dry-run`: what verify found in the German (with API passes the
    /// findings are per paragraph in `segments`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<Finding>,
    /// Offline repairs: only the paragraphs with repairs or flags.
    pub repaired: Vec<RepairedSegment>,
    /// The API passes, one entry per paragraph (absent offline).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segments: Option<Vec<SegmentResult>>,
    /// `--dry-run`: what would be sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<Vec<PassPlan>>,
    /// The result itself, when it would otherwise have gone to stdout.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

impl FileReport {
    /// What a document became, before it is written.
    pub fn new(input: String, outcome: &Outcome, detail: Detail, to: Lang) -> Self {
        let doc = &outcome.repaired;
        let mut report = Self {
            encoding: Some(outcome.decoded.encoding),
            line_ending: Some(outcome.decoded.line_ending),
            counts: Counts {
                paragraphs: doc.segments.len(),
                repairs: doc.repair_count(),
                flags: doc.flag_count(),
                ..Counts::default()
            },
            ..Self::empty(input, FileStatus::Ok)
        };
        if let Work::Empty = outcome.work {
            report.status = FileStatus::Empty;
            return report;
        }
        report.counts.changed = changed(outcome, to);
        for finding in outcome.findings() {
            match finding.severity {
                Severity::Error => report.counts.errors += 1,
                Severity::Warning => report.counts.warnings += 1,
                Severity::Info => report.counts.infos += 1,
            }
            if finding.check == Check::Model && finding.severity == Severity::Warning {
                report.counts.doubts += 1;
            }
        }
        if let Some(translated) = outcome.translated() {
            report.backends = Backends::of(translated);
            report.usage.clone_from(&translated.usage);
        }
        if report.counts.errors + report.counts.warnings > 0 {
            report.status = FileStatus::Flagged;
        }
        if detail == Detail::Counts {
            return report;
        }
        report.repaired = doc
            .segments
            .iter()
            .filter(|s| !s.repairs.is_empty() || !s.flags.is_empty())
            .cloned()
            .collect();
        match &outcome.work {
            Work::Repaired { findings } => report.findings = findings.clone(),
            Work::Planned { plans, findings } => {
                report.plan = Some(plans.clone());
                report.findings = findings.clone();
            }
            Work::Translated { translated, .. } => {
                report.segments = Some(translated.segments.clone());
            }
            Work::Empty => {}
        }
        report
    }

    pub fn failed(input: String, err: &anyhow::Error) -> Self {
        let mut report = Self::empty(input, FileStatus::Ok);
        report.fail(err);
        report
    }

    pub fn not_started(input: String, err: &DocumentError) -> Self {
        Self {
            error: Some(err.to_string()),
            ..Self::empty(input, FileStatus::NotStarted)
        }
    }

    /// It failed after all (written or shown): the error replaces the result.
    pub fn fail(&mut self, err: &anyhow::Error) {
        self.status = FileStatus::Failed;
        self.error = Some(crate::cli::printer::describe(err));
    }

    /// Its paragraphs were never sent (all of its failures are of that kind).
    pub fn not_finished(&mut self, failed: &[&SegmentResult]) {
        self.status = FileStatus::NotStarted;
        self.error = failed.first().and_then(|s| s.error.as_ref()).map(|e| {
            format!(
                "{} of {} paragraphs {}",
                failed.len(),
                self.counts.paragraphs,
                e.message
            )
        });
    }

    pub fn delivered(&mut self, delivered: &Delivered) {
        self.output = delivered.output.as_ref().map(|p| p.display().to_string());
        self.text.clone_from(&delivered.text);
    }

    fn empty(input: String, status: FileStatus) -> Self {
        Self {
            input,
            status,
            error: None,
            encoding: None,
            line_ending: None,
            output: None,
            counts: Counts::default(),
            backends: Backends::default(),
            usage: BTreeMap::new(),
            findings: Vec::new(),
            repaired: Vec::new(),
            segments: None,
            plan: None,
            text: None,
        }
    }

    /// Finished: its result was written or shown.
    pub fn finished(&self) -> bool {
        matches!(self.status, FileStatus::Ok | FileStatus::Flagged)
    }

    /// Whether the findings reach `--fail-on`.
    pub fn reaches(&self, fail_on: FailOn) -> bool {
        match fail_on {
            FailOn::Never => false,
            FailOn::Warning => self.counts.errors + self.counts.warnings > 0,
            FailOn::Error => self.counts.errors > 0,
        }
    }
}

/// Paragraphs whose two sides differ, the sides the diff and the reports compare: the German
/// against its repairs offline, else the draft (the repaired German where there is none, or
/// the German as read for `--to de`) against the result. Unfinished paragraphs do not count.
fn changed(outcome: &Outcome, to: Lang) -> usize {
    match outcome.translated() {
        None => {
            let (old, new) = outcome.repaired.sides(&outcome.decoded.text);
            old.iter().zip(&new).filter(|(old, new)| old != new).count()
        }
        Some(translated) => {
            let sides = translated.sides(to);
            sides
                .old
                .iter()
                .zip(&sides.new)
                .zip(&translated.segments)
                .filter(|((old, new), s)| {
                    s.final_text.is_some() && old.unwrap_or(&s.repaired) != **new
                })
                .count()
        }
    }
}

/// The backends that made a document, each once, in order of first use.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Backends {
    pub draft: Vec<String>,
    #[serde(rename = "final")]
    pub result: Vec<String>,
    pub refine: Vec<String>,
}

impl Backends {
    fn of(translated: &Translated) -> Self {
        let mut backends = Self::default();
        let add = |list: &mut Vec<String>, name: Option<&str>| {
            if let Some(name) = name
                && !list.iter().any(|n| n == name)
            {
                list.push(name.to_owned());
            }
        };
        for segment in &translated.segments {
            add(&mut backends.draft, segment.draft_backend.as_deref());
            add(&mut backends.result, segment.final_backend.as_deref());
            let refined = segment.refine.as_ref().and_then(|r| r.backend.as_deref());
            add(&mut backends.refine, refined);
        }
        backends
    }

    pub fn is_empty(&self) -> bool {
        self.draft.is_empty() && self.result.is_empty() && self.refine.is_empty()
    }

    /// "deepl → openai", "openai (refine: anthropic)": what made the result. A model that
    /// gave its own literal rendering made the draft too, and is named once.
    pub fn line(&self) -> String {
        let mut line = if self.draft == self.result {
            String::new()
        } else {
            self.draft.join("+")
        };
        if !self.result.is_empty() {
            if !line.is_empty() {
                line.push_str(" → ");
            }
            line.push_str(&self.result.join("+"));
        }
        if !self.refine.is_empty() && self.refine != self.result {
            line.push_str(&format!(" (refine: {})", self.refine.join("+")));
        }
        line
    }
}

/// One file of the run record: its counts and, per paragraph that has any, its findings,
/// notes, repairs, refine round and failure. Texts are left out but for the repairs' own
/// `before` and `after` (the review record beside each output keeps the texts), except in
/// `diff`, the document's change record, which `--report FILE.json` adds.
#[derive(Serialize)]
pub struct FileEntry<'a> {
    pub input: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<&'a str>,
    pub status: FileStatus,
    /// Why it failed or was not started.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoding: Option<TextEncoding>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line_ending: Option<LineEnding>,
    #[serde(flatten)]
    pub counts: Counts,
    pub backends: &'a Backends,
    pub usage: &'a BTreeMap<String, Usage>,
    /// Findings about the whole document rather than one paragraph.
    pub findings: Vec<&'a Finding>,
    /// The paragraphs with anything to report, in order.
    pub segments: Vec<SegmentEntry<'a>>,
    /// `--dry-run`: what would be sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<&'a [PassPlan]>,
    /// The document's change record (`klartext.report/1`): its texts and every change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<serde_json::Value>,
}

/// One paragraph of a [`FileEntry`].
#[derive(Serialize)]
pub struct SegmentEntry<'a> {
    pub id: SegmentId,
    /// 1-based, as `¶ 3` in the diff.
    pub paragraph: usize,
    /// The offline repairs: byte ranges in the document as read.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub repairs: &'a [Repair],
    /// What the repairs noticed but left alone.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub flags: &'a [Flag],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<&'a Finding>,
    /// The model's notes as it wrote them (also among the findings, as check `model`).
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub notes: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refine: Option<RefineEntry<'a>>,
    /// Why it has no result.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<&'a SegmentFailure>,
}

/// What the refine round did to a paragraph (the texts are in the review record).
#[derive(Serialize)]
pub struct RefineEntry<'a> {
    pub outcome: RefineOutcome,
    pub rounds: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backend: Option<&'a str>,
    pub cached: bool,
    /// The errors that sent it back, and what verify found in the text proposed.
    pub findings_before: &'a [Finding],
    pub findings_after: &'a [Finding],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<&'a str>,
}

impl<'a> FileEntry<'a> {
    /// `report`'s entry, with the per-paragraph details of `outcome` when there is one.
    pub fn new(report: &'a FileReport, outcome: Option<&'a Outcome>) -> Self {
        let mut entry = Self {
            input: &report.input,
            output: report.output.as_deref(),
            status: report.status,
            error: report.error.as_deref(),
            encoding: report.encoding,
            line_ending: report.line_ending,
            counts: report.counts,
            backends: &report.backends,
            usage: &report.usage,
            findings: Vec::new(),
            segments: Vec::new(),
            plan: None,
            diff: None,
        };
        let Some(outcome) = outcome else {
            return entry;
        };
        if let Work::Planned { plans, .. } = &outcome.work {
            entry.plan = Some(plans);
        }
        let translated = outcome.translated().map(|t| t.segments.as_slice());
        let count = outcome.repaired.segments.len();
        let mut by_segment: Vec<Vec<&Finding>> = vec![Vec::new(); count];
        for finding in outcome.findings() {
            match finding
                .segment
                .and_then(|id| by_segment.get_mut(id.index()))
            {
                Some(found) => found.push(finding),
                None => entry.findings.push(finding),
            }
        }
        for ((index, repaired), findings) in
            outcome.repaired.segments.iter().enumerate().zip(by_segment)
        {
            let id = SegmentId(index);
            let result = translated.and_then(|segments| segments.get(index));
            let segment = SegmentEntry {
                id,
                paragraph: id.paragraph(),
                repairs: &repaired.repairs,
                flags: &repaired.flags,
                findings,
                notes: result.map_or(&[][..], |r| r.notes.as_slice()),
                refine: result.and_then(|r| r.refine.as_ref()).map(|r| RefineEntry {
                    outcome: r.outcome,
                    rounds: r.rounds,
                    backend: r.backend.as_deref(),
                    cached: r.cached,
                    findings_before: &r.findings_before,
                    findings_after: &r.findings_after,
                    error: r.error.as_deref(),
                }),
                error: result.and_then(|r| r.error.as_ref()),
            };
            let said = !segment.repairs.is_empty()
                || !segment.flags.is_empty()
                || !segment.findings.is_empty()
                || !segment.notes.is_empty()
                || segment.refine.is_some()
                || segment.error.is_some();
            if said {
                entry.segments.push(segment);
            }
        }
        entry
    }
}

/// Run totals for the summary and the report: the sum of the files, and the run's usage.
#[derive(Debug, Default, Serialize)]
pub struct Totals {
    pub files: usize,
    pub ok: usize,
    /// Written, with verify's errors or warnings to check.
    pub flagged: usize,
    pub failed: usize,
    pub not_started: usize,
    pub empty: usize,
    pub paragraphs: u64,
    pub changed: u64,
    pub repairs: u64,
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
    pub doubts: usize,
    /// Every request sent, failed ones included, and the retries among them.
    pub requests: u64,
    pub retries: u64,
    pub input_tokens: u64,
    /// The part of `input_tokens` read from a prompt cache.
    pub cached_input_tokens: u64,
    pub output_tokens: u64,
    pub billed_characters: u64,
    pub seconds: f64,
}

impl Totals {
    pub fn of(reports: &[FileReport], usage: &BTreeMap<String, Usage>, elapsed: Duration) -> Self {
        let mut totals = Totals {
            files: reports.len(),
            seconds: elapsed.as_secs_f64(),
            ..Totals::default()
        };
        for report in reports {
            totals.paragraphs += report.counts.paragraphs as u64;
            totals.changed += report.counts.changed as u64;
            totals.repairs += report.counts.repairs as u64;
            totals.errors += report.counts.errors;
            totals.warnings += report.counts.warnings;
            totals.infos += report.counts.infos;
            totals.doubts += report.counts.doubts;
            match report.status {
                FileStatus::Ok => totals.ok += 1,
                FileStatus::Flagged => totals.flagged += 1,
                FileStatus::Empty => totals.empty += 1,
                FileStatus::NotStarted => totals.not_started += 1,
                FileStatus::Failed => totals.failed += 1,
            }
        }
        for u in usage.values() {
            totals.requests += u.requests;
            totals.retries += u.retries;
            totals.input_tokens += u.input_tokens;
            totals.cached_input_tokens += u.cached_input_tokens;
            totals.output_tokens += u.output_tokens;
            totals.billed_characters += u.billed_characters;
        }
        totals
    }

    /// "30 ok, 10 flagged, 1 failed, 9 not started": the files by status, in the words and
    /// order of the closing summary.
    pub fn tally(&self) -> String {
        let n = |count: usize| grouped(count as u64);
        let mut tally = vec![
            format!("{} ok", n(self.ok)),
            format!("{} flagged", n(self.flagged)),
            format!("{} failed", n(self.failed)),
        ];
        if self.not_started > 0 {
            tally.push(format!("{} not started", n(self.not_started)));
        }
        if self.empty > 0 {
            tally.push(format!("{} empty", n(self.empty)));
        }
        tally.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backends_read_as_a_line() {
        let names = |list: &[&str]| list.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>();
        let line = |draft: &[&str], result: &[&str], refine: &[&str]| {
            Backends {
                draft: names(draft),
                result: names(result),
                refine: names(refine),
            }
            .line()
        };
        assert_eq!(line(&[], &[], &[]), "");
        assert_eq!(line(&["deepl"], &["openai"], &["openai"]), "deepl → openai");
        assert_eq!(line(&["openai"], &["openai"], &[]), "openai");
        assert_eq!(
            line(&["deepl"], &["openai", "local"], &["anthropic"]),
            "deepl → openai+local (refine: anthropic)"
        );
    }
}
