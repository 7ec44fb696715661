//! The review as a pure state machine: [`Review::handle`] takes one key (or a resize, or the
//! result of an edit) and returns what the shell around it must do — save decisions, open the
//! editor, write the outputs, quit. Nothing here touches the terminal or the disk, so whole
//! sessions are tested as scripted key sequences.

use std::borrow::Cow;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::record::{Choice, Decisions, Record, Saved, Verdict};
use crate::diff::{Category, Chunk, Decision, DiffOptions, Pair, apply, diff_by_index};

/// Undo steps kept.
const UNDO_DEPTH: usize = 500;

/// One output under review.
#[derive(Debug, Clone)]
pub struct Doc {
    /// The output as shown on screen (a path relative to what was opened).
    pub name: String,
    pub record: Record,
    /// One per paragraph of the record.
    pub items: Vec<Item>,
    /// The output's text as it is on disk now.
    pub on_disk: String,
}

/// One paragraph: the rejected text against the accepted one, and the reviewer's verdict.
#[derive(Debug, Clone)]
pub struct Item {
    pub pair: Pair,
    pub verdict: Verdict,
}

impl Item {
    /// Has something to decide: a draft that differs from the correction.
    pub fn reviewable(&self) -> bool {
        self.pair.change_count() > 0
    }

    pub fn is_pending(&self) -> bool {
        match &self.verdict {
            Verdict::Pending => true,
            Verdict::Changes { changes } => changes.contains(&Choice::Pending),
            Verdict::Accept | Verdict::Reject | Verdict::Edit { .. } => false,
        }
    }

    /// The text this paragraph will be written as. Pending changes keep the correction, the
    /// text `fix` wrote.
    pub fn result(&self) -> Cow<'_, str> {
        match &self.verdict {
            Verdict::Pending | Verdict::Accept => Cow::Borrowed(&self.pair.new),
            Verdict::Reject => Cow::Borrowed(&self.pair.old),
            Verdict::Edit { text } => Cow::Borrowed(text),
            Verdict::Changes { changes } => {
                let decisions: Vec<Decision> = changes
                    .iter()
                    .map(|c| match c {
                        Choice::Reject => Decision::Reject,
                        Choice::Accept | Choice::Pending => Decision::Accept,
                    })
                    .collect();
                Cow::Owned(apply(&self.pair, &decisions))
            }
        }
    }

    /// The choice for change `k` as the verdict implies it.
    pub fn choice(&self, k: usize) -> Choice {
        match &self.verdict {
            Verdict::Pending | Verdict::Edit { .. } => Choice::Pending,
            Verdict::Accept => Choice::Accept,
            Verdict::Reject => Choice::Reject,
            Verdict::Changes { changes } => changes.get(k).copied().unwrap_or(Choice::Pending),
        }
    }

    fn categories(&self) -> impl Iterator<Item = Category> + '_ {
        self.pair.chunks.iter().filter_map(|chunk| match chunk {
            Chunk::Change { category, .. } => Some(*category),
            Chunk::Same { .. } => None,
        })
    }

    /// Set change `k`, turning a whole-paragraph verdict into per-change choices, and back
    /// into one verdict once every change agrees.
    fn set_change(&mut self, k: usize, choice: Choice) {
        let count = self.pair.change_count();
        let mut changes: Vec<Choice> = (0..count).map(|i| self.choice(i)).collect();
        if let Some(slot) = changes.get_mut(k) {
            *slot = choice;
        }
        self.verdict = if changes.iter().all(|c| *c == Choice::Accept) {
            Verdict::Accept
        } else if changes.iter().all(|c| *c == Choice::Reject) {
            Verdict::Reject
        } else if changes.iter().all(|c| *c == Choice::Pending) {
            Verdict::Pending
        } else {
            Verdict::Changes { changes }
        };
    }
}

