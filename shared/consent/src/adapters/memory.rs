//! In-memory adapters: a store that enforces the same conditions as DynamoDB, an outbox that
//! records what was "sent", and a settable clock, for unit, property and scenario tests.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::evidence::audit::AuditEvent;
use crate::model::contact::Contact;
use crate::model::deferred::DeferredSend;
use crate::model::feed::{self, FeedEvent};
use crate::model::firm::Firm;
use crate::model::phone::PhoneNumber;
use crate::model::record::{ConsentRecord, ConsentStatus};
use crate::ports::{
    Clock, ConsentListPosition, ConsentStore, ConsentWrite, DeferredStore, FirmStore,
    IdempotencyClaim, IdempotencyStore, KeptClaim, Mailer, OutgoingEmail, OutgoingSms, SendError,
    SmsSender, StoreError, StoredResponse, decide_claim,
};

/// An idempotency record as kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdempotencyItem {
    /// The hash of the payload that claimed the key.
    pub payload_hash: String,
    /// The response, once completed.
    pub response: Option<StoredResponse>,
    /// Until when the claim's holder may be working on it.
    pub in_progress_until: DateTime<Utc>,
    /// When a completed record lapses.
    pub expires_at: Option<DateTime<Utc>>,
}

/// Everything the in-memory store holds. Serializable: it is also the format of the local
/// server's former `store.json`, which the embedded database imports once.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreState {
    /// Firms by id.
    pub firms: BTreeMap<String, Firm>,
    /// Sending number (E.164) to firm id.
    pub routes: BTreeMap<String, String>,
    /// A firm's own audit events, by firm id.
    pub firm_events: BTreeMap<String, Vec<AuditEvent>>,
    /// Consent records by `<firm_id>#<e164>`.
    pub consents: BTreeMap<String, ConsentRecord>,
    /// A number's audit events by `<firm_id>#<e164>`.
    pub events: BTreeMap<String, Vec<AuditEvent>>,
    /// Contacts by `<firm_id>#<contact_id>`.
    pub contacts: BTreeMap<String, Contact>,
    /// Applied inbound message ids, as `<firm_id>#<message_id>`.
    pub inbound_ids: HashSet<String>,
    /// Idempotency records by key.
    pub idempotency: BTreeMap<String, IdempotencyItem>,
    /// Deferred sends by id.
    pub deferred: BTreeMap<String, DeferredSend>,
    /// Each firm's feed, by firm id, oldest first.
    #[serde(default)]
    pub feed: BTreeMap<String, Vec<FeedEvent>>,
}

fn consent_key(firm_id: &str, phone: &PhoneNumber) -> String {
    format!("{firm_id}#{phone}")
}

/// The in-memory store.
#[derive(Default)]
pub struct MemoryStore {
    state: Mutex<StoreState>,
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore").finish_non_exhaustive()
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// A copy of everything stored.
    pub fn snapshot(&self) -> StoreState {
        self.lock().clone()
    }

    fn lock(&self) -> MutexGuard<'_, StoreState> {
        // A panic while holding the lock cannot leave a half-applied write: every write
        // checks all conditions before it changes anything.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait]
impl FirmStore for MemoryStore {
    async fn get_firm(&self, firm_id: &str) -> Result<Option<Firm>, StoreError> {
        Ok(self.lock().firms.get(firm_id).cloned())
    }

    async fn put_firm(
        &self,
        firm: &Firm,
        expected_version: Option<u64>,
        previous_number: Option<&PhoneNumber>,
        events: &[AuditEvent],
    ) -> Result<(), StoreError> {
        let mut state = self.lock();
        let stored = state.firms.get(&firm.firm_id).map(|f| f.version);
        if stored != expected_version {
            return Err(StoreError::VersionConflict {
                operation: "put_firm",
            });
        }
        let number = firm.sms_number.as_str();
        if state
            .routes
            .get(number)
            .is_some_and(|owner| owner != &firm.firm_id)
        {
            return Err(StoreError::NumberInUse);
        }
        if let Some(previous) = previous_number.filter(|p| *p != &firm.sms_number) {
            state.routes.remove(previous.as_str());
        }
        state
            .routes
            .insert(number.to_string(), firm.firm_id.clone());
        state.firms.insert(firm.firm_id.clone(), firm.clone());
        state
            .firm_events
            .entry(firm.firm_id.clone())
            .or_default()
            .extend(events.iter().cloned());
        Ok(())
    }

    async fn firm_for_number(
        &self,
        sms_number: &PhoneNumber,
    ) -> Result<Option<String>, StoreError> {
        Ok(self.lock().routes.get(sms_number.as_str()).cloned())
    }

