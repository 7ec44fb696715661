//! The one integration-test binary: runs the real `klartext` executable in a hermetic
//! environment (no inherited variables, its own config and cache folders), against local
//! stand-ins for the providers.

#[path = "../support/articles.rs"]
mod articles;
mod batch;
mod batch_api;
mod browser;
mod check;
mod common;
mod config;
mod consistency;
mod cost;
mod diff;
#[path = "../support/fake_batches.rs"]
mod fake_batches;
mod fake_batches_selftest;
#[path = "../support/fake_openai.rs"]
mod fake_openai;
mod fix;
mod hints;
mod inputs;
mod keys;
mod layering;
mod mocks;
mod online;
mod pack;
mod pipes;
mod providers;
mod quotes;
mod refine;
mod review;
mod run_report;
mod sent;
mod snapshots;
mod specs;
mod tmx;
mod tui;
mod xliff;
