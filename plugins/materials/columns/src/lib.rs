//! Material `columns`: a two-column layout with `left` and `right` slots
//! (stacked on narrow screens).

use hangar_sdk::material::{info, props, slot, slot_marker};
use hangar_sdk::{Material, MaterialInfo, MaterialRole, MaterialStructure};
use serde::Deserialize;
use serde_json::json;

/// Render props; the schema in `describe` is their contract.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Props {
    /// Widths of the columns: `1:1`, `1:2` or `2:1`.
    #[serde(default = "default_ratio")]
    pub ratio: String,
    /// Space between the columns: `small`, `medium` or `large`.
    #[serde(default = "default_gap")]
    pub gap: String,
}

fn default_ratio() -> String {
    "1:1".into()
}
fn default_gap() -> String {
    "medium".into()
}

/// Renders props into HTML.
pub fn render(p: &Props) -> Result<String, String> {
    let ratio = match p.ratio.as_str() {
        "1:1" => "even",
        "1:2" => "wide-right",
        "2:1" => "wide-left",
        other => return Err(format!("ratio must be 1:1, 1:2 or 2:1, not {other:?}")),
    };
    let gap = match p.gap.as_str() {
        g @ ("small" | "medium" | "large") => g,
        other => return Err(format!("gap must be small, medium or large, not {other:?}")),
    };
    Ok(format!(
        r#"<div class="hm-columns hm-columns-{ratio} hm-gap-{gap}">{}{}</div>"#,
        slot_marker("left"),
        slot_marker("right")
    ))
}

struct Columns;

impl Material for Columns {
    fn describe() -> MaterialInfo {
        info(
            "columns",
            "Columns",
            env!("CARGO_PKG_VERSION"),
            "layout",
            &json!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "ratio": {"type": "string", "title": "Widths", "enum": ["1:1", "1:2", "2:1"], "default": "1:1"},
                    "gap": {"type": "string", "title": "Gap", "enum": ["small", "medium", "large"], "default": "medium"}
                }
            }),
            &json!({"ratio": "1:1", "gap": "medium"}),
        )
    }

    fn render(props_json: String) -> Result<String, String> {
        render(&props(&props_json)?)
    }

    fn structure() -> MaterialStructure {
        MaterialStructure {
            role: MaterialRole::Content,
            slots: vec![slot("left", "Left", &[]), slot("right", "Right", &[])],
            events: Vec::new(),
        }
    }
}

hangar_sdk::material!(Columns);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_both_slots() {
        let html = render(&props(r#"{"ratio": "1:2"}"#).unwrap()).unwrap();
        assert!(
            html.contains(r#"data-hangar-slot="left""#)
                && html.contains(r#"data-hangar-slot="right""#)
                && html.contains("hm-columns-wide-right"),
            "{html}"
        );
    }

    #[test]
    fn refuses_unknown_ratios() {
        assert!(render(&props(r#"{"ratio": "3:1"}"#).unwrap()).is_err());
    }
}
