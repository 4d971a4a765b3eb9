//! Material `button`: a link styled as a button; emits `click`, which a
//! page binds to an action (navigate, submit the enclosing form, ...).

use hangar_sdk::material::{escape, event, info, props};
use hangar_sdk::{Material, MaterialInfo, MaterialRole, MaterialStructure};
use serde::Deserialize;
use serde_json::json;

/// Render props; the schema in `describe` is their contract.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Props {
    /// Button label.
    pub label: String,
    /// Where the button leads (http, https, mailto or a relative path).
    #[serde(default)]
    pub href: String,
    /// `primary`, `secondary` or `danger`.
    #[serde(default = "default_variant")]
    pub variant: String,
    /// `small`, `medium` or `large`.
    #[serde(default = "default_size")]
    pub size: String,
    /// Whether the button is shown disabled.
    #[serde(default)]
    pub disabled: bool,
}

fn default_variant() -> String {
    "primary".into()
}
fn default_size() -> String {
    "medium".into()
}

fn safe_href(href: &str) -> Result<&str, String> {
    if href.is_empty() || hangar_sdk::material::link_allowed(href) {
        Ok(href)
    } else {
        Err(format!(
            "href must be http(s), mailto or a relative path, not {href:?}"
        ))
    }
}

/// Renders props into HTML.
pub fn render(p: &Props) -> Result<String, String> {
    let variant = match p.variant.as_str() {
        v @ ("primary" | "secondary" | "danger") => v,
        other => {
            return Err(format!(
                "variant must be primary, secondary or danger, not {other:?}"
            ));
        }
    };
    let size = match p.size.as_str() {
        s @ ("small" | "medium" | "large") => s,
        other => {
            return Err(format!(
                "size must be small, medium or large, not {other:?}"
            ));
        }
    };
    let href = safe_href(&p.href)?;
    let disabled = if p.disabled {
        r#" aria-disabled="true""#
    } else {
        ""
    };
    Ok(format!(
        r#"<a class="hm-button hm-button-{variant} hm-button-{size}" role="button" href="{href}"{disabled}>{label}</a>"#,
        href = escape(if href.is_empty() { "#" } else { href }),
        label = escape(&p.label),
    ))
}

struct Button;

impl Material for Button {
    fn describe() -> MaterialInfo {
        info(
            "button",
            "Button",
            env!("CARGO_PKG_VERSION"),
            "basic",
            &json!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "type": "object",
                "required": ["label"],
                "additionalProperties": false,
                "properties": {
                    "label": {"type": "string", "title": "Label", "minLength": 1, "maxLength": 80, "default": "Click me"},
                    "href": {"type": "string", "title": "Link", "maxLength": 2000, "default": ""},
                    "variant": {"type": "string", "title": "Style", "enum": ["primary", "secondary", "danger"], "default": "primary"},
                    "size": {"type": "string", "title": "Size", "enum": ["small", "medium", "large"], "default": "medium"},
                    "disabled": {"type": "boolean", "title": "Disabled", "default": false}
                }
            }),
            &json!({"label": "Click me", "href": "", "variant": "primary", "size": "medium", "disabled": false}),
        )
    }

    fn render(props_json: String) -> Result<String, String> {
        render(&props(&props_json)?)
    }

    fn structure() -> MaterialStructure {
        MaterialStructure {
            role: MaterialRole::Content,
            slots: Vec::new(),
            events: vec![event("click", "Click")],
        }
    }
}

hangar_sdk::material!(Button);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_label_and_variant() {
        let p: Props = props(r#"{"label": "Buy", "variant": "danger", "href": "/cart"}"#).unwrap();
        let html = render(&p).unwrap();
        assert!(
            html.contains("hm-button-danger") && html.contains(">Buy</a>"),
            "{html}"
        );
    }

    #[test]
    fn refuses_javascript_links() {
        let p: Props = props(r#"{"label": "x", "href": " JavaScript:alert(1)"}"#).unwrap();
        assert!(render(&p).is_err());
    }
}
