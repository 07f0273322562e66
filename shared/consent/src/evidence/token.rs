//! Email confirmation tokens: opaque, authenticated, URL-safe, expiring, with a key id for
//! rotation.
//!
//! Format `v2.<key id>.<sealed>`: `sealed` is the base64url (no padding) of a 24-byte nonce and
//! the XChaCha20-Poly1305 encryption of the JSON claims plus a `purpose` of `"email_opt_in"`,
//! with `v2.<key id>` as associated data. Reading a link reveals neither the number nor the
//! firm (mail logs and proxies see links), and changing any byte, the key id included, makes it
//! fail to open. The encryption key and the nonce key are derived from the configured secret
//! (HMAC-SHA256 of a label); the nonce is a MAC of the plaintext (a synthetic nonce), so no
//! randomness is needed and a nonce repeats only for the very same claims.
//!
//! Links signed before v2 (`v1.<key id>.<payload>.<signature>`: base64url JSON claims and an
//! HMAC-SHA256 over the rest) still verify until they expire; nothing signs them any more.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{Key, KeyInit, XChaCha20Poly1305, XNonce};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::limits::MAX_TOKEN_LEN;
use crate::model::phone::PhoneNumber;

type HmacSha256 = Hmac<Sha256>;

/// The format `sign` writes; a new format gets a new prefix so old tokens stay recognisable.
const VERSION: &str = "v2";

/// The HMAC-signed format of the first links, still verified until the last of them expires.
const LEGACY_VERSION: &str = "v1";

/// The length of the XChaCha20 nonce at the start of a sealed token.
const NONCE_LEN: usize = 24;

/// The length of the Poly1305 tag at the end of a sealed token.
const TAG_LEN: usize = 16;

/// What the token is for, signed into the payload so a token minted for another purpose with
/// the same keys can never be replayed here.
const PURPOSE: &str = "email_opt_in";

/// Longest key id, keeping tokens short.
const MAX_KEY_ID_LEN: usize = 32;

/// Shortest secret: the HMAC-SHA256 output size, below which the key is the weak link.
pub const MIN_SECRET_LEN: usize = 32;

/// An email's text as the trail keeps it: every occurrence of the live confirmation `token`
/// replaced by a marker holding the token's SHA-256. The trail still proves which link was
/// sent (hash the link in the contact's email and compare), but no one who reads a record or
/// a proof can use it to confirm consent in the contact's name.
pub fn withhold_token(text: &str, token: &str) -> String {
    if token.is_empty() {
        return text.to_string();
    }
    text.replace(token, &withheld_marker(token))
}

/// What a confirmation link's path is followed by, the token.
const CONFIRM_PATH: &str = "/confirm/";

/// `text` with every v1 confirmation link's token replaced by its marker, as v2 emails are
/// kept; `None` when it holds none. `email_sent` events written before v2 hold their v1 link in
/// clear and their hash covers it, so they cannot be redacted in the store: every view, proof
/// and page withholds the link on the way out instead (docs/proof-format.md, "Withheld").
pub fn withhold_legacy_links(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut found = false;
    while let Some(at) = rest.find(CONFIRM_PATH) {
        let start = at + CONFIRM_PATH.len();
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        let len = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
            .unwrap_or(tail.len());
        let token = &tail[..len];
        if is_legacy_token(token) {
            out.push_str(&withheld_marker(token));
            found = true;
        } else {
            out.push_str(token);
        }
        rest = &tail[len..];
    }
    out.push_str(rest);
    found.then_some(out)
}

/// Whether `token` has the v1 shape: `v1.<key id>.<payload>.<signature>`, none of them empty.
fn is_legacy_token(token: &str) -> bool {
    let mut parts = token.split('.');
    parts.next() == Some(LEGACY_VERSION)
        && parts.by_ref().take(3).filter(|p| !p.is_empty()).count() == 3
        && parts.next().is_none()
}

/// The marker a withheld token leaves in the trail: `[token sha256:<hex>]`.
pub fn withheld_marker(token: &str) -> String {
    format!(
        "[token sha256:{}]",
        consent_proof::chain::sha256_hex(token.as_bytes())
    )
}

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

/// What is actually signed: the claims plus the purpose.
#[derive(Serialize)]
struct SignedPayloadRef<'a> {
    purpose: &'a str,
    #[serde(flatten)]
    claims: &'a ConfirmationClaims,
}

