//! The `hangar:plugin` worlds, and telling which one a component exports.

use serde::{Deserialize, Serialize};

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
    /// An import the host does not link: the component could never load.
    #[error("component imports {import}, which the host does not provide: {hint}")]
    Unlinked {
        /// The import.
        import: String,
        /// What to do about it.
        hint: &'static str,
    },
}

/// What inspecting a component told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspected {
    /// The world it exports.
    pub world: World,
    /// The `hangar:plugin` version it was built against, when it tells: a
    /// material by its exports (`structure` is new in 0.2.0), any plugin by
    /// the version of the `hangar:plugin` interfaces it imports.
    pub contract: Option<String>,
}

/// Parses `bytes` far enough to list the component's own exports and tell
/// its world. Full type checking happens when the host compiles it.
///
/// # Errors
/// [`InspectError`] saying what the bytes are instead.
pub fn inspect(bytes: &[u8]) -> Result<World, InspectError> {
    let mut inspector = Inspector::default();
    inspector.feed(bytes)?;
    inspector.finish().map(|i| i.world)
}

/// [`inspect`] over bytes as they arrive, in constant memory: it frames
/// the component's own sections and keeps only its import and export
/// sections (a few names), skipping everything else (nested modules and
/// components, data, custom sections) unread. It checks the framing, that
/// every import is one the host links ([`crate::imports`]) and the exports,
/// not the contents of the skipped sections: the host validates those when
/// it compiles the component.
#[derive(Debug, Default)]
pub struct Inspector {
    state: Frame,
    /// Bytes of the header, or of the export section being collected.
    kept: Vec<u8>,
    /// Offset of the next byte.
    offset: usize,
    exports: Vec<String>,
    /// Version of the `hangar:plugin` interfaces it imports.
    contract_import: Option<String>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Frame {
    /// The 8-byte preamble.
    #[default]
    Header,
    /// A section's id, or the end.
    SectionId,
    /// A section's size (LEB128), as far as read.
    SectionSize { id: u8, size: u32, shift: u32 },
    /// A section's contents still to pass.
    Skip { left: u32 },
    /// An import or export section's contents, kept until complete.
    Names { id: u8, left: u32 },
}

/// The component import section's id.
const COMPONENT_IMPORT_SECTION: u8 = 10;
/// The component export section's id.
const COMPONENT_EXPORT_SECTION: u8 = 11;

impl Inspector {
    /// Parses what `bytes` completes.
    ///
    /// # Errors
    /// [`InspectError`] as soon as the bytes cannot be a component.
    pub fn feed(&mut self, mut bytes: &[u8]) -> Result<(), InspectError> {
        let malformed = |what: &str| InspectError::Malformed(what.to_owned());
        while !bytes.is_empty() {
            match self.state {
                Frame::Header => {
                    let take = (8 - self.kept.len()).min(bytes.len());
                    self.kept.extend_from_slice(&bytes[..take]);
                    self.advance(&mut bytes, take);
                    if self.kept.len() == 8 {
                        let header = std::mem::take(&mut self.kept);
                        if &header[..4] != b"\0asm" {
                            return Err(malformed("no WebAssembly magic number"));
                        }
                        match (header[4..6] == [1, 0], header[6..8] == [1, 0]) {
                            (_, true) => self.state = Frame::SectionId,
                            (true, false) => return Err(InspectError::CoreModule),
                            _ => return Err(malformed("unknown WebAssembly version or layer")),
                        }
                    }
                }
                Frame::SectionId => {
                    self.state = Frame::SectionSize {
                        id: bytes[0],
                        size: 0,
                        shift: 0,
                    };
                    self.advance(&mut bytes, 1);
                }
                Frame::SectionSize { id, size, shift } => {
                    let byte = bytes[0];
                    self.advance(&mut bytes, 1);
                    if shift > 28 {
                        return Err(malformed("section size too long"));
                    }
                    let size = size | u32::from(byte & 0x7f) << shift;
                    self.state = if byte & 0x80 != 0 {
                        Frame::SectionSize {
                            id,
                            size,
                            shift: shift + 7,
                        }
                    } else if id == COMPONENT_EXPORT_SECTION || id == COMPONENT_IMPORT_SECTION {
                        Frame::Names { id, left: size }
                    } else {
                        Frame::Skip { left: size }
                    };
                    self.end_section()?;
                }
                Frame::Skip { left } => {
                    let take = usize::try_from(left).unwrap_or(usize::MAX).min(bytes.len());
                    self.advance(&mut bytes, take);
                    self.state = Frame::Skip {
                        left: left - u32::try_from(take).unwrap_or(left),
                    };
                    self.end_section()?;
                }
                Frame::Names { id, left } => {
                    let take = usize::try_from(left).unwrap_or(usize::MAX).min(bytes.len());
                    self.kept.extend_from_slice(&bytes[..take]);
                    self.advance(&mut bytes, take);
                    self.state = Frame::Names {
                        id,
                        left: left - u32::try_from(take).unwrap_or(left),
                    };
                    self.end_section()?;
                }
            }
        }
        Ok(())
    }

