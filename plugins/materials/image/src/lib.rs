//! Material `image`: an image with alternative text and an optional caption.

use hangar_sdk::material::{escape, info, props};
use hangar_sdk::{Material, MaterialInfo};
use serde::Deserialize;
use serde_json::json;

/// Render props; the schema in `describe` is their contract.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Props {
    /// Image URL: a path on this server (e.g. `/files/ID`).
    pub src: String,
    /// Alternative text, read by screen readers.
    pub alt: String,
    /// Caption under the image.
    #[serde(default)]
    pub caption: String,
    /// Width in CSS pixels; 0 means the natural width.
    #[serde(default)]
    pub width: u32,
    /// `cover`, `contain` or `fill`.
    #[serde(default = "default_fit")]
    pub fit: String,
}

fn default_fit() -> String {
    "cover".into()
}

/// Renders props into HTML.
pub fn render(p: &Props) -> Result<String, String> {
    let src = p.src.trim();
    if !hangar_sdk::material::image_allowed(src) {
        return Err(format!(
            "src must be a path on this server (e.g. /files/ID), not {src:?}"
        ));
    }
    let fit = match p.fit.as_str() {
        f @ ("cover" | "contain" | "fill") => f,
        other => return Err(format!("fit must be cover, contain or fill, not {other:?}")),
    };
    if p.width > 4096 {
        return Err(format!("width must be at most 4096, not {}", p.width));
    }
    let width = if p.width > 0 {
        format!(r#" width="{}""#, p.width)
    } else {
        String::new()
    };
    let caption = if p.caption.is_empty() {
        String::new()
    } else {
        format!("<figcaption>{}</figcaption>", escape(&p.caption))
    };
    Ok(format!(
        r#"<figure class="hm-image"><img src="{src}" alt="{alt}"{width} style="object-fit:{fit}" loading="lazy">{caption}</figure>"#,
        src = escape(src),
        alt = escape(&p.alt),
    ))
}

struct Image;

impl Material for Image {
    fn describe() -> MaterialInfo {
        info(
            "image",
            "Image",
            env!("CARGO_PKG_VERSION"),
            "media",
            &json!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "type": "object",
                "required": ["src", "alt"],
                "additionalProperties": false,
                "properties": {
                    "src": {"type": "string", "title": "Image URL", "minLength": 1, "maxLength": 2000, "default": "/static/placeholder.svg"},
                    "alt": {"type": "string", "title": "Alternative text", "maxLength": 300, "default": "Image"},
                    "caption": {"type": "string", "title": "Caption", "maxLength": 300, "default": ""},
                    "width": {"type": "integer", "title": "Width (px)", "minimum": 0, "maximum": 4096, "default": 0},
                    "fit": {"type": "string", "title": "Fit", "enum": ["cover", "contain", "fill"], "default": "cover"}
                }
            }),
            &json!({"src": "/static/placeholder.svg", "alt": "Image", "caption": "", "width": 0, "fit": "cover"}),
        )
    }

    fn render(props_json: String) -> Result<String, String> {
        render(&props(&props_json)?)
    }
}

hangar_sdk::material!(Image);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_figure_with_caption() {
        let p: Props =
            props(r#"{"src": "/files/y.png", "alt": "A \"cat\"", "caption": "Cat", "width": 200}"#)
                .unwrap();
        let html = render(&p).unwrap();
        assert!(
            html.contains(r#"width="200""#) && html.contains("<figcaption>Cat</figcaption>"),
            "{html}"
        );
        assert!(html.contains("A &quot;cat&quot;"), "{html}");
    }

    #[test]
    fn refuses_data_and_script_urls() {
        for src in ["javascript:alert(1)", "data:text/html,x"] {
            let p: Props = props(&format!(r#"{{"src": "{src}", "alt": ""}}"#)).unwrap();
            assert!(render(&p).is_err(), "{src}");
        }
    }
}