/// The decoded form of [`SignedPayloadRef`].
#[derive(Deserialize)]
struct SignedPayload {
    purpose: String,
    #[serde(flatten)]
    claims: ConfirmationClaims,
}

/// The payload JSON of claims: the claims plus the purpose.
fn payload_json(claims: &ConfirmationClaims) -> Vec<u8> {
    let payload = SignedPayloadRef {
        purpose: PURPOSE,
        claims,
    };
    // Strings, a phone number and a timestamp always serialize.
    serde_json::to_vec(&payload).expect("claims serialize to JSON")
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

/// Why a signing key or key spec was refused. Never carries secret material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenKeyError {
    /// The spec lists no keys.
    #[error("no token keys given (expected \"kid:base64secret[,kid:base64secret...]\")")]
    Empty,
    /// An entry has no `kid:` prefix (1-based position in the spec).
    #[error("token key entry {position} is not \"kid:base64secret\"")]
    MissingKeyId {
        /// Which entry, from 1.
        position: usize,
    },
    /// The key id is not URL-safe or has the wrong length; not echoed, in case it is a secret.
    #[error(
        "a token key id must be 1-{MAX_KEY_ID_LEN} characters of A-Z, a-z, 0-9, '_' or '-' \
         (got {len} characters)"
    )]
    InvalidKeyId {
        /// Length of the refused id, in characters.
        len: usize,
    },
    /// The secret is not valid base64.
    #[error("the secret of token key '{id}' is not base64")]
    SecretNotBase64 {
        /// The key id.
        id: String,
    },
    /// The secret is too short to be safe.
    #[error(
        "the secret of token key '{id}' is {len} bytes; at least {MIN_SECRET_LEN} are required"
    )]
    SecretTooShort {
        /// The key id.
        id: String,
        /// Its length in bytes.
        len: usize,
    },
    /// Two keys share an id, so a token could not say which one signed it.
    #[error("token key id '{0}' is used twice")]
    DuplicateKeyId(String),
}

/// One signing key and its id; build it with [`TokenKey::new`] so the id and secret are checked.
#[derive(Clone)]
pub struct TokenKey {
    /// The key id carried in each token.
    pub id: String,
    /// The secret.
    pub secret: Vec<u8>,
}

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl TokenKey {
    /// A key with a URL-safe id (`[A-Za-z0-9_-]{1,32}`) and a secret of at least 32 bytes.
    pub fn new(id: impl Into<String>, secret: impl Into<Vec<u8>>) -> Result<Self, TokenKeyError> {
        let id = id.into();
        if !is_valid_key_id(&id) {
            return Err(TokenKeyError::InvalidKeyId {
                len: id.chars().count(),
            });
        }
        let secret = secret.into();
        if secret.len() < MIN_SECRET_LEN {
            return Err(TokenKeyError::SecretTooShort {
                id,
                len: secret.len(),
            });
        }
        Ok(Self { id, secret })
    }

    fn mac(&self) -> HmacSha256 {
        // HMAC takes keys of any length (long ones are hashed), so this cannot fail.
        <HmacSha256 as KeyInit>::new_from_slice(&self.secret)
            .expect("HMAC accepts keys of any length")
    }

    /// A 32-byte key for one use, derived from the secret: the secret itself is never used
    /// for two algorithms.
    fn derived(&self, label: &[u8]) -> [u8; 32] {
        let mut mac = self.mac();
        mac.update(label);
        mac.finalize().into_bytes().into()
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(&Key::from(self.derived(b"consent-token/v2 encryption")))
    }

    /// The synthetic nonce of a plaintext: a MAC of it under a key of its own.
    fn nonce_for(&self, plaintext: &[u8]) -> [u8; NONCE_LEN] {
        let mut mac =
            <HmacSha256 as KeyInit>::new_from_slice(&self.derived(b"consent-token/v2 nonce"))
                .expect("HMAC accepts keys of any length");
        mac.update(plaintext);
        let digest = mac.finalize().into_bytes();
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&digest[..NONCE_LEN]);
        nonce
    }
}

/// Key ids travel in URLs and are split on '.', so only the URL-safe base64 alphabet is allowed.
fn is_valid_key_id(id: &str) -> bool {
    (1..=MAX_KEY_ID_LEN).contains(&id.len()) && id.bytes().all(is_url_safe_byte)
}

