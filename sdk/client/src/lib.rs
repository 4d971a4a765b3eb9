//! # hangar-client
//!
//! Rust client of the Hangar chat hub.
//!
//! - [`protocol`]: the wire types (frames, messages, ids, codes), shared with
//!   the server; available without default features;
//! - [`Client`] (feature `connect`, on by default): a WebSocket client on
//!   tokio-tungstenite that keeps a session alive: heartbeat, tiered
//!   reconnect (same URL with full-jitter backoff, then the next node of the
//!   cached node list, then a fresh node list, then giving up to the
//!   caller), resuming every joined room from its last seq, and resending
//!   unacknowledged sends with their original client message id;
//! - [`upload`] (feature `upload`): the chunked uploader behind
//!   `hangar upload`, and [`chunking`], the chunk-size rule it shares with
//!   the server (its one-pass chunk and file MD5 is the internal
//!   `hangar-md5pair` crate, shared with the server too).

pub mod protocol;

#[cfg(feature = "connect")]
mod backoff;
#[cfg(feature = "upload")]
pub mod chunking;
#[cfg(feature = "connect")]
mod client;
#[cfg(feature = "upload")]
mod hash_cache;
#[cfg(feature = "upload")]
pub mod upload;

#[cfg(feature = "connect")]
pub use backoff::Backoff;
#[cfg(feature = "connect")]
pub use client::{Client, ClientConfig, ClientError, Event};
