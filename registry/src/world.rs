//! The `hangar:plugin` worlds, and telling which one a component exports.

use serde::{Deserialize, Serialize};
use wasmparser::{Encoding, Parser, Payload};

/// The world a component exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum World {
    /// `hangar:plugin/chat-plugin`.
    ChatPlugin,
    /// `hangar:plugin/upload-hook`.
    UploadHook,
    /// `hangar:plugin/material`.
    Material,
}

impl World {
    /// The world's name in the WIT package.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ChatPlugin => "chat-plugin",
            Self::UploadHook => "upload-hook",
            Self::Material => "material",
        }
    }

    /// The world whose exports these are: `on-message`, `on-upload`, or
    /// `describe` with `render`.
    pub fn from_exports(exports: &[String]) -> Option<Self> {
        let has = |name: &str| exports.iter().any(|e| e == name);
        if has("on-message") {
            Some(Self::ChatPlugin)
        } else if has("on-upload") {
            Some(Self::UploadHook)
        } else if has("describe") && has("render") {
            Some(Self::Material)
        } else {
            None
        }
    }
}

impl std::fmt::Display for World {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for World {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "chat-plugin" => Ok(Self::ChatPlugin),
            "upload-hook" => Ok(Self::UploadHook),
            "material" => Ok(Self::Material),
            other => Err(format!("unknown world {other:?}")),
        }
    }
}

/// Why bytes are not a plugin component.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InspectError {
    /// Not WebAssembly, or malformed.
    #[error("not a WebAssembly component: {0}")]
    Malformed(String),
    /// A core module rather than a component.
    #[error(
        "a core WebAssembly module, not a component: build for wasm32-wasip2 (or wrap it with `wasm-tools component new`)"
    )]
    CoreModule,
    /// A component exporting none of the worlds.
    #[error(
        "component exports [{}], which is none of the hangar:plugin worlds \
         (chat-plugin exports on-message; upload-hook exports on-upload; material exports describe and render)",
        .0.join(", ")
    )]
    UnknownWorld(Vec<String>),
}

/// Parses `bytes` far enough to list the component's own exports and tell
/// its world. Full type checking happens when the host compiles it.
///
/// # Errors
/// [`InspectError`] saying what the bytes are instead.
pub fn inspect(bytes: &[u8]) -> Result<World, InspectError> {
    let mut depth = 0usize;
    let mut exports = Vec::new();
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.map_err(|err| InspectError::Malformed(err.to_string()))? {
            Payload::Version { encoding, .. } => {
                if depth == 0 && encoding != Encoding::Component {
                    return Err(InspectError::CoreModule);
                }
                depth += 1;
            }
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::ComponentExportSection(reader) if depth == 1 => {
                for export in reader {
                    let export = export.map_err(|err| InspectError::Malformed(err.to_string()))?;
                    exports.push(export.name.name.to_owned());
                }
            }
            _ => {}
        }
    }
    if depth != 0 || bytes.is_empty() {
        return Err(InspectError::Malformed("truncated".into()));
    }
    World::from_exports(&exports).ok_or(InspectError::UnknownWorld(exports))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_components_are_named_for_what_they_are() {
        assert!(matches!(inspect(b"hello"), Err(InspectError::Malformed(_))));
        assert!(matches!(inspect(b""), Err(InspectError::Malformed(_))));
        // The header of an empty core module.
        assert_eq!(inspect(b"\0asm\x01\0\0\0"), Err(InspectError::CoreModule));
    }

    #[test]
    fn worlds_follow_the_exports() {
        let names = |n: &[&str]| n.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            World::from_exports(&names(&["on-message"])),
            Some(World::ChatPlugin)
        );
        assert_eq!(
            World::from_exports(&names(&["describe", "render"])),
            Some(World::Material)
        );
        assert_eq!(World::from_exports(&names(&["describe"])), None);
    }
}
