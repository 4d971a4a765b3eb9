//! Several nodes as one service: a node started with a broker joins the
//! cluster of every node sharing its database, object store and subject
//! prefix.
//!
//! - [`broker`]: rooms' events between the nodes (NATS);
//! - [`nodes`]: the node list behind `GET /api/lbs`.
//!
//! Without a broker a node is alone, as it always was.

pub mod broker;
pub mod nodes;

use std::path::Path;

/// How a node joins a cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterConfig {
    /// The broker's URL (`nats://HOST:PORT`).
    pub broker: String,
    /// Prefix of every subject the nodes use: the nodes of one cluster
    /// share it, and two clusters on one broker must not.
    pub prefix: String,
}

/// Default subject prefix.
pub const DEFAULT_PREFIX: &str = "hangar";

/// Why a node id is unusable.
#[derive(Debug, thiserror::Error)]
pub enum NodeIdError {
    /// The id file could not be read or written.
    #[error("node id file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The id has characters a subject or a URL would choke on.
    #[error("node id {0:?}: use 1-64 ASCII letters, digits, '-' or '_'")]
    Invalid(String),
}

fn valid(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// This node's id: `given`, or the one kept in `DATA_DIR/node-id`
/// (generated on the first start), so a restarted node is the same node.
///
/// # Errors
/// [`NodeIdError`].
pub fn node_id(data_dir: &Path, given: Option<&str>) -> Result<String, NodeIdError> {
    if let Some(id) = given {
        return if valid(id) {
            Ok(id.to_owned())
        } else {
            Err(NodeIdError::Invalid(id.to_owned()))
        };
    }
    let path = data_dir.join("node-id");
    let io = |source| NodeIdError::Io {
        path: path.display().to_string(),
        source,
    };
    match std::fs::read_to_string(&path) {
        Ok(kept) => {
            let id = kept.trim();
            if valid(id) {
                Ok(id.to_owned())
            } else {
                Err(NodeIdError::Invalid(id.to_owned()))
            }
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            let id = format!("node-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
            std::fs::write(&path, format!("{id}\n")).map_err(io)?;
            Ok(id)
        }
        Err(err) => Err(io(err)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_keeps_its_generated_id_and_refuses_unsafe_ones() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let first = node_id(dir.path(), None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(node_id(dir.path(), None).ok(), Some(first.clone()));
        assert!(first.starts_with("node-"));
        assert_eq!(node_id(dir.path(), Some("a-1")).ok(), Some("a-1".into()));
        for bad in ["", "a.b", "a b", "a*", &"x".repeat(65)] {
            assert!(node_id(dir.path(), Some(bad)).is_err(), "{bad:?}");
        }
    }
}