    async fn firm_events(&self, firm_id: &str) -> Result<Vec<AuditEvent>, StoreError> {
        Ok(self
            .lock()
            .firm_events
            .get(firm_id)
            .cloned()
            .unwrap_or_default())
    }
}

#[async_trait]
impl ConsentStore for MemoryStore {
    async fn get_consent(
        &self,
        firm_id: &str,
        phone: &PhoneNumber,
    ) -> Result<Option<ConsentRecord>, StoreError> {
        Ok(self
            .lock()
            .consents
            .get(&consent_key(firm_id, phone))
            .cloned())
    }

    async fn get_consents(
        &self,
        firm_id: &str,
        phones: &[PhoneNumber],
    ) -> Result<HashMap<PhoneNumber, ConsentRecord>, StoreError> {
        let state = self.lock();
        Ok(phones
            .iter()
            .filter_map(|phone| {
                state
                    .consents
                    .get(&consent_key(firm_id, phone))
                    .map(|r| (phone.clone(), r.clone()))
            })
            .collect())
    }

    async fn commit(&self, write: ConsentWrite) -> Result<(), StoreError> {
        let mut state = self.lock();
        let key = consent_key(&write.firm_id, &write.phone);
        let stored = state.consents.get(&key);
        let head_moved = write.checks_head()
            && stored.and_then(|r| r.audit_head.as_deref()) != write.chained_onto.as_deref();
        if stored.map(|r| r.version) != write.expected_version || head_moved {
            return Err(StoreError::VersionConflict {
                operation: "commit",
            });
        }
        let inbound_key = write
            .inbound_message_id
            .as_ref()
            .map(|id| format!("{}#{id}", write.firm_id));
        if inbound_key
            .as_ref()
            .is_some_and(|k| state.inbound_ids.contains(k))
        {
            return Err(StoreError::DuplicateInbound);
        }
        // All conditions hold: apply everything.
        if let Some(k) = inbound_key {
            state.inbound_ids.insert(k);
        }
        if let Some(record) = write.record {
            state.consents.insert(key.clone(), record);
        }
        state.events.entry(key).or_default().extend(write.events);
        if let Some(contact) = write.contact {
            state.contacts.insert(
                format!("{}#{}", contact.firm_id, contact.contact_id),
                contact,
            );
        }
        if let Some(deferred) = write.deferred {
            state.deferred.insert(deferred.id.clone(), deferred);
        }
        if !write.feed.is_empty() {
            let mut events = write.feed;
            let firm_feed = state.feed.entry(write.firm_id).or_default();
            feed::order_after(firm_feed.last().map(|e| e.id.as_str()), &mut events);
            firm_feed.extend(events);
        }
        Ok(())
    }

    async fn events(
        &self,
        firm_id: &str,
        phone: &PhoneNumber,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        let mut events = self
            .lock()
            .events
            .get(&consent_key(firm_id, phone))
            .cloned()
            .unwrap_or_default();
        events.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(events)
    }

    async fn get_contact(
        &self,
        firm_id: &str,
        contact_id: &str,
    ) -> Result<Option<Contact>, StoreError> {
        Ok(self
            .lock()
            .contacts
            .get(&format!("{firm_id}#{contact_id}"))
            .cloned())
    }

    async fn feed(
        &self,
        firm_id: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<FeedEvent>, StoreError> {
        let state = self.lock();
        let Some(events) = state.feed.get(firm_id) else {
            return Ok(Vec::new());
        };
        // Ids increase along the list, so the page starts after the last id not above `after`.
        let start = after.map_or(0, |after| {
            events.partition_point(|e| e.id.as_str() <= after)
        });
        Ok(events.iter().skip(start).take(limit).cloned().collect())
    }

    async fn list_consents(
        &self,
        firm_id: &str,
        status: Option<ConsentStatus>,
        after: Option<&ConsentListPosition>,
        limit: usize,
    ) -> Result<Vec<ConsentRecord>, StoreError> {
        let after = after.map(ConsentListPosition::sort_key);
        let mut found: Vec<(String, ConsentRecord)> = self
            .lock()
            .consents
            .values()
            .filter(|r| r.firm_id == firm_id && status.is_none_or(|s| r.status == s))
            .map(|r| (ConsentListPosition::of(r).sort_key(), r.clone()))
            .filter(|(key, _)| after.as_ref().is_none_or(|after| key > after))
            .collect();
        found.sort_by(|(a, _), (b, _)| a.cmp(b));
        Ok(found.into_iter().take(limit).map(|(_, r)| r).collect())
    }
}

#[async_trait]
impl IdempotencyStore for MemoryStore {
    async fn claim(
        &self,
        key: &str,
        payload_hash: &str,
        now: DateTime<Utc>,
        in_progress_until: DateTime<Utc>,
    ) -> Result<IdempotencyClaim, StoreError> {
        let mut state = self.lock();
        if let Some(item) = state.idempotency.get(key) {
            let kept = KeptClaim {
                payload_hash: item.payload_hash.clone(),
                response: item.response.clone(),
                in_progress_until: item.in_progress_until,
                expires_at: item.expires_at,
            };
            if let Some(claim) = decide_claim(kept, payload_hash, now) {
                return Ok(claim);
            }
        }
        state.idempotency.insert(
            key.to_string(),
            IdempotencyItem {
                payload_hash: payload_hash.to_string(),
                response: None,
                in_progress_until,
                expires_at: None,
            },
        );
        Ok(IdempotencyClaim::Claimed)
    }

