//! Material `text`: a heading or a paragraph.

use hangar_sdk::material::{escape, info, props};
use hangar_sdk::{Material, MaterialInfo};
use serde::Deserialize;
use serde_json::json;

/// Render props; the schema in `describe` is their contract.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Props {
    /// The text.
    pub text: String,
    /// `p`, `h1`, `h2` or `h3`.
    #[serde(default = "default_level")]
    pub level: String,
    /// `left`, `center` or `right`.
    #[serde(default = "default_align")]
    pub align: String,
    /// CSS colour, `#rrggbb`.
    #[serde(default = "default_color")]
    pub color: String,
}

fn default_level() -> String {
    "p".into()
}
fn default_align() -> String {
    "left".into()
}
fn default_color() -> String {
    "#1f2328".into()
}

/// Renders props into HTML.
pub fn render(p: &Props) -> Result<String, String> {
    let tag = match p.level.as_str() {
        tag @ ("p" | "h1" | "h2" | "h3") => tag,
        other => return Err(format!("level must be p, h1, h2 or h3, not {other:?}")),
    };
    let align = match p.align.as_str() {
        a @ ("left" | "center" | "right") => a,
        other => {
            return Err(format!(
                "align must be left, center or right, not {other:?}"
            ));
        }
    };
    Ok(format!(
        r#"<{tag} class="hm-text" style="text-align:{align};color:{color}">{text}</{tag}>"#,
        color = escape(&p.color),
        text = escape(&p.text),
    ))
}

struct Text;

impl Material for Text {
    fn describe() -> MaterialInfo {
        info(
            "text",
            "Text",
            env!("CARGO_PKG_VERSION"),
            "basic",
            &json!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "type": "object",
                "required": ["text"],
                "additionalProperties": false,
                "properties": {
                    "text": {"type": "string", "title": "Text", "maxLength": 2000, "default": "Hello"},
                    "level": {"type": "string", "title": "Level", "enum": ["p", "h1", "h2", "h3"], "default": "p"},
                    "align": {"type": "string", "title": "Alignment", "enum": ["left", "center", "right"], "default": "left"},
                    "color": {"type": "string", "title": "Colour", "format": "color", "pattern": "^#[0-9a-fA-F]{6}$", "default": "#1f2328"}
                }
            }),
            &json!({"text": "Hello", "level": "p", "align": "left", "color": "#1f2328"}),
        )
    }

    fn render(props_json: String) -> Result<String, String> {
        render(&props(&props_json)?)
    }
}

hangar_sdk::material!(Text);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_escaped_heading() {
        let p: Props = props(r#"{"text": "<b>Hi</b>", "level": "h1"}"#).unwrap();
        let html = render(&p).unwrap();
        assert!(html.starts_with("<h1 class=\"hm-text\""), "{html}");
        assert!(html.contains("&lt;b&gt;Hi&lt;/b&gt;"), "{html}");
    }

    #[test]
    fn refuses_unknown_level() {
        let p: Props = props(r#"{"text": "x", "level": "script"}"#).unwrap();
        assert!(render(&p).is_err());
    }
}
