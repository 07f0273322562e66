//! Wiring at cold start: one SDK config, the clients built from it once, and the flows'
//! `Services` over the AWS adapters.

use std::sync::Arc;
use std::time::Duration;

use aws_config::environment::credentials::EnvironmentVariableCredentialsProvider;
use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use consent::flows::Services;
use consent::ports::{Clock, SystemClock};

use crate::config::{AwsConfig, ConfigError};
use crate::email::SesMailer;
use crate::sms::SnsSmsSender;
use crate::store::DynamoStore;
use consent::evidence::keys_used::KeysUsed;

/// How many times SNS `Publish` and SES `SendEmail` are tried in all before a refusal for now
/// (throttling, a 5xx) is answered retryable to the caller.
pub const PROVIDER_MAX_ATTEMPTS: u32 = 3;
/// The first backoff before a provider retry; it doubles, with full jitter (the SDK's standard
/// mode: the n-th wait is a random share of `initial * 2^(n-1)`).
pub const PROVIDER_INITIAL_BACKOFF: Duration = Duration::from_millis(100);
/// The longest single backoff before a provider retry.
pub const PROVIDER_MAX_BACKOFF: Duration = Duration::from_secs(1);

/// The retry policy of the SNS and SES clients. Why these numbers: throttling is retried with
/// backoff inside the functions' timeouts (infra/template.yaml: contact-created 15 s, send-gate
/// 29 s, inbound-sms 30 s), then handed back as retryable (503 with Retry-After, a batch result
/// with `retryable: true`, a failed SNS invocation that SNS redelivers). One call waits at
/// most 100 + 200 ms between its three attempts; a batch of 1,000 goes 16 numbers at once
/// (`BATCH_CONCURRENCY`), so 63 sends one after another per lane: under 19 s of backoff even if
/// every publish were throttled twice, inside send-gate's 29 s with the round trips. The SDK's
/// default (1 s initial, 20 s cap) could spend a batch's whole budget waiting. The standard
/// mode's retry token bucket also stops retrying when a client is throttled again and again,
/// so a sustained burst is answered retryable sooner rather than waited out.
pub fn provider_retry_config() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(PROVIDER_MAX_ATTEMPTS)
        .with_initial_backoff(PROVIDER_INITIAL_BACKOFF)
        .with_max_backoff(PROVIDER_MAX_BACKOFF)
}

/// The three service clients, built once from one SDK config.
#[derive(Debug, Clone)]
pub struct AwsClients {
    /// DynamoDB.
    pub dynamodb: aws_sdk_dynamodb::Client,
    /// SNS (SMS).
    pub sns: aws_sdk_sns::Client,
    /// SES v2 (email).
    pub ses: aws_sdk_sesv2::Client,
}

impl AwsClients {
    /// The clients of `sdk`.
    pub fn new(sdk: &SdkConfig) -> Self {
        Self {
            dynamodb: aws_sdk_dynamodb::Client::new(sdk),
            sns: aws_sdk_sns::Client::from_conf(
                aws_sdk_sns::config::Builder::from(sdk)
                    .retry_config(provider_retry_config())
                    .build(),
            ),
            ses: aws_sdk_sesv2::Client::from_conf(
                aws_sdk_sesv2::config::Builder::from(sdk)
                    .retry_config(provider_retry_config())
                    .build(),
            ),
        }
    }
}

/// The SDK config. In Lambda the region and the role's credentials are in the environment
/// (`AWS_REGION`, `AWS_ACCESS_KEY_ID`...): they are taken from there, so no other source of the
/// default chains (profile files, the instance metadata service) is probed. Elsewhere the
/// default chains apply. `AWS_ENDPOINT_URL` is honoured either way.
pub async fn load_sdk_config() -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(client) = crate::tls::https_client() {
        loader = loader.http_client(client);
    }
    if let Some(region) = std::env::var("AWS_REGION")
        .ok()
        .filter(|r| !r.trim().is_empty())
    {
        loader = loader.region(Region::new(region));
    }
    if std::env::var_os("AWS_ACCESS_KEY_ID").is_some()
        && std::env::var_os("AWS_SECRET_ACCESS_KEY").is_some()
    {
        loader = loader.credentials_provider(EnvironmentVariableCredentialsProvider::new());
    }
    loader.load().await
}

/// The flows over the AWS adapters, from an SDK config and a parsed configuration.
pub async fn services(
    sdk: &SdkConfig,
    config: &AwsConfig,
    clock: Arc<dyn Clock>,
) -> Result<Services, ConfigError> {
    let tokens = config.token_keyring(sdk).await?;
    let clients = AwsClients::new(sdk);
    let mut services = Services::new(
        Arc::new(DynamoStore::new(
            clients.dynamodb,
            config.table_name.clone(),
        )),
        Arc::new(SnsSmsSender::new(clients.sns)),
        Arc::new(SesMailer::new(
            clients.ses,
            config.ses_from_address.clone(),
            config.ses_configuration_set.clone(),
        )),
        clock,
        tokens,
        config.service_config(),
    );
    services.proof_signing = config.proof_signing(sdk);
    Ok(services)
}

/// Everything a Lambda function needs at cold start: the environment is checked first (so a
/// missing variable fails before any network call), then the SDK config is loaded once and
/// the keys the function uses (and only those) are read.
pub async fn services_from_env(keys: KeysUsed) -> Result<Services, ConfigError> {
    let config = AwsConfig::from_env_for(keys)?;
    let sdk = load_sdk_config().await;
    services(&sdk, &config, Arc::new(SystemClock)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sms_and_email_clients_retry_throttling_a_bounded_number_of_times() {
        let sdk = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .build();
        let clients = AwsClients::new(&sdk);
        for retry in [
            clients.sns.config().retry_config(),
            clients.ses.config().retry_config(),
        ] {
            let retry = retry.cloned().unwrap_or_else(RetryConfig::disabled);
            assert_eq!(retry.mode(), aws_config::retry::RetryMode::Standard);
            assert_eq!(retry.max_attempts(), PROVIDER_MAX_ATTEMPTS);
            assert_eq!(retry.initial_backoff(), PROVIDER_INITIAL_BACKOFF);
            assert_eq!(retry.max_backoff(), PROVIDER_MAX_BACKOFF);
        }
        // The worst wait of one call: every backoff at its ceiling.
        let worst: Duration = (0..PROVIDER_MAX_ATTEMPTS - 1)
            .map(|n| (PROVIDER_INITIAL_BACKOFF * 2u32.pow(n)).min(PROVIDER_MAX_BACKOFF))
            .sum();
        // A full batch, one lane's sends one after another, every publish throttled twice: the
        // waits leave send-gate's 29 s (infra/template.yaml) room for the round trips.
        let rounds = consent::limits::MAX_BATCH.div_ceil(consent::flows::send::BATCH_CONCURRENCY);
        let batch = worst * u32::try_from(rounds).unwrap_or(u32::MAX);
        assert!(batch < Duration::from_secs(20), "{batch:?}");
    }
}
