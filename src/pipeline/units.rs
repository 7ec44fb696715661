//! A document's segments as the passes see them: the repaired German, kept for the cache key
//! and verify, and its masked form, the only one requests are built from (the segment, the
//! context its neighbours give, its draft, its glossary hits); and how pending segments are
//! cut into batches sized for the backend that gets them.

use std::ops::Range;

use super::batch::{self, BatchLimits};
use super::engine::{Member, MemberKind};
use super::mask::{MaskStyle, Masked, mask};
use super::protocol::{Role, estimate_tokens};
use crate::backend::{Limits, Size};
use crate::repair::{RepairedDocument, RepairedSegment};
use crate::segment::SegmentId;

/// Characters of neighbouring text sent along as read-only context.
pub(super) const CONTEXT_CHARS: usize = 600;
const MAX_CHAT_ITEMS: usize = 40;

/// What one segment looks like to the passes.
pub(super) struct Unit<'a> {
    /// The repaired German with its protected spans: never sent, only kept (cache key, verify).
    pub(super) seg: &'a RepairedSegment,
    pub(super) id: SegmentId,
    /// What the segment is in its document (heading, list item, …), sent along with it.
    pub(super) role: Role,
    /// The segment with its protected spans taken out.
    pub(super) masked: Masked,
    /// The masked text as context for other segments (and for glossary lookups).
    pub(super) context: String,
}

pub(super) fn units(doc: &RepairedDocument) -> Vec<Unit<'_>> {
    let roles: Vec<Role> = doc.segmented.segments().map(|s| s.kind.into()).collect();
    doc.segments
        .iter()
        .map(|seg| {
            let masked = mask(&seg.text, &seg.protected);
            Unit {
                seg,
                id: SegmentId(seg.index),
                role: roles.get(seg.index).copied().unwrap_or(Role::Paragraph),
                context: masked.context(),
                masked,
            }
        })
        .collect()
}

/// The read-only context of `batch`: its masked neighbours, up to [`CONTEXT_CHARS`] each side.
pub(super) fn context(units: &[Unit<'_>], batch: Range<usize>) -> (String, String) {
    let texts: Vec<&str> = units.iter().map(|u| u.context.as_str()).collect();
    batch::context(&texts, batch, CONTEXT_CHARS)
}

/// Batches of consecutive pending segments, sized for the backend that will get them.
pub(super) fn plan_batches(
    member: &Member,
    units: &[Unit<'_>],
    indices: &[usize],
) -> Vec<Range<usize>> {
    let limits = match &member.kind {
        MemberKind::Chat(chat) => BatchLimits {
            max_tokens: chat.max_batch_tokens,
            max_items: MAX_CHAT_ITEMS,
            max_bytes: usize::MAX,
        },
        MemberKind::Translation => match member.backend.limits() {
            Some(limits) => service_batch(limits),
            None => BatchLimits {
                max_tokens: u32::MAX,
                max_items: usize::MAX,
                max_bytes: usize::MAX,
            },
        },
    };
    consecutive_runs(indices)
        .into_iter()
        .flat_map(|run| {
            let sizes: Vec<(u32, usize)> = run.clone().map(|i| size(member, &units[i])).collect();
            batch::plan(&sizes, &limits)
                .into_iter()
                .map(move |b| run.start + b.start..run.start + b.end)
        })
        .collect()
}

/// What a segment adds to a request to `member`, as it is sent: (tokens, bytes).
fn size(member: &Member, unit: &Unit<'_>) -> (u32, usize) {
    let style = match member.kind {
        MemberKind::Chat(_) => MaskStyle::Brackets,
        MemberKind::Translation => MaskStyle::Xml,
    };
    let text = unit.masked.text(style);
    (estimate_tokens(&text), text.len())
}

/// A translation service's per-request limits as a batch budget, so one batch is one request.
/// Batches are measured in bytes of the masked German as sent with tags, never fewer than its
/// characters; a body limit also carries the JSON framing and the context, so a sixth of it is
/// left for those.
fn service_batch(limits: Limits) -> BatchLimits {
    BatchLimits {
        max_tokens: u32::MAX,
        max_items: limits.max_texts,
        max_bytes: match limits.max_size {
            Size::Chars(chars) => chars,
            Size::BodyBytes(bytes) => bytes - bytes / 6,
        },
    }
}

/// `[1, 2, 3, 7, 8]` → `[1..4, 7..9]`.
pub(super) fn consecutive_runs(indices: &[usize]) -> Vec<Range<usize>> {
    let mut runs: Vec<Range<usize>> = Vec::new();
    for &i in indices {
        match runs.last_mut() {
            Some(run) if run.end == i => run.end = i + 1,
            _ => runs.push(i..i + 1),
        }
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repair::repair_document;
    use crate::segment::Format;

    fn roles(text: &str, format: Format) -> Vec<(String, &'static str)> {
        let doc = repair_document(text, format);
        units(&doc)
            .iter()
            .map(|u| (u.seg.text.clone(), u.role.as_str()))
            .collect()
    }

    #[test]
    fn markdown_segments_carry_their_role() {
        let text = "# Der Kopilot\n\nEin Absatz über Kopilot.\n\n- Erster Punkt\n- Zweiter Punkt\n\n\
                    > Ein Zitat.\n\n| Name | Wert |\n|---|---|\n| Umsatz | hoch |\n\n## Fazit\n";
        let found = roles(text, Format::Markdown);
        let expected = [
            ("Der Kopilot", "heading"),
            ("Ein Absatz über Kopilot.", "paragraph"),
            ("Erster Punkt", "list-item"),
            ("Zweiter Punkt", "list-item"),
            ("Ein Zitat.", "quote"),
            ("Name", "table-cell"),
            ("Wert", "table-cell"),
            ("Umsatz", "table-cell"),
            ("hoch", "table-cell"),
            ("Fazit", "heading"),
        ];
        let found: Vec<(&str, &str)> = found.iter().map(|(t, r)| (t.as_str(), *r)).collect();
        assert_eq!(found, expected);
    }

    #[test]
    fn plain_text_knows_only_paragraphs() {
        // A title line is a paragraph too: plain text does not say what it is.
        let text = "Der Kopilot\n\nEin Absatz.\n\n- kein Listenpunkt\n";
        let found = roles(text, Format::Plain);
        assert_eq!(found.len(), 3);
        assert!(
            found.iter().all(|(_, role)| *role == "paragraph"),
            "{found:?}"
        );
    }

    #[test]
    fn runs_of_consecutive_indices() {
        assert_eq!(
            consecutive_runs(&[1, 2, 3, 7, 8, 10]),
            vec![1..4, 7..9, 10..11]
        );
        assert!(consecutive_runs(&[]).is_empty());
    }
}
