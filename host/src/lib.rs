//! # hangar-host
//!
//! The Hangar server: hosts sandboxed WebAssembly plugins and runs the
//! services they hook into.
//!
//! Map of the crate:
//! - [`cli`]: the command line (`hangar serve ...`), parsed in `main.rs`;
//! - [`commands`]: the client subcommands (`upload`, `publish`, `plugins`)
//!   and `registry serve`;
//! - [`config`]: configuration from flags, `HANGAR_*` variables and `hangar.toml`;
//! - [`server`]: the HTTP server, its shared state and shutdown;
//! - [`error`]: the HTTP API's error type (status, code, message);
//! - [`plugins`]: the plugin runtime (engine, limits, hot swap, chains);
//! - [`hub`]: the WebSocket chat hub (protocol, connections, rooms, batching);
//! - [`history`]: conversations and messages, incremental sync;
//! - [`auth`]: session tokens (HS256 JWT) and the HTTP extractor;
//! - [`lbs`]: node discovery for reconnecting clients;
//! - [`cluster`]: several nodes as one service (broker, node list);
//! - [`materials`]: low-code materials: on-demand loading, props validation, sanitised rendering;
//! - [`pages`]: low-code page schemas with revisions, rendered server-side;
//! - [`store`]: the database (SQLite or PostgreSQL, through `hangar-storage`) and its migrations;
//! - [`upload`]: the chunked upload store and file downloads;
//! - [`admin`]: the administration API;
//! - [`web`]: the static pages (`/admin`, `/designer`, `/chat`) and the browser SDK;
//! - [`deploy`]: fetching from the registry, activation, rollback, persistence;
//! - [`demo`]: loads the example plugins for `serve --demo`.

pub mod admin;
pub mod auth;
pub mod cli;
pub mod cluster;
pub mod commands;
pub mod config;
pub mod demo;
pub mod deploy;
pub mod error;
pub mod history;
pub mod hub;
pub mod lbs;
pub mod materials;
pub mod metrics;
pub mod pages;
pub mod plugins;
pub mod server;
pub mod store;
pub mod upload;
pub mod web;
