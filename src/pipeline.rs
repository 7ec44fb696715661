//! Per-document orchestration. For now the offline part of the pipeline: segment the source,
//! repair each segment, and put the document back together with every repair and flag
//! located in document coordinates. The API passes (draft, restore) join here later.

pub mod batch;
mod engine;
pub mod mask;
pub mod protocol;
mod translate;

pub use engine::{Engine, EngineError};
pub use translate::{PassPlan, SegmentResult, Translated};
