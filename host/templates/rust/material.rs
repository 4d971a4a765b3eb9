//! {{name}}: a Hangar material. Renders a notice with a title and a text.
//! A material must be a pure function of its props.

use serde::Deserialize;

wit_bindgen::generate!({ path: "wit", world: "material" });


#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Props {
    title: String,
    text: String,
}

impl Default for Props {
    fn default() -> Self {
        Self { title: "Notice".into(), text: "Hello".into() }
    }
}

/// Text as HTML.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

struct Plugin;

impl Guest for Plugin {
    fn describe() -> MaterialInfo {
        MaterialInfo {
            name: "{{name}}".into(),
            title: "{{name}}".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            category: "display".into(),
            props_schema: r#"{"type":"object","properties":{"title":{"type":"string","maxLength":200},"text":{"type":"string","maxLength":2000}},"additionalProperties":false}"#.into(),
            default_props: r#"{"title":"Notice","text":"Hello"}"#.into(),
        }
    }

    fn structure() -> MaterialStructure {
        // A leaf: no slots for children, no events.
        MaterialStructure {
            role: hangar::plugin::types::MaterialRole::Content,
            slots: Vec::new(),
            events: Vec::new(),
        }
    }

    fn render(props_json: String) -> Result<String, String> {
        let props: Props = serde_json::from_str(&props_json).map_err(|err| err.to_string())?;
        Ok(format!("<section><h3>{}</h3><p>{}</p></section>", escape(&props.title), escape(&props.text)))
    }
}

export!(Plugin);
