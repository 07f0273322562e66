//! Reading and checking the environment variables. Parsing is separate from reading the
//! environment, so it is tested without touching the process's environment.

use std::sync::Arc;

use chrono::Duration;
use consent::evidence::keys_used::KeysUsed;

use super::names::*;
use super::secrets::{parse_keyring, parse_proof_key};
use super::{AwsConfig, ConfigError, ProofKeySource, TokenKeySource};

/// How the token keys are named when none of their three variables is set.
const TOKEN_KEYS_ANY: &str = "TOKEN_KEYS or TOKEN_KEYS_SECRET_ARN or TOKEN_KEYS_PARAMETER";
/// How the proof key is named when the function needs it and neither variable is set.
pub const PROOF_KEY_ANY: &str = "PROOF_KEY or PROOF_KEY_SECRET_ARN";
/// The default life of a confirmation link.
pub const DEFAULT_TOKEN_TTL_DAYS: i64 = 14;
/// The longest life of a confirmation link accepted.
const MAX_TOKEN_TTL_DAYS: i64 = 365;

/// How the parser treats a key's variables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyNeed {
    /// One source must be set.
    Required,
    /// Read if set.
    IfSet,
    /// Not read at all: the function does not use the key.
    Ignored,
}

impl KeyNeed {
    fn of(used: bool) -> Self {
        if used { Self::Required } else { Self::Ignored }
    }
}

impl AwsConfig {
    /// Reads the process's environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the process's environment for a function that uses the keys `keys` (and reads
    /// no other key's variables).
    pub fn from_env_for(keys: KeysUsed) -> Result<Self, ConfigError> {
        Self::from_lookup_for(|name| std::env::var(name).ok(), keys)
    }

    /// As [`Self::from_env_for`], from `lookup`.
    pub fn from_lookup_for(
        lookup: impl Fn(&str) -> Option<String>,
        keys: KeysUsed,
    ) -> Result<Self, ConfigError> {
        Self::parse(
            lookup,
            KeyNeed::of(keys.confirmation_tokens),
            KeyNeed::of(keys.proof_signing),
        )
    }

