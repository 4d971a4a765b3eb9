//! Material `form-input`: a labelled form field (text, email, number,
//! telephone or a multi-line text area) with a hint. Its role is `field`:
//! the host validates what a form submits for it by its `name`, `required`
//! and `kind`.

use hangar_sdk::material::{escape, info, props};
use hangar_sdk::{Material, MaterialInfo, MaterialRole, MaterialStructure};
use serde::Deserialize;
use serde_json::json;

/// Render props; the schema in `describe` is their contract.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Props {
    /// Label shown above the field.
    pub label: String,
    /// Field name submitted with the form.
    pub name: String,
    /// `text`, `email`, `number`, `tel` or `textarea`.
    #[serde(default = "default_kind")]
    pub kind: String,
    /// Placeholder text.
    #[serde(default)]
    pub placeholder: String,
    /// Hint under the field.
    #[serde(default)]
    pub hint: String,
    /// Whether the field must be filled.
    #[serde(default)]
    pub required: bool,
}

fn default_kind() -> String {
    "text".into()
}

/// Renders props into HTML.
pub fn render(p: &Props) -> Result<String, String> {
    if !p
        .name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        || p.name.is_empty()
    {
        return Err(format!(
            "name must be letters, digits, '_' or '-', not {:?}",
            p.name
        ));
    }
    let required = if p.required { " required" } else { "" };
    let id = format!("field-{}", p.name);
    let placeholder = escape(&p.placeholder);
    let control = match p.kind.as_str() {
        "textarea" => format!(
            r#"<textarea id="{id}" name="{name}" placeholder="{placeholder}" rows="4"{required}></textarea>"#,
            name = p.name
        ),
        kind @ ("text" | "email" | "number" | "tel") => format!(
            r#"<input id="{id}" type="{kind}" name="{name}" placeholder="{placeholder}"{required}>"#,
            name = p.name
        ),
        other => {
            return Err(format!(
                "kind must be text, email, number, tel or textarea, not {other:?}"
            ));
        }
    };
    let mark = if p.required { " *" } else { "" };
    let hint = if p.hint.is_empty() {
        String::new()
    } else {
        format!("<small>{}</small>", escape(&p.hint))
    };
    Ok(format!(
        r#"<div class="hm-field"><label for="{id}">{}{mark}</label>{control}{hint}</div>"#,
        escape(&p.label)
    ))
}

struct FormInput;

impl Material for FormInput {
    fn describe() -> MaterialInfo {
        info(
            "form-input",
            "Form field",
            env!("CARGO_PKG_VERSION"),
            "form",
            &json!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "type": "object",
                "required": ["label", "name"],
                "additionalProperties": false,
                "properties": {
                    "label": {"type": "string", "title": "Label", "minLength": 1, "maxLength": 120, "default": "Email"},
                    "name": {"type": "string", "title": "Field name", "pattern": "^[A-Za-z0-9_-]{1,64}$", "default": "email"},
                    "kind": {"type": "string", "title": "Kind", "enum": ["text", "email", "number", "tel", "textarea"], "default": "email"},
                    "placeholder": {"type": "string", "title": "Placeholder", "maxLength": 200, "default": "you@example.com"},
                    "hint": {"type": "string", "title": "Hint", "maxLength": 300, "default": ""},
                    "required": {"type": "boolean", "title": "Required", "default": false}
                }
            }),
            &json!({"label": "Email", "name": "email", "kind": "email", "placeholder": "you@example.com", "hint": "", "required": false}),
        )
    }

    fn render(props_json: String) -> Result<String, String> {
        render(&props(&props_json)?)
    }

    fn structure() -> MaterialStructure {
        MaterialStructure {
            role: MaterialRole::Field,
            slots: Vec::new(),
            events: Vec::new(),
        }
    }
}

hangar_sdk::material!(FormInput);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_a_required_email_field() {
        let p: Props =
            props(r#"{"label": "Email", "name": "email", "kind": "email", "required": true}"#)
                .unwrap();
        let html = render(&p).unwrap();
        assert!(
            html.contains(r#"type="email""#)
                && html.contains(" required")
                && html.contains("Email *"),
            "{html}"
        );
    }

    #[test]
    fn refuses_odd_names_and_kinds() {
        assert!(render(&props::<Props>(r#"{"label": "x", "name": "a b"}"#).unwrap()).is_err());
        assert!(
            render(&props::<Props>(r#"{"label": "x", "name": "a", "kind": "password"}"#).unwrap())
                .is_err()
        );
    }
}
