//! Decisions over many paragraphs at once, from the bulk menu: every pending change of one
//! category accepted, or everything still pending accepted or rejected.

use super::{Effect, Review};
use crate::count::plural;
use crate::diff::Category;
use crate::review::doc::Item;
use crate::review::record::{Choice, Verdict};

impl Review {
    /// Accept every pending change of `category` in every document.
    pub(super) fn bulk_category(&mut self, category: Category) -> Effect {
        let targets: Vec<(usize, usize, Vec<usize>)> = self
            .order
            .iter()
            .filter_map(|&(d, i)| {
                let item = &self.docs[d].items[i];
                if matches!(item.verdict, Verdict::Edit { .. }) {
                    return None;
                }
                let ks: Vec<usize> = item
                    .categories()
                    .enumerate()
                    .filter(|&(k, c)| c == category && item.choice(k) == Choice::Pending)
                    .map(|(k, _)| k)
                    .collect();
                (!ks.is_empty()).then_some((d, i, ks))
            })
            .collect();
        let name = match category {
            Category::Punctuation => "punctuation",
            Category::Whitespace => "whitespace",
            Category::Case => "case",
            Category::Words => "word",
        };
        if targets.is_empty() {
            return self.say(&format!("no pending {name} changes"));
        }
        let docs = self.touched(targets.iter().map(|t| t.0));
        self.snapshot(&docs);
        let (mut changes, paragraphs) = (0, targets.len());
        for (d, i, ks) in targets {
            for k in ks {
                self.docs[d].items[i].set_change(k, Choice::Accept);
                changes += 1;
            }
        }
        self.message = Some(format!(
            "accepted {changes} {name} {} in {paragraphs} {}",
            plural(changes, "change", "changes"),
            plural(paragraphs, "paragraph", "paragraphs")
        ));
        self.after_bulk();
        Effect::Save(docs)
    }

    /// Accept or reject every paragraph (and change) still pending.
    pub(super) fn bulk_all(&mut self, choice: Choice) -> Effect {
        let targets: Vec<(usize, usize)> = self
            .order
            .iter()
            .copied()
            .filter(|&(d, i)| self.docs[d].items[i].is_pending())
            .collect();
        if targets.is_empty() {
            return self.say("nothing is pending");
        }
        let docs = self.touched(targets.iter().map(|t| t.0));
        self.snapshot(&docs);
        for &(d, i) in &targets {
            let item = &mut self.docs[d].items[i];
            for k in 0..item.pair.change_count() {
                if item.choice(k) == Choice::Pending {
                    item.set_change(k, choice);
                }
            }
        }
        self.message = Some(format!(
            "{} {} pending {}",
            if choice == Choice::Accept {
                "accepted"
            } else {
                "rejected"
            },
            targets.len(),
            plural(targets.len(), "paragraph", "paragraphs")
        ));
        self.after_bulk();
        Effect::Save(docs)
    }

    pub(super) fn after_bulk(&mut self) {
        if self.item().is_some_and(Item::is_pending) {
            self.change = self.first_pending_change();
        } else {
            self.advance();
        }
    }

    pub(super) fn touched(&self, docs: impl Iterator<Item = usize>) -> Vec<usize> {
        let mut docs: Vec<usize> = docs.collect();
        docs.dedup();
        docs
    }
}