impl Doc {
    /// A document under review, with the decisions saved earlier that still apply.
    pub fn new(name: String, record: Record, saved: &Decisions, on_disk: String) -> Self {
        let old: Vec<&str> = record.paragraphs.iter().map(|p| p.rejected()).collect();
        let new: Vec<&str> = record.paragraphs.iter().map(|p| p.new.as_str()).collect();
        let diff = diff_by_index(&old, &new, &DiffOptions::default());
        let items = diff
            .pairs
            .into_iter()
            .zip(&record.paragraphs)
            .map(|(pair, paragraph)| {
                let verdict = match saved.verdict_for(paragraph) {
                    Some(Verdict::Changes { changes }) if changes.len() != pair.change_count() => {
                        Verdict::Pending
                    }
                    Some(verdict) => verdict.clone(),
                    None => Verdict::Pending,
                };
                Item { pair, verdict }
            })
            .collect();
        Self {
            name,
            record,
            items,
            on_disk,
        }
    }

    /// The output with every verdict applied.
    pub fn text(&self) -> String {
        let texts: Vec<Cow<'_, str>> = self.items.iter().map(Item::result).collect();
        self.record.rebuild(&texts)
    }

    /// The decisions to save: every paragraph with a verdict, keyed by its text.
    pub fn decisions(&self) -> Decisions {
        let mut decisions = Decisions::new(&self.record.output);
        decisions.paragraphs = self
            .items
            .iter()
            .zip(&self.record.paragraphs)
            .filter(|(item, _)| item.verdict != Verdict::Pending)
            .map(|(item, paragraph)| Saved {
                id: paragraph.id.clone(),
                key: Some(paragraph.key()),
                verdict: item.verdict.clone(),
            })
            .collect();
        decisions
    }

    /// Tallies over the paragraphs with something to decide.
    pub fn counts(&self) -> Counts {
        let mut counts = Counts::default();
        for item in self.items.iter().filter(|i| i.reviewable()) {
            counts.add(item);
        }
        counts
    }

    /// Whether the output on disk differs from what the verdicts make of it.
    pub fn unwritten(&self) -> bool {
        self.text() != self.on_disk
    }

    /// Set every reviewable paragraph's verdict (non-interactive review).
    pub fn decide_all(&mut self, verdict: &Verdict) {
        for item in self.items.iter_mut().filter(|i| i.reviewable()) {
            item.verdict = verdict.clone();
        }
    }
}

/// Whether a decision applies to a whole paragraph or to one change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Paragraph,
    Change,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Side by side from 70 columns, else stacked.
    Auto,
    SideBySide,
    Stacked,
    Inline,
}

impl Layout {
    /// The layout used at `width` columns.
    pub fn at(self, width: u16) -> Layout {
        match self {
            Layout::Auto if width >= 70 => Layout::SideBySide,
            Layout::Auto => Layout::Stacked,
            other => other,
        }
    }
}

/// A window over the review that takes the keys until it closes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Overlay {
    Help,
    /// The bulk menu.
    Bulk,
    /// Quitting with pending paragraphs or unwritten decisions.
    Quit,
    /// Typing a search.
    Search(String),
}

/// What the shell must do after an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    None,
    /// Decisions changed in these documents: save their decisions files.
    Save(Vec<usize>),
    /// Open `text` in the editor; hand the result to [`Review::edited`].
    Edit {
        doc: usize,
        item: usize,
        text: String,
    },
    /// Write every document whose output differs from its verdicts; then [`Review::written`].
    Write {
        then_quit: bool,
    },
    Quit,
    /// Leave at once, writing nothing.
    Abort,
}

/// Tallies over the reviewable paragraphs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub total: usize,
    pub accepted: usize,
    pub rejected: usize,
    pub edited: usize,
    /// Some changes accepted, some rejected.
    pub mixed: usize,
    pub pending: usize,
}