fn is_url_safe_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// Decodes a configured secret; operators paste output of `openssl rand -base64 32` or
/// URL-safe variants, with or without padding, so all are accepted.
fn decode_secret(text: &str) -> Option<Vec<u8>> {
    [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(text).ok())
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
    /// Parses `"kid:base64secret[,kid:base64secret...]"` from config: the first key is current,
    /// the rest are previous keys still accepted for verification.
    pub fn from_secret_spec(spec: &str) -> Result<Self, TokenKeyError> {
        let mut keys: Vec<TokenKey> = Vec::new();
        for (index, entry) in spec
            .split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .enumerate()
        {
            let position = index + 1;
            let (id, secret) = entry
                .split_once(':')
                .ok_or(TokenKeyError::MissingKeyId { position })?;
            let id = id.trim();
            if !is_valid_key_id(id) {
                return Err(TokenKeyError::InvalidKeyId {
                    len: id.chars().count(),
                });
            }
            let secret = decode_secret(secret.trim())
                .ok_or_else(|| TokenKeyError::SecretNotBase64 { id: id.to_string() })?;
            if keys.iter().any(|key| key.id == id) {
                return Err(TokenKeyError::DuplicateKeyId(id.to_string()));
            }
            keys.push(TokenKey::new(id, secret)?);
        }
        let mut keys = keys.into_iter();
        let current = keys.next().ok_or(TokenKeyError::Empty)?;
        Ok(Self {
            current,
            previous: keys.collect(),
        })
    }

    /// Seals claims into an opaque URL-safe token with the current key. Tokens over 2 KiB are
    /// refused by `verify`, which ordinary ids (well under 1 KiB of claims) never reach.
    pub fn sign(&self, claims: &ConfirmationClaims) -> String {
        self.seal(&payload_json(claims))
    }

    /// Seals raw payload bytes with the current key (split out so tests can seal payloads of
    /// their own).
    fn seal(&self, json: &[u8]) -> String {
        let key = &self.current;
        let header = format!("{VERSION}.{}", key.id);
        let nonce = key.nonce_for(json);
        let sealed = key
            .cipher()
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: json,
                    aad: header.as_bytes(),
                },
            )
            // Encryption fails only past 256 GiB of plaintext.
            .expect("claims of a few hundred bytes encrypt");
        let mut body = nonce.to_vec();
        body.extend_from_slice(&sealed);
        format!("{header}.{}", URL_SAFE_NO_PAD.encode(body))
    }

    /// Signs raw payload bytes in the legacy v1 form (tests of links sent before v2).
    #[cfg(test)]
    fn sign_v1_payload(&self, json: &[u8]) -> String {
        let key = &self.current;
        let signed = format!(
            "{LEGACY_VERSION}.{}.{}",
            key.id,
            URL_SAFE_NO_PAD.encode(json)
        );
        let mut mac = key.mac();
        mac.update(signed.as_bytes());
        let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{signed}.{signature}")
    }

    /// Signs claims in the legacy v1 form (tests of links sent before v2).
    #[cfg(test)]
    fn sign_v1(&self, claims: &ConfirmationClaims) -> String {
        self.sign_v1_payload(&payload_json(claims))
    }

    /// The key a token names, current or previous.
    fn key_named(&self, key_id: &str) -> Result<&TokenKey, TokenError> {
        std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|key| key.id == key_id)
            .ok_or(TokenError::UnknownKey)
    }

    /// Verifies a token (v2, or a v1 link sent before v2) and returns its claims.
    pub fn verify(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<ConfirmationClaims, TokenError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(TokenError::Malformed);
        }
        let json = match token.split_once('.') {
            Some((VERSION, _)) => self.open_v2(token)?,
            Some((LEGACY_VERSION, _)) => self.open_v1(token)?,
            _ => return Err(TokenError::Malformed),
        };
        let payload: SignedPayload =
            serde_json::from_slice(&json).map_err(|_| TokenError::Malformed)?;
        if payload.purpose != PURPOSE {
            return Err(TokenError::Malformed);
        }
        let claims = payload.claims;
        if now >= claims.expires_at {
            return Err(TokenError::Expired {
                expires_at: claims.expires_at,
            });
        }
        Ok(claims)
    }

    /// Opens a v2 token: its payload, if the key it names sealed it unchanged.
    fn open_v2(&self, token: &str) -> Result<Vec<u8>, TokenError> {
        let mut parts = token.split('.');
        let (Some(_), Some(key_id), Some(body_b64), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Malformed);
        };
        if [key_id, body_b64]
            .iter()
            .any(|part| part.is_empty() || !part.bytes().all(is_url_safe_byte))
        {
            return Err(TokenError::Malformed);
        }
        let key = self.key_named(key_id)?;
        let body = URL_SAFE_NO_PAD
            .decode(body_b64)
            .map_err(|_| TokenError::Malformed)?;
        if body.len() < NONCE_LEN + TAG_LEN {
            return Err(TokenError::Malformed);
        }
        // The length was checked above, so the split always finds a whole nonce.
        let Some((nonce, sealed)) = body.split_first_chunk::<NONCE_LEN>() else {
            return Err(TokenError::Malformed);
        };
        let header = &token[..token.len() - body_b64.len() - 1];
        key.cipher()
            .decrypt(
                &XNonce::from(*nonce),
                Payload {
                    msg: sealed,
                    aad: header.as_bytes(),
                },
            )
            .map_err(|_| TokenError::Tampered)
    }

    /// Opens a v1 token: its payload, if the key it names signed it unchanged.
    fn open_v1(&self, token: &str) -> Result<Vec<u8>, TokenError> {
        let mut parts = token.split('.');
        let (Some(version), Some(key_id), Some(payload_b64), Some(signature_b64), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(TokenError::Malformed);
        };
        if version != LEGACY_VERSION
            || [key_id, payload_b64, signature_b64]
                .iter()
                .any(|part| part.is_empty() || !part.bytes().all(is_url_safe_byte))
        {
            return Err(TokenError::Malformed);
        }

        let key = self.key_named(key_id)?;

        // A signature that does not even decode is as wrong as one that does not match.
        let signature = URL_SAFE_NO_PAD
            .decode(signature_b64)
            .map_err(|_| TokenError::Tampered)?;
        let signed_len = token.len() - signature_b64.len() - 1;
        let mut mac = key.mac();
        mac.update(&token.as_bytes()[..signed_len]);
        // Constant-time comparison, so timing reveals nothing about the expected signature.
        mac.verify_slice(&signature)
            .map_err(|_| TokenError::Tampered)?;

        URL_SAFE_NO_PAD
            .decode(payload_b64)
            .map_err(|_| TokenError::Malformed)
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};
    use proptest::prelude::*;

    use super::*;

    fn key(id: &str, fill: u8) -> TokenKey {
        TokenKey::new(id, vec![fill; 32]).unwrap()
    }

    fn keyring() -> TokenKeyring {
        TokenKeyring {
            current: key("k2", 2),
            previous: vec![key("k1", 1)],
        }
    }

    fn expiry() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2030, 1, 15, 12, 0, 0).unwrap()
    }

    fn now() -> DateTime<Utc> {
        expiry() - Duration::days(14)
    }

    fn claims() -> ConfirmationClaims {
        ConfirmationClaims {
            firm_id: "firm-123".to_string(),
            phone: PhoneNumber::parse("+14155550134").unwrap(),
            contact_id: "contact-9".to_string(),
            expires_at: expiry(),
        }
    }

    fn parts(token: &str) -> Vec<String> {
        token.split('.').map(str::to_string).collect()
    }

    // --- v2: sealed, opaque ------------------------------------------------------------------

    #[test]
    fn a_v1_link_in_an_email_is_withheld_on_the_way_out_and_a_v2_link_is_not_touched() {
        let ring = keyring();
        let v1 = ring.sign_v1(&claims());
        let v2 = ring.sign(&claims());
        let text = format!(
            "Confirm: https://x.example/confirm/{v1}\n<a href=\"https://x.example/confirm/{v1}\">yes</a>"
        );
        let withheld = withhold_legacy_links(&text).expect("a v1 link");
        assert!(!withheld.contains(&v1), "{withheld}");
        assert_eq!(withheld.matches(&withheld_marker(&v1)).count(), 2);
        assert!(withheld.ends_with("\">yes</a>"), "{withheld}");
        // A v2 link, or text that only looks like a path, is left as it is.
        assert_eq!(withhold_legacy_links(&format!("/confirm/{v2}")), None);
        assert_eq!(withhold_legacy_links("/confirm/v1.k1.only-three"), None);
        assert_eq!(withhold_legacy_links("/confirm/v1.k1.a.b.c"), None);
        assert_eq!(withhold_legacy_links("no link at all"), None);
    }

    #[test]
    fn sealed_tokens_round_trip() {
        let ring = keyring();
        let token = ring.sign(&claims());
        assert_eq!(ring.verify(&token, now()), Ok(claims()));
        // The same claims seal to the same token (the nonce is synthetic); others do not.
        assert_eq!(ring.sign(&claims()), token);
        let mut other = claims();
        other.contact_id = "contact-10".to_string();
        assert_ne!(parts(&ring.sign(&other))[2][..32], parts(&token)[2][..32]);
    }

    #[test]
    fn a_sealed_token_reveals_neither_the_number_nor_the_firm() {
        let token = keyring().sign(&claims());
        let parts = parts(&token);
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[0], "v2");
        assert_eq!(parts[1], "k2");
        assert!(token.bytes().all(|b| is_url_safe_byte(b) || b == b'.'));
        let body = URL_SAFE_NO_PAD.decode(&parts[2]).unwrap();
        let text = String::from_utf8_lossy(&body);
        for secret in [
            "4155550134",
            "firm-123",
            "contact-9",
            "email_opt_in",
            "2030",
        ] {
            assert!(!text.contains(secret), "{secret} readable in the token");
            assert!(!token.contains(secret), "{secret} readable in the token");
        }
        for encoding in [STANDARD, URL_SAFE] {
            let phone = encoding.encode("+14155550134");
            assert!(
                !token.contains(&phone[..12]),
                "the number's base64 is in the token"
            );
        }
    }

    #[test]
    fn a_changed_byte_of_a_sealed_token_is_tampering() {
        let ring = keyring();
        let token = ring.sign(&claims());
        let mut body = URL_SAFE_NO_PAD.decode(&parts(&token)[2]).unwrap();
        for index in [0, NONCE_LEN, body.len() - 1] {
            body[index] ^= 1;
            let changed = format!("v2.k2.{}", URL_SAFE_NO_PAD.encode(&body));
            assert_eq!(ring.verify(&changed, now()), Err(TokenError::Tampered));
            body[index] ^= 1;
        }
    }

    #[test]
    fn a_sealed_token_moved_to_another_key_id_does_not_open() {
        let ring = keyring();
        let token = ring.sign(&claims());
        let moved = token.replacen("v2.k2.", "v2.k1.", 1);
        assert_eq!(ring.verify(&moved, now()), Err(TokenError::Tampered));
        let unknown = token.replacen("v2.k2.", "v2.k9.", 1);
        assert_eq!(ring.verify(&unknown, now()), Err(TokenError::UnknownKey));
    }

    #[test]
    fn a_sealed_token_of_a_previous_key_opens_and_expires() {
        let old = TokenKeyring {
            current: key("k1", 1),
            previous: vec![],
        };
        let token = old.sign(&claims());
        assert_eq!(keyring().verify(&token, now()), Ok(claims()));
        assert_eq!(
            keyring().verify(&token, expiry()),
            Err(TokenError::Expired {
                expires_at: expiry()
            })
        );
    }

    #[test]
    fn short_or_malformed_sealed_tokens_are_malformed() {
        let ring = keyring();
        let token = ring.sign(&claims());
        let body = parts(&token)[2].clone();
        for bad in [
            "v2.k2.".to_string(),
            "v2.k2.AAAA".to_string(),
            format!("v2.k2.{}", &body[..20]),
            format!("v2.k2.{body}.extra"),
            format!("v2.k2.{body}!"),
            format!("v2..{body}"),
        ] {
            assert_eq!(
                ring.verify(&bad, now()),
                Err(TokenError::Malformed),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_sealed_payload_of_another_purpose_is_refused() {
        let ring = keyring();
        let json = serde_json::to_vec(&serde_json::json!({
            "purpose": "password_reset",
            "firm_id": "firm-123",
            "phone": "+14155550134",
            "contact_id": "contact-9",
            "expires_at": expiry(),
        }))
        .unwrap();
        assert_eq!(
            ring.verify(&ring.seal(&json), now()),
            Err(TokenError::Malformed)
        );
        assert_eq!(
            ring.verify(&ring.seal(b"not json"), now()),
            Err(TokenError::Malformed)
        );
    }

    // --- v1: links sent before v2 still verify until they expire --------------------------

    #[test]
    fn round_trips() {
        let ring = keyring();
        let token = ring.sign_v1(&claims());
        assert_eq!(ring.verify(&token, now()), Ok(claims()));
    }

    #[test]
    fn token_is_versioned_url_safe_and_names_its_key() {
        let token = keyring().sign_v1(&claims());
        let parts = parts(&token);
        assert_eq!(parts.len(), 4);
        assert_eq!(parts[0], "v1");
        assert_eq!(parts[1], "k2");
        assert!(token.bytes().all(|b| is_url_safe_byte(b) || b == b'.'));
        let json: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[2]).unwrap()).unwrap();
        assert_eq!(json["purpose"], "email_opt_in");
        assert_eq!(json["phone"], "+14155550134");
    }

    #[test]
    fn tampered_payload_byte_is_rejected() {
        let ring = keyring();
        let token = ring.sign_v1(&claims());
        let mut parts = parts(&token);
        let mut payload = parts[2].clone().into_bytes();
        payload[5] = if payload[5] == b'A' { b'B' } else { b'A' };
        parts[2] = String::from_utf8(payload).unwrap();
        assert_eq!(
            ring.verify(&parts.join("."), now()),
            Err(TokenError::Tampered)
        );
    }

    #[test]
    fn re_encoded_payload_with_other_claims_is_rejected() {
        let ring = keyring();
        let token = ring.sign_v1(&claims());
        let mut parts = parts(&token);
        let mut forged = claims();
        forged.phone = PhoneNumber::parse("+14155550135").unwrap();
        forged.expires_at = expiry() + Duration::days(365);
        let json = serde_json::to_vec(&SignedPayloadRef {
            purpose: PURPOSE,
            claims: &forged,
        })
        .unwrap();
        parts[2] = URL_SAFE_NO_PAD.encode(json);
        assert_eq!(
            ring.verify(&parts.join("."), now()),
            Err(TokenError::Tampered)
        );
    }

    #[test]
    fn tampered_signature_is_rejected() {
        let ring = keyring();
        let token = ring.sign_v1(&claims());
        let mut parts = parts(&token);
        let mut signature = parts[3].clone().into_bytes();
        signature[0] = if signature[0] == b'A' { b'B' } else { b'A' };
        parts[3] = String::from_utf8(signature).unwrap();
        assert_eq!(
            ring.verify(&parts.join("."), now()),
            Err(TokenError::Tampered)
        );
    }

    #[test]
    fn truncated_tokens_are_rejected() {
        let ring = keyring();
        let token = ring.sign_v1(&claims());
        assert_eq!(
            ring.verify(&token[..token.len() - 1], now()),
            Err(TokenError::Tampered)
        );
        let without_signature = token.rsplit_once('.').unwrap().0;
        assert_eq!(
            ring.verify(without_signature, now()),
            Err(TokenError::Malformed)
        );
        assert_eq!(
            ring.verify(&format!("{without_signature}."), now()),
            Err(TokenError::Malformed)
        );
        for len in 0..token.len() {
            assert!(
                ring.verify(&token[..len], now()).is_err(),
                "prefix of {len}"
            );
        }
    }

    #[test]
    fn swapped_key_id_is_rejected() {
        let ring = keyring();
        let token = ring.sign_v1(&claims());
        let mut parts = parts(&token);
        parts[1] = "k1".to_string();
        assert_eq!(
            ring.verify(&parts.join("."), now()),
            Err(TokenError::Tampered)
        );
    }

    #[test]
    fn unknown_key_is_rejected() {
        let ring = keyring();
        let other = TokenKeyring {
            current: key("k9", 9),
            previous: vec![],
        };
        assert_eq!(
            ring.verify(&other.sign_v1(&claims()), now()),
            Err(TokenError::UnknownKey)
        );
        // Same id, different secret: a forgery, not an unknown key.
        let impostor = TokenKeyring {
            current: key("k2", 7),
            previous: vec![],
        };
        assert_eq!(
            ring.verify(&impostor.sign_v1(&claims()), now()),
            Err(TokenError::Tampered)
        );
    }

    #[test]
    fn expires_at_the_expiry_instant() {
        let ring = keyring();
        let token = ring.sign_v1(&claims());
        assert_eq!(
            ring.verify(&token, expiry() - Duration::seconds(1)),
            Ok(claims())
        );
        let expired = Err(TokenError::Expired {
            expires_at: expiry(),
        });
        assert_eq!(ring.verify(&token, expiry()), expired);
        assert_eq!(ring.verify(&token, expiry() + Duration::days(3)), expired);
    }

    #[test]
    fn signature_is_checked_before_expiry() {
        let ring = keyring();
        let token = ring.sign_v1(&claims());
        let mut parts = parts(&token);
        parts[3] = URL_SAFE_NO_PAD.encode([0u8; 32]);
        assert_eq!(
            ring.verify(&parts.join("."), expiry() + Duration::days(1)),
            Err(TokenError::Tampered)
        );
    }

    #[test]
    fn token_from_previous_key_still_verifies() {
        let old = TokenKeyring {
            current: key("k1", 1),
            previous: vec![],
        };
        let token = old.sign_v1(&claims());
        assert_eq!(keyring().verify(&token, now()), Ok(claims()));
    }

    #[test]
    fn other_purpose_is_rejected() {
        let ring = keyring();
        let json = serde_json::to_vec(&SignedPayloadRef {
            purpose: "password_reset",
            claims: &claims(),
        })
        .unwrap();
        assert_eq!(
            ring.verify(&ring.sign_v1_payload(&json), now()),
            Err(TokenError::Malformed)
        );
        let without_purpose = serde_json::to_vec(&claims()).unwrap();
        assert_eq!(
            ring.verify(&ring.sign_v1_payload(&without_purpose), now()),
            Err(TokenError::Malformed)
        );
    }

    #[test]
    fn signed_garbage_payload_is_malformed() {
        let ring = keyring();
        for payload in [&b"not json"[..], b"{}", b"[]", b"\xff\xfe"] {
            assert_eq!(
                ring.verify(&ring.sign_v1_payload(payload), now()),
                Err(TokenError::Malformed)
            );
        }
        let bad_phone = serde_json::json!({
            "purpose": PURPOSE,
            "firm_id": "f",
            "phone": "not a phone",
            "contact_id": "c",
            "expires_at": expiry(),
        });
        assert_eq!(
            ring.verify(
                &ring.sign_v1_payload(bad_phone.to_string().as_bytes()),
                now()
            ),
            Err(TokenError::Malformed)
        );
    }

    #[test]
    fn garbage_is_malformed() {
        let ring = keyring();
        let long = "a".repeat(MAX_TOKEN_LEN + 1);
        for garbage in [
            "",
            ".",
            "...",
            "....",
            "hello",
            "v1",
            "v1.k2",
            "v1.k2.abc",
            "v2.k2.abc.def",
            "v1.k2.abc.def.ghi",
            "v1.k2.a+b.def",
            "v1.k 2.abc.def",
            "v1..abc.def",
            "v1.k2..def",
            "v1.k2.abc.d=f",
            "v1.k2.中文.def",
            "\0\0\0",
            long.as_str(),
        ] {
            assert_eq!(
                ring.verify(garbage, now()),
                Err(TokenError::Malformed),
                "{garbage:?}"
            );
        }
    }

    #[test]
    fn overlong_token_is_malformed_even_if_signed() {
        let ring = keyring();
        let padding = " ".repeat(MAX_TOKEN_LEN);
        let token = ring.sign_v1_payload(format!("{{{padding}}}").as_bytes());
        assert_eq!(ring.verify(&token, now()), Err(TokenError::Malformed));
    }

    #[test]
    fn key_ids_must_be_url_safe() {
        assert!(TokenKey::new("2024-06_a", vec![0; 32]).is_ok());
        assert!(TokenKey::new("a".repeat(32), vec![0; 32]).is_ok());
        for id in ["", "a.b", "a b", "a/b", "a+b", "é", &"a".repeat(33)] {
            assert!(
                matches!(
                    TokenKey::new(id, vec![0; 32]),
                    Err(TokenKeyError::InvalidKeyId { .. })
                ),
                "{id:?}"
            );
        }
    }

    #[test]
    fn secrets_must_be_at_least_32_bytes() {
        assert_eq!(
            TokenKey::new("k", vec![0; 31]).unwrap_err(),
            TokenKeyError::SecretTooShort {
                id: "k".to_string(),
                len: 31
            }
        );
    }

    #[test]
    fn debug_hides_the_secret() {
        let shown = format!("{:?}", TokenKey::new("k", vec![0x41; 32]).unwrap());
        assert!(!shown.contains("AAAA") && !shown.contains("65"), "{shown}");
    }

    #[test]
    fn parses_secret_spec() {
        let a = STANDARD.encode([1u8; 32]);
        let b = URL_SAFE_NO_PAD.encode([0xfbu8; 40]);
        let ring = TokenKeyring::from_secret_spec(&format!(" k2:{a} , k1:{b} ,")).unwrap();
        assert_eq!(ring.current.id, "k2");
        assert_eq!(ring.current.secret, vec![1u8; 32]);
        assert_eq!(ring.previous.len(), 1);
        assert_eq!(ring.previous[0].id, "k1");
        assert_eq!(ring.previous[0].secret, vec![0xfbu8; 40]);

        let single = TokenKeyring::from_secret_spec(&format!("only:{a}")).unwrap();
        assert!(single.previous.is_empty());
    }

    fn spec_error(spec: &str) -> TokenKeyError {
        TokenKeyring::from_secret_spec(spec).unwrap_err()
    }

    #[test]
    fn rejects_bad_secret_specs() {
        let a = STANDARD.encode([1u8; 32]);
        let short = STANDARD.encode([1u8; 16]);
        assert_eq!(spec_error(""), TokenKeyError::Empty);
        assert_eq!(spec_error(" , "), TokenKeyError::Empty);
        assert_eq!(spec_error(&a), TokenKeyError::MissingKeyId { position: 1 });
        assert_eq!(
            spec_error(&format!("k2:{a},{a}")),
            TokenKeyError::MissingKeyId { position: 2 }
        );
        assert_eq!(
            spec_error(&format!(":{a}")),
            TokenKeyError::InvalidKeyId { len: 0 }
        );
        assert_eq!(
            spec_error(&format!("k.1:{a}")),
            TokenKeyError::InvalidKeyId { len: 3 }
        );
        assert_eq!(
            spec_error("k1:not base64!"),
            TokenKeyError::SecretNotBase64 {
                id: "k1".to_string()
            }
        );
        assert_eq!(
            spec_error(&format!("k1:{short}")),
            TokenKeyError::SecretTooShort {
                id: "k1".to_string(),
                len: 16
            }
        );
        assert_eq!(
            spec_error(&format!("k1:{a},k1:{a}")),
            TokenKeyError::DuplicateKeyId("k1".to_string())
        );
    }

    #[test]
    fn spec_errors_never_show_the_secret() {
        let a = STANDARD.encode([7u8; 32]);
        let short = STANDARD.encode([7u8; 8]);
        for spec in [a.clone(), format!("{a}:{a}"), format!("k:{short}")] {
            let message = TokenKeyring::from_secret_spec(&spec)
                .unwrap_err()
                .to_string();
            assert!(
                !message.contains(&a) && !message.contains(&short),
                "{message}"
            );
        }
    }

    proptest! {
        #[test]
        fn verify_never_panics(input in any::<String>()) {
            let _ = keyring().verify(&input, now());
        }

        #[test]
        fn verify_never_panics_on_sealed_token_shaped_input(input in "v2\\.k[12]\\.[A-Za-z0-9_-]{0,120}") {
            let _ = keyring().verify(&input, now());
        }

        #[test]
        fn verify_never_panics_on_token_shaped_input(input in "v1\\.k[12]\\.[A-Za-z0-9_-]{0,80}\\.[A-Za-z0-9_-]{0,50}") {
            let _ = keyring().verify(&input, now());
        }

        #[test]
        fn no_single_character_change_verifies(index in any::<prop::sample::Index>(), replacement in any::<char>()) {
            let ring = keyring();
            let token = ring.sign_v1(&claims());
            let mut chars: Vec<char> = token.chars().collect();
            let at = index.index(chars.len());
            prop_assume!(chars[at] != replacement);
            chars[at] = replacement;
            let mutated: String = chars.into_iter().collect();
            let result = ring.verify(&mutated, now());
            prop_assert!(result.is_err(), "{mutated} verified as {result:?}");
        }

        #[test]
        fn no_single_alphabet_change_verifies(index in any::<prop::sample::Index>(), replacement in "[A-Za-z0-9_.-]") {
            let ring = keyring();
            let token = ring.sign_v1(&claims());
            let mut chars: Vec<char> = token.chars().collect();
            let at = index.index(chars.len());
            let replacement = replacement.chars().next().unwrap();
            prop_assume!(chars[at] != replacement);
            chars[at] = replacement;
            let mutated: String = chars.into_iter().collect();
            let result = ring.verify(&mutated, now());
            prop_assert!(result.is_err(), "{mutated} verified as {result:?}");
        }
    }
}
