//! The review session as a pure state machine: [`Review::handle`] takes one [`Action`] (the
//! edge maps keys to actions, see `keys`), a resize or the result of an edit, and returns what
//! the shell around it must do — save decisions, open the editor, write the outputs, quit.
//! Nothing here touches the terminal or the disk, and nothing here knows the screen: how tall
//! the body is comes from a [`Measure`] the caller supplies. Whole sessions are tested as
//! scripted key sequences.

mod bulk;
mod navigate;

use super::action::{Action, Bulk, Scroll};
use super::doc::{Counts, Doc, Item, Urgency};
use super::history::{History, Snapshot};
use super::record::{Choice, Verdict};
use crate::config::View;
use crate::render::Layout;

/// Whether a decision applies to a whole paragraph or to one change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Paragraph,
    Change,
}

/// How the body of the screen measures for a review: the rows shown at once and the rows it
/// has in all (it scrolls when they do not fit). The screen supplies it.
pub type Measure = fn(&Review) -> Extent;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Extent {
    pub visible: usize,
    pub total: usize,
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
    /// The list of files under review; `selected` is a position in [`Review::files`].
    Files {
        selected: usize,
    },
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

/// The review session.
#[derive(Debug, Clone)]
pub struct Review {
    pub docs: Vec<Doc>,
    /// The documents in the order they are reviewed: those that need attention first (see
    /// [`Urgency`]), in the order given within each kind.
    files: Vec<usize>,
    /// Reviewable paragraphs in order, file by file as in `files`: (document, paragraph).
    order: Vec<(usize, usize)>,
    /// Position in `order`.
    pos: usize,
    /// The change in focus within the current paragraph.
    pub change: usize,
    pub mode: Mode,
    /// The layout asked for; `auto` follows the width.
    pub view: View,
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
    history: History,
    measure: Measure,
}

impl Review {
    pub fn new(docs: Vec<Doc>, size: (u16, u16), measure: Measure) -> Self {
        let urgency: Vec<Urgency> = docs.iter().map(|d| d.attention().urgency()).collect();
        let mut files: Vec<usize> = (0..docs.len()).collect();
        files.sort_by_key(|&d| urgency[d]);
        let order: Vec<(usize, usize)> = files
            .iter()
            .flat_map(|&d| {
                docs[d]
                    .items
                    .iter()
                    .enumerate()
                    .filter(|(_, item)| item.reviewable())
                    .map(move |(i, _)| (d, i))
            })
            .collect();
        let mut review = Self {
            docs,
            files,
            order,
            pos: 0,
            change: 0,
            mode: Mode::Paragraph,
            view: View::Auto,
            german: false,
            preview: true,
            size,
            scroll: 0,
            overlay: None,
            query: String::new(),
            message: None,
            summary: false,
            history: History::default(),
            measure,
        };
        // Resume at the first paragraph still pending.
        match review.next_pending(0, true) {
            Some(pos) => review.pos = pos,
            None => review.summary = !review.order.is_empty(),
        }
        review.change = review.first_pending_change();
        if review.files.len() > 1 {
            review.message = Some(format!(
                "{} files, those that need attention first · f lists them",
                review.files.len()
            ));
        }
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

    /// The documents in review order: those that need attention first.
    pub fn files(&self) -> &[usize] {
        &self.files
    }

    /// Where document `d` comes in [`Self::files`].
    pub fn file_position(&self, d: usize) -> usize {
        self.files.iter().position(|&f| f == d).unwrap_or(0)
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
        let effect = self.apply_edit(doc, item, result);
        // A verdict changes the header and the preview, and so the room the body has.
        self.clamp_scroll();
        effect
    }

    fn apply_edit(&mut self, doc: usize, item: usize, result: Result<String, String>) -> Effect {
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
        self.snapshot(&[doc]);
        self.docs[doc].items[item].verdict = verdict;
        self.message = Some("edited".to_owned());
        self.advance();
        Effect::Save(vec![doc])
    }

    /// Outputs were written (or writing failed).
    pub fn written(&mut self, result: Result<usize, String>) {
        self.message = Some(match result {
            Ok(0) => "nothing to write: the outputs already hold these decisions".to_owned(),
            Ok(n) => format!("wrote {}", crate::count::counted(n, "file", "files")),
            Err(why) => why,
        });
    }

    /// The layout at `width` columns.
    pub fn layout_at(&self, width: u16) -> Layout {
        Layout::resolve(self.view, usize::from(width)).unwrap_or(Layout::SideBySide)
    }

    pub fn handle(&mut self, action: Action) -> Effect {
        let effect = self.act(action);
        // Whatever changed (a verdict, the layout, the German, the preview, the closing
        // screen), the body may have shrunk under the scroll position.
        self.clamp_scroll();
        effect
    }

    fn act(&mut self, action: Action) -> Effect {
        self.message = None;
        if let Some(overlay) = self.overlay.take() {
            return self.in_overlay(overlay, action);
        }
        if self.summary {
            match action {
                Action::Write => return Effect::Write { then_quit: false },
                Action::Quit => return self.quit(),
                Action::Abort => return Effect::Abort,
                Action::Help => return self.open(Overlay::Help),
                Action::Files => return self.open_files(),
                _ => {
                    self.summary = false;
                    return Effect::None;
                }
            }
        }
        match action {
            Action::Accept { rest } => self.decide(Choice::Accept, rest),
            Action::Reject { rest } => self.decide(Choice::Reject, rest),
            Action::Skip { rest } => self.skip(rest),
            Action::ToggleMode => {
                self.mode = match self.mode {
                    Mode::Paragraph => Mode::Change,
                    Mode::Change => Mode::Paragraph,
                };
                self.change = self.first_pending_change();
                Effect::None
            }
            Action::Edit => self.edit(),
            Action::Undo => self.undo(),
            Action::Redo => self.redo(),
            Action::NextChange => self.step_change(1),
            Action::PreviousChange => self.step_change(-1),
            Action::NextParagraph => self.step(true),
            Action::PreviousParagraph => self.step(false),
            Action::NextPending => match self.next_pending(self.pos + 1, true) {
                Some(pos) => self.go(pos),
                None => self.say("no paragraph left pending"),
            },
            Action::PreviousPending => match self.prev_pending() {
                Some(pos) => self.go(pos),
                None => self.say("no paragraph left pending"),
            },
            Action::Scroll(scroll) => {
                let page = self.page() as isize;
                self.scroll_by(match scroll {
                    Scroll::Rows(n) => n,
                    Scroll::HalfPages(n) => n.saturating_mul(page / 2),
                    Scroll::Pages(n) => n.saturating_mul(page),
                    Scroll::Top => isize::MIN / 2,
                    Scroll::Bottom => isize::MAX / 2,
                })
            }
            Action::SearchNext => self.search(true),
            Action::SearchPrevious => self.search(false),
            Action::CycleLayout => {
                self.view = self.layout_at(self.size.0).next().into();
                Effect::None
            }
            Action::ToggleGerman => {
                self.german = !self.german;
                Effect::None
            }
            Action::TogglePreview => {
                self.preview = !self.preview;
                Effect::None
            }
            Action::Help => self.open(Overlay::Help),
            Action::Files => self.open_files(),
            Action::BulkMenu => self.open(Overlay::Bulk),
            Action::Search => self.open(Overlay::Search(String::new())),
            Action::Write => Effect::Write { then_quit: false },
            Action::Quit => self.quit(),
            Action::Abort => Effect::Abort,
            Action::Type(_)
            | Action::Erase
            | Action::Submit
            | Action::Bulk(_)
            | Action::WriteAndQuit
            | Action::ConfirmQuit
            | Action::Dismiss
            | Action::Ignore => Effect::None,
        }
    }

    /// An action while `overlay` is open (it has been closed; it stays open by reopening).
    fn in_overlay(&mut self, overlay: Overlay, action: Action) -> Effect {
        match overlay {
            Overlay::Help => Effect::None,
            Overlay::Quit => match action {
                Action::WriteAndQuit => Effect::Write { then_quit: true },
                Action::ConfirmQuit => Effect::Quit,
                Action::Abort => Effect::Abort,
                _ => Effect::None,
            },
            Overlay::Bulk => match action {
                Action::Bulk(Bulk::Accept(category)) => self.bulk_category(category),
                Action::Bulk(Bulk::All(choice)) => self.bulk_all(choice),
                _ => Effect::None,
            },
            Overlay::Search(mut query) => match action {
                Action::Submit => {
                    if !query.is_empty() {
                        self.query = query;
                    }
                    self.search(true)
                }
                Action::Dismiss | Action::Abort => Effect::None,
                Action::Erase => {
                    query.pop();
                    self.open(Overlay::Search(query))
                }
                Action::Type(c) => {
                    query.push(c);
                    self.open(Overlay::Search(query))
                }
                _ => self.open(Overlay::Search(query)),
            },
            Overlay::Files { selected } => match action {
                Action::Submit => match self.files.get(selected) {
                    Some(&d) => self.jump_to_file(d),
                    None => Effect::None,
                },
                Action::Scroll(scroll) => {
                    let last = self.files.len().saturating_sub(1);
                    let selected = match scroll {
                        Scroll::Rows(n) => selected.saturating_add_signed(n),
                        Scroll::HalfPages(n) | Scroll::Pages(n) => {
                            selected.saturating_add_signed(n.saturating_mul(10))
                        }
                        Scroll::Top => 0,
                        Scroll::Bottom => last,
                    };
                    self.open(Overlay::Files {
                        selected: selected.min(last),
                    })
                }
                Action::Abort => Effect::Abort,
                Action::Dismiss => Effect::None,
                _ => self.open(Overlay::Files { selected }),
            },
        }
    }

    /// The file list, on the current file.
    fn open_files(&mut self) -> Effect {
        let selected = self.current().map_or(0, |(_, d, _)| self.file_position(d));
        self.open(Overlay::Files { selected })
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
        self.snapshot(&[d]);
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

    /// Remember the verdicts of `docs` before a step changes them.
    fn snapshot(&mut self, docs: &[usize]) {
        let before = Snapshot::capture(&self.docs, docs, (self.pos, self.change));
        self.history.record(before);
    }

    fn undo(&mut self) -> Effect {
        match self.history.undo(&self.docs, (self.pos, self.change)) {
            Some(snapshot) => self.restore(snapshot, "undone"),
            None => self.say("nothing to undo"),
        }
    }

    fn redo(&mut self) -> Effect {
        match self.history.redo(&self.docs, (self.pos, self.change)) {
            Some(snapshot) => self.restore(snapshot, "redone"),
            None => self.say("nothing to redo"),
        }
    }

    fn restore(&mut self, snapshot: Snapshot, message: &str) -> Effect {
        let (docs, (pos, change)) = snapshot.restore(&mut self.docs);
        self.pos = pos;
        self.change = change;
        self.scroll = 0;
        self.summary = false;
        self.message = Some(message.to_owned());
        Effect::Save(docs)
    }

    /// Body rows a page scroll moves.
    fn page(&self) -> usize {
        (self.measure)(self).visible.max(1)
    }

    /// Scroll by `rows`; [`Self::handle`] keeps it within the body.
    fn scroll_by(&mut self, rows: isize) -> Effect {
        self.scroll = self.scroll.saturating_add_signed(rows);
        Effect::None
    }

    fn clamp_scroll(&mut self) {
        // The top is always within the body, and measuring it lays the whole paragraph out:
        // most keys move to another paragraph, which starts at the top.
        if self.scroll == 0 {
            return;
        }
        let extent = (self.measure)(self);
        let max = extent.total.saturating_sub(extent.visible);
        self.scroll = self.scroll.min(max);
    }
}
