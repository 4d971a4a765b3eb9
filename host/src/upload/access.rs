//! Who may read a file, and signed download links.
//!
//! A file is readable by its uploader (an instant upload with a valid proof
//! makes its user an uploader too), by agents and admins, and by the
//! customer of every conversation it was sent to as an attachment.
//!
//! A link is `/files/{id}?expires=UNIX&sig=HEX` where `sig` is
//! HMAC-SHA256 over `download\n{id}\n{expires}` with a key derived from the
//! session signing key: whoever holds it may fetch that file until it
//! expires, so a browser `<img>` or `<a>` needs no header.

use hmac::{Hmac, Mac};
use sha2::{Digest as _, Sha256};

use super::index::FileRecord;
use crate::auth::Session;

type HmacSha256 = Hmac<Sha256>;

/// Signs and checks download links.
#[derive(Clone)]
pub struct LinkSigner {
    key: [u8; 32],
}

impl std::fmt::Debug for LinkSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkSigner(..)")
    }
}

impl LinkSigner {
    /// A signer whose key is derived from `secret`, so links and session
    /// tokens never share a key.
    pub fn new(secret: &[u8]) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(b"hangar download links\n");
        hasher.update(secret);
        Self {
            key: hasher.finalize().into(),
        }
    }

    fn mac(&self, file_id: &str, expires: u64) -> HmacSha256 {
        // An HMAC accepts keys of any length; 32 bytes never fails.
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(format!("download\n{file_id}\n{expires}").as_bytes());
        mac
    }

    /// The signature of a link to `file_id` valid until `expires` (Unix s).
    pub fn sign(&self, file_id: &str, expires: u64) -> String {
        hex::encode(self.mac(file_id, expires).finalize().into_bytes())
    }

    /// Whether `sig` signs `file_id` until `expires` and that time has not
    /// passed. Compared in constant time.
    pub fn verify(&self, file_id: &str, expires: u64, sig: &str, now: u64) -> bool {
        let Ok(sig) = hex::decode(sig) else {
            return false;
        };
        expires >= now && self.mac(file_id, expires).verify_slice(&sig).is_ok()
    }
}

/// Whether `session` may read `file` without a share (uploader or staff).
pub fn reads_directly(session: &Session, file: &FileRecord) -> bool {
    session.role.is_staff() || session.user.as_str() == file.owner
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_verify_until_they_expire_and_only_for_their_file() {
        let signer = LinkSigner::new(b"0123456789abcdef0123456789abcdef");
        let sig = signer.sign("f_1", 1000);
        assert!(signer.verify("f_1", 1000, &sig, 999));
        assert!(signer.verify("f_1", 1000, &sig, 1000));
        assert!(!signer.verify("f_1", 1000, &sig, 1001));
        assert!(!signer.verify("f_2", 1000, &sig, 999));
        assert!(!signer.verify("f_1", 1001, &sig, 999));
        assert!(!signer.verify("f_1", 1000, "zz", 999));
        let other = LinkSigner::new(b"another key of at least 32 bytes!!");
        assert!(!other.verify("f_1", 1000, &sig, 999));
    }
}
