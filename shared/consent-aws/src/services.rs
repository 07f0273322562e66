//! Wiring at cold start: one SDK config, the clients built from it once, and the flows'
//! `Services` over the AWS adapters.

use std::sync::Arc;

use aws_config::environment::credentials::EnvironmentVariableCredentialsProvider;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use consent::flows::Services;
use consent::ports::{Clock, SystemClock};

use crate::config::{AwsConfig, ConfigError};
use crate::email::SesMailer;
use crate::sms::SnsSmsSender;
use crate::store::DynamoStore;
use consent::evidence::keys_used::KeysUsed;

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
            sns: aws_sdk_sns::Client::new(sdk),
            ses: aws_sdk_sesv2::Client::new(sdk),
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
