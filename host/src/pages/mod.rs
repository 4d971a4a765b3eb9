//! Low-code pages: a tree of material nodes, each pinned to a version,
//! stored with every revision (optimistic concurrency by revision), and
//! rendered server-side into a complete HTML document.

pub mod http;
pub mod render;
mod store;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use store::{PageStore, SaveError, Saved};

/// Deepest nesting of nodes.
pub const MAX_DEPTH: usize = 16;
/// Most nodes in one page.
pub const MAX_NODES: usize = 500;

/// A page schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Page {
    /// Document title.
    #[serde(default)]
    pub title: String,
    /// Top-level nodes, in order.
    #[serde(default)]
    pub nodes: Vec<Node>,
}

/// One placed material.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = PageNode)]
#[serde(deny_unknown_fields)]
pub struct Node {
    /// Material package name.
    pub material: String,
    /// The pinned version: publishing a newer one changes nothing here.
    pub version: String,
    /// Props, validated against that version's schema.
    #[serde(default = "empty_object")]
    #[schema(value_type = Object)]
    pub props: Value,
    /// Nested nodes.
    #[serde(default)]
    #[schema(no_recursion)]
    pub children: Vec<Node>,
}

fn empty_object() -> Value {
    Value::Object(serde_json::Map::new())
}

impl Page {
    /// Every node with its path (`nodes/0/children/1`), depth first.
    pub fn walk(&self) -> Vec<(String, &Node, usize)> {
        fn visit<'a>(
            nodes: &'a [Node],
            prefix: &str,
            depth: usize,
            out: &mut Vec<(String, &'a Node, usize)>,
        ) {
            for (i, node) in nodes.iter().enumerate() {
                let path = format!("{prefix}/{i}");
                out.push((path.clone(), node, depth));
                visit(&node.children, &format!("{path}/children"), depth + 1, out);
            }
        }
        let mut out = Vec::new();
        visit(&self.nodes, "/nodes", 1, &mut out);
        out
    }
}

/// Page ids: 1-64 characters of lowercase letters, digits and `-`.
pub fn valid_page_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}
