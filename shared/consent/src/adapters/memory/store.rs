//! The in-memory store: every store condition DynamoDB enforces (versions, chain heads, inbound
//! de-duplication, number routes, idempotency records, deferred sends), on maps under one lock.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::evidence::audit::AuditEvent;
use crate::model::contact::Contact;
use crate::model::deferred::DeferredSend;
use crate::model::feed::{self, FeedEvent};
use crate::model::firm::Firm;
use crate::model::phone::PhoneNumber;
use crate::model::record::{ConsentRecord, ConsentStatus};
use crate::ports::{
    ConsentListPosition, ConsentStore, ConsentWrite, DeferredStore, FirmStore, IdempotencyClaim,
    IdempotencyStore, KeptClaim, StoreError, StoredResponse, decide_claim,
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

    async fn list_firm_ids(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        let after = after.unwrap_or_default();
        Ok(self
            .lock()
            .firms
            .keys()
            .filter(|id| id.as_str() > after)
            .take(limit)
            .cloned()
            .collect())
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
        check(&state, &write)?;
        apply(&mut state, write);
        Ok(())
    }

    async fn commit_all(&self, writes: Vec<ConsentWrite>) -> Result<(), StoreError> {
        let mut state = self.lock();
        for write in &writes {
            check(&state, write)?;
        }
        for write in writes {
            apply(&mut state, write);
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

/// Whether `write`'s conditions hold on `state`: the record's version and chain head, an
/// inbound message not applied before, and a deferred send it takes still queued.
fn check(state: &StoreState, write: &ConsentWrite) -> Result<(), StoreError> {
    let stored = state
        .consents
        .get(&consent_key(&write.firm_id, &write.phone));
    let head_moved = write.checks_head()
        && stored.and_then(|r| r.audit_head.as_deref()) != write.chained_onto.as_deref();
    if stored.map(|r| r.version) != write.expected_version || head_moved {
        return Err(StoreError::VersionConflict {
            operation: "commit",
        });
    }
    if let Some(id) = &write.inbound_message_id
        && state.inbound_ids.contains(&inbound_key(&write.firm_id, id))
    {
        return Err(StoreError::DuplicateInbound);
    }
    if let Some(id) = &write.takes_deferred
        && !state.deferred.contains_key(id)
    {
        return Err(StoreError::DeferredTaken);
    }
    Ok(())
}

/// Applies a checked write to `state`.
fn apply(state: &mut StoreState, write: ConsentWrite) {
    let key = consent_key(&write.firm_id, &write.phone);
    if let Some(id) = &write.inbound_message_id {
        state.inbound_ids.insert(inbound_key(&write.firm_id, id));
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
    if let Some(id) = &write.takes_deferred {
        state.deferred.remove(id);
    }
    if let Some(deferred) = write.deferred {
        state.deferred.insert(deferred.id.clone(), deferred);
    }
    if let Some(completion) = write.completes {
        state.idempotency.insert(
            completion.key,
            IdempotencyItem {
                payload_hash: completion.payload_hash,
                response: Some(completion.response),
                in_progress_until: completion.expires_at,
                expires_at: Some(completion.expires_at),
            },
        );
    }
    if !write.feed.is_empty() {
        let mut events = write.feed;
        let firm_feed = state.feed.entry(write.firm_id).or_default();
        feed::order_after(firm_feed.last().map(|e| e.id.as_str()), &mut events);
        firm_feed.extend(events);
    }
}

fn inbound_key(firm_id: &str, message_id: &str) -> String {
    format!("{firm_id}#{message_id}")
}
