//! The keys the configuration names: their specs parsed (plain, or a field of a JSON secret),
//! and fetched from Secrets Manager or SSM when they are not given inline.

use std::sync::Arc;

use aws_config::SdkConfig;
use consent::evidence::proof::ProofSigner;
use consent::evidence::token::TokenKeyring;
use consent::flows::proof::ProofSigning;
use consent::ports::{BackendError, ProofKeyFetch};

use super::names::{PROOF_KEY, PROOF_KEY_SECRET_ARN, TOKEN_KEYS_PARAMETER, TOKEN_KEYS_SECRET_ARN};
use super::{AwsConfig, ConfigError, ProofKeySource, TokenKeySource};

/// The field of a JSON secret that holds the key spec.
const SECRET_JSON_FIELD: &str = "TOKEN_KEYS";

impl AwsConfig {
    /// The proof-signing key, read from Secrets Manager when the config names a secret;
    /// `None` when none is configured.
    pub async fn proof_signer(
        &self,
        sdk: &SdkConfig,
    ) -> Result<Option<Arc<ProofSigner>>, ConfigError> {
        match &self.proof_key {
            None => Ok(None),
            Some(ProofKeySource::Inline(signer)) => Ok(Some(signer.clone())),
            Some(ProofKeySource::SecretsManager(id)) => {
                let spec = read_secret(sdk, id).await.map_err(|source| {
                    ConfigError::ProofKeyUnavailable {
                        name: PROOF_KEY_SECRET_ARN,
                        source,
                    }
                })?;
                Ok(Some(Arc::new(parse_proof_key(
                    PROOF_KEY_SECRET_ARN,
                    &spec,
                )?)))
            }
        }
    }

    /// How the flows get the proof key: given inline, or read from Secrets Manager when a
    /// proof is first signed (not at cold start: most requests to firm-admin sign none).
    pub fn proof_signing(&self, sdk: &SdkConfig) -> ProofSigning {
        match &self.proof_key {
            None => ProofSigning::default(),
            Some(ProofKeySource::Inline(signer)) => ProofSigning::given(signer.clone()),
            Some(ProofKeySource::SecretsManager(id)) => {
                ProofSigning::fetched(Arc::new(ProofKeyInSecretsManager {
                    sdk: sdk.clone(),
                    id: id.clone(),
                }))
            }
        }
    }

    /// The token keys, read from Secrets Manager or SSM when the config names a secret;
    /// `None` when the function uses none.
    pub async fn token_keyring(
        &self,
        sdk: &SdkConfig,
    ) -> Result<Option<TokenKeyring>, ConfigError> {
        let Some(source) = &self.token_keys else {
            return Ok(None);
        };
        match source {
            TokenKeySource::Inline(ring) => Ok(Some(ring.clone())),
            TokenKeySource::SecretsManager(id) => {
                let spec = read_secret(sdk, id).await.map_err(|source| {
                    ConfigError::TokenKeysUnavailable {
                        name: TOKEN_KEYS_SECRET_ARN,
                        source,
                    }
                })?;
                parse_keyring(TOKEN_KEYS_SECRET_ARN, &spec).map(Some)
            }
            TokenKeySource::Parameter(name) => {
                let spec = read_parameter(sdk, name).await?;
                parse_keyring(TOKEN_KEYS_PARAMETER, &spec).map(Some)
            }
        }
    }
}

/// Parses a key spec, plain or as the `TOKEN_KEYS` field of a JSON object (the shape the
/// Secrets Manager console writes).
pub(super) fn parse_keyring(name: &'static str, spec: &str) -> Result<TokenKeyring, ConfigError> {
    let spec = spec.trim();
    let spec = if spec.starts_with('{') {
        serde_json::from_str::<serde_json::Value>(spec)
            .ok()
            .and_then(|json| {
                json.get(SECRET_JSON_FIELD)
                    .and_then(|v| v.as_str())
                    .map(str::to_string)
            })
            .ok_or_else(|| ConfigError::Invalid {
                name,
                reason: format!("a JSON secret must have a string field \"{SECRET_JSON_FIELD}\""),
            })?
    } else {
        spec.to_string()
    };
    TokenKeyring::from_secret_spec(&spec).map_err(|source| ConfigError::TokenKeys { name, source })
}

