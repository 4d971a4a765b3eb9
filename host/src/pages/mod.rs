//! Low-code pages: a tree of material nodes, each pinned to a version,
//! stored with every revision (optimistic concurrency by revision), and
//! rendered server-side into a complete HTML document.
//!
//! - [`validate`]: what a saved page must satisfy (sizes, pins, props,
//!   slots, events and actions, forms);
//! - [`render`]: the page's HTML, cached per revision;
//! - [`forms`]: what visitors submit through a page's forms;
//! - [`http`]: the API (`docs/materials.md`).

pub mod forms;
mod forms_http;
pub mod http;
pub mod render;
mod store;
pub mod validate;

use std::collections::BTreeMap;

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
    /// Node id, unique in the page (1-32 lowercase letters, digits and
    /// `-`); needed by a node with events or a form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Nested nodes shown after the material's HTML (pages made before
    /// slots; any material may have them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(no_recursion)]
    pub children: Vec<Node>,
    /// Children by slot name, in order: only slots the material declares.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schema(no_recursion)]
    pub slots: BTreeMap<String, Vec<Node>>,
    /// Actions by event name: only events the material emits.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub events: BTreeMap<String, Action>,
}

/// What a published page does when a node emits an event: a fixed, safe
/// set, performed by the page's runtime (no script from the page itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "action", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Action {
    /// Goes to `url` (a link the sanitiser would allow; `{name}` is
    /// replaced by the page variable `name`, URL-encoded).
    Navigate {
        /// Where to.
        url: String,
    },
    /// Submits the form the node is in.
    SubmitForm,
    /// Shows `text` (`{name}` replaced by the page variable `name`).
    ShowMessage {
        /// The message.
        text: String,
    },
    /// Sets page variable `name` to `value`.
    SetVariable {
        /// Variable name: a letter, then up to 31 letters, digits, `_`, `-`.
        name: String,
        /// Its new value (`{name}` replaced as above).
        value: String,
    },
}

fn empty_object() -> Value {
    Value::Object(serde_json::Map::new())
}

impl Node {
    /// Its child lists with their path segments (`children`,
    /// `slots/body`).
    pub fn child_lists(&self) -> impl Iterator<Item = (String, &[Node])> {
        std::iter::once(("children".to_owned(), self.children.as_slice())).chain(
            self.slots
                .iter()
                .map(|(name, nodes)| (format!("slots/{name}"), nodes.as_slice())),
        )
    }
}

impl Page {
    /// Every node with its path (`/nodes/0/slots/body/1`), depth first.
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
                for (segment, children) in node.child_lists() {
                    visit(children, &format!("{path}/{segment}"), depth + 1, out);
                }
            }
        }
        let mut out = Vec::new();
        visit(&self.nodes, "/nodes", 1, &mut out);
        out
    }

    /// The node with id `id`.
    pub fn node(&self, id: &str) -> Option<&Node> {
        self.walk()
            .into_iter()
            .find(|(_, node, _)| node.id.as_deref() == Some(id))
            .map(|(_, node, _)| node)
    }
}

/// Page ids: 1-64 characters of lowercase letters, digits and `-`.
pub fn valid_page_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}