impl Counts {
    fn add(&mut self, item: &Item) {
        self.total += 1;
        match &item.verdict {
            _ if item.is_pending() => self.pending += 1,
            Verdict::Accept => self.accepted += 1,
            Verdict::Reject => self.rejected += 1,
            Verdict::Edit { .. } => self.edited += 1,
            Verdict::Changes { .. } | Verdict::Pending => self.mixed += 1,
        }
    }
}

#[derive(Debug, Clone)]
struct Snapshot {
    verdicts: Vec<(usize, Vec<Verdict>)>,
    pos: usize,
    change: usize,
}

/// The review session.
#[derive(Debug, Clone)]
pub struct Review {
    pub docs: Vec<Doc>,
    /// Reviewable paragraphs in order: (document, paragraph).
    order: Vec<(usize, usize)>,
    /// Position in `order`.
    pos: usize,
    /// The change in focus within the current paragraph.
    pub change: usize,
    pub mode: Mode,
    pub layout: Layout,
    /// Show the German (a third pane when wide enough, else above the panes).
    pub german: bool,
    /// Show the result preview.
    pub preview: bool,
    /// Terminal size (columns, rows).
    pub size: (u16, u16),
    /// First body row shown.
    pub scroll: usize,
    pub overlay: Option<Overlay>,
    /// The last search.
    pub query: String,
    /// A one-line message for the legend row, cleared by the next key.
    pub message: Option<String>,
    /// Every paragraph has been decided: the closing screen.
    pub summary: bool,
    undo: Vec<Snapshot>,
    redo: Vec<Snapshot>,
}

impl Review {
    pub fn new(docs: Vec<Doc>, size: (u16, u16)) -> Self {
        let order: Vec<(usize, usize)> = docs
            .iter()
            .enumerate()
            .flat_map(|(d, doc)| {
                doc.items
                    .iter()
                    .enumerate()
                    .filter(|(_, item)| item.reviewable())
                    .map(move |(i, _)| (d, i))
            })
            .collect();
        let mut review = Self {
            docs,
            order,
            pos: 0,
            change: 0,
            mode: Mode::Paragraph,
            layout: Layout::Auto,
            german: false,
            preview: true,
            size,
            scroll: 0,
            overlay: None,
            query: String::new(),
            message: None,
            summary: false,
            undo: Vec::new(),
            redo: Vec::new(),
        };
        // Resume at the first paragraph still pending.
        match review.next_pending(0, true) {
            Some(pos) => review.pos = pos,
            None => review.summary = !review.order.is_empty(),
        }
        review.change = review.first_pending_change();
        review
    }

    /// Number of paragraphs with something to decide.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// The current position: (index in the review, document, paragraph).
    pub fn current(&self) -> Option<(usize, usize, usize)> {
        self.order.get(self.pos).map(|&(d, i)| (self.pos, d, i))
    }

    pub fn item(&self) -> Option<&Item> {
        self.current().map(|(_, d, i)| &self.docs[d].items[i])
    }

    /// Position of the current paragraph among its document's reviewable ones, and their
    /// number.
    pub fn position_in_doc(&self) -> Option<(usize, usize)> {
        let (pos, d, _) = self.current()?;
        let first = self.order.iter().position(|&(doc, _)| doc == d)?;
        let count = self.order.iter().filter(|&&(doc, _)| doc == d).count();
        Some((pos - first + 1, count))
    }

    pub fn counts(&self) -> Counts {
        // The review's own list of reviewable paragraphs spares re-deciding which those are.
        let mut counts = Counts::default();
        for &(d, i) in &self.order {
            counts.add(&self.docs[d].items[i]);
        }
        counts
    }

    /// Documents whose output on disk differs from their verdicts.
    pub fn unwritten(&self) -> Vec<usize> {
        (0..self.docs.len())
            .filter(|&d| self.docs[d].unwritten())
            .collect()
    }

    pub fn resize(&mut self, columns: u16, rows: u16) {
        self.size = (columns, rows);
        self.clamp_scroll();
    }

