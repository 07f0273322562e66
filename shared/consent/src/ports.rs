//! Ports: the narrow traits through which the model stores and sends. Adapters implement them.

use std::collections::HashMap;
use std::error::Error as StdError;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::evidence::audit::AuditEvent;
use crate::evidence::chain;
use crate::model::contact::Contact;
use crate::model::deferred::DeferredSend;
use crate::model::feed::{self, FeedEvent};
use crate::model::firm::Firm;
use crate::model::phone::PhoneNumber;
use crate::model::record::{ConsentRecord, ConsentStatus};

/// A boxed error from an adapter's backend, kept whole (never flattened into a string).
pub type BackendError = Box<dyn StdError + Send + Sync + 'static>;

/// A store call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The item changed since it was read (or exists when it must not): re-read and re-decide.
    #[error("{operation}: the record changed since it was read")]
    VersionConflict {
        /// The store operation.
        operation: &'static str,
    },
    /// The firm's sending number already routes to another firm.
    #[error("the number is already used by another firm")]
    NumberInUse,
    /// This inbound message id was already applied.
    #[error("the inbound message was already applied")]
    DuplicateInbound,
    /// The deferred send the write takes is gone: another releaser took it.
    #[error("the deferred send was already taken")]
    DeferredTaken,
    /// The store cannot be used now (disk full, database locked or read-only, an I/O error):
    /// the operation did nothing, and the caller is told so rather than acknowledged.
    #[error("{operation}: the store is unavailable ({reason})")]
    Unavailable {
        /// The store operation.
        operation: &'static str,
        /// Why, in words an operator acts on ("the disk is full").
        reason: &'static str,
        /// The backend's error.
        #[source]
        source: BackendError,
    },
    /// The backend failed.
    #[error("{operation} failed")]
    Backend {
        /// The store operation.
        operation: &'static str,
        /// Whether trying again may succeed (throttling, 5xx, timeouts).
        retryable: bool,
        /// The backend's error.
        #[source]
        source: BackendError,
    },
}

impl StoreError {
    /// Whether the caller may retry the whole operation.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::VersionConflict { .. } | Self::Unavailable { .. } => true,
            Self::Backend { retryable, .. } => *retryable,
            Self::NumberInUse | Self::DuplicateInbound | Self::DeferredTaken => false,
        }
    }
}

/// One conditional write to a number's consent partition: the new record and its audit events
/// together, or nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentWrite {
    /// The firm.
    pub firm_id: String,
    /// The number.
    pub phone: PhoneNumber,
    /// The version the record must have (`None`: it must not exist).
    pub expected_version: Option<u64>,
    /// The new record (`None`: append events only, under the same condition).
    pub record: Option<ConsentRecord>,
    /// Events to append.
    pub events: Vec<AuditEvent>,
    /// A contact to store with it.
    pub contact: Option<Contact>,
    /// A deferred send to store with it.
    pub deferred: Option<DeferredSend>,
    /// The id of a deferred send the write takes off the queue (its release's decision): the
    /// write fails with `DeferredTaken` if it is gone, so exactly one releaser decides it.
    pub takes_deferred: Option<String>,
    /// An inbound message id to mark as applied; the write fails with `DuplicateInbound` if it
    /// already is.
    pub inbound_message_id: Option<String>,
    /// The response of the keyed request this write finishes, kept with it.
    pub completes: Option<Completion>,
    /// The chain head the events were chained onto: the head of the record the write was built
    /// from. When a record is written under an expected version, the store also requires the
    /// stored record's head to be this one, so that a write built from a stale copy of a
    /// record (right version, old head) is refused as a conflict rather than forking the chain.
    pub chained_onto: Option<String>,
    /// The firm's feed events reporting this write's changes, written with it.
    pub feed: Vec<FeedEvent>,
}

