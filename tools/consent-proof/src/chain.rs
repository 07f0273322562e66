//! The chain's primitives every verifier needs: the genesis of a (firm, number) trail and of a
//! firm's own trail, an event's hash (SHA-256 of its canonical JSON without `hash`), and hex.

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::canonical::canonical_json_without_members;

/// The domain of the chain's genesis value (and the format version of the chain rule).
pub const CHAIN_DOMAIN: &str = "consent-chain/v1";

/// The value the first event of a (firm, number) trail links to.
pub fn genesis(firm_id: &str, phone: &str) -> String {
    sha256_hex(format!("{CHAIN_DOMAIN}\n{firm_id}\n{phone}").as_bytes())
}

/// The domain of a firm's own chain (its settings, double opt-in switches, templates).
pub const FIRM_CHAIN_DOMAIN: &str = "consent-firm-chain/v1";

/// The value the first event of a firm's own trail links to: another domain than a number's
/// genesis, so neither trail can be passed off as the other.
pub fn firm_genesis(firm_id: &str) -> String {
    sha256_hex(format!("{FIRM_CHAIN_DOMAIN}\n{firm_id}").as_bytes())
}

/// The event member that carries disclosed texts and salts beside their commitments
/// (`commitment.rs`); an event's hash leaves it out.
pub const DISCLOSED: &str = "disclosed";

/// The hash of an event given as JSON: SHA-256 of its canonical form without `hash` and
/// without the texts disclosed beside its commitments ([`DISCLOSED`]), so an event hashes the
/// same whether its texts are shown or not.
pub fn event_hash(event: &Value) -> String {
    sha256_hex(canonical_json_without_members(event, &["hash", DISCLOSED]).as_bytes())
}

/// Lowercase hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0xf)]));
    }
    out
}
