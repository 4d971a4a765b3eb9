//! Test-only material that misbehaves on request: by default it emits
//! script, event handlers and a `javascript:` link (the host must sanitise
//! them away); `{"mode": "trap"}` traps, `{"mode": "loop"}` never returns,
//! `{"mode": "error"}` returns an error, `{"mode": "sleep"}` sleeps 3 s
//! before answering, `{"mode": "huge", "n": N}` answers N bytes,
//! `{"mode": "nest", "n": N}` answers N unclosed `<div>`s, `{"mode":
//! "kv"}` writes to its key-value store.

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
                "properties": {
                    "mode": {"type": "string", "enum": ["script", "trap", "loop", "error", "sleep", "huge", "nest", "kv"], "default": "script"},
                    "n": {"type": "integer", "minimum": 0, "maximum": 100000000}
                },
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
            "sleep" => {
                std::thread::sleep(std::time::Duration::from_secs(3));
                Ok("<p>slept</p>".into())
            }
            "huge" => Ok("x".repeat(n(&props))),
            "nest" => Ok("<div>".repeat(n(&props))),
            "kv" => match hangar_sdk::kv::set("evil", b"was here") {
                Ok(()) => Ok("<p>wrote</p>".into()),
                Err(err) => Err(err.to_string()),
            },
            _ => Ok(r#"<div class="evil" onclick="steal()">hi<script>alert(document.cookie)</script><a href="javascript:alert(1)">x</a><img src="/x.png" onerror="boom()"></div>"#.into()),
        }
    }
}

fn n(props: &Value) -> usize {
    props["n"].as_u64().unwrap_or(0) as usize
}

hangar_sdk::material!(Evil);
