//! Material `card`: a titled box with a short body, an optional image, an
//! accent, and a `body` slot for other materials (a form, text, buttons).

use hangar_sdk::material::{escape, info, props, slot, slot_marker};
use hangar_sdk::{Material, MaterialInfo, MaterialRole, MaterialStructure};
use serde::Deserialize;
use serde_json::json;

/// Render props; the schema in `describe` is their contract.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Props {
    /// Card title.
    pub title: String,
    /// Body text.
    #[serde(default)]
    pub body: String,
    /// Image shown above the title (a path on this server), or empty.
    #[serde(default)]
    pub image: String,
    /// Whether the card has a coloured top edge.
    #[serde(default)]
    pub accent: bool,
}

fn safe_url(url: &str) -> Result<&str, String> {
    if url.is_empty() || hangar_sdk::material::image_allowed(url) {
        Ok(url)
    } else {
        Err(format!(
            "image must be a path on this server (e.g. /files/ID), not {url:?}"
        ))
    }
}

/// Renders props into HTML.
pub fn render(p: &Props) -> Result<String, String> {
    let image = match safe_url(&p.image)? {
        "" => String::new(),
        url => format!(r#"<img src="{}" alt="" loading="lazy">"#, escape(url)),
    };
    let body = if p.body.is_empty() {
        String::new()
    } else {
        format!("<p>{}</p>", escape(&p.body))
    };
    let accent = if p.accent { " hm-card-accent" } else { "" };
    Ok(format!(
        r#"<article class="hm-card{accent}">{image}<h3>{}</h3>{body}{}</article>"#,
        escape(&p.title),
        slot_marker("body")
    ))
}

struct Card;

impl Material for Card {
    fn describe() -> MaterialInfo {
        info(
            "card",
            "Card",
            env!("CARGO_PKG_VERSION"),
            "layout",
            &json!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "type": "object",
                "required": ["title"],
                "additionalProperties": false,
                "properties": {
                    "title": {"type": "string", "title": "Title", "minLength": 1, "maxLength": 120, "default": "Card title"},
                    "body": {"type": "string", "title": "Body", "maxLength": 2000, "default": "A short description."},
                    "image": {"type": "string", "title": "Image URL", "maxLength": 2000, "default": ""},
                    "accent": {"type": "boolean", "title": "Accent", "default": false}
                }
            }),
            &json!({"title": "Card title", "body": "A short description.", "image": "", "accent": false}),
        )
    }

    fn render(props_json: String) -> Result<String, String> {
        render(&props(&props_json)?)
    }

    fn structure() -> MaterialStructure {
        MaterialStructure {
            role: MaterialRole::Content,
            slots: vec![slot("body", "Body", &[])],
            events: Vec::new(),
        }
    }
}

hangar_sdk::material!(Card);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_escaped_title_and_body() {
        let p: Props =
            props(r#"{"title": "<b>Plans</b>", "body": "Pick one", "accent": true}"#).unwrap();
        let html = render(&p).unwrap();
        assert!(
            html.contains("&lt;b&gt;Plans") && html.contains("hm-card-accent"),
            "{html}"
        );
    }

    #[test]
    fn refuses_script_urls() {
        let p: Props = props(r#"{"title": "x", "image": "javascript:alert(1)"}"#).unwrap();
        assert!(render(&p).is_err());
    }
}
