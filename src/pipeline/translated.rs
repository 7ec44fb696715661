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

/// Add `more` to `usage`, backend by backend.
pub(super) fn add_usage(usage: &mut BTreeMap<String, Usage>, more: BTreeMap<String, Usage>) {
    for (backend, used) in more {
        *usage.entry(backend).or_default() += used;
    }
}

/// A pack's usage shared out among its documents by `weights` (their German's length): every
/// count split in proportion, the remainders to the largest fractions, so the shares add up
/// to the whole exactly.
pub(super) fn share_usage(
    usage: &BTreeMap<String, Usage>,
    weights: &[u64],
) -> Vec<BTreeMap<String, Usage>> {
    let mut shares = vec![BTreeMap::new(); weights.len()];
    for (backend, used) in usage {
        let mut parts = vec![Usage::default(); weights.len()];
        let mut whole = *used;
        for (field, total) in whole.counts_mut().into_iter().enumerate() {
            for (part, n) in parts.iter_mut().zip(split(*total, weights)) {
                *part.counts_mut()[field] = n;
            }
        }
        for (share, part) in shares.iter_mut().zip(parts) {
            share.insert(backend.clone(), part);
        }
    }
    shares
}

/// `total` split in proportion to `weights` (largest remainders first; all to the first when
/// every weight is zero), so the shares add up to `total`.
pub(super) fn split(total: u64, weights: &[u64]) -> Vec<u64> {
    let sum: u128 = weights.iter().map(|&w| u128::from(w)).sum();
    if sum == 0 {
        return (0..weights.len())
            .map(|i| if i == 0 { total } else { 0 })
            .collect();
    }
    let exact = |w: u64| u128::from(total) * u128::from(w);
    let mut parts: Vec<u64> = weights.iter().map(|&w| (exact(w) / sum) as u64).collect();
    let left = total - parts.iter().sum::<u64>();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(exact(weights[i]) % sum));
    for &i in order.iter().take(left as usize) {
        parts[i] += 1;
    }
    parts
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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn a_packs_usage_is_shared_by_the_length_of_each_german() {
        let used = Usage {
            requests: 1,
            input_tokens: 1000,
            output_tokens: 301,
            ..Usage::default()
        };
        let usage = BTreeMap::from([("openai".to_owned(), used)]);
        let shares = share_usage(&usage, &[300, 100, 0]);
        let openai: Vec<Usage> = shares.iter().map(|s| s["openai"]).collect();
        assert_eq!(
            openai.iter().map(|u| u.input_tokens).collect::<Vec<_>>(),
            [750, 250, 0]
        );
        assert_eq!(
            openai.iter().map(|u| u.output_tokens).collect::<Vec<_>>(),
            [226, 75, 0],
            "the remainder to the largest fraction"
        );
        assert_eq!(
            openai.iter().map(|u| u.requests).collect::<Vec<_>>(),
            [1, 0, 0],
            "one request is counted once"
        );
        assert_eq!(split(7, &[0, 0]), [7, 0], "no German: all to the first");
    }

    proptest! {
        #[test]
        fn shares_add_up_to_the_whole(
            total in 0u64..1_000_000,
            weights in proptest::collection::vec(0u64..10_000, 1..12),
        ) {
            let parts = split(total, &weights);
            prop_assert_eq!(parts.len(), weights.len());
            prop_assert_eq!(parts.iter().sum::<u64>(), total);
        }
    }
}
