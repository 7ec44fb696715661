//! klartext turns garbled, machine-translated German into clean, faithful English and shows
//! exactly what changed.
//!
//! The pipeline: read → segment → repair → (draft → restore, through APIs) → verify → write
//! and show. The core (`segment`, `repair`, `diff`, `render`) is pure and synchronous;
//! `files` and `term` are the edges; `cli` parses, resolves settings once and prints.

pub mod backend;
pub mod cache;
pub mod cli;
pub mod config;
pub mod cost;
pub mod count;
pub mod diff;
pub mod files;
pub mod glossary;
pub mod pipeline;
pub mod prompt;
mod quotes;
pub mod render;
pub mod repair;
pub mod review;
pub mod segment;
pub mod term;
pub mod tmx;
pub mod verify;
pub mod xml;
