//! Batch planning for API passes: which consecutive segments go into one request (within a
//! token, item and byte budget, so the system prompt is paid once per batch), how a failed
//! batch is halved for the retry, and the read-only context a batch carries from the
//! segments around it.

use std::ops::Range;

/// The budget of one batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchLimits {
    /// Source tokens per batch (estimated), e.g. 1500.
    pub max_tokens: u32,
    /// Segments per batch, e.g. 40.
    pub max_items: usize,
    /// Source bytes per batch, e.g. 120 KiB; request-size limits of translation APIs.
    pub max_bytes: usize,
}

/// Consecutive batches over items of the given (tokens, bytes) sizes, covering all items in
/// order. Each batch stays within every limit, except that an item too large on its own
/// forms a batch alone. Greedy: a batch closes only when the next item would not fit.
pub fn plan(sizes: &[(u32, usize)], limits: &BatchLimits) -> Vec<Range<usize>> {
    let mut batches = Vec::new();
    let mut start = 0;
    let (mut tokens, mut bytes) = (0u64, 0usize);
    for (i, &(item_tokens, item_bytes)) in sizes.iter().enumerate() {
        let fits = tokens + u64::from(item_tokens) <= u64::from(limits.max_tokens)
            && bytes.saturating_add(item_bytes) <= limits.max_bytes
            && i - start < limits.max_items;
        if i > start && !fits {
            batches.push(start..i);
            start = i;
            (tokens, bytes) = (0, 0);
        }
        tokens += u64::from(item_tokens);
        bytes = bytes.saturating_add(item_bytes);
    }
    if start < sizes.len() {
        batches.push(start..sizes.len());
    }
    batches
}

/// A failed batch split in half for the retry (the first half gets the smaller share of an
/// odd length); `None` when it is down to one segment.
pub fn halves(range: Range<usize>) -> Option<(Range<usize>, Range<usize>)> {
    if range.len() <= 1 {
        return None;
    }
    let mid = range.start + range.len() / 2;
    Some((range.start..mid, mid..range.end))
}

/// Separator between context segments (they are paragraphs).
const JOIN: &str = "\n\n";

/// The read-only context of `batch`: up to `chars` characters of the segments just before
/// and just after it. Whole segments where they fit; when even the nearest one does not, its
/// near end is cut at a word boundary and marked with "…".
pub fn context(texts: &[&str], batch: Range<usize>, chars: usize) -> (String, String) {
    let start = batch.start.min(texts.len());
    let end = batch.end.clamp(start, texts.len());
    let before = gather(texts[..start].iter().rev(), chars, Cut::KeepTail);
    let after = gather(texts[end..].iter(), chars, Cut::KeepHead);
    (before, after)
}

#[derive(Clone, Copy)]
enum Cut {
    /// Context before a batch: keep the end, the part next to the batch.
    KeepTail,
    /// Context after a batch: keep the start.
    KeepHead,
}

/// Collect segments outward from the batch (nearest first) while they fit in `chars`.
fn gather<'a>(texts: impl Iterator<Item = &'a &'a str>, chars: usize, cut: Cut) -> String {
    let mut taken: Vec<&str> = Vec::new();
    let mut used = 0;
    for text in texts.map(|t| t.trim()).filter(|t| !t.is_empty()) {
        let len = text.chars().count() + if taken.is_empty() { 0 } else { JOIN.len() };
        if used + len > chars {
            if taken.is_empty() {
                return cut_at_word(text, chars, cut);
            }
            break;
        }
        used += len;
        taken.push(text);
    }
    if let Cut::KeepTail = cut {
        taken.reverse();
    }
    taken.join(JOIN)
}

/// At most `chars` characters of `text`, ellipsis included, cut at a word boundary (or
/// mid-word when the kept part has no boundary at all).
fn cut_at_word(text: &str, chars: usize, cut: Cut) -> String {
    let Some(keep) = chars.checked_sub(1).filter(|&k| k > 0) else {
        return String::new();
    };
    let total = text.chars().count();
    match cut {
        Cut::KeepHead => {
            let end = byte_at_char(text, keep);
            let head = &text[..end];
            let kept = if text[end..].starts_with(char::is_whitespace) {
                head
            } else {
                head.rfind(char::is_whitespace)
                    .map_or(head, |ws| &head[..ws])
            };
            format!("{}…", kept.trim_end())
        }
        Cut::KeepTail => {
            let start = byte_at_char(text, total - keep);
            let tail = &text[start..];
            let kept = if text[..start].ends_with(char::is_whitespace) {
                tail
            } else {
                tail.find(char::is_whitespace)
                    .map_or(tail, |ws| &tail[ws..])
            };
            format!("…{}", kept.trim_start())
        }
    }
}

