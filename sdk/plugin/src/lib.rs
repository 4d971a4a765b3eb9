//! # hangar-sdk: write Hangar plugins in Rust
//!
//! A Hangar plugin is a WebAssembly component built for `wasm32-wasip2` that
//! exports one of three worlds of the `hangar:plugin@0.2.0` contract:
//!
//! | world | you implement | the host calls it |
//! |---|---|---|
//! | `chat-plugin` | [`ChatPlugin`] | on every chat message, before it is stored |
//! | `upload-hook` | [`UploadHook`] | on every file, when its upload completes |
//! | `material` | [`Material`] | when the low-code designer describes or renders it |
//!
//! You write one trait impl and one macro line ([`chat_plugin!`],
//! [`upload_hook!`] or [`material!`]). The SDK hides the generated bindings,
//! loads your typed configuration ([`config`]), logs through the host
//! ([`log`]) and gives you a small key-value store ([`kv`]).
//!
//! ## What a plugin can and cannot do
//!
//! A plugin sees only what the host hands it: the message or file, its own
//! JSON configuration (set by the admin), and its key-value store, which has a
//! byte quota. It has no file system, no network and no environment
//! variables. Each call has a deadline and a memory cap; a plugin that traps,
//! loops or runs out of memory is answered by its failure policy
//! (`fail-open` lets the message through, `fail-closed` rejects it) and is
//! quarantined after repeated failures.
//!
//! By default **every call runs in a fresh instance**: global variables,
//! `static`s and heap contents do not survive from one message to the next.
//! Keep state in [`kv`]. An admin may switch a plugin with a heavy start to
//! the `pooled` isolation mode, where a warm instance serves a bounded number
//! of calls (one at a time); memory may then survive between calls, so never
//! rely on it either way.
//!
//! An instance's configuration never changes: when the admin sets a new one,
//! later calls run on new instances. So [`config::cached`] reads and parses
//! it once per instance, which in the `pooled` mode saves the work on every
//! call after the first.
//!
//! ## A complete chat plugin
//!
//! ```no_run
//! use hangar_sdk::{ChatMessage, ChatPlugin, Outcome, Severity};
//! use serde::Deserialize;
//!
//! #[derive(Deserialize, Default)]
//! #[serde(default)]
//! struct Config {
//!     /// Words that make a message be rejected.
//!     banned: Vec<String>,
//! }
//!
//! struct NoBannedWords;
//!
//! impl ChatPlugin for NoBannedWords {
//!     fn on_message(msg: ChatMessage) -> Outcome {
//!         let config: Config = hangar_sdk::config::load_or_default();
//!         let text = msg.text.to_lowercase();
//!         if let Some(word) = config.banned.iter().find(|w| text.contains(w.as_str())) {
//!             hangar_sdk::log::info("rejected a message", &[("word", word)]);
//!             return Outcome::reject("this word is not allowed here");
//!         }
//!         if text.contains("help") {
//!             return Outcome::flag(Severity::Info, "customer asks for help")
//!                 .with_reply("An agent will be with you shortly.");
//!         }
//!         Outcome::allow()
//!     }
//! }
//!
//! hangar_sdk::chat_plugin!(NoBannedWords);
//! ```
//!
//! Build it with `cargo build --release --target wasm32-wasip2` from a crate
//! whose `[lib]` has `crate-type = ["cdylib"]`, then publish the `.wasm` file.

#![warn(missing_docs)]

mod bindings {
    wit_bindgen::generate!({
        world: "imports",
        path: "../../wit",
        generate_all,
    });
}

pub mod config;
pub mod kv;
pub mod log;
pub mod material;
mod verdicts;

pub use bindings::hangar::plugin::types::{
    Alert, Attachment, BotReply, ChatMessage, EventInfo, FileInfo, MaterialInfo, MaterialRole,
    MaterialStructure, Outcome, Severity, SlotInfo, Verdict,
};

/// A chat plugin: moderation, alerts and bot replies on every message.
///
/// Export it with [`chat_plugin!`].
pub trait ChatPlugin {
    /// Decides on one message before it is stored and delivered, and may
    /// reply to it. Returning [`Outcome::allow`] lets it through unchanged.
    fn on_message(msg: ChatMessage) -> Outcome;
}

/// An upload hook: a policy on files as they finish uploading.
///
/// Export it with [`upload_hook!`].
pub trait UploadHook {
    /// Decides on one file; `head` holds its first bytes (at most 4 KiB) for
    /// content sniffing. [`Verdict::Reject`] refuses the file and the upload
    /// store releases its bytes; a rewrite is treated as allow.
    fn on_upload(file: FileInfo, head: Vec<u8>) -> Verdict;
}