impl ConsentWrite {
    /// A write of `events` (and `record`) conditioned on `expected_version`, its events sealed
    /// into the number's hash chain ([`chain::seal_onto_record`]) as every consent write is.
    pub fn new(
        firm_id: &str,
        phone: &PhoneNumber,
        expected_version: Option<u64>,
        mut record: Option<ConsentRecord>,
        mut events: Vec<AuditEvent>,
    ) -> Self {
        let chained_onto = chain::seal_onto_record(firm_id, phone, record.as_mut(), &mut events);
        let contact_ids = record
            .as_ref()
            .map(|r| r.contact_ids.clone())
            .unwrap_or_default();
        let feed = feed::changes_in(&events)
            .into_iter()
            .map(|(event, change)| FeedEvent {
                id: ulid::Ulid::new().to_string(),
                firm_id: firm_id.to_string(),
                occurred_at: event.at,
                phone: phone.clone(),
                contact_ids: contact_ids.clone(),
                change,
            })
            .collect();
        Self {
            firm_id: firm_id.to_string(),
            phone: phone.clone(),
            expected_version,
            record,
            events,
            contact: None,
            deferred: None,
            takes_deferred: None,
            inbound_message_id: None,
            completes: None,
            chained_onto,
            feed,
        }
    }

    /// Whether the store must find the stored record's chain head at `chained_onto` (a record
    /// is written over an existing one).
    pub fn checks_head(&self) -> bool {
        self.record.is_some() && self.expected_version.is_some()
    }
}

/// Firms and their number routes.
#[async_trait]
pub trait FirmStore: Send + Sync {
    /// Reads a firm.
    async fn get_firm(&self, firm_id: &str) -> Result<Option<Firm>, StoreError>;
    /// Writes a firm if its stored version is `expected_version` (`None`: must not exist), with
    /// its number route (moved if the number changed) and its audit events.
    async fn put_firm(
        &self,
        firm: &Firm,
        expected_version: Option<u64>,
        previous_number: Option<&PhoneNumber>,
        events: &[AuditEvent],
    ) -> Result<(), StoreError>;
    /// The firm whose sending number this is.
    async fn firm_for_number(&self, sms_number: &PhoneNumber)
    -> Result<Option<String>, StoreError>;
    /// The firm's own audit events (settings, templates), oldest first.
    async fn firm_events(&self, firm_id: &str) -> Result<Vec<AuditEvent>, StoreError>;
    /// Firm ids in text order, starting after `after`, at most `limit` (jobs that visit every
    /// firm page through them; none scans the table).
    async fn list_firm_ids(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>, StoreError>;
}

/// Consent records, their audit events and contacts.
#[async_trait]
pub trait ConsentStore: Send + Sync {
    /// Reads a consent record, strongly consistent.
    async fn get_consent(
        &self,
        firm_id: &str,
        phone: &PhoneNumber,
    ) -> Result<Option<ConsentRecord>, StoreError>;
    /// Reads many consent records at once, strongly consistent; missing numbers are absent.
    async fn get_consents(
        &self,
        firm_id: &str,
        phones: &[PhoneNumber],
    ) -> Result<HashMap<PhoneNumber, ConsentRecord>, StoreError>;
    /// Applies a write atomically, or fails with `VersionConflict` / `DuplicateInbound`.
    async fn commit(&self, write: ConsentWrite) -> Result<(), StoreError>;
    /// Commits writes to distinct numbers together: all of them or none, each under its own
    /// conditions (a batch's outcomes, recorded in one request). Empty: nothing to do.
    async fn commit_all(&self, writes: Vec<ConsentWrite>) -> Result<(), StoreError>;
    /// A number's audit events, oldest first.
    async fn events(
        &self,
        firm_id: &str,
        phone: &PhoneNumber,
    ) -> Result<Vec<AuditEvent>, StoreError>;
    /// Reads a contact.
    async fn get_contact(
        &self,
        firm_id: &str,
        contact_id: &str,
    ) -> Result<Option<Contact>, StoreError>;
    /// A firm's feed events after the event `after` (from the start when `None`), oldest
    /// first, at most `limit`.
    async fn feed(
        &self,
        firm_id: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<FeedEvent>, StoreError>;
    /// A firm's consent records with `status` (every status when `None`), in
    /// [`ConsentListPosition`] order, starting after `after`, at most `limit`. Exports read it;
    /// it may lag the latest writes by a moment (the DynamoDB store reads an index).
    ///
    /// The in-memory and DynamoDB stores implement it; the default (for wrappers that do not
    /// forward it) fails.
    async fn list_consents(
        &self,
        firm_id: &str,
        status: Option<ConsentStatus>,
        after: Option<&ConsentListPosition>,
        limit: usize,
    ) -> Result<Vec<ConsentRecord>, StoreError> {
        let _ = (firm_id, status, after, limit);
        Err(StoreError::Backend {
            operation: "list_consents",
            retryable: false,
            source: Box::new(NotSupported),
        })
    }
}

/// A store that cannot list records.
#[derive(Debug, thiserror::Error)]
#[error("this store cannot list consent records")]
pub struct NotSupported;

/// A place in the listing of a firm's records, which is ordered by status name, then number:
/// the order of the text `<status>#<phone>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ConsentListPosition {
    /// The status of the record at this place.
    pub status: ConsentStatus,
    /// Its number.
    pub phone: PhoneNumber,
}

impl ConsentListPosition {
    /// The place of `record`.
    pub fn of(record: &ConsentRecord) -> Self {
        Self {
            status: record.status,
            phone: record.phone.clone(),
        }
    }

