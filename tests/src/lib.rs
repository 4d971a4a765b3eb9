//! Test support shared by the host's tests and the end-to-end tests:
//!
//! - [`guests`]: builds the guest workspace (example plugins and test-only
//!   guests) for `wasm32-wasip2` once per test process and hands out their
//!   bytes; cargo makes the build a no-op when nothing changed;
//! - [`shared_cache_dir`]: one compiled-component cache for the whole test
//!   run, so each component is compiled once per run, not once per test;
//! - [`server`]: starts the real `hangar` binary and talks to it over HTTP;
//! - [`uploads`]: the upload API as a test client, and test data;
//! - [`tls`]: a certificate authority and server certificate per test;
//! - [`backend`]: runs a test body on SQLite and on PostgreSQL;
//! - [`cluster`]: several nodes sharing PostgreSQL, S3 and NATS.

// Test support: a set-up that fails is a failed test, so panicking with a
// message is the right answer here.
#![allow(clippy::expect_used, clippy::unwrap_used)]

pub mod backend;
pub mod cluster;
pub mod guests;
pub mod metrics;
pub mod proxy;
pub mod server;
pub mod templates;
pub mod tls;
pub mod uploads;
pub mod ws;

use std::path::PathBuf;

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default()
}

/// The compiled-component cache shared by every test of a run
/// (`target/hangar-test-cache`).
pub fn shared_cache_dir() -> PathBuf {
    repo_root().join("target").join("hangar-test-cache")
}
