//! # hangar-registry
//!
//! Content-addressed naming of plugin components. A component is identified
//! by the SHA-256 of its bytes ([`Digest`], written `sha256:<hex>`); every
//! stored blob, cache entry and activation names a component this way, so
//! bytes are verified against their name before anything is compiled.

mod digest;

pub use digest::{Digest, DigestError};
