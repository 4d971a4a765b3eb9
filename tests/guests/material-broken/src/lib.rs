//! Test-only material whose description is unusable: its props schema is
//! not JSON, so every load of it fails. The host must remember the failure
//! and retry with backoff, not fetch and compile it on every listing.

use hangar_sdk::{Material, MaterialInfo};

struct Broken;

impl Material for Broken {
    fn describe() -> MaterialInfo {
        MaterialInfo {
            name: "broken".into(),
            title: "Broken".into(),
            version: "0.1.0".into(),
            category: "test".into(),
            props_schema: "{not json".into(),
            default_props: "{}".into(),
        }
    }

    fn render(_props_json: String) -> Result<String, String> {
        Ok("<p>never reached</p>".into())
    }
}

hangar_sdk::material!(Broken);
