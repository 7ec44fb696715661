//! What the reviewer can ask for, as the state machine's input: the edge maps key presses to
//! these (`keys`), tests and scripts can send them directly.

use super::record::Choice;
use crate::diff::Category;

/// What the reviewer asks for. The edge (`keys`) maps key presses to actions in the context
/// of what is on screen; an action that means nothing where it arrives does nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Accept the paragraph (or change) in focus; `rest`: every change from it to the end of
    /// the paragraph.
    Accept {
        rest: bool,
    },
    Reject {
        rest: bool,
    },
    /// Leave it pending and move on.
    Skip {
        rest: bool,
    },
    /// Decide whole paragraphs, or change by change.
    ToggleMode,
    Edit,
    Undo,
    Redo,
    /// The next or previous change, crossing paragraphs.
    NextChange,
    PreviousChange,
    NextParagraph,
    PreviousParagraph,
    NextPending,
    PreviousPending,
    Scroll(Scroll),
    SearchNext,
    SearchPrevious,
    /// Side by side → stacked → inline.
    CycleLayout,
    ToggleGerman,
    TogglePreview,
    Help,
    /// Open the list of files under review; [`Action::Scroll`] moves in it, [`Action::Submit`]
    /// opens the chosen file.
    Files,
    BulkMenu,
    /// Open the search prompt; [`Action::Type`], [`Action::Erase`] and [`Action::Submit`] edit
    /// and run it.
    Search,
    Type(char),
    Erase,
    Submit,
    /// A choice of the bulk menu.
    Bulk(Bulk),
    Write,
    /// In the quit prompt: write, then quit.
    WriteAndQuit,
    /// Quit, asking first when something is pending or unwritten.
    Quit,
    /// In the quit prompt: quit without writing.
    ConfirmQuit,
    /// Leave at once, writing nothing.
    Abort,
    /// Close the overlay or the closing screen.
    Dismiss,
    /// A key with no meaning here.
    Ignore,
}

/// How far a scroll goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scroll {
    /// Rows up (negative) or down.
    Rows(isize),
    /// Half a page up (-1) or down (1).
    HalfPages(isize),
    /// Pages up (-1) or down (1).
    Pages(isize),
    Top,
    Bottom,
}

/// The bulk menu's choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bulk {
    /// Accept every pending change of a category.
    Accept(Category),
    /// Accept or reject everything still pending.
    All(Choice),
}