    /// Parses the configuration from `lookup` (a variable's value by name); blank counts as
    /// unset. Every missing variable is named in one error. The proof key is optional here
    /// (only the function that signs proofs is given it).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Self::parse(lookup, KeyNeed::Required, KeyNeed::IfSet)
    }

    /// As [`Self::from_lookup`], with the proof key required and named among the missing.
    pub fn from_lookup_with_proof_key(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        Self::parse(lookup, KeyNeed::Required, KeyNeed::Required)
    }

    fn parse(
        lookup: impl Fn(&str) -> Option<String>,
        token_keys_need: KeyNeed,
        proof_key_need: KeyNeed,
    ) -> Result<Self, ConfigError> {
        let get = |name: &str| {
            lookup(name)
                .map(|value| value.trim().to_string())
                .filter(|value| !value.is_empty())
        };
        let mut missing = Vec::new();
        let mut required = |name: &'static str| {
            let value = get(name);
            if value.is_none() {
                missing.push(name);
            }
            value.unwrap_or_default()
        };
        let table_name = required(TABLE_NAME);
        let confirm_base_url = required(CONFIRM_BASE_URL);
        let ses_from_address = required(SES_FROM_ADDRESS);
        let set_among = |names: &[&'static str], need: KeyNeed| -> Vec<(&'static str, String)> {
            if need == KeyNeed::Ignored {
                return Vec::new();
            }
            names
                .iter()
                .filter_map(|name| get(name).map(|value| (*name, value)))
                .collect()
        };
        let sources = set_among(
            &[TOKEN_KEYS, TOKEN_KEYS_SECRET_ARN, TOKEN_KEYS_PARAMETER],
            token_keys_need,
        );
        if token_keys_need == KeyNeed::Required && sources.is_empty() {
            missing.push(TOKEN_KEYS_ANY);
        }
        let proof_sources = set_among(&[PROOF_KEY, PROOF_KEY_SECRET_ARN], proof_key_need);
        if proof_key_need == KeyNeed::Required && proof_sources.is_empty() {
            missing.push(PROOF_KEY_ANY);
        }
        if !missing.is_empty() {
            return Err(ConfigError::Missing(missing));
        }
        let proof_key = match proof_sources.as_slice() {
            [] => None,
            [(PROOF_KEY, spec)] => Some(ProofKeySource::Inline(Arc::new(parse_proof_key(
                PROOF_KEY, spec,
            )?))),
            [(_, id)] => Some(ProofKeySource::SecretsManager(id.clone())),
            _ => {
                return Err(ConfigError::Invalid {
                    name: PROOF_KEY,
                    reason: format!("set only one of {PROOF_KEY_ANY}"),
                });
            }
        };

        let token_keys = match sources.as_slice() {
            [] => None,
            [(name, value)] => Some(token_key_source(name, value)?),
            _ => {
                return Err(ConfigError::Invalid {
                    name: TOKEN_KEYS,
                    reason: format!("set only one of {TOKEN_KEYS_ANY}"),
                });
            }
        };
        let confirm_base_url = parse_base_url(&confirm_base_url)?;
        if !ses_from_address.contains('@') {
            return Err(ConfigError::Invalid {
                name: SES_FROM_ADDRESS,
                reason: "not an email address".to_string(),
            });
        }
        let token_ttl = match get(TOKEN_TTL_DAYS) {
            None => Duration::days(DEFAULT_TOKEN_TTL_DAYS),
            Some(days) => parse_ttl_days(&days)?,
        };
        Ok(Self {
            table_name,
            confirm_base_url,
            ses_from_address,
            ses_configuration_set: get(SES_CONFIGURATION_SET),
            token_keys,
            token_ttl,
            proof_key,
        })
    }
}

fn token_key_source(name: &'static str, value: &str) -> Result<TokenKeySource, ConfigError> {
    Ok(match name {
        TOKEN_KEYS => TokenKeySource::Inline(parse_keyring(name, value)?),
        TOKEN_KEYS_SECRET_ARN => TokenKeySource::SecretsManager(value.to_string()),
        _ => TokenKeySource::Parameter(value.to_string()),
    })
}

fn parse_base_url(value: &str) -> Result<String, ConfigError> {
    let url = value.trim_end_matches('/');
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !host.contains(char::is_whitespace) => {
            Ok(url.to_string())
        }
        _ => Err(ConfigError::Invalid {
            name: CONFIRM_BASE_URL,
            reason: format!("'{value}' is not an http(s) URL"),
        }),
    }
}

