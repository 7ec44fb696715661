//! The one integration-test binary: runs the real `klartext` executable in a hermetic
//! environment (no inherited variables, its own config and cache folders).

mod common;
mod config;
mod diff;
mod fix;