/// A UI material for the low-code designer.
///
/// Export it with [`material!`].
pub trait Material {
    /// Names the material and describes its props (a JSON Schema) and their
    /// defaults.
    fn describe() -> MaterialInfo;

    /// Renders props (JSON text, already validated by the host against the
    /// schema) into an HTML fragment. The host sanitises the HTML; scripts
    /// and event handlers never reach a browser. Return `Err` with a reason a
    /// designer can act on.
    fn render(props_json: String) -> Result<String, String>;

    /// Its slots (where the designer may put children: mark each in the
    /// HTML with an empty `<div data-hangar-slot="NAME"></div>`), the
    /// events it emits and its part in forms. The default is a leaf that
    /// emits nothing ([`material::leaf`]).
    fn structure() -> MaterialStructure {
        material::leaf()
    }
}

#[doc(hidden)]
#[allow(clippy::too_many_arguments)] // generated ABI glue
pub mod __export {
    //! Generated export glue; used by the SDK's macros only.
    pub mod chat {
        wit_bindgen::generate!({
            world: "chat-plugin",
            path: "../../wit",
            with: {
                "hangar:plugin/types@0.2.0": crate::bindings::hangar::plugin::types,
                "hangar:plugin/host@0.2.0": crate::bindings::hangar::plugin::host,
            },
            pub_export_macro: true,
            export_macro_name: "export_chat_plugin",
            default_bindings_module: "hangar_sdk::__export::chat",
        });
    }
    pub mod upload {
        wit_bindgen::generate!({
            world: "upload-hook",
            path: "../../wit",
            with: {
                "hangar:plugin/types@0.2.0": crate::bindings::hangar::plugin::types,
                "hangar:plugin/host@0.2.0": crate::bindings::hangar::plugin::host,
            },
            pub_export_macro: true,
            export_macro_name: "export_upload_hook",
            default_bindings_module: "hangar_sdk::__export::upload",
        });
    }
    pub mod material {
        wit_bindgen::generate!({
            world: "material",
            path: "../../wit",
            with: {
                "hangar:plugin/types@0.2.0": crate::bindings::hangar::plugin::types,
                "hangar:plugin/host@0.2.0": crate::bindings::hangar::plugin::host,
            },
            pub_export_macro: true,
            export_macro_name: "export_material",
            default_bindings_module: "hangar_sdk::__export::material",
        });
    }
}

/// Exports a type implementing [`ChatPlugin`] as this component's
/// `chat-plugin` world. Use it once, at the crate root.
#[macro_export]
macro_rules! chat_plugin {
    ($plugin:ty) => {
        const _: () = {
            struct __HangarChatPlugin;
            impl $crate::__export::chat::Guest for __HangarChatPlugin {
                fn on_message(msg: $crate::ChatMessage) -> $crate::Outcome {
                    <$plugin as $crate::ChatPlugin>::on_message(msg)
                }
            }
            $crate::__export::chat::export_chat_plugin!(__HangarChatPlugin with_types_in $crate::__export::chat);
        };
    };
}

/// Exports a type implementing [`UploadHook`] as this component's
/// `upload-hook` world. Use it once, at the crate root.
#[macro_export]
macro_rules! upload_hook {
    ($hook:ty) => {
        const _: () = {
            struct __HangarUploadHook;
            impl $crate::__export::upload::Guest for __HangarUploadHook {
                fn on_upload(file: $crate::FileInfo, head: Vec<u8>) -> $crate::Verdict {
                    <$hook as $crate::UploadHook>::on_upload(file, head)
                }
            }
            $crate::__export::upload::export_upload_hook!(__HangarUploadHook with_types_in $crate::__export::upload);
        };
    };
}

/// Exports a type implementing [`Material`] as this component's `material`
/// world. Use it once, at the crate root.
#[macro_export]
macro_rules! material {
    ($material:ty) => {
        const _: () = {
            struct __HangarMaterial;
            impl $crate::__export::material::Guest for __HangarMaterial {
                fn describe() -> $crate::MaterialInfo {
                    <$material as $crate::Material>::describe()
                }
                fn render(props_json: String) -> Result<String, String> {
                    <$material as $crate::Material>::render(props_json)
                }
                fn structure() -> $crate::MaterialStructure {
                    <$material as $crate::Material>::structure()
                }
            }
            $crate::__export::material::export_material!(__HangarMaterial with_types_in $crate::__export::material);
        };
    };
}
