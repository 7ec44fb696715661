//! The key map, at the edge: a crossterm key press becomes the review's [`Action`], read in the
//! context of what is on screen (an open overlay, the closing screen). The state machine never
//! sees a key.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::{Action, Bulk, Scroll};
use super::record::Choice;
use super::state::{Effect, Overlay, Review};
use crate::diff::Category;

/// Press `key` in `review`.
pub fn press(review: &mut Review, key: KeyEvent) -> Effect {
    let action = action(review, key);
    review.handle(action)
}

/// What `key` means in `review` as it is now.
pub fn action(review: &Review, key: KeyEvent) -> Action {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    match &review.overlay {
        Some(Overlay::Help) => Action::Dismiss,
        Some(Overlay::Quit) => match key.code {
            KeyCode::Char('w') => Action::WriteAndQuit,
            KeyCode::Char('q' | 'y') => Action::ConfirmQuit,
            KeyCode::Char('Q') => Action::Abort,
            _ => Action::Dismiss,
        },
        Some(Overlay::Bulk) => match key.code {
            KeyCode::Char('1') => Action::Bulk(Bulk::Accept(Category::Punctuation)),
            KeyCode::Char('2') => Action::Bulk(Bulk::Accept(Category::Whitespace)),
            KeyCode::Char('3') => Action::Bulk(Bulk::Accept(Category::Case)),
            KeyCode::Char('4') => Action::Bulk(Bulk::All(Choice::Accept)),
            KeyCode::Char('5') => Action::Bulk(Bulk::All(Choice::Reject)),
            _ => Action::Dismiss,
        },
        Some(Overlay::Search(_)) => match key.code {
            KeyCode::Char('c') if ctrl => Action::Dismiss,
            KeyCode::Enter => Action::Submit,
            KeyCode::Esc => Action::Dismiss,
            KeyCode::Backspace => Action::Erase,
            KeyCode::Char(c) => Action::Type(c),
            _ => Action::Ignore,
        },
        Some(Overlay::Files { .. }) => match key.code {
            KeyCode::Char('c') if ctrl => Action::Abort,
            KeyCode::Enter => Action::Submit,
            KeyCode::Esc | KeyCode::Char('f' | 'q') => Action::Dismiss,
            code => scroll(code).map_or(Action::Ignore, Action::Scroll),
        },
        None if review.summary => match key.code {
            KeyCode::Char('c') if ctrl => Action::Abort,
            KeyCode::Char('f') => Action::Files,
            KeyCode::Char('w') => Action::Write,
            KeyCode::Char('q') => Action::Quit,
            KeyCode::Char('Q') => Action::Abort,
            KeyCode::Char('?') => Action::Help,
            _ => Action::Dismiss,
        },
        None => main(key.code, ctrl),
    }
}

/// The keys of the review screen itself.
fn main(code: KeyCode, ctrl: bool) -> Action {
    match code {
        KeyCode::Char('c') if ctrl => Action::Abort,
        KeyCode::Char('r') if ctrl => Action::Redo,
        KeyCode::Char('d') if ctrl => Action::Scroll(Scroll::HalfPages(1)),
        KeyCode::Char('u') if ctrl => Action::Scroll(Scroll::HalfPages(-1)),
        KeyCode::Char('a' | 'y') | KeyCode::Enter => Action::Accept { rest: false },
        KeyCode::Char('r') => Action::Reject { rest: false },
        KeyCode::Char('s' | ' ') => Action::Skip { rest: false },
        KeyCode::Char('A') => Action::Accept { rest: true },
        KeyCode::Char('R') => Action::Reject { rest: true },
        KeyCode::Char('S') => Action::Skip { rest: true },
        KeyCode::Char('b') => Action::BulkMenu,
        KeyCode::Char('m') => Action::ToggleMode,
        KeyCode::Char('e') => Action::Edit,
        KeyCode::Char('z') => Action::Undo,
        KeyCode::Char(']') => Action::NextChange,
        KeyCode::Char('[') => Action::PreviousChange,
        KeyCode::Char('}') => Action::NextParagraph,
        KeyCode::Char('{') => Action::PreviousParagraph,
        KeyCode::Tab => Action::NextPending,
        KeyCode::BackTab => Action::PreviousPending,
        KeyCode::Char('/') => Action::Search,
        KeyCode::Char('n') => Action::SearchNext,
        KeyCode::Char('N') => Action::SearchPrevious,
        KeyCode::Char('t' | '|') => Action::CycleLayout,
        KeyCode::Char('i') => Action::ToggleGerman,
        KeyCode::Char('p') => Action::TogglePreview,
        KeyCode::Char('w') => Action::Write,
        KeyCode::Char('q') => Action::Quit,
        KeyCode::Char('Q') => Action::Abort,
        KeyCode::Char('?') => Action::Help,
        KeyCode::Char('f') => Action::Files,
        code => scroll(code).map_or(Action::Ignore, Action::Scroll),
    }
}

/// The scrolling keys, the same on the review screen and in the file list.
fn scroll(code: KeyCode) -> Option<Scroll> {
    Some(match code {
        KeyCode::Char('j') | KeyCode::Down => Scroll::Rows(1),
        KeyCode::Char('k') | KeyCode::Up => Scroll::Rows(-1),
        KeyCode::PageDown => Scroll::Pages(1),
        KeyCode::PageUp => Scroll::Pages(-1),
        KeyCode::Char('g') | KeyCode::Home => Scroll::Top,
        KeyCode::Char('G') | KeyCode::End => Scroll::Bottom,
        _ => return None,
    })
}
