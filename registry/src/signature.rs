//! Publisher signatures: ed25519 over a component's name, version and
//! digest, so a host can tell who published what it is about to run,
//! whichever registry or network it came through.
//!
//! A key is written `ed25519:<base64 of the 32-byte public key>`; a
//! signature is the base64 of its 64 bytes. What is signed is the UTF-8 text
//! `hangar-signature-v1\n{name}\n{version}\n{digest}\n`: a signature for one
//! package or version is worthless for any other.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey, spki::der::pem::LineEnding};
use ed25519_dalek::{Signer as _, SigningKey, Verifier as _, VerifyingKey};
use semver::Version;

use crate::{Digest, PluginName};

/// Why a key or signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// Not `ed25519:<base64 of 32 bytes>`.
    #[error("{0:?} is not a publisher key; write it `ed25519:<base64 of the 32-byte public key>`")]
    BadKey(String),
    /// Not the base64 of 64 bytes.
    #[error("the signature is not the base64 of 64 bytes")]
    BadSignature,
    /// Well formed, but not by this key over this name, version and
    /// digest (which ones, in the message).
    #[error("{0}")]
    Mismatch(String),
    /// A private key file could not be read.
    #[error("not an ed25519 private key in PKCS#8 PEM: {0}")]
    BadPrivateKey(String),
}

/// A publisher's public key.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublisherKey(VerifyingKey);

impl fmt::Display for PublisherKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ed25519:{}", BASE64.encode(self.0.as_bytes()))
    }
}

impl fmt::Debug for PublisherKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for PublisherKey {
    type Err = SignatureError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || SignatureError::BadKey(s.to_owned());
        let encoded = s.trim().strip_prefix("ed25519:").ok_or_else(bad)?;
        let bytes: [u8; 32] = BASE64
            .decode(encoded)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(bad)?;
        VerifyingKey::from_bytes(&bytes)
            .map(Self)
            .map_err(|_| bad())
    }
}

impl serde::Serialize for PublisherKey {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for PublisherKey {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A signature and the key it claims to be by.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Signed {
    /// The publisher's key.
    pub signer: PublisherKey,
    /// Base64 of the 64-byte ed25519 signature.
    pub signature: String,
}

/// What a signature covers.
fn message(name: &PluginName, version: &Version, digest: &Digest) -> Vec<u8> {
    format!("hangar-signature-v1\n{name}\n{version}\n{digest}\n").into_bytes()
}

impl Signed {
    /// Signs `name` `version` with `digest` under `key`.
    pub fn sign(key: &SigningKey, name: &PluginName, version: &Version, digest: &Digest) -> Self {
        let signature = key.sign(&message(name, version, digest));
        Self {
            signer: PublisherKey(key.verifying_key()),
            signature: BASE64.encode(signature.to_bytes()),
        }
    }

    /// Checks that this is the signer's signature over `name` `version`
    /// with `digest`.
    ///
    /// # Errors
    /// [`SignatureError`] when it is malformed or does not match.
    pub fn verify(
        &self,
        name: &PluginName,
        version: &Version,
        digest: &Digest,
    ) -> Result<(), SignatureError> {
        let bytes: [u8; 64] = BASE64
            .decode(self.signature.trim())
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or(SignatureError::BadSignature)?;
        let signature = ed25519_dalek::Signature::from_bytes(&bytes);
        self.signer
            .0
            .verify(&message(name, version, digest), &signature)
            .map_err(|_| {
                SignatureError::Mismatch(format!(
                    "the signature by {} does not match {name} {version} ({digest})",
                    self.signer
                ))
            })
    }
}

/// A new signing key from 32 random bytes.
pub fn generate_key(seed: [u8; 32]) -> SigningKey {
    SigningKey::from_bytes(&seed)
}

/// The PKCS#8 PEM of `key` (what `openssl genpkey -algorithm ed25519`
/// writes too).
///
/// # Errors
/// Never for a valid key; typed for the encoder's sake.
pub fn key_to_pem(key: &SigningKey) -> Result<String, SignatureError> {
    key.to_pkcs8_pem(LineEnding::LF)
        .map(|pem| pem.to_string())
        .map_err(|err| SignatureError::BadPrivateKey(err.to_string()))
}

/// A signing key from its PKCS#8 PEM.
///
/// # Errors
/// When the text is not an ed25519 private key.
pub fn key_from_pem(pem: &str) -> Result<SigningKey, SignatureError> {
    SigningKey::from_pkcs8_pem(pem).map_err(|err| SignatureError::BadPrivateKey(err.to_string()))
}

/// The public key of a signing key.
pub fn public_key(key: &SigningKey) -> PublisherKey {
    PublisherKey(key.verifying_key())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn parts() -> (PluginName, Version, Digest) {
        (
            "tagger".parse().unwrap(),
            Version::new(1, 0, 0),
            Digest::of(b"component"),
        )
    }

    #[test]
    fn a_signature_holds_for_what_was_signed_only() {
        let key = generate_key([7; 32]);
        let (name, version, digest) = parts();
        let signed = Signed::sign(&key, &name, &version, &digest);
        assert_eq!(signed.verify(&name, &version, &digest), Ok(()));
        let other_name: PluginName = "other".parse().unwrap();
        assert!(signed.verify(&other_name, &version, &digest).is_err());
        assert!(
            signed
                .verify(&name, &Version::new(1, 0, 1), &digest)
                .is_err()
        );
        assert!(signed.verify(&name, &version, &Digest::of(b"x")).is_err());
        let forged = Signed {
            signer: public_key(&generate_key([8; 32])),
            ..signed.clone()
        };
        assert!(forged.verify(&name, &version, &digest).is_err());
        let garbled = Signed {
            signature: "not base64!".into(),
            ..signed
        };
        assert_eq!(
            garbled.verify(&name, &version, &digest),
            Err(SignatureError::BadSignature)
        );
    }

    #[test]
    fn keys_round_trip_through_text_and_pem() {
        let key = generate_key([9; 32]);
        let public = public_key(&key);
        assert_eq!(public.to_string().parse::<PublisherKey>(), Ok(public));
        assert!("ed25519:short".parse::<PublisherKey>().is_err());
        assert!("rsa:AAAA".parse::<PublisherKey>().is_err());
        let pem = key_to_pem(&key).unwrap();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"), "{pem}");
        assert_eq!(public_key(&key_from_pem(&pem).unwrap()), public);
        assert!(key_from_pem("junk").is_err());
    }
}
