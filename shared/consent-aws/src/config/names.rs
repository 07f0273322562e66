//! The environment variables the functions read, by name: the SAM template sets them and
//! its test checks each one.

/// The DynamoDB table.
pub const TABLE_NAME: &str = "TABLE_NAME";
/// Where the email confirmation page lives (`https://consent.example.com`).
pub const CONFIRM_BASE_URL: &str = "CONFIRM_BASE_URL";
/// The address emails come from (an SES identity).
pub const SES_FROM_ADDRESS: &str = "SES_FROM_ADDRESS";
/// The SES configuration set, optional.
pub const SES_CONFIGURATION_SET: &str = "SES_CONFIGURATION_SET";
/// The token keys inline, `kid:base64secret[,kid:base64secret]` (local use).
pub const TOKEN_KEYS: &str = "TOKEN_KEYS";
/// A Secrets Manager secret holding the token keys.
pub const TOKEN_KEYS_SECRET_ARN: &str = "TOKEN_KEYS_SECRET_ARN";
/// An SSM SecureString parameter holding the token keys.
pub const TOKEN_KEYS_PARAMETER: &str = "TOKEN_KEYS_PARAMETER";
/// How many days an email confirmation link works, optional.
pub const TOKEN_TTL_DAYS: &str = "TOKEN_TTL_DAYS";
/// The proof-signing key inline (local use): `kid:seed` or a bare `seed`, the seed being a
/// 32-byte Ed25519 seed in base64 or hex.
pub const PROOF_KEY: &str = "PROOF_KEY";
/// A Secrets Manager secret holding the proof-signing key (the `PROOF_KEY` form, plain or as
/// the `PROOF_KEY` field of a JSON object).
pub const PROOF_KEY_SECRET_ARN: &str = "PROOF_KEY_SECRET_ARN";
/// The EventBridge bus the consent-events function puts the feed on: a bus name or ARN (read
/// by that function alone; no handler writes to EventBridge).
pub const EVENT_BUS: &str = "EVENT_BUS";
