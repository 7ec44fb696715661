//! The `--json` report of `fix`: schema-versioned, one entry per input, everything a script or
//! a later review needs. Byte ranges are offsets in the decoded text (UTF-8, LF line endings).

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use crate::backend::Usage;
use crate::cli::args::FailOn;
use crate::files::{Decoded, LineEnding, TextEncoding};
use crate::pipeline::{PassPlan, SegmentResult};
use crate::repair::{RepairedDocument, RepairedSegment};
use crate::verify::{Finding, Severity};

pub const SCHEMA: &str = "klartext.fix/2";

#[derive(Debug, Serialize)]
pub struct RunReport<'a> {
    pub schema: &'static str,
    /// No API pass ran: the result is the repaired German.
    pub offline: bool,
    pub dry_run: bool,
    pub files: &'a [FileReport],
    /// Per backend name.
    pub usage: BTreeMap<String, Usage>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FileStatus {
    Ok,
    Empty,
    Failed,
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
    /// Offline: what verify found in the German (with API passes the findings are per
    /// paragraph in `segments`).
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
    pub fn new(input: String, decoded: &Decoded) -> Self {
        Self {
            encoding: Some(decoded.encoding),
            line_ending: Some(decoded.line_ending),
            ..Self::empty(input, FileStatus::Ok)
        }
    }

    pub fn failed(input: String, err: &anyhow::Error) -> Self {
        Self {
            error: Some(crate::cli::printer::describe(err)),
            ..Self::empty(input, FileStatus::Failed)
        }
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

    pub fn record(&mut self, doc: &RepairedDocument) {
        self.paragraphs = doc.segments.len();
        self.repairs = doc.repair_count();
        self.flags = doc.flag_count();
        self.repaired = doc
            .segments
            .iter()
            .filter(|s| !s.repairs.is_empty() || !s.flags.is_empty())
            .cloned()
            .collect();
    }

    /// Count verify's findings (all of a file's paragraphs).
    pub fn count<'a>(&mut self, findings: impl IntoIterator<Item = &'a Finding>) {
        for finding in findings {
            match finding.severity {
                Severity::Error => self.errors += 1,
                Severity::Warning => self.warnings += 1,
                Severity::Info => {}
            }
        }
    }

    /// Whether the findings reach `--fail-on`.
    pub fn reaches(&self, fail_on: FailOn) -> bool {
        match fail_on {
            FailOn::Never => false,
            FailOn::Warning => self.errors + self.warnings > 0,
            FailOn::Error => self.errors > 0,
        }
    }

    pub fn output(&mut self, path: &Path) {
        self.output = Some(path.display().to_string());
    }
}
