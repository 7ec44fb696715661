//! `klartext review`: accept, reject or edit the corrections paragraph by paragraph (or change
//! by change). `record` defines what `fix` leaves beside an output and the saved decisions,
//! `state` is the review as a pure state machine, `screen` draws it with ratatui. Reading,
//! writing and the terminal belong to the `review` command.

pub mod record;
pub mod screen;
pub mod state;
#[cfg(test)]
mod tests;

pub use record::{Choice, Decisions, Paragraph, Record, Saved, Verdict};
pub use screen::{Theme, draw};
pub use state::{Doc, Effect, Layout, Mode, Review};
