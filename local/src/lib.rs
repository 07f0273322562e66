//! The local server: every function's routes in one process on the embedded store, plus the
//! `/dev` routes that stand in for the carrier, the outbox and the clock.

pub mod data_dir;
pub mod dev;
mod home;
pub mod openapi;
pub mod recording;

use std::path::Path;
use std::sync::Arc;

use axum::Router;
use chrono::{DateTime, Utc};
use consent::adapters::memory::SettableClock;
use consent::flows::{ServiceConfig, Services};
use consent::ports::{Clock, StoreError};
use consent_sqlite::{Durability, SqliteStore};

use data_dir::{DataDir, DataDirError, keys};

/// The demo firm registered by `--demo`.
pub const DEMO_FIRM_ID: &str = "demo";
/// The demo firm's sending number.
pub const DEMO_SMS_NUMBER: &str = "+12025550100";

/// The running service and the local stand-ins it sends through.
#[derive(Clone)]
pub struct Local {
    /// The flows.
    pub services: Services,
    /// What was sent (to the embedded outbox, or through SNS and SES in `--aws` mode).
    pub outbox: Arc<dyn recording::OutboxView>,
    /// The settable clock.
    pub clock: Arc<SettableClock>,
    /// The embedded database, where a set clock is kept and the page reads the latest events
    /// from (`None` in `--aws` mode).
    database: Option<SqliteStore>,
    /// The data directory, held (locked) while the service runs.
    _data_dir: Arc<DataDir>,
}

impl std::fmt::Debug for Local {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Local").finish_non_exhaustive()
    }
}

/// Failure to start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The data directory could not be used.
    #[error(transparent)]
    DataDir(#[from] DataDirError),
    /// `--aws` on a build without the `aws` feature.
    #[error(
        "--aws needs the AWS adapters, which this build leaves out: run `cargo run -p consent-local --features aws -- --aws`"
    )]
    AwsNotBuilt,
    /// `--aws` without an emulator endpoint.
    #[error(
        "--aws needs AWS_ENDPOINT_URL (e.g. a moto server at http://127.0.0.1:5000), so the local server never reaches a real AWS account by accident"
    )]
    NoEmulator,
    /// The emulator could not be prepared.
    #[error("preparing the emulator: {0}")]
    Emulator(String),
}

/// The caller the local server records on admin and staff changes.
pub const LOCAL_CALLER: &str = "local";

/// Where `--aws` mode sends email from (created as an SES identity if missing).
pub const LOCAL_FROM_ADDRESS: &str = "consent-local@example.com";

impl Local {
    /// The service on the embedded database in `data_dir` (created if missing, its former
    /// `store.json` imported), with links pointing at `base_url`. Fails if another server holds
    /// the directory.
    pub async fn open(
        data_dir: &Path,
        base_url: &str,
        durability: Durability,
    ) -> Result<Self, StartError> {
        let dir = DataDir::take(data_dir)?;
        let store = dir.open_store(durability).await?;
        let tokens = keys::token_keys(dir.path())?;
        let proof_key = keys::proof_key(dir.path())?;
        let offset = store.clock_offset().map_err(|source| DataDirError::Read {
            path: store.path().to_path_buf(),
            source,
        })?;
        let clock = Arc::new(SettableClock::with_offset(offset));
        let outbox = Arc::new(store.outbox(clock.clone() as Arc<dyn Clock>));
        let services = Services::new(
            Arc::new(store.clone()),
            outbox.clone(),
            outbox.clone(),
            clock.clone(),
            Some(tokens),
            ServiceConfig {
                confirm_base_url: base_url.to_string(),
                ..ServiceConfig::default()
            },
        )
        .with_proof_signer(proof_key);
        Ok(Self {
            services,
            outbox,
            clock,
            database: Some(store),
            _data_dir: Arc::new(dir),
        })
    }

    /// Sets the clock (`None`: real time) and keeps the setting for the next start.
    pub async fn set_clock(&self, at: Option<DateTime<Utc>>) -> Result<(), StoreError> {
        self.clock.set(at);
        match &self.database {
            Some(store) => store.set_clock_offset(self.clock.offset()).await,
            None => Ok(()),
        }
    }

