//! Test-only chat plugin, version 1 of two: every answer names its version
//! twice (in the rewrite and in the reply) so a test can tell that a call was
//! answered wholly by one version.

use hangar_sdk::{ChatMessage, ChatPlugin, Outcome};

const VERSION: &str = "v1";

struct Swap;

impl ChatPlugin for Swap {
    fn on_message(msg: ChatMessage) -> Outcome {
        Outcome::rewrite(format!("{VERSION}:{}", msg.text)).with_reply(VERSION)
    }
}

hangar_sdk::chat_plugin!(Swap);
