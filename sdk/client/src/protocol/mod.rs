//! The chat protocol's wire types, shared by the server and clients
//! (documented in `docs/protocol.md`).

mod frames;
mod types;

pub use frames::*;
pub use types::*;