    fn advance(&mut self, bytes: &mut &[u8], by: usize) {
        *bytes = &bytes[by..];
        self.offset += by;
    }

    /// After a section's last byte: reads the imports or exports, expects
    /// the next id.
    fn end_section(&mut self) -> Result<(), InspectError> {
        match self.state {
            Frame::Skip { left: 0 } => self.state = Frame::SectionId,
            Frame::Names { id, left: 0 } => {
                let kept = std::mem::take(&mut self.kept);
                let start = self.offset - kept.len();
                let malformed =
                    |err: wasmparser::BinaryReaderError| InspectError::Malformed(err.to_string());
                let reader = wasmparser::BinaryReader::new(&kept, start);
                if id == COMPONENT_IMPORT_SECTION {
                    let section =
                        wasmparser::ComponentImportSectionReader::new(reader).map_err(malformed)?;
                    for import in section {
                        let import = import.map_err(malformed)?;
                        // Type imports name types the component's other
                        // imports define; everything else must be linked.
                        if matches!(import.ty, wasmparser::ComponentTypeRef::Type(_)) {
                            continue;
                        }
                        let name = import.name.name.to_owned();
                        if let Some(version) = name
                            .strip_prefix("hangar:plugin/")
                            .and_then(|rest| rest.split_once('@'))
                            .map(|(_, version)| version)
                        {
                            self.contract_import = Some(version.to_owned());
                        }
                        // Refused as soon as it is read: nothing after it
                        // needs to arrive.
                        if !crate::imports::is_linked(&name) {
                            return Err(InspectError::Unlinked {
                                hint: crate::imports::hint(&name),
                                import: name,
                            });
                        }
                    }
                } else {
                    let section =
                        wasmparser::ComponentExportSectionReader::new(reader).map_err(malformed)?;
                    for export in section {
                        self.exports
                            .push(export.map_err(malformed)?.name.name.to_owned());
                    }
                }
                self.state = Frame::SectionId;
            }
            _ => {}
        }
        Ok(())
    }

    /// The world and contract version, once every byte was fed.
    ///
    /// # Errors
    /// [`InspectError`] when the bytes end early or are no plugin component.
    pub fn finish(self) -> Result<Inspected, InspectError> {
        if self.state != Frame::SectionId {
            return Err(InspectError::Malformed("truncated".into()));
        }
        let world = World::from_exports(&self.exports)
            .ok_or_else(|| InspectError::UnknownWorld(self.exports.clone()))?;
        let contract = if world == World::Material {
            let current = self.exports.iter().any(|e| e == "structure");
            Some(if current { "0.2.0" } else { "0.1.0" }.to_owned())
        } else {
            self.contract_import
        };
        Ok(Inspected { world, contract })
    }
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
