//! The reports of `fix`: the `--json` report on stdout (schema `klartext.fix/2`, one entry per
//! input, everything a script or a later review needs) and a folder run's
//! `OUT/klartext-report.json` (`klartext.batch/1`: run totals and the same entries, counts
//! only). Both are made of [`FileReport`]s built one way from the pipeline's outcome. Byte
//! ranges are offsets in the decoded text (UTF-8, LF line endings).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use super::deliver::Delivered;
use crate::backend::Usage;
use crate::cli::args::FailOn;
use crate::files::{LineEnding, TextEncoding};
use crate::pipeline::{DocumentError, Outcome, PassPlan, SegmentResult, Work};
use crate::repair::RepairedSegment;
use crate::verify::{Finding, Severity};

pub const SCHEMA: &str = "klartext.fix/2";
pub const RUN_SCHEMA: &str = "klartext.batch/1";

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
}

/// A folder run's `klartext-report.json`.
#[derive(Serialize)]
pub struct TreeReport<'a> {
    pub schema: &'static str,
    pub offline: bool,
    pub interrupted: bool,
    pub totals: &'a Totals,
    pub usage: &'a BTreeMap<String, Usage>,
    pub files: &'a [FileReport],
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
    pub paragraphs: usize,
    pub repairs: usize,
    pub flags: usize,
    /// Verify's error- and warning-level findings.
    pub errors: usize,
    pub warnings: usize,
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
    pub fn new(input: String, outcome: &Outcome, detail: Detail) -> Self {
        let doc = &outcome.repaired;
        let mut report = Self {
            encoding: Some(outcome.decoded.encoding),
            line_ending: Some(outcome.decoded.line_ending),
            paragraphs: doc.segments.len(),
            repairs: doc.repair_count(),
            flags: doc.flag_count(),
            ..Self::empty(input, FileStatus::Ok)
        };
        if let Work::Empty = outcome.work {
            report.status = FileStatus::Empty;
            return report;
        }
        for finding in outcome.findings() {
            match finding.severity {
                Severity::Error => report.errors += 1,
                Severity::Warning => report.warnings += 1,
                Severity::Info => {}
            }
        }
        if report.errors + report.warnings > 0 {
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
                self.paragraphs,
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
            paragraphs: 0,
            repairs: 0,
            flags: 0,
            errors: 0,
            warnings: 0,
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
            FailOn::Warning => self.errors + self.warnings > 0,
            FailOn::Error => self.errors > 0,
        }
    }
}

/// Run totals for the summary and the report.
#[derive(Debug, Default, Serialize)]
pub struct Totals {
    pub ok: usize,
    /// Written, with verify's errors or warnings to check.
    pub flagged: usize,
    pub errors: usize,
    pub warnings: usize,
    pub failed: usize,
    pub empty: usize,
    pub not_started: usize,
    pub paragraphs: u64,
    pub requests: u64,
    pub retries: u64,
    pub seconds: f64,
}

impl Totals {
    pub fn of(reports: &[FileReport], usage: &BTreeMap<String, Usage>, elapsed: Duration) -> Self {
        let mut totals = Totals {
            seconds: elapsed.as_secs_f64(),
            ..Totals::default()
        };
        for report in reports {
            totals.paragraphs += report.paragraphs as u64;
            totals.errors += report.errors;
            totals.warnings += report.warnings;
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
        }
        totals
    }
}
