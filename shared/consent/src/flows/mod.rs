//! The service's flows: each use case as a sequence of reads, model decisions and conditional
//! writes over the ports. Handlers parse and respond; the rules stay in the model.

pub mod admin;
pub mod bundle;
pub mod carrier_opt_in;
pub mod carrier_reconciliation;
pub mod crm_send;
pub(crate) mod draft;
pub mod email_confirm;
pub mod export;
pub mod feed;
pub mod idempotency;
pub mod inbound;
pub mod onboarding;
mod opt_in_request;
pub mod proof;
pub mod release;
pub mod send;
pub mod staff_opt_out;

use std::sync::Arc;

use chrono::Duration;

use crate::evidence::proof::ProofSigner;
use crate::evidence::token::TokenKeyring;
use crate::messages::templates::{TemplateError, TemplateVars};
use crate::model::firm::Firm;
use crate::model::language::UnknownLanguage;
use crate::model::phone::PhoneError;
use crate::ports::{Clock, Mailer, SendError, Store, StoreError};

pub use send::SendGate;

/// How many times a flow reads and decides before giving up on a record others keep changing:
/// enough for a dozen replies from one number at once (each round one writer wins).
pub const MAX_CONFLICT_RETRIES: usize = 20;

/// The longest pause before deciding again after a lost race; the pauses double from 1 ms up
/// to it, each drawn at random below its bound (full jitter) so the losers do not meet again.
/// Twenty attempts wait at most about 0.8 s in all, well inside any handler's time budget.
const MAX_CONFLICT_BACKOFF: std::time::Duration = std::time::Duration::from_millis(50);

/// The pause after the `attempt`th lost race (1-based).
pub(crate) async fn back_off(attempt: usize) {
    use std::hash::BuildHasher;
    let bound = std::time::Duration::from_millis(1u64 << attempt.min(16)).min(MAX_CONFLICT_BACKOFF);
    // std's randomly keyed hasher is randomness enough for a jitter.
    let draw = std::collections::hash_map::RandomState::new().hash_one(std::time::Instant::now());
    let fraction = (draw >> 11) as f64 / (1u64 << 53) as f64;
    tokio::time::sleep(bound.mul_f64(fraction)).await;
}

/// What one read-decide-write attempt of a flow came to.
pub(crate) enum Attempt<T> {
    /// Done: the flow's result.
    Done(T),
    /// The record changed since it was read (a lost race): read again and decide again.
    Conflict,
}

/// Every flow's optimistic-concurrency loop: awaits the attempt (an `async` block that reads,
/// decides and writes conditionally, evaluating to `Result<Attempt<T>, E>`) until it is done,
/// at most [`MAX_CONFLICT_RETRIES`] times with a jittered pause ([`back_off`]) after each lost
/// race, then gives up with [`FlowError::Contention`]
/// (retryable). A macro rather than a function taking an async closure: the futures of async
/// closures cannot yet be shown `Send` for every lifetime, which axum's handlers need.
macro_rules! retry_on_conflict {
    ($attempt:expr) => {{
        let mut attempts = 0;
        loop {
            attempts += 1;
            match $attempt.await {
                Ok($crate::flows::Attempt::Done(value)) => break Ok(value),
                Ok($crate::flows::Attempt::Conflict)
                    if attempts < $crate::flows::MAX_CONFLICT_RETRIES =>
                {
                    $crate::flows::back_off(attempts).await;
                }
                Ok($crate::flows::Attempt::Conflict) => {
                    break Err($crate::flows::FlowError::Contention.into());
                }
                Err(error) => break Err(error),
            }
        }
    }};
}
pub(crate) use retry_on_conflict;

/// Settings the flows need beyond the ports.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// Where the email confirmation page lives, without a trailing slash
    /// (`https://consent.example.com`); links are `{base}/confirm/{token}`.
    pub confirm_base_url: String,
    /// How long an email confirmation link works.
    pub token_ttl: Duration,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        Self {
            confirm_base_url: "http://127.0.0.1:3000".to_string(),
            token_ttl: Duration::days(14),
        }
    }
}

/// Everything a flow uses. Built once (at cold start in Lambda) and shared.
#[derive(Clone)]
pub struct Services {
    /// The store.
    pub store: Arc<dyn Store>,
    /// The one way out for SMS.
    pub gate: SendGate,
    /// Email out.
    pub mailer: Arc<dyn Mailer>,
    /// The clock every decision reads the time from.
    pub clock: Arc<dyn Clock>,
    /// Confirmation token keys (`None`: this function signs and verifies no link; the flows
    /// that would answer `token_keys_not_configured`).
    pub tokens: Option<Arc<TokenKeyring>>,
    /// Settings beyond the ports (link base, token lifetime).
    pub config: Arc<ServiceConfig>,
    /// The key that signs proof documents: none (proofs answer `proof_key_not_configured`),
    /// given, or read on first use.
    pub proof_signing: proof::ProofSigning,
    /// The authenticated caller this copy acts for ([`Services::acting_as`]), recorded as
    /// `actor` on admin and staff changes.
    pub actor: Option<Arc<str>>,
}

impl std::fmt::Debug for Services {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Services").finish_non_exhaustive()
    }
}

impl Services {
    /// Wires the flows to their ports. The SMS sender goes into the gate and nowhere else.
    pub fn new(
        store: Arc<dyn Store>,
        sms: Arc<dyn crate::ports::SmsSender>,
        mailer: Arc<dyn Mailer>,
        clock: Arc<dyn Clock>,
        tokens: Option<TokenKeyring>,
        config: ServiceConfig,
    ) -> Self {
        Self {
            gate: SendGate::new(store.clone(), sms, clock.clone()),
            store,
            mailer,
            clock,
            tokens: tokens.map(Arc::new),
            config: Arc::new(config),
            proof_signing: proof::ProofSigning::default(),
            actor: None,
        }
    }