    /// The sort text, `<status>#<phone>` (no status name is a prefix of another, so its text
    /// order is (status, number) order).
    pub fn sort_key(&self) -> String {
        format!("{}#{}", self.status.as_str(), self.phone.as_str())
    }
}

/// A response kept for an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredResponse {
    /// HTTP status.
    pub status: u16,
    /// JSON body.
    pub body: serde_json::Value,
}

/// An idempotency key's response kept by the consent write that finishes its request, so the
/// work and its response land together. It is kept without a condition: the key was claimed by
/// this request (or taken over by a retry of the same payload, whose response does as well), and
/// a failed condition would cancel the consent write it rides in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    /// The idempotency key.
    pub key: String,
    /// The hash of the request's payload.
    pub payload_hash: String,
    /// The response to replay.
    pub response: StoredResponse,
    /// When the response lapses.
    pub expires_at: DateTime<Utc>,
}

/// What claiming an idempotency key found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyClaim {
    /// The caller owns the key now and must complete or release it.
    Claimed,
    /// Done before: here is the response.
    Completed(StoredResponse),
    /// Another call holds it.
    InProgress {
        /// Until when.
        until: DateTime<Utc>,
    },
    /// Used before with a different payload.
    PayloadMismatch,
}

/// An idempotency record as a store keeps it: what [`decide_claim`] looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptClaim {
    /// The hash of the payload that claimed the key.
    pub payload_hash: String,
    /// The response, once completed.
    pub response: Option<StoredResponse>,
    /// Until when the claim's holder may be working on it.
    pub in_progress_until: DateTime<Utc>,
    /// When a completed record lapses (`None`: not completed).
    pub expires_at: Option<DateTime<Utc>>,
}

/// What claiming a key finds when a record is kept for it: `None` when the claim may take it
/// (the record expired, or a claim of the same payload lapsed uncompleted). Every store decides
/// with this one function; the DynamoDB store's put condition is its negation.
pub fn decide_claim(
    kept: KeptClaim,
    payload_hash: &str,
    now: DateTime<Utc>,
) -> Option<IdempotencyClaim> {
    if kept.expires_at.is_some_and(|at| at <= now) {
        return None;
    }
    if kept.payload_hash != payload_hash {
        return Some(IdempotencyClaim::PayloadMismatch);
    }
    if let Some(response) = kept.response {
        return Some(IdempotencyClaim::Completed(response));
    }
    if kept.in_progress_until > now {
        return Some(IdempotencyClaim::InProgress {
            until: kept.in_progress_until,
        });
    }
    None
}

/// Idempotency records, in the Powertools manner: status, expiry, payload hash, conditional writes.
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Claims `key` for a request whose payload hashes to `payload_hash`. An in-progress claim
    /// older than `in_progress_until` of its holder is taken over (the holder crashed).
    async fn claim(
        &self,
        key: &str,
        payload_hash: &str,
        now: DateTime<Utc>,
        in_progress_until: DateTime<Utc>,
    ) -> Result<IdempotencyClaim, StoreError>;
    /// Stores the response of a claimed key, kept until `expires_at`.
    async fn complete(
        &self,
        key: &str,
        payload_hash: &str,
        response: &StoredResponse,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Gives a claimed key up after a failure, so a retry may run.
    async fn release(&self, key: &str) -> Result<(), StoreError>;
}

