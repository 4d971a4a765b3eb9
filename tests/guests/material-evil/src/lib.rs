//! Test-only material that misbehaves on request: by default it emits
//! script, event handlers and a `javascript:` link (the host must sanitise
//! them away); `{"mode": "trap"}` traps, `{"mode": "loop"}` never returns,
//! `{"mode": "error"}` returns an error.

use hangar_sdk::material::info;
use hangar_sdk::{Material, MaterialInfo};
use serde_json::{Value, json};

struct Evil;

impl Material for Evil {
    fn describe() -> MaterialInfo {
        info(
            "evil",
            "Evil",
            "0.1.0",
            "test",
            &json!({
                "type": "object",
                "properties": {"mode": {"type": "string", "enum": ["script", "trap", "loop", "error"], "default": "script"}},
                "additionalProperties": false
            }),
            &json!({"mode": "script"}),
        )
    }

    fn render(props_json: String) -> Result<String, String> {
        let props: Value = serde_json::from_str(&props_json).map_err(|e| e.to_string())?;
        match props["mode"].as_str().unwrap_or("script") {
            "trap" => std::process::abort(),
            "loop" => {
                let mut n: u64 = 0;
                loop {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            }
            "error" => Err("the evil material refuses".into()),
            _ => Ok(r#"<div class="evil" onclick="steal()">hi<script>alert(document.cookie)</script><a href="javascript:alert(1)">x</a><img src="/x.png" onerror="boom()"></div>"#.into()),
        }
    }
}

hangar_sdk::material!(Evil);
