//! # hangar-policy
//!
//! The content policy the Hangar host enforces on material HTML, as
//! functions plugin authors can call before rendering, so a material
//! refuses a prop the host would strip anyway. The host's sanitiser and the
//! SDK's material helpers use this crate: one rule, one place.
//!
//! - [`link_allowed`]: `http:`, `https:`, `mailto:`, and relative URLs on
//!   the page's own origin (`/path`, `path`, `?query`, `#fragment`).
//! - [`image_allowed`]: images from the page's own origin only (`/path`,
//!   `path`): no other host (tracking pixels), no `data:`.
//!
//! Refused everywhere: other schemes (`javascript:`, `data:`, `vbscript:`,
//! ...), protocol-relative URLs (`//host`), and backslashes (browsers read
//! `/\host` as `//host`). Tabs and newlines, which browsers delete inside
//! URLs, and leading or trailing control characters and spaces, which
//! they trim, are removed before checking, as a browser would.

#![forbid(unsafe_code)]

/// Schemes a link may use.
pub const LINK_SCHEMES: &[&str] = &["http", "https", "mailto"];

/// What a URL is, after the browser's clean-up.
enum Kind<'a> {
    /// Has a scheme (`scheme:...`).
    Absolute(&'a str),
    /// Relative to the page's origin.
    SameOrigin,
    /// Refused outright.
    Refused,
}

fn classify(url: &str) -> Kind<'_> {
    let trimmed = url.trim_matches(|c: char| c <= ' ');
    if trimmed.contains(['\t', '\n', '\r', '\\']) || trimmed.chars().any(char::is_control) {
        return Kind::Refused;
    }
    if trimmed.starts_with("//") {
        return Kind::Refused;
    }
    // A scheme is what comes before the first ':' if no '/', '?' or '#'
    // comes first.
    let end = trimmed.find(['/', '?', '#']).unwrap_or(trimmed.len());
    match trimmed[..end].find(':') {
        Some(colon) => Kind::Absolute(&trimmed[..colon]),
        None => Kind::SameOrigin,
    }
}

/// Whether `url` may be the target of a link (`<a href>`).
pub fn link_allowed(url: &str) -> bool {
    match classify(url) {
        Kind::Absolute(scheme) => LINK_SCHEMES
            .iter()
            .any(|allowed| scheme.eq_ignore_ascii_case(allowed)),
        Kind::SameOrigin => true,
        Kind::Refused => false,
    }
}

/// Whether `url` may be the source of an image (`<img src>`): the page's
/// own origin only.
pub fn image_allowed(url: &str) -> bool {
    matches!(classify(url), Kind::SameOrigin) && !url.trim().is_empty()
}

#[cfg(test)]
mod tests {
    use super::{image_allowed, link_allowed};

    #[test]
    fn links() {
        for good in [
            "https://example.com/a",
            "HTTP://example.com",
            "mailto:a@example.com",
            "/cart",
            "cart/items",
            "#top",
            "?page=2",
            "  /padded  ",
        ] {
            assert!(link_allowed(good), "{good}");
        }
        for bad in [
            "javascript:alert(1)",
            " JavaScript:alert(1)",
            "java\tscript:alert(1)",
            "java\nscript:alert(1)",
            "data:text/html,x",
            "vbscript:x",
            "//evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "\u{1}javascript:x",
            "https://ok\u{7f}.example",
        ] {
            assert!(!link_allowed(bad), "{bad:?}");
        }
    }

    #[test]
    fn images_are_same_origin_only() {
        assert!(image_allowed("/files/f-1"));
        assert!(image_allowed("static/logo.svg"));
        for bad in [
            "https://tracker.example/p.gif",
            "//tracker.example/p.gif",
            "data:image/png;base64,AAAA",
            "javascript:x",
            "",
            "/\\evil",
        ] {
            assert!(!image_allowed(bad), "{bad:?}");
        }
    }
}