fn parse_ttl_days(value: &str) -> Result<Duration, ConfigError> {
    match value.parse::<i64>() {
        Ok(days) if (1..=MAX_TOKEN_TTL_DAYS).contains(&days) => Ok(Duration::days(days)),
        _ => Err(ConfigError::Invalid {
            name: TOKEN_TTL_DAYS,
            reason: format!(
                "'{value}' is not a whole number of days from 1 to {MAX_TOKEN_TTL_DAYS}"
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    const SECRET: &str = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";

    fn parse(vars: &[(&str, &str)]) -> Result<AwsConfig, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        AwsConfig::from_lookup(|name| vars.get(name).cloned())
    }

    fn complete() -> Vec<(&'static str, String)> {
        vec![
            (TABLE_NAME, "consent".to_string()),
            (CONFIRM_BASE_URL, "https://consent.example.com/".to_string()),
            (SES_FROM_ADDRESS, "noreply@example.com".to_string()),
            (TOKEN_KEYS, format!("k1:{SECRET}")),
        ]
    }

    fn parse_owned(vars: &[(&'static str, String)]) -> Result<AwsConfig, ConfigError> {
        let borrowed: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
        parse(&borrowed)
    }

    #[test]
    fn each_function_reads_only_the_keys_it_uses() {
        let base: Vec<(&'static str, String)> = complete()
            .into_iter()
            .filter(|(k, _)| *k != TOKEN_KEYS)
            .collect();
        let lookup = |vars: Vec<(&'static str, String)>| {
            move |name: &str| {
                vars.iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.clone())
            }
        };
        // No key used: none is required, and key variables that are set are not read.
        let mut with_both = base.clone();
        with_both.push((TOKEN_KEYS_SECRET_ARN, "arn:aws:secretsmanager:x".into()));
        with_both.push((PROOF_KEY, "not a key".into()));
        let config = AwsConfig::from_lookup_for(lookup(with_both.clone()), KeysUsed::NONE)
            .expect("no key needed");
        assert!(config.token_keys.is_none() && config.proof_key.is_none());
        assert!(AwsConfig::from_lookup_for(lookup(base.clone()), KeysUsed::NONE).is_ok());
        // The token keys: required, and the proof key's variables ignored.
        let error = AwsConfig::from_lookup_for(lookup(base.clone()), KeysUsed::TOKENS).err();
        assert!(
            matches!(&error, Some(ConfigError::Missing(names)) if names == &vec![TOKEN_KEYS_ANY]),
            "{error:?}"
        );
        let config = AwsConfig::from_lookup_for(lookup(with_both.clone()), KeysUsed::TOKENS)
            .expect("token keys set");
        assert!(matches!(
            config.token_keys,
            Some(TokenKeySource::SecretsManager(_))
        ));
        assert!(config.proof_key.is_none());
        // The proof key: required and parsed (here: invalid), the token keys ignored.
        let error = AwsConfig::from_lookup_for(lookup(base.clone()), KeysUsed::PROOFS).err();
        assert!(
            matches!(&error, Some(ConfigError::Missing(names)) if names == &vec![PROOF_KEY_ANY]),
            "{error:?}"
        );
        assert!(matches!(
            AwsConfig::from_lookup_for(lookup(with_both), KeysUsed::PROOFS),
            Err(ConfigError::ProofKey { .. })
        ));
    }

    #[test]
    fn names_every_missing_variable_at_once() {
        let error = parse(&[("TABLE_NAME", "  ")]).err();
        let Some(ConfigError::Missing(names)) = &error else {
            panic!("expected Missing, got {error:?}");
        };
        assert_eq!(
            names,
            &vec![
                TABLE_NAME,
                CONFIRM_BASE_URL,
                SES_FROM_ADDRESS,
                TOKEN_KEYS_ANY
            ]
        );
        let shown = error.map(|e| e.to_string()).unwrap_or_default();
        assert_eq!(
            shown,
            "missing environment variables: TABLE_NAME, CONFIRM_BASE_URL, SES_FROM_ADDRESS, \
             TOKEN_KEYS or TOKEN_KEYS_SECRET_ARN or TOKEN_KEYS_PARAMETER"
        );
    }

    #[test]
    fn parses_a_complete_config() {
        let config = parse_owned(&complete()).expect("complete config");
        assert_eq!(config.table_name, "consent");
        assert_eq!(config.confirm_base_url, "https://consent.example.com");
        assert_eq!(config.token_ttl, Duration::days(14));
        assert!(config.ses_configuration_set.is_none());
        assert!(
            matches!(config.token_keys, Some(TokenKeySource::Inline(ref r)) if r.current.id == "k1")
        );
        // Debug output names the key id, never the secret.
        assert!(!format!("{config:?}").contains(SECRET));
    }

    #[test]
    fn reads_optional_values_and_secret_sources() {
        let mut vars = complete();
        vars.retain(|(k, _)| *k != TOKEN_KEYS);
        vars.push((TOKEN_KEYS_PARAMETER, "/consent/token-keys".to_string()));
        vars.push((TOKEN_TTL_DAYS, "7".to_string()));
        vars.push((SES_CONFIGURATION_SET, "tracking".to_string()));
        let config = parse_owned(&vars).expect("config");
        assert_eq!(config.token_ttl, Duration::days(7));
        assert_eq!(config.ses_configuration_set.as_deref(), Some("tracking"));
        assert!(
            matches!(config.token_keys, Some(TokenKeySource::Parameter(ref p)) if p == "/consent/token-keys")
        );
    }

    #[test]
    fn refuses_bad_values_without_echoing_secrets() {
        let with = |name: &'static str, value: &str| {
            let mut vars = complete();
            vars.retain(|(k, _)| *k != name);
            vars.push((name, value.to_string()));
            parse_owned(&vars).err()
        };
        assert!(matches!(
            with(TOKEN_TTL_DAYS, "0"),
            Some(ConfigError::Invalid {
                name: TOKEN_TTL_DAYS,
                ..
            })
        ));
        assert!(matches!(
            with(CONFIRM_BASE_URL, "consent.example.com"),
            Some(ConfigError::Invalid {
                name: CONFIRM_BASE_URL,
                ..
            })
        ));
        let bad_key = with(TOKEN_KEYS, "k1:c2hvcnQ=");
        assert!(matches!(
            bad_key,
            Some(ConfigError::TokenKeys {
                name: TOKEN_KEYS,
                ..
            })
        ));
        assert!(!format!("{bad_key:?}").contains("c2hvcnQ="));
        assert!(matches!(
            with(
                TOKEN_KEYS_SECRET_ARN,
                "arn:aws:secretsmanager:us-east-1:1:secret:k"
            ),
            Some(ConfigError::Invalid {
                name: TOKEN_KEYS,
                ..
            })
        ));
    }

    #[test]
    fn the_proof_key_is_optional_unless_required() {
        let config = parse_owned(&complete()).expect("config");
        assert!(config.proof_key.is_none());

        let lookup = |vars: Vec<(&'static str, String)>| {
            move |name: &str| {
                vars.iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.clone())
            }
        };
        let error = AwsConfig::from_lookup_with_proof_key(lookup(complete())).err();
        assert!(
            matches!(&error, Some(ConfigError::Missing(names)) if names == &vec![PROOF_KEY_ANY]),
            "{error:?}"
        );
        let shown = error.map(|e| e.to_string()).unwrap_or_default();
        assert_eq!(
            shown,
            "missing environment variables: PROOF_KEY or PROOF_KEY_SECRET_ARN"
        );

        let mut vars = complete();
        vars.push((PROOF_KEY, format!("p1:{SECRET}")));
        let config = AwsConfig::from_lookup_with_proof_key(lookup(vars.clone())).expect("config");
        assert!(matches!(&config.proof_key, Some(ProofKeySource::Inline(s)) if s.key_id() == "p1"));
        assert!(!format!("{config:?}").contains(SECRET));

        let mut arn = complete();
        arn.push((
            PROOF_KEY_SECRET_ARN,
            "arn:aws:secretsmanager:us-east-1:1:secret:p".into(),
        ));
        let config = AwsConfig::from_lookup_with_proof_key(lookup(arn)).expect("config");
        assert!(matches!(
            config.proof_key,
            Some(ProofKeySource::SecretsManager(_))
        ));

        vars.push((
            PROOF_KEY_SECRET_ARN,
            "arn:aws:secretsmanager:us-east-1:1:secret:p".into(),
        ));
        assert!(matches!(
            parse_owned(&vars),
            Err(ConfigError::Invalid {
                name: PROOF_KEY,
                ..
            })
        ));
        let mut bad = complete();
        bad.push((PROOF_KEY, "p1:c2hvcnQ=".into()));
        let error = parse_owned(&bad).err();
        assert!(matches!(
            error,
            Some(ConfigError::ProofKey {
                name: PROOF_KEY,
                ..
            })
        ));
        assert!(!format!("{error:?}").contains("c2hvcnQ="));
    }
}