    /// The edited text for `(doc, item)` came back from the editor (or the editor failed).
    pub fn edited(&mut self, doc: usize, item: usize, result: Result<String, String>) -> Effect {
        let text = match result {
            Err(why) => {
                self.message = Some(why);
                return Effect::None;
            }
            Ok(text) => text,
        };
        let Some(target) = self.docs.get(doc).and_then(|d| d.items.get(item)) else {
            return Effect::None;
        };
        let original = target.result();
        // Editors add a final newline; a paragraph has none of its own.
        let text = match text.strip_suffix('\n') {
            Some(trimmed) if !original.ends_with('\n') => trimmed.trim_end_matches('\r'),
            _ => text.as_str(),
        };
        if text.trim().is_empty() {
            self.message = Some("empty text: the edit was not kept".to_owned());
            return Effect::None;
        }
        if text == original {
            self.message = Some("unchanged".to_owned());
            return Effect::None;
        }
        let verdict = if text == target.pair.new {
            Verdict::Accept
        } else if text == target.pair.old {
            Verdict::Reject
        } else {
            Verdict::Edit {
                text: text.to_owned(),
            }
        };
        self.snapshot(vec![doc]);
        self.docs[doc].items[item].verdict = verdict;
        self.message = Some("edited".to_owned());
        self.advance();
        Effect::Save(vec![doc])
    }

    /// Outputs were written (or writing failed).
    pub fn written(&mut self, result: Result<usize, String>) {
        self.message = Some(match result {
            Ok(0) => "nothing to write: the outputs already hold these decisions".to_owned(),
            Ok(1) => "wrote 1 file".to_owned(),
            Ok(n) => format!("wrote {n} files"),
            Err(why) => why,
        });
    }

