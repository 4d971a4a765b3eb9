//! # hangar-host
//!
//! The Hangar server: hosts sandboxed WebAssembly plugins and runs the
//! services they hook into.
//!
//! Map of the crate:
//! - [`cli`]: the command line (`hangar serve ...`), parsed in `main.rs`;
//! - [`config`]: configuration from flags, `HANGAR_*` variables and `hangar.toml`;
//! - [`server`]: the HTTP server, its shared state and shutdown;
//! - [`plugins`]: the plugin runtime (engine, limits, hot swap, chains);
//! - [`store`]: the database (SQLite through sqlx) and its migrations;
//! - [`admin`]: the administration API;
//! - [`demo`]: loads the example plugins for `serve --demo`.

pub mod admin;
pub mod cli;
pub mod config;
pub mod demo;
pub mod plugins;
pub mod server;
pub mod store;
