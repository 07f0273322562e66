//! Email confirmation tokens: signed (HMAC-SHA256 with a key id), URL-safe, expiring.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::phone::PhoneNumber;

/// What a confirmation token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfirmationClaims {
    /// The firm.
    pub firm_id: String,
    /// The number to confirm.
    pub phone: PhoneNumber,
    /// The contact the email was sent to.
    pub contact_id: String,
    /// When the token stops working.
    pub expires_at: DateTime<Utc>,
}

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not a token of ours at all.
    #[error("the token is malformed")]
    Malformed,
    /// Signed with a key we do not have.
    #[error("the token was signed with an unknown key")]
    UnknownKey,
    /// The signature does not match: the token was changed.
    #[error("the token's signature does not match")]
    Tampered,
    /// Valid, but too old.
    #[error("the token expired at {expires_at}")]
    Expired {
        /// When it expired.
        expires_at: DateTime<Utc>,
    },
}

/// One signing key and its id.
#[derive(Clone)]
pub struct TokenKey {
    /// The key id carried in each token.
    pub id: String,
    /// The secret.
    pub secret: Vec<u8>,
}

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKey").field("id", &self.id).finish_non_exhaustive()
    }
}

/// The keys in use: new tokens are signed with the current one; older keys still verify.
#[derive(Debug, Clone)]
pub struct TokenKeyring {
    /// Signs new tokens.
    pub current: TokenKey,
    /// Still accepted for verification (rotation).
    pub previous: Vec<TokenKey>,
}

impl TokenKeyring {
    /// Signs claims into a URL-safe token.
    pub fn sign(&self, claims: &ConfirmationClaims) -> String {
        let _ = claims;
        todo!("token::sign")
    }

    /// Verifies a token and returns its claims.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<ConfirmationClaims, TokenError> {
        let _ = (token, now);
        todo!("token::verify")
    }
}
