//! Material `form`: a form whose `fields` slot holds form fields (and any
//! other material). Its role is `form`: on a published page, submitting it
//! sends the values of the fields inside it to the server, which validates
//! them against those fields and stores them. Emits `submit` once the
//! server accepted a submission.

use hangar_sdk::material::{escape, event, info, props, slot, slot_marker};
use hangar_sdk::{Material, MaterialInfo, MaterialRole, MaterialStructure};
use serde::Deserialize;
use serde_json::json;

/// Render props; the schema in `describe` is their contract.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Props {
    /// Heading above the fields, or empty.
    #[serde(default)]
    pub title: String,
    /// Label of the form's own submit button; empty for none (a button
    /// bound to "submit the enclosing form" may submit it).
    #[serde(default = "default_submit")]
    pub submit_label: String,
}

fn default_submit() -> String {
    "Send".into()
}

/// Renders props into HTML.
pub fn render(p: &Props) -> Result<String, String> {
    let title = if p.title.is_empty() {
        String::new()
    } else {
        format!("<h3>{}</h3>", escape(&p.title))
    };
    let submit = if p.submit_label.is_empty() {
        String::new()
    } else {
        format!(
            r#"<button type="submit" class="hm-button hm-button-primary hm-button-medium">{}</button>"#,
            escape(&p.submit_label)
        )
    };
    Ok(format!(
        r#"<form class="hm-form">{title}{}{submit}</form>"#,
        slot_marker("fields")
    ))
}

struct Form;

impl Material for Form {
    fn describe() -> MaterialInfo {
        info(
            "form",
            "Form",
            env!("CARGO_PKG_VERSION"),
            "form",
            &json!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "title": {"type": "string", "title": "Title", "maxLength": 120, "default": ""},
                    "submit_label": {"type": "string", "title": "Submit button", "maxLength": 60, "default": "Send"}
                }
            }),
            &json!({"title": "", "submit_label": "Send"}),
        )
    }

    fn render(props_json: String) -> Result<String, String> {
        render(&props(&props_json)?)
    }

    fn structure() -> MaterialStructure {
        MaterialStructure {
            role: MaterialRole::Form,
            slots: vec![slot("fields", "Fields", &[])],
            events: vec![event("submit", "Submitted")],
        }
    }
}

hangar_sdk::material!(Form);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_a_slot_and_an_optional_button() {
        let html = render(&props(r#"{"title": "<Join>"}"#).unwrap()).unwrap();
        assert!(
            html.contains(r#"data-hangar-slot="fields""#)
                && html.contains("&lt;Join&gt;")
                && html.contains(r#"type="submit""#),
            "{html}"
        );
        let bare = render(&props(r#"{"submit_label": ""}"#).unwrap()).unwrap();
        assert!(!bare.contains("button"), "{bare}");
    }
}
