//! # hangar-registry
//!
//! The plugin registry: WebAssembly components published by name and
//! semantic version, stored by content ([`Digest`], `sha256:<hex>`), listed
//! and fetched over HTTP. The host embeds it (`/registry/v1`) and fetches
//! from it like from any other registry; `hangar registry serve` runs it
//! alone.
//!
//! - [`Digest`]: content addresses; bytes are verified against their name
//!   before anything is compiled;
//! - [`PluginName`], [`World`], [`inspect`]: package names, the
//!   `hangar:plugin` worlds and telling which one a component exports;
//! - [`store::Registry`]: publishing (immutable versions), listing, yanking,
//!   blobs (through `object_store`, metadata through sqlx);
//! - [`http::RegistryApi`]: the HTTP API;
//! - [`signature`]: publisher signatures hosts verify before they compile.

mod digest;
pub mod http;
pub mod imports;
mod name;
pub mod signature;
pub mod store;
mod world;

pub use digest::{Digest, DigestError};
pub use name::{InvalidPluginName, PluginName};
pub use world::{InspectError, Inspected, Inspector, World, inspect};
