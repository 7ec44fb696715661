//! A document after the API passes: every segment's way through them (draft, result, notes,
//! which backend did what, whether it came from the cache, why it failed) and verify's
//! findings on the result.

use std::collections::BTreeMap;

use serde::Serialize;

use super::refine::Refinement;
use crate::backend::Usage;
use crate::config::Lang;
use crate::glossary::Term;
use crate::repair::RepairedDocument;
use crate::segment::SegmentId;
use crate::verify::Finding;

/// One segment's way through the passes.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SegmentResult {
    pub id: SegmentId,
    pub hash: String,
    /// The German as read.
    pub source: String,
    /// After the offline repairs: what was sent.
    pub repaired: String,
    /// The literal English: the draft pass, or `literal` from the restore reply.
    pub draft: Option<String>,
    /// The restored English (or corrected German with `--to de`).
    pub final_text: Option<String>,
    pub notes: Vec<String>,
    /// Names the restore pass said it rendered in this segment (German → English).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub terms: Vec<Term>,
    pub draft_cached: bool,
    pub final_cached: bool,
    /// Which backend produced the draft and the final text (fallbacks may differ).
    pub draft_backend: Option<String>,
    pub final_backend: Option<String>,
    pub error: Option<SegmentFailure>,
    /// What verify found in the result.
    pub findings: Vec<Finding>,
    /// The refine round, when verify sent the paragraph back: both versions and what was kept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refine: Option<Refinement>,
}

/// Why a segment has no result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SegmentFailure {
    pub kind: FailureKind,
    /// One line for people.
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailureKind {
    /// Never sent: Ctrl-C, or every backend of the pass had stopped.
    NotSent,
    /// The backend failed the request (after its retries).
    Backend,
    /// Replies kept failing validation (ids, language, echo, commentary, cut off, markers).
    Invalid,
}

impl SegmentFailure {
    pub(super) fn new(kind: FailureKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }
}

/// The title of the side the repaired German takes when there is no literal.
pub const NO_LITERAL: &str = "German, repaired (no literal)";

/// A document after the API passes.
#[derive(Debug, Clone, Serialize)]
pub struct Translated {
    pub segments: Vec<SegmentResult>,
    /// What this document's replies reported, per backend: the tokens and characters billed
    /// for it, and its answered requests with their retries. A request that failed for good
    /// is counted only in the run's usage ([`Engine::usage`](super::Engine::usage)).
    pub usage: BTreeMap<String, Usage>,
}

/// The two texts a translated document is reviewed as, per segment, with their titles: what a
/// rejection keeps (the draft, or for German output the German as read; `None` without a
/// draft) against the result.
#[derive(Debug, Clone)]
pub struct Sides<'a> {
    pub titles: (String, String),
    pub old: Vec<Option<&'a str>>,
    pub new: Vec<&'a str>,
}

impl Translated {
    pub fn failed(&self) -> impl Iterator<Item = &SegmentResult> {
        self.segments.iter().filter(|s| s.final_text.is_none())
    }

    /// The finished document, or `None` while any segment failed.
    pub fn document(&self, doc: &RepairedDocument, source: &str) -> Option<String> {
        if self.failed().next().is_some() {
            return None;
        }
        Some(doc.segmented.join_with(source, |seg| {
            self.segments[seg.index]
                .final_text
                .clone()
                .unwrap_or_default()
                .into()
        }))
    }

    /// Whether any paragraph has a literal rendering (a draft, or the restore model's
    /// `literal`); with `literal = none` none has, and the repaired German stands in for it.
    pub fn has_literal(&self) -> bool {
        self.segments.iter().any(|s| s.draft.is_some())
    }

    pub fn findings(&self) -> impl Iterator<Item = &Finding> {
        self.segments.iter().flat_map(|s| &s.findings)
    }

    /// Draft against final (or, for `--to de`, the German against its correction).
    pub fn sides(&self, to: Lang) -> Sides<'_> {
        let segments = &self.segments;
        let (old_title, old): (String, Vec<Option<&str>>) = match to {
            Lang::En => {
                let source = producers(segments.iter().map(|s| s.draft_backend.as_deref()));
                let texts = segments.iter().map(|s| s.draft.as_deref()).collect();
                let title = if self.has_literal() {
                    format!("draft · {source}")
                } else {
                    NO_LITERAL.to_owned()
                };
                (title, texts)
            }
            Lang::De => {
                let texts = segments.iter().map(|s| Some(s.source.as_str())).collect();
                ("German".to_owned(), texts)
            }
        };
        let new = segments
            .iter()
            .map(|s| s.final_text.as_deref().unwrap_or_default())
            .collect();
        let new_title = format!(
            "final · {}",
            producers(segments.iter().map(|s| s.final_backend.as_deref()))
        );
        Sides {
            titles: (old_title, new_title),
            old,
            new,
        }
    }
}

/// The backends that produced a side, in order of first use: `deepl`, or `openai+local` after
/// a fallback.
fn producers<'a>(names: impl Iterator<Item = Option<&'a str>>) -> String {
    let mut seen: Vec<&str> = Vec::new();
    for name in names.flatten() {
        if !seen.contains(&name) {
            seen.push(name);
        }
    }
    seen.join("+")
}
