//! The WebSocket protocol (version 1). The types live in
//! `hangar_client::protocol`, shared with clients; `docs/protocol.md`
//! documents them.

pub use hangar_client::protocol::*;

#[cfg(test)]
mod docs {
    use super::*;

    /// `docs/protocol.md` names every frame type, error code and close code.
    #[test]
    fn protocol_doc_covers_every_frame_and_code() {
        let doc =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/protocol.md"))
                .unwrap();
        for name in CLIENT_FRAME_TYPES
            .iter()
            .chain(SERVER_FRAME_TYPES)
            .chain(ERROR_CODES)
        {
            assert!(
                doc.contains(&format!("| `{name}` |")),
                "docs/protocol.md does not document `{name}`"
            );
        }
        for code in CLOSE_CODES {
            assert!(
                doc.contains(&format!("| `{code}` |")),
                "docs/protocol.md does not document close code {code}"
            );
        }
    }

    /// The lists above name exactly the variants serde produces.
    #[test]
    fn frame_type_lists_match_the_enums() {
        let server = [
            ServerFrame::Pong { id: None },
            ServerFrame::Left {
                room: "r".parse().unwrap(),
            },
            ServerFrame::Reset {
                room: "r".parse().unwrap(),
                epoch: 1,
            },
            ServerFrame::error(ErrorCode::Internal, "x", None),
            ServerFrame::History {
                room: "r".parse().unwrap(),
                messages: vec![],
                more: false,
            },
        ];
        for frame in server {
            let json: serde_json::Value = serde_json::from_str(&frame.to_json()).unwrap();
            let kind = json["type"].as_str().unwrap().to_owned();
            assert!(SERVER_FRAME_TYPES.contains(&kind.as_str()), "{kind}");
        }
        for (text, kind) in [
            (r#"{"type":"join","room":"r"}"#, "join"),
            (r#"{"type":"leave","room":"r"}"#, "leave"),
            (
                r#"{"type":"send","room":"r","client_id":"c","text":"t"}"#,
                "send",
            ),
            (r#"{"type":"read","room":"r","seq":1}"#, "read"),
            (r#"{"type":"ping"}"#, "ping"),
            (r#"{"type":"history","room":"r"}"#, "history"),
        ] {
            assert!(serde_json::from_str::<ClientFrame>(text).is_ok(), "{text}");
            assert!(CLIENT_FRAME_TYPES.contains(&kind));
        }
        assert_eq!(CLIENT_FRAME_TYPES.len(), 6);
    }
}
