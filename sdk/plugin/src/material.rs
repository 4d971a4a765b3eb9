//! Helpers for UI materials: describing props and writing safe HTML.
//!
//! The host sanitises every fragment a material returns, but a material
//! should still escape what it interpolates so that props render as text,
//! and check the URLs it puts in the page with [`link_allowed`] and
//! [`image_allowed`] (the host's own rules: a URL they refuse is stripped
//! from the HTML, so refusing the prop tells the designer why).

pub use hangar_policy::{image_allowed, link_allowed};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::{EventInfo, MaterialInfo, MaterialRole, MaterialStructure, SlotInfo};

/// Builds a [`MaterialInfo`] from JSON values.
pub fn info(
    name: &str,
    title: &str,
    version: &str,
    category: &str,
    props_schema: &Value,
    default_props: &Value,
) -> MaterialInfo {
    MaterialInfo {
        name: name.to_owned(),
        title: title.to_owned(),
        version: version.to_owned(),
        category: category.to_owned(),
        props_schema: props_schema.to_string(),
        default_props: default_props.to_string(),
    }
}

/// The structure of a leaf: content with no slots and no events.
pub fn leaf() -> MaterialStructure {
    MaterialStructure {
        role: MaterialRole::Content,
        slots: Vec::new(),
        events: Vec::new(),
    }
}

/// A slot: `accepts` lists the material names or categories a child here
/// may have (empty for any).
pub fn slot(name: &str, title: &str, accepts: &[&str]) -> SlotInfo {
    SlotInfo {
        name: name.to_owned(),
        title: title.to_owned(),
        accepts: accepts.iter().map(|a| (*a).to_owned()).collect(),
    }
}

/// An event the material's element emits.
pub fn event(name: &str, title: &str) -> EventInfo {
    EventInfo {
        name: name.to_owned(),
        title: title.to_owned(),
    }
}

/// The element that marks slot `name` in a material's HTML; the host puts
/// the slot's children inside it.
pub fn slot_marker(name: &str) -> String {
    format!(r#"<div data-hangar-slot="{}"></div>"#, escape(name))
}

/// Parses render props into `T`, with an error message a designer can read.
///
/// # Errors
/// When the JSON does not match `T`.
pub fn props<T: DeserializeOwned>(props_json: &str) -> Result<T, String> {
    serde_json::from_str(props_json).map_err(|err| format!("invalid props: {err}"))
}

/// Escapes text for use between HTML tags or inside a quoted attribute
/// value (`&`, `<`, `>`, `"` and `'` become entities).
pub fn escape(text: &str) -> String {
    html_escape::encode_quoted_attribute(text).into_owned()
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escapes_markup_and_quotes() {
        let escaped = escape(r#"<a href="x">'&'</a>"#);
        assert!(!escaped.contains(['<', '>', '"', '\'']));
        assert!(escaped.starts_with("&lt;a href="));
    }
}