    async fn complete(
        &self,
        key: &str,
        payload_hash: &str,
        response: &StoredResponse,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut state = self.lock();
        match state.idempotency.get_mut(key) {
            Some(item) if item.payload_hash == payload_hash && item.response.is_none() => {
                item.response = Some(response.clone());
                item.expires_at = Some(expires_at);
            }
            _ => {
                return Err(StoreError::VersionConflict {
                    operation: "complete_idempotency",
                });
            }
        }
        Ok(())
    }

    async fn release(&self, key: &str) -> Result<(), StoreError> {
        let mut state = self.lock();
        if state
            .idempotency
            .get(key)
            .is_some_and(|item| item.response.is_none())
        {
            state.idempotency.remove(key);
        }
        Ok(())
    }
}

#[async_trait]
impl DeferredStore for MemoryStore {
    async fn due_deferred(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<DeferredSend>, StoreError> {
        let mut due: Vec<DeferredSend> = self
            .lock()
            .deferred
            .values()
            .filter(|d| d.not_before <= now)
            .cloned()
            .collect();
        due.sort_by(|a, b| (a.not_before, &a.id).cmp(&(b.not_before, &b.id)));
        due.truncate(limit);
        Ok(due)
    }

    async fn take_deferred(&self, send: &DeferredSend) -> Result<bool, StoreError> {
        let mut state = self.lock();
        Ok(state.deferred.remove(&send.id).is_some())
    }
}

/// An SMS the outbox took.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    opted_out_at_carrier: HashSet<String>,
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

/// What a [`SettableClock`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClockSetting {
    /// The real time.
    Real,
    /// The real time moved by an offset: set to an instant, the clock keeps running from it.
    Offset(Duration),
    /// Standing still at an instant.
    Frozen(DateTime<Utc>),
}

/// A clock that can be set to an instant, from which it keeps running (or stands still).
#[derive(Debug)]
pub struct SettableClock {
    setting: Mutex<ClockSetting>,
    frozen: bool,
}

impl Default for SettableClock {
    fn default() -> Self {
        Self::new()
    }
}

impl SettableClock {
    /// A clock on real time until set.
    pub fn new() -> Self {
        Self::with_offset(None)
    }

    /// A running clock `offset` ahead of real time (`None`: real time), as [`Self::offset`]
    /// reported it, so a set clock survives a restart.
    pub fn with_offset(offset: Option<Duration>) -> Self {
        Self {
            setting: Mutex::new(offset.map_or(ClockSetting::Real, ClockSetting::Offset)),
            frozen: false,
        }
    }

    /// A clock standing still at `at` until set again (for deterministic tests).
    pub fn frozen(at: DateTime<Utc>) -> Self {
        Self {
            setting: Mutex::new(ClockSetting::Frozen(at)),
            frozen: true,
        }
    }

    /// Sets now to `at` (`None`: back to real time).
    pub fn set(&self, at: Option<DateTime<Utc>>) {
        let setting = match at {
            None => ClockSetting::Real,
            Some(at) if self.frozen => ClockSetting::Frozen(at),
            Some(at) => ClockSetting::Offset(at - Utc::now()),
        };
        *self.lock() = setting;
    }

    /// How far a running clock is from real time (`None`: on real time, or frozen).
    pub fn offset(&self) -> Option<Duration> {
        match *self.lock() {
            ClockSetting::Offset(offset) => Some(offset),
            ClockSetting::Real | ClockSetting::Frozen(_) => None,
        }
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let now = self.now();
        self.set(Some(now + by));
    }

    fn lock(&self) -> MutexGuard<'_, ClockSetting> {
        self.setting.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Clock for SettableClock {
    fn now(&self) -> DateTime<Utc> {
        match *self.lock() {
            ClockSetting::Real => Utc::now(),
            ClockSetting::Offset(offset) => Utc::now() + offset,
            ClockSetting::Frozen(at) => at,
        }
    }
}
