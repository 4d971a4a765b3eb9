//! Session tokens: who is connecting, in which role, until when.
//!
//! A token is a JWT signed with HMAC-SHA256 (HS256) under the session
//! signing key, with claims `sub` (user id), `role` (`customer`, `agent`,
//! `admin`), `exp` and `iat` (Unix seconds). The embedding application mints
//! them with any JWT library and the shared key; `hangar token` mints one
//! from the command line; the demo server issues them at `POST /api/session`.

pub mod extract;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use serde::{Deserialize, Serialize};

pub use hangar_client::protocol::Role;

use crate::history::UserId;

/// A verified session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The user.
    pub user: UserId,
    /// Their role.
    pub role: Role,
    /// Expiry, Unix seconds.
    pub expires: u64,
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    role: Role,
    exp: u64,
    iat: u64,
}

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Past its `exp`.
    #[error("session token expired; get a new one")]
    Expired,
    /// Bad signature, malformed, or claims missing.
    #[error("invalid session token: {0}")]
    Invalid(String),
}

/// The signing key, ready to mint and verify.
#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKeys(..)")
    }
}

/// Shortest accepted signing key, in bytes.
pub const MIN_KEY_BYTES: usize = 32;

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl TokenKeys {
    /// Keys from a shared secret of at least [`MIN_KEY_BYTES`] bytes.
    ///
    /// # Errors
    /// When the secret is too short to be safe.
    pub fn new(secret: &[u8]) -> Result<Self, TokenError> {
        if secret.len() < MIN_KEY_BYTES {
            return Err(TokenError::Invalid(format!(
                "the session signing key must be at least {MIN_KEY_BYTES} bytes"
            )));
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub"]);
        Ok(Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        })
    }

    /// A token for `user` in `role`, valid until `expires` (Unix seconds).
    ///
    /// # Errors
    /// When signing fails.
    pub fn mint(&self, user: &UserId, role: Role, expires: u64) -> Result<String, TokenError> {
        let claims = Claims {
            sub: user.to_string(),
            role,
            exp: expires,
            iat: unix_now(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|err| TokenError::Invalid(err.to_string()))
    }

    /// Verifies a token.
    ///
    /// # Errors
    /// [`TokenError::Expired`] or [`TokenError::Invalid`].
    pub fn verify(&self, token: &str) -> Result<Session, TokenError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|err| match err.kind() {
                ErrorKind::ExpiredSignature => TokenError::Expired,
                other => TokenError::Invalid(format!("{other:?}")),
            })?;
        let user = data
            .claims
            .sub
            .parse()
            .map_err(|err| TokenError::Invalid(format!("{err}")))?;
        Ok(Session {
            user,
            role: data.claims.role,
            expires: data.claims.exp,
        })
    }
}

/// `hangar token`: a token for the command line's user and role.
///
/// # Errors
/// When the role, user id or key is invalid.
pub fn mint_from_cli(args: &crate::cli::TokenArgs) -> Result<String, TokenError> {
    let role = match args.role.as_str() {
        "customer" => Role::Customer,
        "agent" => Role::Agent,
        "admin" => Role::Admin,
        other => {
            return Err(TokenError::Invalid(format!(
                "unknown role {other:?}: use customer, agent or admin"
            )));
        }
    };
    let user: UserId = args
        .user
        .parse()
        .map_err(|err| TokenError::Invalid(format!("{err}")))?;
    TokenKeys::new(secrecy::ExposeSecret::expose_secret(&args.session_key).as_bytes())?.mint(
        &user,
        role,
        unix_now().saturating_add(args.ttl_secs),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(secret: &str) -> TokenKeys {
        TokenKeys::new(secret.repeat(8).as_bytes()).unwrap()
    }

    #[test]
    fn round_trip_expiry_and_tampering() {
        let k = keys("abcd");
        let alice: UserId = "alice".parse().unwrap();
        let token = k.mint(&alice, Role::Agent, unix_now() + 60).unwrap();
        let session = k.verify(&token).unwrap();
        assert_eq!((session.user, session.role), (alice.clone(), Role::Agent));

        let expired = k.mint(&alice, Role::Agent, unix_now() - 1).unwrap();
        assert_eq!(k.verify(&expired), Err(TokenError::Expired));

        // Signed with another key, or with the payload changed.
        assert!(matches!(
            keys("wxyz").verify(&token),
            Err(TokenError::Invalid(_))
        ));
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let admin = k.mint(&alice, Role::Admin, unix_now() + 60).unwrap();
        parts[1] = admin.split('.').nth(1).unwrap().to_owned();
        assert!(matches!(
            k.verify(&parts.join(".")),
            Err(TokenError::Invalid(_))
        ));
        assert!(matches!(k.verify("garbage"), Err(TokenError::Invalid(_))));
        assert!(TokenKeys::new(b"short").is_err());
    }
}
