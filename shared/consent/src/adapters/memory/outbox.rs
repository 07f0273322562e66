//! An SMS sender and mailer that keep what they are given (and fail on command), for tests.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::phone::PhoneNumber;
use crate::ports::{
    CarrierOptIn, Clock, Mailer, OptedOutPage, OutgoingEmail, OutgoingSms, SendError, SmsSender,
};

/// Numbers per page of the opted-out list, as SNS pages it.
pub const OPTED_OUT_PAGE: usize = 100;

/// How often the provider lifts one number's opt-out: once in 30 days (SNS).
pub const CARRIER_OPT_IN_INTERVAL_DAYS: i64 = 30;

/// An SMS the outbox took.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SentSms {
    /// The recipient, E.164.
    pub to: String,
    /// The firm's sending number.
    pub from: String,
    /// The text as sent.
    pub body: String,
    /// The id it was given.
    pub message_id: String,
    /// When it was handed over.
    pub sent_at: DateTime<Utc>,
}

/// An email the outbox took.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SentEmail {
    /// The recipient's address.
    pub to: String,
    /// The subject line.
    pub subject: String,
    /// Plain text.
    pub text: String,
    /// HTML.
    pub html: String,
    /// The id it was given.
    pub message_id: String,
    /// When it was handed over.
    pub sent_at: DateTime<Utc>,
}

/// What the outbox holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OutboxContents {
    /// SMS, oldest first.
    pub sms: Vec<SentSms>,
    /// Emails, oldest first.
    pub email: Vec<SentEmail>,
}

#[derive(Default)]
struct OutboxState {
    contents: OutboxContents,
    failing_sms: u32,
    failing_email: u32,
    /// Ordered, so that the list pages as a provider's does: each page after the last number
    /// of the one before.
    opted_out_at_carrier: BTreeSet<String>,
    /// When the provider last lifted each number's opt-out.
    carrier_opt_ins: HashMap<String, DateTime<Utc>>,
}

/// An SMS sender and mailer that keeps what it is given, and can fail on command.
pub struct MemoryOutbox {
    state: Mutex<OutboxState>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for MemoryOutbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryOutbox").finish_non_exhaustive()
    }
}

impl MemoryOutbox {
    /// An empty outbox stamping sends with `clock`.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            state: Mutex::new(OutboxState::default()),
            clock,
        }
    }

    /// Everything sent so far.
    pub fn contents(&self) -> OutboxContents {
        self.lock().contents.clone()
    }

    /// SMS sent to `to`.
    pub fn sms_to(&self, to: &str) -> Vec<SentSms> {
        self.lock()
            .contents
            .sms
            .iter()
            .filter(|s| s.to == to)
            .cloned()
            .collect()
    }

    /// Makes the next `count` SMS sends fail (retryably).
    pub fn fail_next_sms(&self, count: u32) {
        self.lock().failing_sms = count;
    }

    /// Makes the next `count` email sends fail (retryably).
    pub fn fail_next_email(&self, count: u32) {
        self.lock().failing_email = count;
    }

    /// Makes sends to `phone` fail as the carrier would for a number opted out with it.
    pub fn opt_out_at_carrier(&self, phone: &PhoneNumber) {
        self.lock()
            .opted_out_at_carrier
            .insert(phone.as_str().to_string());
    }

    fn lock(&self) -> MutexGuard<'_, OutboxState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The outbox's injected failure.
#[derive(Debug, thiserror::Error)]
#[error("injected provider failure")]
struct InjectedFailure;

#[async_trait]
impl SmsSender for MemoryOutbox {
    async fn send_sms(&self, sms: &OutgoingSms) -> Result<String, SendError> {
        let mut state = self.lock();
        if state.opted_out_at_carrier.contains(sms.to.as_str()) {
            return Err(SendError::RecipientOptedOut);
        }
        if state.failing_sms > 0 {
            state.failing_sms -= 1;
            return Err(SendError::Provider {
                operation: "send_sms",
                retryable: true,
                source: Box::new(InjectedFailure),
            });
        }
        let message_id = format!("local-sms-{}", ulid::Ulid::new());
        state.contents.sms.push(SentSms {
            to: sms.to.to_string(),
            from: sms.from.to_string(),
            body: sms.body.clone(),
            message_id: message_id.clone(),
            sent_at: self.clock.now(),
        });
        Ok(message_id)
    }

    async fn is_opted_out(&self, phone: &PhoneNumber) -> Result<bool, SendError> {
        Ok(self.lock().opted_out_at_carrier.contains(phone.as_str()))
    }

    async fn opted_out_numbers(&self, next_token: Option<&str>) -> Result<OptedOutPage, SendError> {
        let state = self.lock();
        let after = next_token.unwrap_or_default();
        let mut rest = state
            .opted_out_at_carrier
            .iter()
            .filter(|number| number.as_str() > after);
        let numbers: Vec<String> = rest.by_ref().take(OPTED_OUT_PAGE).cloned().collect();
        let next_token = match rest.next() {
            Some(_) => numbers.last().cloned(),
            None => None,
        };
        Ok(OptedOutPage {
            numbers,
            next_token,
        })
    }

    async fn opt_in_number(&self, phone: &PhoneNumber) -> Result<CarrierOptIn, SendError> {
        let now = self.clock.now();
        let mut state = self.lock();
        let last = state.carrier_opt_ins.get(phone.as_str()).copied();
        if last.is_some_and(|at| now - at < chrono::Duration::days(CARRIER_OPT_IN_INTERVAL_DAYS)) {
            return Ok(CarrierOptIn::TooSoon);
        }
        if state.opted_out_at_carrier.remove(phone.as_str()) {
            state
                .carrier_opt_ins
                .insert(phone.as_str().to_string(), now);
        }
        Ok(CarrierOptIn::OptedIn)
    }
}

#[async_trait]
impl Mailer for MemoryOutbox {
    async fn send_email(&self, email: &OutgoingEmail) -> Result<String, SendError> {
        let mut state = self.lock();
        if state.failing_email > 0 {
            state.failing_email -= 1;
            return Err(SendError::Provider {
                operation: "send_email",
                retryable: true,
                source: Box::new(InjectedFailure),
            });
        }
        let message_id = format!("local-email-{}", ulid::Ulid::new());
        state.contents.email.push(SentEmail {
            to: email.to.clone(),
            subject: email.subject.clone(),
            text: email.text.clone(),
            html: email.html.clone(),
            message_id: message_id.clone(),
            sent_at: self.clock.now(),
        });
        Ok(message_id)
    }
}
