//! AWS adapters for the consent model: the DynamoDB store, the SNS SMS sender, the SES v2
//! mailer, and configuration from the environment. They store and send; no consent rule lives
//! here.

#![warn(missing_docs)]

pub mod config;
pub mod email;
pub mod errors;
pub mod keys;
pub mod logging;
pub mod services;
pub mod sms;
pub mod store;
pub mod table;
pub mod tls;

pub use config::{AwsConfig, ConfigError, ProofKeySource, TokenKeySource};
pub use consent::evidence::keys_used::KeysUsed;
pub use email::{SesMailer, ensure_sender_identity};
pub use services::{AwsClients, load_sdk_config, services, services_from_env};
pub use sms::SnsSmsSender;
pub use store::DynamoStore;
pub use table::ensure_table;
