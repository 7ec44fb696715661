//! The one per-document path and the runs over many documents. [`document`] takes one input
//! from its bytes to its result — read, segment and repair, then verify the German (offline),
//! plan the requests (`--dry-run`) or run the API passes (draft, restore, verify, refine) — the same
//! for a single file and for every file of a folder. [`run`] drives many documents at once
//! within the backends' limits, with progress events and Ctrl-C, packing consecutive small
//! documents into shared requests (`pack`). The passes themselves
//! (`engine`; `translate` over a document, `send` for one batch out and back, `plan` for
//! `--dry-run`) cut a document's segments (`units`) into requests (`batch`), mask protected spans (`mask`) and
//! validate replies (`protocol`). Nothing here prints or writes a result: the
//! caller decides where results go and what the user sees.

pub mod batch;
pub mod document;
mod engine;
mod flight;
pub mod jobs;
pub mod mask;
pub mod pack;
mod plan;
pub mod protocol;
mod refine;
pub mod run;
mod send;
mod spend;
mod translate;
mod translated;
mod units;

pub use document::{DocumentError, Input, Origin, Outcome, Processing, Work, process_document};
pub use engine::{ChatSetup, Engine, EngineError, Member, MemberKind, Pass, PassKind};
pub use plan::{Estimate, PassEstimate, PassPlan, PlanCost};
pub use refine::{RefineOutcome, Refinement, improves};
pub use run::{Ended, Event, Finished, Progress, Run};
pub use spend::{BUDGET_HINT, CostLine, LITERAL, Spent};
pub use translate::MEMORY;
pub use translated::{FailureKind, SegmentFailure, SegmentResult, Sides, Translated};
