//! Moving through the review: after a decision to the next pending change or paragraph, to
//! the next or previous paragraph or change (crossing paragraphs), and to the next paragraph a
//! search finds.

use super::{Effect, Mode, Review};
use crate::review::record::Choice;

impl Review {
    /// After a decision: the next pending change in this paragraph (change mode), else the
    /// next pending paragraph, else the closing screen.
    pub(super) fn advance(&mut self) {
        if self.mode == Mode::Change
            && let Some(item) = self.item()
            && let Some(k) = (self.change + 1..item.pair.change_count())
                .find(|&k| item.choice(k) == Choice::Pending)
        {
            self.change = k;
            return;
        }
        let from = self.current().map(|(_, d, _)| d);
        match self.next_pending(self.pos + 1, true) {
            Some(pos) => {
                self.go(pos);
                // On to another file: say which, since the title is easy to miss.
                if let Some((_, d, _)) = self.current()
                    && from.is_some_and(|f| f != d)
                {
                    self.message = Some(format!("next file: {}", self.file_label(d)));
                }
            }
            None => self.summary = true,
        }
    }

    /// Open document `d` at its first pending paragraph (else its first), from the file list.
    pub(super) fn jump_to_file(&mut self, d: usize) -> Effect {
        let first = |pending: bool| {
            self.order.iter().position(|&(doc, i)| {
                doc == d && (!pending || self.docs[doc].items[i].is_pending())
            })
        };
        let label = self.file_label(d);
        match first(true).or_else(|| first(false)) {
            Some(pos) => {
                let effect = self.go(pos);
                self.message = Some(label);
                effect
            }
            None => {
                let message = format!("{}: nothing to review", self.docs[d].name);
                self.say(&message)
            }
        }
    }

    /// `b.en.md · file 2/5 · 3/12 decided` (without the file number when there is one).
    pub fn file_label(&self, d: usize) -> String {
        let counts = self.docs[d].counts();
        let decided = format!("{}/{} decided", counts.total - counts.pending, counts.total);
        match self.files.len() {
            1 => format!("{} · {decided}", self.docs[d].name),
            n => format!(
                "{} · file {}/{n} · {decided}",
                self.docs[d].name,
                self.file_position(d) + 1,
            ),
        }
    }

    /// The first pending paragraph at or after `from`, wrapping around; `wrap = false` stops
    /// before reaching the current one again.
    pub(super) fn next_pending(&self, from: usize, wrap: bool) -> Option<usize> {
        let n = self.order.len();
        let pending = |pos: usize| {
            let (d, i) = self.order[pos];
            self.docs[d].items[i].is_pending()
        };
        // Behind: up to `from` when wrapping, else short of the current paragraph.
        let behind = if wrap { from } else { self.pos.min(from) };
        (from..n).chain(0..behind.min(n)).find(|&p| pending(p))
    }

    pub(super) fn prev_pending(&self) -> Option<usize> {
        let n = self.order.len();
        (1..n).map(|back| (self.pos + n - back) % n).find(|&p| {
            let (d, i) = self.order[p];
            self.docs[d].items[i].is_pending()
        })
    }

    /// Move to paragraph `pos` of the review (a valid position).
    pub(super) fn go(&mut self, pos: usize) -> Effect {
        self.pos = pos;
        self.change = self.first_pending_change();
        self.scroll = 0;
        self.summary = false;
        Effect::None
    }

    /// The next or previous paragraph; `false` (with a message) at either end.
    pub(super) fn step(&mut self, forward: bool) -> Effect {
        let target = if forward {
            Some(self.pos + 1).filter(|&p| p < self.order.len())
        } else {
            self.pos.checked_sub(1)
        };
        match target {
            Some(pos) => self.go(pos),
            None if forward => self.say("this is the last paragraph"),
            None => self.say("this is the first paragraph"),
        }
    }

    pub(super) fn first_pending_change(&self) -> usize {
        self.item()
            .and_then(|item| {
                (0..item.pair.change_count()).find(|&k| item.choice(k) == Choice::Pending)
            })
            .unwrap_or(0)
    }

    /// Next or previous change, crossing into the neighbouring paragraphs.
    pub(super) fn step_change(&mut self, step: isize) -> Effect {
        let Some(item) = self.item() else {
            return Effect::None;
        };
        let count = item.pair.change_count();
        match self.change.checked_add_signed(step) {
            Some(k) if k < count => {
                self.change = k;
                Effect::None
            }
            _ if step > 0 => {
                let at = self.pos;
                let effect = self.step(true);
                if self.pos != at {
                    self.change = 0;
                }
                effect
            }
            _ => {
                let at = self.pos;
                let effect = self.step(false);
                if self.pos != at {
                    self.change = self
                        .item()
                        .map_or(0, |i| i.pair.change_count().saturating_sub(1));
                }
                effect
            }
        }
    }

    /// The next (or previous) paragraph whose German, draft or result contains the query,
    /// ignoring case.
    pub(super) fn search(&mut self, forward: bool) -> Effect {
        if self.query.is_empty() {
            return self.say("type / and a word to search for");
        }
        let query = self.query.to_lowercase();
        let n = self.order.len();
        let hit = (1..=n)
            .map(|step| {
                if forward {
                    (self.pos + step) % n
                } else {
                    (self.pos + n - step % n) % n
                }
            })
            .find(|&p| {
                let (d, i) = self.order[p];
                let paragraph = &self.docs[d].record.paragraphs[i];
                [
                    paragraph.german.as_str(),
                    paragraph.sent(),
                    paragraph.rejected(),
                    paragraph.new.as_str(),
                ]
                .iter()
                .any(|text| text.to_lowercase().contains(&query))
            });
        match hit {
            Some(p) => {
                let effect = self.go(p);
                self.message = Some(format!("/{}", self.query));
                effect
            }
            None => {
                let message = format!("no paragraph contains “{}”", self.query);
                self.say(&message)
            }
        }
    }
}