/// Deferred sends, found by due time without scanning everything.
#[async_trait]
pub trait DeferredStore: Send + Sync {
    /// Sends due at `now`, oldest first, at most `limit`.
    async fn due_deferred(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<DeferredSend>, StoreError>;
    /// Removes a deferred send; `true` if this caller removed it (so exactly one releaser sends).
    /// A release takes the send in its decision's write ([`ConsentWrite::takes_deferred`]);
    /// this is for the rare decisions that write nothing.
    async fn take_deferred(&self, send: &DeferredSend) -> Result<bool, StoreError>;
}

/// Everything the service stores.
pub trait Store: FirmStore + ConsentStore + IdempotencyStore + DeferredStore {}

impl<T: FirmStore + ConsentStore + IdempotencyStore + DeferredStore> Store for T {}

/// A sending failure.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The carrier reports the recipient opted out (they texted STOP to the carrier).
    #[error("the carrier reports the recipient opted out")]
    RecipientOptedOut,
    /// The provider refused or failed.
    #[error("{operation} failed")]
    Provider {
        /// The provider operation.
        operation: &'static str,
        /// Whether trying again may succeed.
        retryable: bool,
        /// The provider's error.
        #[source]
        source: BackendError,
    },
    /// The call failed after the request may have reached the provider (a timeout, a lost
    /// answer): the message may or may not have gone out. Retryable, but a one-time message
    /// must not be sent again after it (at most once).
    #[error("{operation}: no answer from the provider; the message may have gone out")]
    Unconfirmed {
        /// The provider operation.
        operation: &'static str,
        /// The provider's error.
        #[source]
        source: BackendError,
    },
}

impl SendError {
    /// Whether trying again may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::Provider {
                retryable: true,
                ..
            } | Self::Unconfirmed { .. }
        )
    }

    /// Whether the provider may have accepted the message despite the error.
    pub fn may_have_been_sent(&self) -> bool {
        matches!(self, Self::Unconfirmed { .. })
    }
}

/// An SMS ready to hand to the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingSms {
    /// The firm's number.
    pub from: PhoneNumber,
    /// The recipient.
    pub to: PhoneNumber,
    /// The text.
    pub body: String,
}

/// Hands SMS to the provider. Only the gate holds one.
#[async_trait]
pub trait SmsSender: Send + Sync {
    /// Sends; returns the provider's message id.
    async fn send_sms(&self, sms: &OutgoingSms) -> Result<String, SendError>;

    /// Whether the provider holds an opt-out for this number (a STOP the carrier took itself).
    async fn is_opted_out(&self, phone: &PhoneNumber) -> Result<bool, SendError>;

    /// One page of the numbers the provider holds as opted out, starting at `next_token` (the
    /// first page when `None`).
    async fn opted_out_numbers(&self, next_token: Option<&str>) -> Result<OptedOutPage, SendError>;

    /// Asks the provider to lift its opt-out of `phone` after the contact opted in again.
    async fn opt_in_number(&self, phone: &PhoneNumber) -> Result<CarrierOptIn, SendError>;
}

/// One page of the provider's list of opted-out numbers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OptedOutPage {
    /// The numbers on this page, as the provider lists them (E.164, unchecked).
    pub numbers: Vec<String>,
    /// Where the next page starts; `None` after the last page.
    pub next_token: Option<String>,
}

/// What the provider answered when asked to lift its opt-out of a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CarrierOptIn {
    /// The opt-out is lifted: texts reach the number again.
    OptedIn,
    /// Refused: the provider lifts a number's opt-out at most once in 30 days (SNS).
    TooSoon,
}

/// An email ready to hand to the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingEmail {
    /// Recipient address.
    pub to: String,
    /// The subject line, one line.
    pub subject: String,
    /// Plain text.
    pub text: String,
    /// HTML.
    pub html: String,
}

/// Hands email to the provider.
#[async_trait]
pub trait Mailer: Send + Sync {
    /// Sends; returns the provider's message id.
    async fn send_email(&self, email: &OutgoingEmail) -> Result<String, SendError>;
}

/// The time, settable in tests and the local server.
pub trait Clock: Send + Sync {
    /// The current time, from the real clock or a test's.
    fn now(&self) -> DateTime<Utc>;
}

/// The real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// Reads the proof-signing key when a proof is first asked for, so that a cold start that signs
/// no proof reads no secret.
#[async_trait]
pub trait ProofKeyFetch: Send + Sync {
    /// The key, or why it could not be read.
    async fn fetch(&self) -> Result<crate::evidence::proof::ProofSigner, BackendError>;
}