    pub fn handle(&mut self, key: KeyEvent) -> Effect {
        self.message = None;
        if let Some(overlay) = self.overlay.take() {
            return self.overlay_key(overlay, key);
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if self.summary {
            match key.code {
                KeyCode::Char('w') => return Effect::Write { then_quit: false },
                KeyCode::Char('q') => return self.quit(),
                KeyCode::Char('Q') => return Effect::Abort,
                KeyCode::Char('c') if ctrl => return Effect::Abort,
                KeyCode::Char('?') => {
                    self.overlay = Some(Overlay::Help);
                    return Effect::None;
                }
                _ => {
                    self.summary = false;
                    return Effect::None;
                }
            }
        }
        match key.code {
            KeyCode::Char('c') if ctrl => Effect::Abort,
            KeyCode::Char('r') if ctrl => self.redo(),
            KeyCode::Char('d') if ctrl => self.scroll_by(self.page() as isize / 2),
            KeyCode::Char('u') if ctrl => self.scroll_by(-(self.page() as isize / 2)),
            KeyCode::Char('a' | 'y') | KeyCode::Enter => self.decide(Choice::Accept, false),
            KeyCode::Char('r') => self.decide(Choice::Reject, false),
            KeyCode::Char('s' | ' ') => self.skip(false),
            KeyCode::Char('A') => self.decide(Choice::Accept, true),
            KeyCode::Char('R') => self.decide(Choice::Reject, true),
            KeyCode::Char('S') => self.skip(true),
            KeyCode::Char('b') => self.open(Overlay::Bulk),
            KeyCode::Char('m') => {
                self.mode = match self.mode {
                    Mode::Paragraph => Mode::Change,
                    Mode::Change => Mode::Paragraph,
                };
                self.change = self.first_pending_change();
                Effect::None
            }
            KeyCode::Char('e') => self.edit(),
            KeyCode::Char('z') => self.undo(),
            KeyCode::Char(']') => self.step_change(1),
            KeyCode::Char('[') => self.step_change(-1),
            KeyCode::Char('}') => self.step(true),
            KeyCode::Char('{') => self.step(false),
            KeyCode::Tab => match self.next_pending(self.pos + 1, true) {
                Some(pos) => self.go(pos),
                None => self.say("no paragraph left pending"),
            },
            KeyCode::BackTab => match self.prev_pending() {
                Some(pos) => self.go(pos),
                None => self.say("no paragraph left pending"),
            },
            KeyCode::Char('j') | KeyCode::Down => self.scroll_by(1),
            KeyCode::Char('k') | KeyCode::Up => self.scroll_by(-1),
            KeyCode::PageDown => self.scroll_by(self.page() as isize),
            KeyCode::PageUp => self.scroll_by(-(self.page() as isize)),
            KeyCode::Char('g') | KeyCode::Home => self.scroll_by(isize::MIN / 2),
            KeyCode::Char('G') | KeyCode::End => self.scroll_by(isize::MAX / 2),
            KeyCode::Char('/') => self.open(Overlay::Search(String::new())),
            KeyCode::Char('n') => self.search(true),
            KeyCode::Char('N') => self.search(false),
            KeyCode::Char('t' | '|') => {
                self.layout = match self.layout.at(self.size.0) {
                    Layout::SideBySide | Layout::Auto => Layout::Stacked,
                    Layout::Stacked => Layout::Inline,
                    Layout::Inline => Layout::SideBySide,
                };
                self.clamp_scroll();
                Effect::None
            }
            KeyCode::Char('i') => {
                self.german = !self.german;
                self.clamp_scroll();
                Effect::None
            }
            KeyCode::Char('p') => {
                self.preview = !self.preview;
                self.clamp_scroll();
                Effect::None
            }
            KeyCode::Char('w') => Effect::Write { then_quit: false },
            KeyCode::Char('q') => self.quit(),
            KeyCode::Char('Q') => Effect::Abort,
            KeyCode::Char('?') => self.open(Overlay::Help),
            _ => Effect::None,
        }
    }

    fn overlay_key(&mut self, overlay: Overlay, key: KeyEvent) -> Effect {
        match overlay {
            Overlay::Help => Effect::None,
            Overlay::Quit => match key.code {
                KeyCode::Char('w') => Effect::Write { then_quit: true },
                KeyCode::Char('q' | 'y') => Effect::Quit,
                KeyCode::Char('Q') => Effect::Abort,
                _ => Effect::None,
            },
            Overlay::Bulk => match key.code {
                KeyCode::Char('1') => self.bulk_category(Category::Punctuation),
                KeyCode::Char('2') => self.bulk_category(Category::Whitespace),
                KeyCode::Char('3') => self.bulk_category(Category::Case),
                KeyCode::Char('4') => self.bulk_all(Choice::Accept),
                KeyCode::Char('5') => self.bulk_all(Choice::Reject),
                _ => Effect::None,
            },
            Overlay::Search(mut query) => match key.code {
                KeyCode::Enter => {
                    if !query.is_empty() {
                        self.query = query;
                    }
                    self.search(true)
                }
                KeyCode::Esc => Effect::None,
                KeyCode::Backspace => {
                    query.pop();
                    self.overlay = Some(Overlay::Search(query));
                    Effect::None
                }
                KeyCode::Char(c) => {
                    query.push(c);
                    self.overlay = Some(Overlay::Search(query));
                    Effect::None
                }
                _ => {
                    self.overlay = Some(Overlay::Search(query));
                    Effect::None
                }
            },
        }
    }

    fn open(&mut self, overlay: Overlay) -> Effect {
        self.overlay = Some(overlay);
        Effect::None
    }

    fn say(&mut self, message: &str) -> Effect {
        self.message = Some(message.to_owned());
        Effect::None
    }

    fn quit(&mut self) -> Effect {
        if self.counts().pending > 0 || !self.unwritten().is_empty() {
            self.overlay = Some(Overlay::Quit);
            Effect::None
        } else {
            Effect::Quit
        }
    }

    /// Accept or reject the current paragraph (or change); with `rest`, every change from the
    /// current one to the end of the paragraph.
    fn decide(&mut self, choice: Choice, rest: bool) -> Effect {
        let Some((_, d, i)) = self.current() else {
            return Effect::None;
        };
        self.snapshot(vec![d]);
        let item = &mut self.docs[d].items[i];
        match self.mode {
            Mode::Paragraph => {
                item.verdict = match choice {
                    Choice::Accept => Verdict::Accept,
                    Choice::Reject => Verdict::Reject,
                    Choice::Pending => Verdict::Pending,
                };
            }
            Mode::Change => {
                let end = if rest {
                    item.pair.change_count()
                } else {
                    self.change + 1
                };
                for k in self.change..end {
                    item.set_change(k, choice);
                }
            }
        }
        self.advance();
        Effect::Save(vec![d])
    }

    /// Leave the current change (or paragraph, or with `rest` the rest of the paragraph)
    /// pending and move on.
    fn skip(&mut self, rest: bool) -> Effect {
        let Some(item) = self.item() else {
            return Effect::None;
        };
        if self.mode == Mode::Change && !rest && self.change + 1 < item.pair.change_count() {
            self.change += 1;
            self.scroll = 0;
            return Effect::None;
        }
        match self.next_pending(self.pos + 1, false) {
            Some(pos) => self.go(pos),
            None => {
                self.summary = true;
                Effect::None
            }
        }
    }

    /// After a decision: the next pending change in this paragraph (change mode), else the
    /// next pending paragraph, else the closing screen.
    fn advance(&mut self) {
        if self.mode == Mode::Change
            && let Some(item) = self.item()
            && let Some(k) = (self.change + 1..item.pair.change_count())
                .find(|&k| item.choice(k) == Choice::Pending)
        {
            self.change = k;
            return;
        }
        match self.next_pending(self.pos + 1, true) {
            Some(pos) => {
                self.go(pos);
            }
            None => self.summary = true,
        }
    }

    /// The first pending paragraph at or after `from`, wrapping around; `wrap = false` stops
    /// before reaching the current one again.
    fn next_pending(&self, from: usize, wrap: bool) -> Option<usize> {
        let n = self.order.len();
        let pending = |pos: usize| {
            let (d, i) = self.order[pos];
            self.docs[d].items[i].is_pending()
        };
        // Behind: up to `from` when wrapping, else short of the current paragraph.
        let behind = if wrap { from } else { self.pos.min(from) };
        (from..n).chain(0..behind.min(n)).find(|&p| pending(p))
    }

    fn prev_pending(&self) -> Option<usize> {
        let n = self.order.len();
        (1..n).map(|back| (self.pos + n - back) % n).find(|&p| {
            let (d, i) = self.order[p];
            self.docs[d].items[i].is_pending()
        })
    }

    /// Move to paragraph `pos` of the review (a valid position).
    fn go(&mut self, pos: usize) -> Effect {
        self.pos = pos;
        self.change = self.first_pending_change();
        self.scroll = 0;
        self.summary = false;
        Effect::None
    }

    /// The next or previous paragraph; `false` (with a message) at either end.
    fn step(&mut self, forward: bool) -> Effect {
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

    fn first_pending_change(&self) -> usize {
        self.item()
            .and_then(|item| {
                (0..item.pair.change_count()).find(|&k| item.choice(k) == Choice::Pending)
            })
            .unwrap_or(0)
    }

    /// Next or previous change, crossing into the neighbouring paragraphs.
    fn step_change(&mut self, step: isize) -> Effect {
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

    fn edit(&mut self) -> Effect {
        match self.current() {
            Some((_, doc, item)) => Effect::Edit {
                doc,
                item,
                text: self.docs[doc].items[item].result().into_owned(),
            },
            None => Effect::None,
        }
    }

    /// Accept every pending change of `category` in every document.
    fn bulk_category(&mut self, category: Category) -> Effect {
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
        self.snapshot(docs.clone());
        let (mut changes, paragraphs) = (0, targets.len());
        for (d, i, ks) in targets {
            for k in ks {
                self.docs[d].items[i].set_change(k, Choice::Accept);
                changes += 1;
            }
        }
        self.message = Some(format!(
            "accepted {changes} {name} {} in {paragraphs} {}",
            plural(changes, "change"),
            plural(paragraphs, "paragraph")
        ));
        self.after_bulk();
        Effect::Save(docs)
    }

    /// Accept or reject every paragraph (and change) still pending.
    fn bulk_all(&mut self, choice: Choice) -> Effect {
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
        self.snapshot(docs.clone());
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
            plural(targets.len(), "paragraph")
        ));
        self.after_bulk();
        Effect::Save(docs)
    }

    fn after_bulk(&mut self) {
        if self.item().is_some_and(Item::is_pending) {
            self.change = self.first_pending_change();
        } else {
            self.advance();
        }
    }

    fn touched(&self, docs: impl Iterator<Item = usize>) -> Vec<usize> {
        let mut docs: Vec<usize> = docs.collect();
        docs.dedup();
        docs
    }

    fn snapshot(&mut self, docs: Vec<usize>) {
        let snapshot = self.capture(docs);
        self.undo.push(snapshot);
        if self.undo.len() > UNDO_DEPTH {
            self.undo.remove(0);
        }
        self.redo.clear();
    }

    fn capture(&self, docs: Vec<usize>) -> Snapshot {
        Snapshot {
            verdicts: docs
                .into_iter()
                .map(|d| {
                    let verdicts = self.docs[d].items.iter().map(|i| i.verdict.clone());
                    (d, verdicts.collect())
                })
                .collect(),
            pos: self.pos,
            change: self.change,
        }
    }

    fn restore(&mut self, snapshot: Snapshot) -> Vec<usize> {
        let mut docs = Vec::new();
        for (d, verdicts) in snapshot.verdicts {
            for (item, verdict) in self.docs[d].items.iter_mut().zip(verdicts) {
                item.verdict = verdict;
            }
            docs.push(d);
        }
        self.pos = snapshot.pos;
        self.change = snapshot.change;
        self.scroll = 0;
        self.summary = false;
        docs
    }

    fn undo(&mut self) -> Effect {
        let Some(snapshot) = self.undo.pop() else {
            return self.say("nothing to undo");
        };
        let docs = snapshot.verdicts.iter().map(|(d, _)| *d).collect();
        let current = self.capture(docs);
        self.redo.push(current);
        let docs = self.restore(snapshot);
        self.message = Some("undone".to_owned());
        Effect::Save(docs)
    }

    fn redo(&mut self) -> Effect {
        let Some(snapshot) = self.redo.pop() else {
            return self.say("nothing to redo");
        };
        let docs = snapshot.verdicts.iter().map(|(d, _)| *d).collect();
        let current = self.capture(docs);
        self.undo.push(current);
        let docs = self.restore(snapshot);
        self.message = Some("redone".to_owned());
        Effect::Save(docs)
    }

    /// The next (or previous) paragraph whose German, draft or result contains the query,
    /// ignoring case.
    fn search(&mut self, forward: bool) -> Effect {
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

    /// Body rows a page scroll moves.
    fn page(&self) -> usize {
        super::screen::body_height(self).max(1)
    }

    fn scroll_by(&mut self, rows: isize) -> Effect {
        self.scroll = self.scroll.saturating_add_signed(rows);
        self.clamp_scroll();
        Effect::None
    }

    fn clamp_scroll(&mut self) {
        let max = super::screen::body_rows(self).saturating_sub(super::screen::body_height(self));
        self.scroll = self.scroll.min(max);
    }
}

fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        noun.to_owned()
    } else {
        format!("{noun}s")
    }
}
