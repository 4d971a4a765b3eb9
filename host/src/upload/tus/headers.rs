//! The tus headers: parsing what clients send, formatting what they read.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use md5::Digest as _;

/// Why a tus header was refused (a `400`).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{header}: {why}")]
pub struct BadHeader {
    /// The header.
    pub header: &'static str,
    /// What is wrong.
    pub why: String,
}

impl BadHeader {
    fn new(header: &'static str, why: impl Into<String>) -> Self {
        Self {
            header,
            why: why.into(),
        }
    }
}

/// Longest `Upload-Metadata` accepted.
pub const MAX_METADATA_BYTES: usize = 4096;

/// A non-negative integer header: digits only, as the protocol says.
///
/// # Errors
/// Anything but 1 to 20 ASCII digits that fit a `u64`.
pub fn number(header: &'static str, value: &str) -> Result<u64, BadHeader> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(BadHeader::new(header, "must be a non-negative integer"));
    }
    value
        .parse()
        .map_err(|_| BadHeader::new(header, "is too large"))
}

/// `Upload-Metadata`: comma-separated `key base64(value)` pairs (the value
/// may be absent), keys unique.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata {
    pairs: Vec<(String, Option<Vec<u8>>)>,
}

impl Metadata {
    /// Parses the header.
    ///
    /// # Errors
    /// Too long, an empty or repeated key, a key with a space or comma, a
    /// value that is not base64.
    pub fn parse(value: &str) -> Result<Self, BadHeader> {
        const H: &str = "Upload-Metadata";
        if value.len() > MAX_METADATA_BYTES {
            return Err(BadHeader::new(
                H,
                format!("is longer than {MAX_METADATA_BYTES} bytes"),
            ));
        }
        let mut pairs: Vec<(String, Option<Vec<u8>>)> = Vec::new();
        if value.trim().is_empty() {
            return Ok(Self { pairs });
        }
        for pair in value.split(',') {
            let mut words = pair.trim().split(' ');
            let key = words.next().unwrap_or_default();
            if key.is_empty() || !key.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(BadHeader::new(H, format!("bad key {key:?}")));
            }
            let decoded = match words.next() {
                None => None,
                Some(encoded) => Some(STANDARD.decode(encoded).map_err(|_| {
                    BadHeader::new(H, format!("the value of {key:?} is not base64"))
                })?),
            };
            if words.next().is_some() {
                return Err(BadHeader::new(
                    H,
                    format!("{key:?} has more than one value"),
                ));
            }
            if pairs.iter().any(|(k, _)| k == key) {
                return Err(BadHeader::new(H, format!("{key:?} appears twice")));
            }
            pairs.push((key.to_owned(), decoded));
        }
        Ok(Self { pairs })
    }

    /// The text value of the first of `keys` present.
    ///
    /// # Errors
    /// That value is not UTF-8.
    pub fn text(&self, keys: &[&str]) -> Result<Option<String>, BadHeader> {
        for key in keys {
            if let Some((_, value)) = self.pairs.iter().find(|(k, _)| k == key) {
                let bytes = value.clone().unwrap_or_default();
                return String::from_utf8(bytes).map(Some).map_err(|_| {
                    BadHeader::new(
                        "Upload-Metadata",
                        format!("the value of {key:?} is not UTF-8"),
                    )
                });
            }
        }
        Ok(None)
    }
}

/// A checksum algorithm of the checksum extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// MD5.
    Md5,
    /// SHA-1.
    Sha1,
    /// SHA-256.
    Sha256,
}

/// The algorithms advertised in `Tus-Checksum-Algorithm`.
pub const ALGORITHMS: &str = "md5,sha1,sha256";

impl Algorithm {
    /// The name clients use.
    pub fn name(self) -> &'static str {
        match self {
            Self::Md5 => "md5",
            Self::Sha1 => "sha1",
            Self::Sha256 => "sha256",
        }
    }
}

/// `Upload-Checksum: <algorithm> <base64 digest>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checksum {
    /// The algorithm.
    pub algorithm: Algorithm,
    /// The digest the body must have.
    pub digest: Vec<u8>,
}

impl Checksum {
    /// Parses the header.
    ///
    /// # Errors
    /// An unsupported algorithm, or a digest that is not base64 of the
    /// algorithm's length.
    pub fn parse(value: &str) -> Result<Self, BadHeader> {
        const H: &str = "Upload-Checksum";
        let (name, encoded) = value
            .trim()
            .split_once(' ')
            .ok_or_else(|| BadHeader::new(H, "send `<algorithm> <base64 digest>`"))?;
        let (algorithm, len) = match name.to_ascii_lowercase().as_str() {
            "md5" => (Algorithm::Md5, 16),
            "sha1" => (Algorithm::Sha1, 20),
            "sha256" => (Algorithm::Sha256, 32),
            other => {
                return Err(BadHeader::new(
                    H,
                    format!("unsupported algorithm {other:?}; supported: {ALGORITHMS}"),
                ));
            }
        };
        let digest = STANDARD
            .decode(encoded.trim())
            .ok()
            .filter(|d| d.len() == len)
            .ok_or_else(|| {
                BadHeader::new(
                    H,
                    format!("the {name} digest must be {len} bytes in base64"),
                )
            })?;
        Ok(Self { algorithm, digest })
    }

