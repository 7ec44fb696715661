//! A document's segments as the passes see them: the repaired German, kept for the cache key
//! and verify, and its masked form, the only one requests are built from (the segment, the
//! context its neighbours give, its draft, its glossary hits); and how pending segments are
//! cut into batches sized for the backend that gets them. The units of a pack (several small
//! documents of a run sent together, see `pack`) are one list: each unit knows its document,
//! its id on the wire names the document too, and its context never crosses into another one.

use std::ops::Range;

use super::batch::{self, BatchLimits};
use super::engine::{ChatSetup, Member, MemberKind};
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
    /// Which document of the pack it belongs to (0 for a document sent alone).
    pub(super) doc: usize,
    /// Its units in the list: the document's range, which its context never leaves.
    pub(super) span: Range<usize>,
    /// Its id in a request: `s3` alone, `d1.s3` in a pack of several documents, so the ids of
    /// a request are unique.
    pub(super) wire: String,
}

pub(super) fn units(doc: &RepairedDocument) -> Vec<Unit<'_>> {
    units_of(&[doc])
}

/// The units of several documents sent as one pack, in order.
pub(super) fn units_of<'a>(docs: &[&'a RepairedDocument]) -> Vec<Unit<'a>> {
    let mut all = Vec::new();
    for (d, doc) in docs.iter().enumerate() {
        let start = all.len();
        let span = start..start + doc.segments.len();
        let roles: Vec<Role> = doc.segmented.segments().map(|s| s.kind.into()).collect();
        all.extend(doc.segments.iter().map(|seg| {
            let masked = mask(&seg.text, &seg.protected);
            let id = SegmentId(seg.index);
            Unit {
                seg,
                id,
                role: roles.get(seg.index).copied().unwrap_or(Role::Paragraph),
                context: masked.context(),
                masked,
                doc: d,
                span: span.clone(),
                wire: if docs.len() > 1 {
                    format!("d{d}.{id}")
                } else {
                    id.to_string()
                },
            }
        }));
    }
    all
}

/// The read-only context of `batch`: its masked neighbours in its own document (the one of its
/// first segment before it, of its last after it), up to [`CONTEXT_CHARS`] each side.
pub(super) fn context(units: &[Unit<'_>], batch: Range<usize>) -> (String, String) {
    let (Some(first), Some(last)) = (units.get(batch.start), batch.end.checked_sub(1)) else {
        return (String::new(), String::new());
    };
    let last = units
        .get(last)
        .map_or(first.span.clone(), |u| u.span.clone());
    let texts = |span: &Range<usize>| -> Vec<&str> {
        units[span.clone()]
            .iter()
            .map(|u| u.context.as_str())
            .collect()
    };
    let before = batch::context(
        &texts(&first.span),
        batch.start - first.span.start..first.span.len(),
        CONTEXT_CHARS,
    )
    .0;
    let after = batch::context(&texts(&last), 0..batch.end - last.start, CONTEXT_CHARS).1;
    (before, after)
}

/// `range` cut where its documents change: one part per document.
pub(super) fn doc_parts(units: &[Unit<'_>], range: Range<usize>) -> Vec<Range<usize>> {
    let mut parts: Vec<Range<usize>> = Vec::new();
    for i in range {
        match parts.last_mut() {
            Some(part) if units[part.start].doc == units[i].doc => part.end = i + 1,
            _ => parts.push(i..i + 1),
        }
    }
    parts
}

/// Batches of consecutive pending segments, sized for the backend that will get them.
pub(super) fn plan_batches(
    member: &Member,
    units: &[Unit<'_>],
    indices: &[usize],
) -> Vec<Range<usize>> {
    let limits = match &member.kind {
        MemberKind::Chat(chat) => chat_batch(chat),
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
pub(super) fn size(member: &Member, unit: &Unit<'_>) -> (u32, usize) {
    let style = match member.kind {
        MemberKind::Chat(_) => MaskStyle::Brackets,
        MemberKind::Translation => MaskStyle::Xml,
    };
    let text = unit.masked.text(style);
    (estimate_tokens(&text), text.len())
}

/// A language model's batch budget: its `max_batch_tokens`, and at most [`MAX_CHAT_ITEMS`]
/// segments.
pub(super) fn chat_batch(chat: &ChatSetup) -> BatchLimits {
    BatchLimits {
        max_tokens: chat.max_batch_tokens,
        max_items: MAX_CHAT_ITEMS,
        max_bytes: usize::MAX,
    }
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
    fn a_pack_names_its_documents_and_keeps_their_context_apart() {
        let a = repair_document(
            "Erster Absatz von A.\n\nZweiter Absatz von A.\n",
            Format::Plain,
        );
        let b = repair_document("Einziger Absatz von B.\n", Format::Plain);
        let c = repair_document(
            "Erster von C.\n\nZweiter von C.\n\nDritter von C.\n",
            Format::Plain,
        );
        let pack = units_of(&[&a, &b, &c]);
        let wire: Vec<&str> = pack.iter().map(|u| u.wire.as_str()).collect();
        assert_eq!(
            wire,
            ["d0.s0", "d0.s1", "d1.s0", "d2.s0", "d2.s1", "d2.s2"],
            "ids unique in the pack"
        );
        assert_eq!(pack[3].span, 3..6);
        // Alone, a document keeps its plain ids.
        let alone: Vec<String> = units(&a).iter().map(|u| u.wire.clone()).collect();
        assert_eq!(alone, ["s0", "s1"]);
        // Every batch's context stays in the documents of its first and last segment.
        for start in 0..pack.len() {
            for end in start + 1..=pack.len() {
                let (before, after) = context(&pack, start..end);
                let first = pack[start].doc;
                let last = pack[end - 1].doc;
                for (side, doc) in [(&before, first), (&after, last)] {
                    for other in pack.iter().filter(|u| u.doc != doc) {
                        assert!(
                            !side.contains(other.seg.text.as_str()),
                            "{start}..{end}: {side:?} has {:?}",
                            other.seg.text
                        );
                    }
                }
            }
        }
        assert_eq!(
            context(&pack, 1..4),
            (
                "Erster Absatz von A.".to_owned(),
                "Zweiter von C.\n\nDritter von C.".to_owned()
            )
        );
        assert_eq!(context(&pack, 2..3), (String::new(), String::new()));
        assert_eq!(doc_parts(&pack, 1..5), vec![1..2, 2..3, 3..5]);
        assert_eq!(doc_parts(&pack, 3..6), vec![3..6]);
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
