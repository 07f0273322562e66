//! Configuration from environment variables, read once at start (`env`), and the keys it names,
//! fetched from Secrets Manager or SSM when they are not given inline (`secrets`).

use std::sync::Arc;

use chrono::Duration;
use consent::evidence::proof::{ProofKeyError, ProofSigner};
use consent::evidence::token::{TokenKeyError, TokenKeyring};
use consent::flows::ServiceConfig;
use consent::ports::BackendError;

mod env;
mod names;
mod secrets;

pub use env::{DEFAULT_TOKEN_TTL_DAYS, PROOF_KEY_ANY};
pub use names::*;
pub use secrets::NoSecretString;

/// The configuration is incomplete or wrong. Never carries secret material.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Required variables are not set (all of them, in one error).
    #[error("missing environment variables: {}", .0.join(", "))]
    Missing(Vec<&'static str>),
    /// A variable is set to something unusable.
    #[error("{name}: {reason}")]
    Invalid {
        /// The variable.
        name: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The token keys do not parse.
    #[error("{name}: invalid token keys")]
    TokenKeys {
        /// The variable they came from.
        name: &'static str,
        /// The parse error.
        #[source]
        source: TokenKeyError,
    },
    /// The token keys could not be read from Secrets Manager or SSM.
    #[error("{name}: could not read the token keys")]
    TokenKeysUnavailable {
        /// The variable naming the secret.
        name: &'static str,
        /// The SDK's error.
        #[source]
        source: BackendError,
    },
    /// The proof key does not parse.
    #[error("{name}: invalid proof key")]
    ProofKey {
        /// The variable it came from.
        name: &'static str,
        /// The parse error.
        #[source]
        source: ProofKeyError,
    },
    /// The proof key could not be read from Secrets Manager.
    #[error("{name}: could not read the proof key")]
    ProofKeyUnavailable {
        /// The variable naming the secret.
        name: &'static str,
        /// The SDK's error.
        #[source]
        source: BackendError,
    },
}

/// Where the proof-signing key comes from.
#[derive(Clone)]
pub enum ProofKeySource {
    /// Given inline (already parsed).
    Inline(Arc<ProofSigner>),
    /// A Secrets Manager secret id or ARN.
    SecretsManager(String),
}

// Debug never shows key material.
impl std::fmt::Debug for ProofKeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Inline(signer) => f
                .debug_tuple("Inline")
                .field(&signer.key_id())
                .finish_non_exhaustive(),
            Self::SecretsManager(id) => f.debug_tuple("SecretsManager").field(id).finish(),
        }
    }
}

/// Where the token keys come from.
#[derive(Clone)]
pub enum TokenKeySource {
    /// Given inline (already parsed).
    Inline(TokenKeyring),
    /// A Secrets Manager secret id or ARN.
    SecretsManager(String),
    /// An SSM parameter name (SecureString).
    Parameter(String),
}

// Debug never shows key material.
impl std::fmt::Debug for TokenKeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Inline(ring) => f
                .debug_tuple("Inline")
                .field(&ring.current.id)
                .finish_non_exhaustive(),
            Self::SecretsManager(id) => f.debug_tuple("SecretsManager").field(id).finish(),
            Self::Parameter(name) => f.debug_tuple("Parameter").field(name).finish(),
        }
    }
}

/// Everything the AWS functions read from their environment.
#[derive(Debug, Clone)]
pub struct AwsConfig {
    /// The DynamoDB table.
    pub table_name: String,
    /// The confirmation page's base URL, without a trailing slash.
    pub confirm_base_url: String,
    /// The sender address.
    pub ses_from_address: String,
    /// The SES configuration set, if any.
    pub ses_configuration_set: Option<String>,
    /// Where the token keys come from (`None`: this function uses none).
    pub token_keys: Option<TokenKeySource>,
    /// How long a confirmation link works.
    pub token_ttl: Duration,
    /// Where the proof-signing key comes from (`None`: not configured; firm-admin, the one
    /// function that signs proofs, requires it).
    pub proof_key: Option<ProofKeySource>,
}

impl AwsConfig {
    /// The flows' settings.
    pub fn service_config(&self) -> ServiceConfig {
        ServiceConfig {
            confirm_base_url: self.confirm_base_url.clone(),
            token_ttl: self.token_ttl,
        }
    }
}