/// Byte offset of the `n`th character of `text` (its length when `n` is past the end).
fn byte_at_char(text: &str, n: usize) -> usize {
    text.char_indices().nth(n).map_or(text.len(), |(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const LIMITS: BatchLimits = BatchLimits {
        max_tokens: 100,
        max_items: 3,
        max_bytes: 400,
    };

    #[test]
    fn plan_fills_batches_greedily_and_isolates_oversized_items() {
        let sizes = [
            (40, 100),
            (40, 100),
            (40, 100),
            (150, 100),
            (10, 10),
            (10, 10),
            (10, 10),
            (10, 10),
            (5, 500),
        ];
        assert_eq!(
            plan(&sizes, &LIMITS),
            vec![0..2, 2..3, 3..4, 4..7, 7..8, 8..9]
        );
        assert!(plan(&[], &LIMITS).is_empty());
    }

    #[test]
    fn halves_split_down_to_single_segments() {
        assert_eq!(halves(4..9), Some((4..6, 6..9)));
        assert_eq!(halves(0..2), Some((0..1, 1..2)));
        assert_eq!(halves(3..4), None);
        assert_eq!(halves(3..3), None);
    }

    #[test]
    fn context_takes_whole_neighbours_that_fit() {
        let texts = [
            "Erster Absatz.",
            "Zweiter.",
            "Im Batch.",
            "Danach kommt das.",
            "Ende.",
        ];
        let (before, after) = context(&texts, 2..3, 30);
        assert_eq!(before, "Erster Absatz.\n\nZweiter.");
        assert_eq!(after, "Danach kommt das.\n\nEnde.");
        let (before, after) = context(&texts, 2..3, 12);
        assert_eq!(before, "Zweiter.");
        assert_eq!(after, "Danach…");
        assert_eq!(context(&texts, 0..5, 100), (String::new(), String::new()));
    }

    #[test]
    fn context_cuts_at_word_boundaries_and_char_boundaries() {
        let texts = [
            "Über Änderungen müssen größere Gremien entscheiden",
            "Batch",
            "Öffentliche Äußerungen über Grüße",
        ];
        let (before, after) = context(&texts, 1..2, 20);
        assert_eq!(before, "…Gremien entscheiden");
        let (before, _) = context(&texts, 1..2, 18);
        assert_eq!(before, "…entscheiden");
        assert_eq!(after, "Öffentliche…");
        for n in 0..60 {
            let (b, a) = context(&texts, 1..2, n);
            assert!(
                b.chars().count() <= n && a.chars().count() <= n,
                "{n}: {b:?} {a:?}"
            );
        }
        // One long word: cut mid-word rather than give nothing.
        let (before, _) = context(
            &["Donaudampfschifffahrtsgesellschaftskapitän", "x"],
            1..2,
            8,
        );
        assert_eq!(before, "…kapitän");
    }

    fn sizes() -> impl Strategy<Value = Vec<(u32, usize)>> {
        prop::collection::vec((0u32..150, 0usize..500), 0..60)
    }

    fn limits() -> impl Strategy<Value = BatchLimits> {
        (0u32..200, 0usize..6, 0usize..800).prop_map(|(max_tokens, max_items, max_bytes)| {
            BatchLimits {
                max_tokens,
                max_items,
                max_bytes,
            }
        })
    }

    fn within(items: &[(u32, usize)], limits: &BatchLimits) -> bool {
        let tokens: u64 = items.iter().map(|s| u64::from(s.0)).sum();
        let bytes: usize = items.iter().map(|s| s.1).sum();
        tokens <= u64::from(limits.max_tokens)
            && bytes <= limits.max_bytes
            && items.len() <= limits.max_items
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        #[test]
        fn plan_covers_in_order_within_limits(sizes in sizes(), limits in limits()) {
            let batches = plan(&sizes, &limits);
            let mut next = 0;
            for batch in &batches {
                prop_assert_eq!(batch.start, next);
                prop_assert!(!batch.is_empty());
                next = batch.end;
                let ok = within(&sizes[batch.clone()], &limits);
                prop_assert!(ok || batch.len() == 1, "{:?} over the limits", batch);
                // Greedy: a batch closes only when the next item would not fit.
                if batch.end < sizes.len() {
                    prop_assert!(!within(&sizes[batch.start..=batch.end], &limits));
                }
            }
            prop_assert_eq!(next, sizes.len());
        }
    }
}
