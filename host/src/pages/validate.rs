//! What a page must satisfy to be saved: at most [`MAX_NODES`] nodes and
//! [`MAX_DEPTH`] levels; every node's material version exists and is a
//! material; its props match that version's schema; children go only into
//! slots the material declares, of materials the slot accepts; events are
//! ones the material emits, bound to well-formed actions; node ids are
//! well-formed and unique; a form or a node with events has an id; forms
//! do not nest, `submit-form` is bound only inside a form, and the fields
//! of one form have distinct names.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use axum::http::StatusCode;
use serde_json::json;

use super::{Action, MAX_DEPTH, MAX_NODES, Node, Page};
use crate::error::ApiError;
use crate::materials::structure::{Role, valid_name};
use crate::materials::{Loaded, MaterialError, Materials};

/// Longest URL, message or variable value of an action.
const MAX_ACTION_TEXT: usize = 2000;

fn invalid(path: &str, message: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-page",
        format!("{path}: {message}"),
    )
    .with_details(json!({ "path": path }))
}

/// Whether `name` may name a page variable.
pub fn valid_variable(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && name.len() <= 32
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn check_action(path: &str, action: &Action, in_form: bool) -> Result<(), ApiError> {
    let long = |what: &str, text: &str| {
        (text.len() > MAX_ACTION_TEXT)
            .then(|| invalid(path, format!("{what} longer than {MAX_ACTION_TEXT} bytes")))
    };
    match action {
        Action::Navigate { url } => {
            if let Some(err) = long("url", url) {
                return Err(err);
            }
            if url.trim().is_empty() || !hangar_policy::link_allowed(url) {
                return Err(invalid(
                    path,
                    format!("navigate: {url:?} is not an http(s), mailto or relative URL"),
                ));
            }
        }
        Action::SubmitForm if !in_form => {
            return Err(invalid(path, "submit-form is bound outside any form"));
        }
        Action::SubmitForm => {}
        Action::ShowMessage { text } => {
            if let Some(err) = long("text", text) {
                return Err(err);
            }
        }
        Action::SetVariable { name, value } => {
            if !valid_variable(name) {
                return Err(invalid(
                    path,
                    format!("variable name {name:?} is malformed"),
                ));
            }
            if let Some(err) = long("value", value) {
                return Err(err);
            }
        }
    }
    Ok(())
}

struct Checker<'a> {
    materials: &'a Materials,
    loaded: HashMap<(String, String), Arc<Loaded>>,
    ids: HashSet<String>,
    count: usize,
}

impl Checker<'_> {
    async fn load(&mut self, path: &str, node: &Node) -> Result<Arc<Loaded>, ApiError> {
        let key = (node.material.clone(), node.version.clone());
        if let Some(loaded) = self.loaded.get(&key) {
            return Ok(loaded.clone());
        }
        let loaded = self
            .materials
            .load_pinned(&node.material, &node.version)
            .await
            .map_err(|e| invalid(path, e))?;
        self.loaded.insert(key, loaded.clone());
        Ok(loaded)
    }

    /// Checks `nodes` at `prefix`; `form` holds the field names of the
    /// enclosing form, if any.
    async fn nodes(
        &mut self,
        nodes: &[Node],
        prefix: &str,
        depth: usize,
        mut form: Option<&mut HashSet<String>>,
        slot: Option<&crate::materials::structure::Slot>,
    ) -> Result<(), ApiError> {
        for (i, node) in nodes.iter().enumerate() {
            let path = format!("{prefix}/{i}");
            self.count += 1;
            if self.count > MAX_NODES {
                return Err(invalid("/nodes", format!("more than {MAX_NODES} nodes")));
            }
            if depth > MAX_DEPTH {
                return Err(invalid(&path, format!("nested deeper than {MAX_DEPTH}")));
            }
            let loaded = self.load(&path, node).await?;
            if let Err(MaterialError::InvalidProps { errors, .. }) = loaded.validate(&node.props) {
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid-props",
                    format!(
                        "{path}: props do not match {}@{}",
                        node.material, node.version
                    ),
                )
                .with_details(json!({"path": path, "errors": errors})));
            }
            let info = &loaded.info;
            if let Some(slot) = slot
                && !slot.accepts(&info.name, &info.category)
            {
                return Err(invalid(
                    &path,
                    format!(
                        "slot {:?} accepts {}, not {}",
                        slot.name,
                        slot.accepts.join(", "),
                        info.name
                    ),
                ));
            }
            if let Some(id) = &node.id {
                if !valid_name(id) {
                    return Err(invalid(
                        &path,
                        format!("node id {id:?}: use 1-32 lowercase letters, digits and '-'"),
                    ));
                }
                if !self.ids.insert(id.clone()) {
                    return Err(invalid(&path, format!("node id {id:?} is used twice")));
                }
            }
            let role = info.structure.role;
            if node.id.is_none() && (role == Role::Form || !node.events.is_empty()) {
                return Err(invalid(&path, "a form or a node with events needs an id"));
            }
            for (event, action) in &node.events {
                if !info.structure.emits(event) {
                    return Err(invalid(
                        &path,
                        format!("{}@{} emits no event {event:?}", info.name, info.version),
                    ));
                }
                let in_form = form.is_some() || role == Role::Form;
                check_action(&format!("{path}/events/{event}"), action, in_form)?;
            }
            match role {
                Role::Field => {
                    if let Some(names) = form.as_deref_mut() {
                        let name = node.props.get("name").and_then(|n| n.as_str());
                        if let Some(name) = name
                            && !names.insert(name.to_owned())
                        {
                            return Err(invalid(
                                &path,
                                format!("another field of this form is named {name:?}"),
                            ));
                        }
                    }
                }
                Role::Form if form.is_some() => {
                    return Err(invalid(&path, "a form inside a form"));
                }
                Role::Form | Role::Content => {}
            }
            for name in node.slots.keys() {
                if info.structure.slot(name).is_none() {
                    return Err(invalid(
                        &path,
                        format!("{}@{} has no slot {name:?}", info.name, info.version),
                    ));
                }
            }
            let mut own_form = HashSet::new();
            for (segment, children) in node.child_lists() {
                let slot = segment
                    .strip_prefix("slots/")
                    .and_then(|name| info.structure.slot(name));
                let inner = if role == Role::Form {
                    Some(&mut own_form)
                } else {
                    form.as_deref_mut()
                };
                Box::pin(self.nodes(
                    children,
                    &format!("{path}/{segment}"),
                    depth + 1,
                    inner,
                    slot,
                ))
                .await?;
            }
        }
        Ok(())
    }
}

/// Checks `page` (see the module's documentation).
///
/// # Errors
/// `422 invalid-page` naming the node (`path`), or `422 invalid-props`
/// with each failing prop.
pub async fn validate(materials: &Materials, page: &Page) -> Result<(), ApiError> {
    let mut checker = Checker {
        materials,
        loaded: HashMap::new(),
        ids: HashSet::new(),
        count: 0,
    };
    checker.nodes(&page.nodes, "/nodes", 1, None, None).await
}