    /// A hasher for the body.
    pub fn hasher(&self) -> Hasher {
        match self.algorithm {
            Algorithm::Md5 => Hasher::Md5(md5::Md5::new()),
            Algorithm::Sha1 => Hasher::Sha1(sha1::Sha1::new()),
            Algorithm::Sha256 => Hasher::Sha256(sha2::Sha256::new()),
        }
    }
}

/// A running checksum of a request body.
#[derive(Debug, Clone)]
pub enum Hasher {
    /// MD5.
    Md5(md5::Md5),
    /// SHA-1.
    Sha1(sha1::Sha1),
    /// SHA-256.
    Sha256(sha2::Sha256),
}

impl Hasher {
    /// Adds bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        match self {
            Self::Md5(h) => h.update(bytes),
            Self::Sha1(h) => h.update(bytes),
            Self::Sha256(h) => h.update(bytes),
        }
    }

    /// The digest.
    pub fn finish(self) -> Vec<u8> {
        match self {
            Self::Md5(h) => h.finalize().to_vec(),
            Self::Sha1(h) => h.finalize().to_vec(),
            Self::Sha256(h) => h.finalize().to_vec(),
        }
    }
}

/// `Upload-Concat`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConcatRequest {
    /// `partial`.
    Partial,
    /// `final;<url> <url> …`: the partial uploads' ids, in order.
    Final(Vec<String>),
}

/// Most partial uploads one final upload may join.
pub const MAX_CONCAT_PARTS: usize = 1000;

impl ConcatRequest {
    /// Parses the header; each URL's last path segment is an upload id.
    ///
    /// # Errors
    /// Neither `partial` nor `final;` with 1 to [`MAX_CONCAT_PARTS`] URLs.
    pub fn parse(value: &str) -> Result<Self, BadHeader> {
        const H: &str = "Upload-Concat";
        let value = value.trim();
        if value == "partial" {
            return Ok(Self::Partial);
        }
        let Some(urls) = value.strip_prefix("final;") else {
            return Err(BadHeader::new(H, "send `partial` or `final;<url> <url> …`"));
        };
        let ids: Vec<String> = urls
            .split_whitespace()
            .map(|url| {
                let path = url.split(['?', '#']).next().unwrap_or_default();
                path.trim_end_matches('/')
                    .rsplit('/')
                    .next()
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect();
        if ids.is_empty() || ids.len() > MAX_CONCAT_PARTS {
            return Err(BadHeader::new(
                H,
                format!("a final upload joins 1 to {MAX_CONCAT_PARTS} partial uploads"),
            ));
        }
        Ok(Self::Final(ids))
    }
}

/// `ms` since the epoch as an HTTP date (`Upload-Expires`).
pub fn http_date(ms: i64) -> String {
    let at =
        std::time::UNIX_EPOCH + std::time::Duration::from_millis(u64::try_from(ms).unwrap_or(0));
    httpdate::fmt_http_date(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_pairs_decode_and_bad_ones_are_named() {
        let m = Metadata::parse("filename d29ybGRfZG9taW5hdGlvbl9wbGFuLnBkZg==,is_confidential")
            .unwrap();
        assert_eq!(
            m.text(&["name", "filename"]).unwrap().as_deref(),
            Some("world_domination_plan.pdf")
        );
        assert_eq!(m.text(&["is_confidential"]).unwrap().as_deref(), Some(""));
        assert_eq!(m.text(&["type"]).unwrap(), None);
        assert!(Metadata::parse("").unwrap().text(&["x"]).unwrap().is_none());
        for bad in [
            "a !!!",
            "a YQ==,a YQ==",
            ",a YQ==",
            "a YQ== YQ==",
            "a\u{1}b YQ==",
        ] {
            assert!(Metadata::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert!(Metadata::parse(&"a".repeat(MAX_METADATA_BYTES + 1)).is_err());
        let latin1 = Metadata::parse("filename /w==").unwrap();
        assert!(latin1.text(&["filename"]).is_err());
    }

    #[test]
    fn checksums_name_a_known_algorithm_and_a_digest_of_its_length() {
        let md5 = Checksum::parse("md5 1B2M2Y8AsgTpgAmY7PhCfg==").unwrap();
        assert_eq!(md5.algorithm, Algorithm::Md5);
        assert_eq!(md5.hasher().finish(), md5.digest, "MD5 of nothing");
        let sha1 = Checksum::parse("sha1 2jmj7l5rSw0yVb/vlWAYkK/YBwk=").unwrap();
        assert_eq!(sha1.hasher().finish(), sha1.digest, "SHA-1 of nothing");
        for bad in [
            "crc32 AAAA",
            "md5",
            "md5 !!",
            "sha1 1B2M2Y8AsgTpgAmY7PhCfg==",
        ] {
            assert!(Checksum::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn concat_names_partial_uploads_by_url() {
        assert_eq!(
            ConcatRequest::parse("partial").unwrap(),
            ConcatRequest::Partial
        );
        assert_eq!(
            ConcatRequest::parse("final;/api/tus/t_a http://h:1/api/tus/t_b/ t_c").unwrap(),
            ConcatRequest::Final(vec!["t_a".into(), "t_b".into(), "t_c".into()])
        );
        for bad in ["final;", "final", "whole", ""] {
            assert!(ConcatRequest::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn numbers_are_digits_only() {
        assert_eq!(number("Upload-Offset", "42").unwrap(), 42);
        for bad in ["", "-1", "+1", " 1", "1.0", "99999999999999999999999"] {
            assert!(number("Upload-Offset", bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn expiry_is_an_http_date() {
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
    }
}