    /// The firm's newest feed events, newest first (none in `--aws` mode, whose feed is read
    /// through `GET /v1/firms/{firm_id}/events`).
    pub fn latest_events(
        &self,
        firm_id: &str,
        limit: usize,
    ) -> Result<Vec<consent::model::feed::FeedEvent>, StoreError> {
        match &self.database {
            Some(store) => store.latest_feed(firm_id, limit),
            None => Ok(Vec::new()),
        }
    }

    /// The service on the AWS adapters (DynamoDB table `table`, SNS, SES) through the default AWS
    /// config, which must point at an emulator (`AWS_ENDPOINT_URL`); creates the table and the
    /// SES sender identity if they are missing.
    #[cfg(feature = "aws")]
    pub async fn open_aws(
        data_dir: &Path,
        base_url: &str,
        table: &str,
    ) -> Result<Self, StartError> {
        if std::env::var_os("AWS_ENDPOINT_URL").is_none_or(|v| v.is_empty()) {
            return Err(StartError::NoEmulator);
        }
        let dir = DataDir::take(data_dir)?;
        let tokens = keys::token_keys(dir.path())?;
        let proof_key = keys::proof_key(dir.path())?;
        let sdk = consent_aws::load_sdk_config().await;
        let clients = consent_aws::AwsClients::new(&sdk);
        consent_aws::ensure_table(&clients.dynamodb, table)
            .await
            .map_err(|e| StartError::Emulator(format!("table {table}: {e}")))?;
        consent_aws::ensure_sender_identity(&clients.ses, LOCAL_FROM_ADDRESS)
            .await
            .map_err(|e| StartError::Emulator(format!("SES identity: {e}")))?;
        let clock = Arc::new(SettableClock::new());
        let outbox = Arc::new(recording::RecordingOutbox::new(
            Arc::new(consent_aws::SnsSmsSender::new(clients.sns)),
            Arc::new(consent_aws::SesMailer::new(
                clients.ses,
                LOCAL_FROM_ADDRESS.to_string(),
                None,
            )),
            clock.clone(),
        ));
        let services = Services::new(
            Arc::new(consent_aws::DynamoStore::new(clients.dynamodb, table)),
            outbox.clone(),
            outbox.clone(),
            clock.clone(),
            Some(tokens),
            ServiceConfig {
                confirm_base_url: base_url.to_string(),
                ..ServiceConfig::default()
            },
        )
        .with_proof_signer(proof_key);
        Ok(Self {
            services,
            outbox,
            clock,
            database: None,
            _data_dir: Arc::new(dir),
        })
    }

    /// Without the `aws` feature there are no AWS adapters to open.
    #[cfg(not(feature = "aws"))]
    pub async fn open_aws(
        _data_dir: &Path,
        _base_url: &str,
        _table: &str,
    ) -> Result<Self, StartError> {
        Err(StartError::AwsNotBuilt)
    }

    /// Every route: the four HTTP functions' (inbound SMS arrives by `/dev/inbound-sms`, and
    /// deferred sends by the release loop) and the `/dev` ones.
    pub fn router(&self) -> Router {
        Router::new()
            .merge(contact_created::router(self.services.clone()))
            .merge(firm_admin::router(self.services.clone()))
            .merge(send_gate::router(self.services.clone()))
            .merge(email_confirm::router(self.services.clone()))
            .merge(dev::router(self.clone()))
            .fallback(consent_http::fallback)
            // One person at one machine: every change is recorded as made by `local`.
            .layer(axum::Extension(consent_http::CallerIdentity(
                LOCAL_CALLER.to_string(),
            )))
    }

    /// Registers the demo firm (kept if it exists).
    pub async fn register_demo(&self) -> Result<(), consent::flows::FlowError> {
        if self.services.store.get_firm(DEMO_FIRM_ID).await?.is_some() {
            return Ok(());
        }
        self.services
            .put_firm(
                DEMO_FIRM_ID,
                consent::flows::admin::FirmSettings {
                    name: "Demo Law LLP".to_string(),
                    sms_number: DEMO_SMS_NUMBER.to_string(),
                    support_email: "help@demo-law.example".to_string(),
                    support_phone: "(202) 555-0199".to_string(),
                    website: "https://demo-law.example".to_string(),
                    time_zone: None,
                    ..Default::default()
                },
            )
            .await?;
        Ok(())
    }
}
