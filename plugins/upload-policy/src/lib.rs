//! Upload policy: allowed extensions, a size limit, and content sniffing.
//!
//! The extension is taken from the file name (case-insensitive). When the
//! first bytes identify a known type, it must agree with the extension: a
//! `.png` that is really an ELF binary is rejected. Executables are rejected
//! whatever their name unless `allow_executables` is set.
//!
//! Configuration:
//! ```json
//! {
//!   "allowed_extensions": ["png", "jpg", "jpeg", "gif", "webp", "pdf", "txt", "zip"],
//!   "max_size": 104857600,
//!   "allow_executables": false
//! }
//! ```
//! An empty `allowed_extensions` list allows every extension.

use hangar_sdk::{FileInfo, UploadHook, Verdict};
use serde::Deserialize;

/// The plugin's configuration.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Lowercase extensions without the dot; empty allows all.
    pub allowed_extensions: Vec<String>,
    /// Largest accepted file in bytes.
    pub max_size: u64,
    /// Whether files sniffed as executables may pass.
    pub allow_executables: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            allowed_extensions: ["png", "jpg", "jpeg", "gif", "webp", "pdf", "txt", "zip"]
                .map(String::from)
                .to_vec(),
            max_size: 100 * 1024 * 1024,
            allow_executables: false,
        }
    }
}

/// Extensions that name the same sniffed type.
fn same_type(extension: &str, sniffed: &str) -> bool {
    matches!(
        (extension, sniffed),
        ("jpeg", "jpg") | ("jpg", "jpeg") | ("htm", "html") | ("tiff", "tif") | ("tif", "tiff")
    ) || extension == sniffed
}

/// Applies the policy to a file and its first bytes.
pub fn check(config: &Config, file: &FileInfo, head: &[u8]) -> Result<(), String> {
    if file.size > config.max_size {
        return Err(format!(
            "file is {} bytes; the limit is {} bytes",
            file.size, config.max_size
        ));
    }
    let extension = file
        .name
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_lowercase())
        .unwrap_or_default();
    if !config.allowed_extensions.is_empty()
        && !config
            .allowed_extensions
            .iter()
            .any(|allowed| allowed.eq_ignore_ascii_case(&extension))
    {
        let shown = if extension.is_empty() {
            "(none)"
        } else {
            &extension
        };
        return Err(format!(
            "extension {shown} is not allowed; allowed: {}",
            config.allowed_extensions.join(", ")
        ));
    }
    if let Some(kind) = infer::get(head) {
        if kind.matcher_type() == infer::MatcherType::App
            && is_executable(kind.mime_type())
            && !config.allow_executables
        {
            return Err(format!("content is an executable ({})", kind.mime_type()));
        }
        if !extension.is_empty() && !same_type(&extension, kind.extension()) {
            return Err(format!(
                "content is {} ({}) but the name says .{extension}",
                kind.extension(),
                kind.mime_type()
            ));
        }
    }
    Ok(())
}

fn is_executable(mime: &str) -> bool {
    matches!(
        mime,
        "application/x-executable"
            | "application/vnd.microsoft.portable-executable"
            | "application/x-mach-binary"
            | "application/vnd.android.dex"
            | "application/x-msdownload"
            | "application/wasm"
    )
}

struct UploadPolicy;

impl UploadHook for UploadPolicy {
    fn on_upload(file: FileInfo, head: Vec<u8>) -> Verdict {
        let config: Config = hangar_sdk::config::load_or_default();
        match check(&config, &file, &head) {
            Ok(()) => Verdict::Allow,
            Err(reason) => Verdict::Reject(reason),
        }
    }
}

hangar_sdk::upload_hook!(UploadPolicy);

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    /// An x86-64 ELF header, padded to the 64 bytes a real one has.
    fn elf() -> Vec<u8> {
        let mut elf = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0\x3e\0".to_vec();
        elf.resize(64, 0);
        elf
    }

    fn file(name: &str, size: u64) -> FileInfo {
        FileInfo {
            id: "f1".into(),
            name: name.into(),
            size,
            md5: String::new(),
            content_type: String::new(),
        }
    }

    #[test]
    fn accepts_a_real_png() {
        assert_eq!(check(&Config::default(), &file("a.PNG", 10), PNG), Ok(()));
    }

    #[test]
    fn rejects_an_elf_named_png() {
        let err = check(&Config::default(), &file("a.png", 10), &elf()).unwrap_err();
        assert!(err.contains("executable"), "{err}");
    }

    #[test]
    fn rejects_a_png_named_pdf() {
        let err = check(&Config::default(), &file("a.pdf", 10), PNG).unwrap_err();
        assert!(err.contains("but the name says .pdf"), "{err}");
    }

    #[test]
    fn rejects_disallowed_extension_and_size() {
        assert!(check(&Config::default(), &file("a.exe", 10), b"").is_err());
        assert!(check(&Config::default(), &file("a.txt", u64::MAX), b"hello").is_err());
        assert_eq!(
            check(&Config::default(), &file("notes.txt", 5), b"hello"),
            Ok(())
        );
    }
}