    /// These services acting for `actor`, the request's authenticated caller (the IAM principal
    /// in AWS, `local` on the local server): a cheap copy per request.
    pub fn acting_as(&self, actor: Option<String>) -> Self {
        let mut acting = self.clone();
        acting.actor = actor.map(Arc::from);
        acting
    }

    /// The caller to record on an admin or staff change.
    pub(crate) fn actor(&self) -> Option<String> {
        self.actor.as_deref().map(str::to_string)
    }

    /// The same services, signing proof documents with `signer`.
    pub fn with_proof_signer(mut self, signer: ProofSigner) -> Self {
        self.proof_signing = proof::ProofSigning::given(Arc::new(signer));
        self
    }

    /// The confirmation token keys, or `TokenKeysNotConfigured`.
    pub fn token_keys(&self) -> Result<&TokenKeyring, FlowError> {
        self.tokens
            .as_deref()
            .ok_or(FlowError::TokenKeysNotConfigured)
    }

    /// Reads a firm or fails with `FirmNotFound`.
    pub async fn firm(&self, firm_id: &str) -> Result<Firm, FlowError> {
        crate::model::firm::validate_firm_id(firm_id).map_err(|_| FlowError::FirmNotFound)?;
        self.store
            .get_firm(firm_id)
            .await?
            .ok_or(FlowError::FirmNotFound)
    }
}

/// The template variables of a firm (and a contact's first name).
pub fn firm_vars(firm: &Firm, first_name: Option<&str>, confirm_url: &str) -> TemplateVars {
    TemplateVars {
        firm_name: firm.name.clone(),
        first_name: first_name.unwrap_or_default().to_string(),
        confirm_url: confirm_url.to_string(),
        support_phone: firm.support_phone.clone(),
        support_email: firm.support_email.clone(),
        website: firm.website.clone(),
    }
}

/// A flow failed. Client mistakes carry a code; the rest are the service's problem.
#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    /// No such firm.
    #[error("no firm with this id")]
    FirmNotFound,
    /// No consent record for this number.
    #[error("no consent record for this number")]
    ConsentNotFound,
    /// The firm has no contact with this id.
    #[error("the firm has no contact with this id")]
    ContactNotFound,
    /// The phone number is not one we can text.
    #[error(transparent)]
    InvalidPhone(#[from] PhoneError),
    /// A field is missing or wrong.
    #[error("{field}: {message}")]
    InvalidField {
        /// The field.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// A language the service does not write in.
    #[error(transparent)]
    InvalidLanguage(#[from] UnknownLanguage),
    /// The firm requires how a new contact's number was collected, and none was given.
    #[error("this firm requires consent_capture: how the number was first collected")]
    ConsentCaptureRequired,
    /// A feed cursor that is not an event id the feed handed out.
    #[error("the cursor is not an event id of the feed")]
    InvalidCursor,
    /// Double opt-in off without acknowledging the risk.
    #[error("turning double opt-in off requires acknowledge_risk: true")]
    RiskNotAcknowledged,
    /// No template by that name.
    #[error("no template by that name")]
    UnknownTemplate,
    /// A template override was refused.
    #[error(transparent)]
    TemplateInvalid(#[from] TemplateError),
    /// The firm's number already belongs to another firm.
    #[error("the sms_number is already used by another firm")]
    NumberInUse,
    /// The idempotency key was used with another payload.
    #[error("this idempotency key was used with a different request")]
    IdempotencyMismatch,
    /// The same request is being processed.
    #[error("the same request is in progress")]
    InProgress {
        /// Seconds to wait.
        retry_after_secs: u64,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The SMS or email provider failed.
    #[error(transparent)]
    Send(#[from] SendError),
    /// Lost the race too many times.
    #[error("too much contention on one record")]
    Contention,
    /// No proof key is configured, so no proof can be signed.
    #[error("no proof key is configured: proof documents cannot be signed")]
    ProofKeyNotConfigured,
    /// The proof key could not be read (its secret store failed, or it holds no valid key).
    #[error("the proof key could not be read")]
    ProofKeyUnavailable(#[source] crate::ports::BackendError),
    /// No confirmation token keys are configured, so no link can be signed or verified.
    #[error("no token keys are configured: confirmation links cannot be signed or verified")]
    TokenKeysNotConfigured,
    /// An audit event held a value the hash chain refuses (the service's own fault).
    #[error(transparent)]
    Unhashable(#[from] crate::evidence::chain::UnhashableEvent),
}

impl FlowError {
    /// Whether trying the same request again may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Store(e) => e.is_retryable(),
            Self::Send(e) => e.is_retryable(),
            Self::Contention | Self::InProgress { .. } | Self::ProofKeyUnavailable(_) => true,
            _ => false,
        }
    }

    /// A field error.
    pub fn field(field: &'static str, message: impl Into<String>) -> Self {
        Self::InvalidField {
            field,
            message: message.into(),
        }
    }
}

/// Checks a `time_zone` a caller gave: an IANA name, parsed the one way the gate parses it.
pub(crate) fn check_time_zone(zone: &str) -> Result<(), FlowError> {
    match crate::model::quiet_hours::parse_time_zone(zone) {
        Some(_) => Ok(()),
        None => Err(FlowError::field(
            "time_zone",
            "must be an IANA time zone name such as America/Chicago",
        )),
    }
}
