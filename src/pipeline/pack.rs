//! Packing: consecutive small documents of a run share their requests. A document alone pays
//! the whole system prompt for a few paragraphs; packed with its neighbours in the run's input
//! order, several documents pay it once. Which documents share a pack depends only on the
//! inputs — their order and each one's planned size, measured offline the way batches are
//! (`units::plan_batches`) — never on timing, so a rerun builds the same requests (a provider
//! batch job resubmits nothing). Each document keeps its own context, names and verify; its
//! segments go under ids that name it (`d1.s3`), and its part of a reply is validated as if it
//! had been sent alone (`send`).

use std::ops::Range;

use super::batch::BatchLimits;
use super::engine::{Engine, MemberKind};
use super::units::{self, units};
use crate::repair::RepairedDocument;

/// A document's planned size as one batch: (tokens, segments).
pub type Size = (u32, usize);

/// The pack being filled, document by document in input order.
#[derive(Debug, Clone)]
pub struct Packing {
    limits: BatchLimits,
    /// Tokens and segments of the open pack; `None` when the next document starts a new one.
    open: Option<Size>,
}

impl Packing {
    pub fn new(limits: BatchLimits) -> Self {
        Self { limits, open: None }
    }

    /// Whether the next document, of planned size `size` (`None`: not packable: more than
    /// one batch, unreadable, empty, or not for a language model), joins the open pack; else
    /// it starts the next one.
    pub fn joins(&mut self, size: Option<Size>) -> bool {
        let fits = |(tokens, items): Size| {
            tokens <= self.limits.max_tokens && items <= self.limits.max_items
        };
        let Some(size) = size.filter(|&s| s.1 > 0 && fits(s)) else {
            self.open = None;
            return false;
        };
        if let Some((tokens, items)) = self.open {
            let together = (tokens.saturating_add(size.0), items + size.1);
            if fits(together) {
                self.open = Some(together);
                return true;
            }
        }
        self.open = Some(size);
        false
    }
}

/// The packs of documents of the given planned sizes, in order: consecutive documents whose
/// sizes add up within the limits; an unpackable document alone.
pub fn plan(sizes: &[Option<Size>], limits: &BatchLimits) -> Vec<Range<usize>> {
    let mut packing = Packing::new(*limits);
    let mut packs: Vec<Range<usize>> = Vec::new();
    for (i, &size) in sizes.iter().enumerate() {
        let joins = packing.joins(size);
        match packs.last_mut() {
            Some(pack) if joins => pack.end = i + 1,
            _ => packs.push(i..i + 1),
        }
    }
    packs
}

impl Engine {
    /// The budget of a pack: one batch of the restore backend (the first of the main pass), or
    /// `None` when that is a translation service (its requests carry no prompt to share) or
    /// its `pack_documents` is off.
    pub fn pack_limits(&self) -> Option<BatchLimits> {
        match &self.main.first().kind {
            MemberKind::Chat(chat) if chat.pack_documents => Some(units::chat_batch(chat)),
            _ => None,
        }
    }

    /// `doc`'s planned size as one batch of the restore backend, from its text alone (not the
    /// cache, which a rerun may find fuller); `None` when it is not one batch.
    pub fn pack_size(&self, doc: &RepairedDocument) -> Option<Size> {
        let member = self.main.first();
        member.chat()?;
        let units = units(doc);
        let all: Vec<usize> = (0..units.len()).collect();
        if units.is_empty() || units::plan_batches(member, &units, &all).len() != 1 {
            return None;
        }
        let tokens = units
            .iter()
            .map(|u| units::size(member, u).0)
            .fold(0u32, u32::saturating_add);
        Some((tokens, units.len()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: BatchLimits = BatchLimits {
        max_tokens: 100,
        max_items: 10,
        max_bytes: usize::MAX,
    };

    #[test]
    fn consecutive_documents_share_a_pack_while_they_fit() {
        let sizes = [
            Some((40, 3)),
            Some((50, 2)),
            Some((20, 1)), // 110: starts the next
            None,          // alone, and closes the pack before it
            Some((30, 2)),
            Some((30, 2)),
            Some((30, 7)),  // 11 segments: starts the next
            Some((150, 1)), // over the budget alone
            Some((10, 0)),  // empty
            Some((10, 1)),
        ];
        assert_eq!(
            plan(&sizes, &LIMITS),
            vec![0..2, 2..3, 3..4, 4..6, 6..7, 7..8, 8..9, 9..10]
        );
        assert!(plan(&[], &LIMITS).is_empty());
    }

    #[test]
    fn the_plan_depends_only_on_order_and_sizes() {
        let sizes: Vec<Option<Size>> = (0..40u32)
            .map(|i| (i % 7 != 3).then_some((10 + (i * 37) % 60, 1 + (i as usize) % 4)))
            .collect();
        let first = plan(&sizes, &LIMITS);
        assert_eq!(first, plan(&sizes, &LIMITS));
        // Streaming, as a run packs documents while they are read, gives the same packs.
        let mut packing = Packing::new(LIMITS);
        let mut streamed: Vec<Range<usize>> = Vec::new();
        for (i, &size) in sizes.iter().enumerate() {
            if packing.joins(size) {
                streamed.last_mut().expect("a pack is open").end = i + 1;
            } else {
                streamed.push(i..i + 1);
            }
        }
        assert_eq!(first, streamed);
        for pack in &first {
            let tokens: u32 = sizes[pack.clone()].iter().flatten().map(|s| s.0).sum();
            let items: usize = sizes[pack.clone()].iter().flatten().map(|s| s.1).sum();
            assert!(
                pack.len() == 1 || (tokens <= LIMITS.max_tokens && items <= LIMITS.max_items),
                "{pack:?} over the budget"
            );
        }
        assert!(first.iter().any(|p| p.len() > 1), "{first:?}");
    }

    use proptest::prelude::*;

    fn sizes() -> impl Strategy<Value = Vec<Option<Size>>> {
        prop::collection::vec(prop::option::weighted(0.9, (0u32..140, 0usize..12)), 0..60)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        #[test]
        fn packs_cover_the_documents_in_order_within_the_budget(sizes in sizes()) {
            let packs = plan(&sizes, &LIMITS);
            let mut next = 0;
            for pack in &packs {
                prop_assert_eq!(pack.start, next);
                prop_assert!(!pack.is_empty());
                next = pack.end;
                if pack.len() > 1 {
                    let members = &sizes[pack.clone()];
                    prop_assert!(members.iter().all(|s| s.is_some_and(|s| s.1 > 0)));
                    let tokens: u32 = members.iter().flatten().map(|s| s.0).sum();
                    let items: usize = members.iter().flatten().map(|s| s.1).sum();
                    prop_assert!(tokens <= LIMITS.max_tokens && items <= LIMITS.max_items);
                }
            }
            prop_assert_eq!(next, sizes.len());
        }
    }
}
