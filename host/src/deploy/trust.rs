//! The host's trust policy: which publisher keys it believes, and whether
//! it runs only what one of them signed. Checked on the registry's metadata
//! before anything is fetched or compiled; the blob is then verified
//! against the signed digest, so the bytes that run are the bytes signed.

use hangar_registry::signature::{PublisherKey, SignatureError, Signed};
use hangar_registry::store::VersionInfo;
use hangar_registry::{Digest, PluginName};
use semver::Version;

/// Which signatures a host requires.
#[derive(Debug, Clone, Default)]
pub struct TrustPolicy {
    /// Publisher keys whose signatures the host accepts.
    pub trusted: Vec<PublisherKey>,
    /// Refuse any version not signed by a trusted key.
    pub require_signatures: bool,
}

/// Why the trust policy refused a version.
#[derive(Debug, thiserror::Error)]
pub enum Untrusted {
    /// Unsigned, and the host requires signatures.
    #[error("{0} is not signed, and this host runs only what a trusted publisher signed")]
    Unsigned(String),
    /// Signed by a key the host does not trust.
    #[error("{what} is signed by {signer}, which is not among this host's trusted publishers")]
    UnknownSigner {
        /// Package and version.
        what: String,
        /// The key (`ed25519:…`).
        signer: String,
    },
    /// A signature that does not hold: never accepted.
    #[error("{what} carries a signature that does not hold: {reason}")]
    BadSignature {
        /// Package and version.
        what: String,
        /// Why.
        reason: SignatureError,
    },
}

impl TrustPolicy {
    /// Whether `info` may be loaded. A signature that does not hold is
    /// refused whatever the policy; an unsigned version or one signed by an
    /// unknown key only when signatures are required.
    ///
    /// # Errors
    /// [`Untrusted`] saying why not.
    pub fn check(&self, info: &VersionInfo) -> Result<(), Untrusted> {
        self.check_signed(
            &info.name,
            &info.version,
            &info.digest,
            info.signed.as_ref(),
        )
    }

    /// As [`check`](Self::check) for version `version` of `name` with
    /// `digest`, signed with `signed` (a saved deployment's record).
    ///
    /// # Errors
    /// [`Untrusted`] saying why not.
    pub fn check_signed(
        &self,
        name: &PluginName,
        version: &Version,
        digest: &Digest,
        signed: Option<&Signed>,
    ) -> Result<(), Untrusted> {
        let what = || format!("{name} {version}");
        let Some(signed) = signed else {
            return if self.require_signatures {
                Err(Untrusted::Unsigned(what()))
            } else {
                Ok(())
            };
        };
        signed
            .verify(name, version, digest)
            .map_err(|reason| Untrusted::BadSignature {
                what: what(),
                reason,
            })?;
        if self.require_signatures && !self.trusted.contains(&signed.signer) {
            return Err(Untrusted::UnknownSigner {
                what: what(),
                signer: signed.signer.to_string(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use hangar_registry::signature::{Signed, generate_key, public_key};
    use hangar_registry::{Digest, World};

    use super::*;

    fn info(version: &str, signed: Option<Signed>) -> VersionInfo {
        VersionInfo {
            name: "tagger".parse().unwrap(),
            version: version.parse().unwrap(),
            world: World::ChatPlugin,
            digest: Digest::of(b"component"),
            size: 9,
            publisher: "ci".into(),
            published_ms: 0,
            yanked: false,
            contract: None,
            signed,
        }
    }

    fn signed_by(seed: u8, version: &str) -> Signed {
        let unsigned = info(version, None);
        Signed::sign(
            &generate_key([seed; 32]),
            &unsigned.name,
            &unsigned.version,
            &unsigned.digest,
        )
    }

    #[test]
    fn the_policy_accepts_what_it_should_and_never_a_bad_signature() {
        let policy = TrustPolicy {
            trusted: vec![public_key(&generate_key([1; 32]))],
            require_signatures: true,
        };
        let open = TrustPolicy::default();
        assert!(
            policy
                .check(&info("1.0.0", Some(signed_by(1, "1.0.0"))))
                .is_ok()
        );
        assert!(matches!(
            policy.check(&info("1.0.0", None)),
            Err(Untrusted::Unsigned(_))
        ));
        assert!(matches!(
            policy.check(&info("1.0.0", Some(signed_by(2, "1.0.0")))),
            Err(Untrusted::UnknownSigner { .. })
        ));
        assert!(open.check(&info("1.0.0", None)).is_ok());
        assert!(
            open.check(&info("1.0.0", Some(signed_by(2, "1.0.0"))))
                .is_ok()
        );
        // A registry that hands out one version's signature with another's
        // metadata is caught, whatever the policy.
        for policy in [&policy, &open] {
            assert!(matches!(
                policy.check(&info("1.0.1", Some(signed_by(1, "1.0.0")))),
                Err(Untrusted::BadSignature { .. })
            ));
        }
    }
}