/// Parses a proof key spec, plain or as the `PROOF_KEY` field of a JSON object.
pub(super) fn parse_proof_key(name: &'static str, spec: &str) -> Result<ProofSigner, ConfigError> {
    let spec = spec.trim();
    let spec = if spec.starts_with('{') {
        serde_json::from_str::<serde_json::Value>(spec)
            .ok()
            .and_then(|json| {
                json.get(PROOF_KEY)
                    .and_then(|v| v.as_str())
                    .map(str::to_string)
            })
            .ok_or_else(|| ConfigError::Invalid {
                name,
                reason: format!("a JSON secret must have a string field \"{PROOF_KEY}\""),
            })?
    } else {
        spec.to_string()
    };
    ProofSigner::from_spec(&spec).map_err(|source| ConfigError::ProofKey { name, source })
}

/// The proof key in a Secrets Manager secret, read when a proof is first signed.
struct ProofKeyInSecretsManager {
    sdk: SdkConfig,
    id: String,
}

#[async_trait::async_trait]
impl ProofKeyFetch for ProofKeyInSecretsManager {
    async fn fetch(&self) -> Result<ProofSigner, BackendError> {
        let spec = read_secret(&self.sdk, &self.id).await?;
        parse_proof_key(PROOF_KEY_SECRET_ARN, &spec).map_err(|e| Box::new(e) as BackendError)
    }
}

async fn read_secret(sdk: &SdkConfig, id: &str) -> Result<String, BackendError> {
    let output = aws_sdk_secretsmanager::Client::new(sdk)
        .get_secret_value()
        .secret_id(id)
        .send()
        .await
        .map_err(|e| Box::new(e) as BackendError)?;
    output
        .secret_string
        .ok_or_else(|| Box::new(NoSecretString) as BackendError)
}

async fn read_parameter(sdk: &SdkConfig, name: &str) -> Result<String, ConfigError> {
    let unavailable = |source: BackendError| ConfigError::TokenKeysUnavailable {
        name: TOKEN_KEYS_PARAMETER,
        source,
    };
    let output = aws_sdk_ssm::Client::new(sdk)
        .get_parameter()
        .name(name)
        .with_decryption(true)
        .send()
        .await
        .map_err(|e| unavailable(Box::new(e)))?;
    output
        .parameter
        .and_then(|p| p.value)
        .ok_or_else(|| unavailable(Box::new(NoSecretString)))
}

/// The secret or parameter has no text value (a binary secret, say).
#[derive(Debug, thiserror::Error)]
#[error("the secret has no text value")]
pub struct NoSecretString;

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";

    #[test]
    fn reads_a_json_proof_key_secret() {
        let signer = parse_proof_key(
            PROOF_KEY_SECRET_ARN,
            &format!(r#"{{"PROOF_KEY":"p9:{SECRET}"}}"#),
        )
        .expect("json secret");
        assert_eq!(signer.key_id(), "p9");
        // The shape a generated secret has: a bare hex seed, the key id derived from the key.
        let generated = parse_proof_key(
            PROOF_KEY_SECRET_ARN,
            &format!(r#"{{"PROOF_KEY":"{}"}}"#, "0a".repeat(32)),
        )
        .expect("hex seed");
        assert!(generated.key_id().starts_with("ed25519-"));
        assert!(parse_proof_key(PROOF_KEY_SECRET_ARN, r#"{"other":1}"#).is_err());
    }

    #[test]
    fn reads_a_json_secret() {
        let ring = parse_keyring(
            TOKEN_KEYS_SECRET_ARN,
            &format!(r#"{{"TOKEN_KEYS":"k9:{SECRET}"}}"#),
        )
        .expect("json secret");
        assert_eq!(ring.current.id, "k9");
        assert!(parse_keyring(TOKEN_KEYS_SECRET_ARN, r#"{"other":1}"#).is_err());
    }
}
