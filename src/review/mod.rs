//! `klartext review`: accept, reject or edit the corrections paragraph by paragraph (or change
//! by change). `record` defines what `fix` leaves beside an output and the saved decisions,
//! `doc` is the decisions model of one output, `state` the review session as a pure state
//! machine over actions, `keys` maps key presses to those actions, and `screen` draws the
//! session with ratatui. Reading, writing and the terminal belong to the `review` command.

mod action;
mod doc;
mod history;
pub mod keys;
pub mod record;
pub mod screen;
pub mod state;
#[cfg(test)]
mod tests;
pub mod xliff;

pub use action::{Action, Bulk, Scroll};
pub use doc::{Attention, Counts, Doc, Item, Outcome, Urgency};
pub use record::{Choice, Decisions, Paragraph, Record, Saved, Verdict};
pub use screen::{Theme, draw};
pub use state::{Effect, Extent, Measure, Mode, Review};
