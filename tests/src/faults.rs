//! Fault injection: a store and a provider that fail on command, at the Nth call.
//!
//! Three faults, as the AWS SDK reports them to the adapters:
//! - [`Fault::Throttle`]: the backend refused the call (throttling, 429); nothing happened.
//! - [`Fault::ServerError`]: the backend failed (5xx); nothing happened.
//! - [`Fault::Timeout`]: the call reached the backend and took effect, but the caller got an
//!   error (a timeout, a lost answer): the inner call runs first, then the error is returned.
//!
//! Store faults are `StoreError::Backend { retryable: true }`. Provider faults are
//! `SendError::Provider { retryable: true }`, and a provider timeout is
//! `SendError::Unconfirmed` (the provider may have taken the message), as the AWS adapters
//! classify them.
//!
//! One [`FaultPlan`] is shared by the store and the sender, so calls are counted across both in
//! the order the flow makes them: `Target::Nth(n)` fails the `n`th call (from 0) after
//! [`FaultPlan::arm`], whatever its operation; `Target::Op(op, n)` the `n`th call of `op`.
//! A plan fires at most once per arming.
//!
//! The plan can also add jitter (random yields before each call) so that concurrent flows on
//! the in-memory store interleave at every store and provider call, as they would on a network.

use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use consent::adapters::memory::{MemoryOutbox, MemoryStore, SettableClock};
use consent::evidence::audit::{AuditEvent, AuditKind};
use consent::model::contact::Contact;
use consent::model::deferred::DeferredSend;
use consent::model::firm::Firm;
use consent::model::phone::PhoneNumber;
use consent::model::record::{ConsentRecord, Delivery};
use consent::ports::{
    CarrierOptIn, Clock, ConsentStore, ConsentWrite, DeferredStore, FirmStore, IdempotencyClaim,
    IdempotencyStore, Mailer, OptedOutPage, OutgoingEmail, OutgoingSms, SendError, SmsSender,
    Store, StoreError, StoredResponse,
};

use crate::{SeenEmail, SeenSms, Sent, TestService, afternoon};

/// What goes wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Fault {
    /// Refused before anything happened (throttling, 429).
    Throttle,
    /// The backend failed before anything happened (5xx).
    ServerError,
    /// The call took effect, then the caller got an error (timeout, lost answer).
    Timeout,
}

impl Fault {
    /// Every fault.
    pub const ALL: [Fault; 3] = [Fault::Throttle, Fault::ServerError, Fault::Timeout];

    /// Whether the inner call runs (and takes effect) before the error.
    pub fn takes_effect(self) -> bool {
        self == Fault::Timeout
    }
}

/// A store or provider operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Op {
    /// `FirmStore::get_firm`.
    GetFirm,
    /// `FirmStore::put_firm`.
    PutFirm,
    /// `FirmStore::firm_for_number`.
    FirmForNumber,
    /// `FirmStore::firm_events`.
    FirmEvents,
    /// `ConsentStore::get_consent`.
    GetConsent,
    /// `ConsentStore::get_consents`.
    GetConsents,
    /// `ConsentStore::commit`.
    Commit,
    /// `ConsentStore::commit_all`.
    CommitAll,
    /// `ConsentStore::events`.
    Events,
    /// `ConsentStore::get_contact`.
    GetContact,
    /// `ConsentStore::feed`.
    Feed,
    /// `IdempotencyStore::claim`.
    Claim,
    /// `IdempotencyStore::complete`.
    Complete,
    /// `IdempotencyStore::release`.
    Release,
    /// `DeferredStore::due_deferred`.
    DueDeferred,
    /// `DeferredStore::take_deferred`.
    TakeDeferred,
    /// `SmsSender::send_sms`.
    SendSms,
    /// `SmsSender::is_opted_out`.
    IsOptedOut,
    /// `SmsSender::opted_out_numbers`.
    OptedOutNumbers,
    /// `SmsSender::opt_in_number`.
    OptInNumber,
    /// `Mailer::send_email`.
    SendEmail,
}

impl Op {
    /// The operation name used in errors.
    pub fn name(self) -> &'static str {
        match self {
            Op::GetFirm => "get_firm",
            Op::PutFirm => "put_firm",
            Op::FirmForNumber => "firm_for_number",
            Op::FirmEvents => "firm_events",
            Op::GetConsent => "get_consent",
            Op::GetConsents => "get_consents",
            Op::Commit => "commit",
            Op::CommitAll => "commit_all",
            Op::Events => "events",
            Op::GetContact => "get_contact",
            Op::Feed => "feed",
            Op::Claim => "claim_idempotency",
            Op::Complete => "complete_idempotency",
            Op::Release => "release_idempotency",
            Op::DueDeferred => "due_deferred",
            Op::TakeDeferred => "take_deferred",
            Op::SendSms => "send_sms",
            Op::IsOptedOut => "check_if_phone_number_is_opted_out",
            Op::OptedOutNumbers => "list_phone_numbers_opted_out",
            Op::OptInNumber => "opt_in_phone_number",
            Op::SendEmail => "send_email",
        }
    }

    /// Whether this is a provider call (rather than a store call).
    pub fn is_provider(self) -> bool {
        matches!(
            self,
            Op::SendSms | Op::IsOptedOut | Op::OptedOutNumbers | Op::OptInNumber | Op::SendEmail
        )
    }
}

/// One call the plan saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// Its position among the calls since the plan was armed, from 0.
    pub index: usize,
    /// The operation.
    pub op: Op,
    /// What it carried: for a commit, the event types (`message_allowed(opt_in_request)`) and
    /// record changes (`email_claimed`); for a send, the text or subject.
    pub detail: String,
}

impl fmt::Display for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{} {}", self.index, self.op.name())?;
        if !self.detail.is_empty() {
            let short: String = self.detail.chars().take(90).collect();
            write!(f, " [{short}]")?;
        }
        Ok(())
    }
}

/// Which call fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The `n`th call of any operation, from 0.
    Nth(usize),
    /// The `n`th call of one operation, from 0.
    Op(Op, usize),
}

/// The error a fault produces; the source of the adapter error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Injected {
    /// The fault.
    pub fault: Fault,
    /// The store or sender operation it hit.
    pub op: Op,
}

impl fmt::Display for Injected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.fault {
            Fault::Throttle => "throttled (injected)",
            Fault::ServerError => "internal server error (injected)",
            Fault::Timeout => "timed out after the call took effect (injected)",
        };
        write!(f, "{}: {what}", self.op.name())
    }
}

impl std::error::Error for Injected {}

impl Injected {
    fn store_error(self) -> StoreError {
        StoreError::Backend {
            operation: self.op.name(),
            retryable: true,
            source: Box::new(self),
        }
    }

    /// The provider error, as the AWS adapters classify it (`bursts` throttles with it too).
    pub(crate) fn send_error(self) -> SendError {
        match self.fault {
            Fault::Timeout => SendError::Unconfirmed {
                operation: self.op.name(),
                source: Box::new(self),
            },
            Fault::Throttle | Fault::ServerError => SendError::Provider {
                operation: self.op.name(),
                retryable: true,
                source: Box::new(self),
            },
        }
    }
}

#[derive(Debug, Default)]
struct PlanState {
    counting: bool,
    calls: Vec<Call>,
    per_op: std::collections::HashMap<Op, usize>,
    target: Option<(Target, Fault)>,
    fired: Option<(Call, Fault)>,
    jitter: Option<u64>,
}

/// Which call fails, and the log of calls: shared by a [`FaultyStore`] and a [`FaultySender`].
#[derive(Debug, Default)]
pub struct FaultPlan {
    state: Mutex<PlanState>,
}

impl FaultPlan {
    /// A plan that counts nothing and fails nothing until armed.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    fn lock(&self) -> MutexGuard<'_, PlanState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts counting calls from 0 and fails the `target` call with `fault` (once).
    pub fn arm(&self, target: Target, fault: Fault) {
        let mut state = self.lock();
        state.counting = true;
        state.calls.clear();
        state.per_op.clear();
        state.target = Some((target, fault));
        state.fired = None;
    }

    /// Starts counting calls from 0 without failing any (a fault-free baseline).
    pub fn count(&self) {
        let mut state = self.lock();
        state.counting = true;
        state.calls.clear();
        state.per_op.clear();
        state.target = None;
        state.fired = None;
    }

    /// Stops failing and counting; the log and what fired are kept.
    pub fn disarm(&self) {
        let mut state = self.lock();
        state.counting = false;
        state.target = None;
    }

    /// The call that failed and how, if the armed fault fired.
    pub fn fired(&self) -> Option<(Call, Fault)> {
        self.lock().fired.clone()
    }

    /// The calls since the plan was armed (or counting started).
    pub fn calls(&self) -> Vec<Call> {
        self.lock().calls.clone()
    }

    /// Adds random yields (0 to 3) before every call, seeded; `None` turns it off.
    pub fn set_jitter(&self, seed: Option<u64>) {
        self.lock().jitter = seed.map(|s| s | 1);
    }

    /// Registers a call; returns the fault to inject into it, if it is the target.
    async fn enter(&self, op: Op, detail: impl FnOnce() -> String) -> Option<Fault> {
        let (fault, yields) = {
            let mut state = self.lock();
            let yields = match state.jitter.as_mut() {
                Some(seed) => {
                    // xorshift64
                    *seed ^= *seed << 13;
                    *seed ^= *seed >> 7;
                    *seed ^= *seed << 17;
                    *seed % 4
                }
                None => 0,
            };
            if !state.counting {
                (None, yields)
            } else {
                let index = state.calls.len();
                let nth = {
                    let count = state.per_op.entry(op).or_default();
                    let nth = *count;
                    *count += 1;
                    nth
                };
                let call = Call {
                    index,
                    op,
                    detail: detail(),
                };
                state.calls.push(call.clone());
                let hit = match state.target {
                    Some((Target::Nth(n), fault)) if n == index => Some(fault),
                    Some((Target::Op(target_op, n), fault)) if target_op == op && n == nth => {
                        Some(fault)
                    }
                    _ => None,
                };
                let fault = hit.filter(|_| state.fired.is_none());
                if let Some(fault) = fault {
                    state.fired = Some((call, fault));
                }
                (fault, yields)
            }
        };
        for _ in 0..yields {
            tokio::task::yield_now().await;
        }
        fault
    }
}

/// Describes a commit for the call log: its event types (message kinds in brackets) and the
/// one-time deliveries it claims.
pub fn describe_write(write: &ConsentWrite) -> String {
    let mut parts: Vec<String> = write.events.iter().map(describe_event).collect();
    if let Some(record) = &write.record
        && matches!(record.opt_in_email, Delivery::Claimed { .. })
    {
        parts.push("email_claimed".to_string());
    }
    if write.deferred.is_some() {
        parts.push("deferred_send".to_string());
    }
    if write.takes_deferred.is_some() {
        parts.push("takes_deferred".to_string());
    }
    if write.inbound_message_id.is_some() {
        parts.push("inbound_id".to_string());
    }
    parts.join(",")
}

/// An event's type, with the message kind for gate decisions: `message_allowed(opt_in_request)`.
pub fn describe_event(event: &AuditEvent) -> String {
    let kind = match &event.kind {
        AuditKind::MessageAllowed { kind, .. }
        | AuditKind::MessageDeferred { kind, .. }
        | AuditKind::MessageBlocked { kind, .. } => Some(*kind),
        _ => None,
    };
    match kind {
        Some(kind) => format!(
            "{}({})",
            event.type_name(),
            serde_json::to_value(kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        ),
        None => event.type_name().to_string(),
    }
}

/// A store that fails on command, around any store. It also keeps a journal of every commit
/// the inner store accepted (including those whose answer a `Timeout` then lost), in the order
/// they returned: exact for one flow at a time, approximate under concurrency.
pub struct FaultyStore {
    inner: Arc<dyn Store>,
    plan: Arc<FaultPlan>,
    journal: Mutex<Vec<ConsentWrite>>,
    conflicts: std::sync::atomic::AtomicUsize,
}

impl fmt::Debug for FaultyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FaultyStore").finish_non_exhaustive()
    }
}

impl FaultyStore {
    /// Wraps `inner`, failing as `plan` says.
    pub fn new(inner: Arc<dyn Store>, plan: Arc<FaultPlan>) -> Self {
        Self {
            inner,
            plan,
            journal: Mutex::new(Vec::new()),
            conflicts: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// How many commits the inner store refused with a version conflict (lost races).
    pub fn conflicts(&self) -> usize {
        self.conflicts.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The store underneath, for reads that must not fail.
    pub fn inner(&self) -> &Arc<dyn Store> {
        &self.inner
    }

    /// Every commit the inner store accepted, in order.
    pub fn journal(&self) -> Vec<ConsentWrite> {
        self.journal
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Journals the writes of an accepted commit, or counts a lost race.
    fn note_commit(&self, result: &Result<(), StoreError>, writes: Vec<ConsentWrite>) {
        match result {
            Ok(()) => self
                .journal
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .extend(writes),
            Err(StoreError::VersionConflict { .. }) => {
                self.conflicts
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            Err(_) => {}
        }
    }

    async fn run<T, Fut>(
        &self,
        op: Op,
        detail: impl FnOnce() -> String,
        call: impl FnOnce() -> Fut,
    ) -> Result<T, StoreError>
    where
        Fut: Future<Output = Result<T, StoreError>>,
    {
        match self.plan.enter(op, detail).await {
            None => call().await,
            Some(fault) => {
                if fault.takes_effect() {
                    // The backend did it; the answer is lost.
                    let _ = call().await;
                }
                Err(Injected { fault, op }.store_error())
            }
        }
    }
}

#[async_trait]
impl FirmStore for FaultyStore {
    async fn get_firm(&self, firm_id: &str) -> Result<Option<Firm>, StoreError> {
        self.run(Op::GetFirm, String::new, || self.inner.get_firm(firm_id))
            .await
    }

    async fn put_firm(
        &self,
        firm: &Firm,
        expected_version: Option<u64>,
        previous_number: Option<&PhoneNumber>,
        events: &[AuditEvent],
    ) -> Result<(), StoreError> {
        self.run(Op::PutFirm, String::new, || {
            self.inner
                .put_firm(firm, expected_version, previous_number, events)
        })
        .await
    }

    async fn firm_for_number(
        &self,
        sms_number: &PhoneNumber,
    ) -> Result<Option<String>, StoreError> {
        self.run(Op::FirmForNumber, String::new, || {
            self.inner.firm_for_number(sms_number)
        })
        .await
    }

    async fn firm_events(&self, firm_id: &str) -> Result<Vec<AuditEvent>, StoreError> {
        self.run(Op::FirmEvents, String::new, || {
            self.inner.firm_events(firm_id)
        })
        .await
    }

    async fn list_firm_ids(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        self.inner.list_firm_ids(after, limit).await
    }
}

#[async_trait]
impl ConsentStore for FaultyStore {
    async fn get_consent(
        &self,
        firm_id: &str,
        phone: &PhoneNumber,
    ) -> Result<Option<ConsentRecord>, StoreError> {
        self.run(Op::GetConsent, String::new, || {
            self.inner.get_consent(firm_id, phone)
        })
        .await
    }

    async fn get_consents(
        &self,
        firm_id: &str,
        phones: &[PhoneNumber],
    ) -> Result<std::collections::HashMap<PhoneNumber, ConsentRecord>, StoreError> {
        self.run(Op::GetConsents, String::new, || {
            self.inner.get_consents(firm_id, phones)
        })
        .await
    }

    async fn commit(&self, write: ConsentWrite) -> Result<(), StoreError> {
        let detail = describe_write(&write);
        let copy = write.clone();
        self.run(
            Op::Commit,
            || detail,
            || async move {
                let result = self.inner.commit(write).await;
                self.note_commit(&result, vec![copy]);
                result
            },
        )
        .await
    }

    async fn commit_all(&self, writes: Vec<ConsentWrite>) -> Result<(), StoreError> {
        let detail = writes
            .iter()
            .map(describe_write)
            .collect::<Vec<_>>()
            .join("; ");
        let copies = writes.clone();
        self.run(
            Op::CommitAll,
            || detail,
            || async move {
                let result = self.inner.commit_all(writes).await;
                self.note_commit(&result, copies);
                result
            },
        )
        .await
    }

    async fn events(
        &self,
        firm_id: &str,
        phone: &PhoneNumber,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        self.run(Op::Events, String::new, || {
            self.inner.events(firm_id, phone)
        })
        .await
    }

    async fn get_contact(
        &self,
        firm_id: &str,
        contact_id: &str,
    ) -> Result<Option<Contact>, StoreError> {
        self.run(Op::GetContact, String::new, || {
            self.inner.get_contact(firm_id, contact_id)
        })
        .await
    }

    async fn feed(
        &self,
        firm_id: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<consent::model::feed::FeedEvent>, StoreError> {
        self.run(Op::Feed, String::new, || {
            self.inner.feed(firm_id, after, limit)
        })
        .await
    }

    async fn list_consents(
        &self,
        firm_id: &str,
        status: Option<consent::model::record::ConsentStatus>,
        after: Option<&consent::ports::ConsentListPosition>,
        limit: usize,
    ) -> Result<Vec<ConsentRecord>, StoreError> {
        self.inner
            .list_consents(firm_id, status, after, limit)
            .await
    }
}

#[async_trait]
impl IdempotencyStore for FaultyStore {
    async fn claim(
        &self,
        key: &str,
        payload_hash: &str,
        now: DateTime<Utc>,
        in_progress_until: DateTime<Utc>,
    ) -> Result<IdempotencyClaim, StoreError> {
        self.run(Op::Claim, String::new, || {
            self.inner.claim(key, payload_hash, now, in_progress_until)
        })
        .await
    }

    async fn complete(
        &self,
        key: &str,
        payload_hash: &str,
        response: &StoredResponse,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.run(Op::Complete, String::new, || {
            self.inner.complete(key, payload_hash, response, expires_at)
        })
        .await
    }

    async fn release(&self, key: &str) -> Result<(), StoreError> {
        self.run(Op::Release, String::new, || self.inner.release(key))
            .await
    }
}

#[async_trait]
impl DeferredStore for FaultyStore {
    async fn due_deferred(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<DeferredSend>, StoreError> {
        self.run(Op::DueDeferred, String::new, || {
            self.inner.due_deferred(now, limit)
        })
        .await
    }

    async fn take_deferred(&self, send: &DeferredSend) -> Result<bool, StoreError> {
        self.run(
            Op::TakeDeferred,
            || send.body.clone(),
            || self.inner.take_deferred(send),
        )
        .await
    }
}

/// An SMS sender and mailer that fail on command, around any pair.
pub struct FaultySender {
    sms: Arc<dyn SmsSender>,
    mailer: Arc<dyn Mailer>,
    plan: Arc<FaultPlan>,
}

impl fmt::Debug for FaultySender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FaultySender").finish_non_exhaustive()
    }
}

impl FaultySender {
    /// Wraps a sender and a mailer, failing as `plan` says.
    pub fn new(sms: Arc<dyn SmsSender>, mailer: Arc<dyn Mailer>, plan: Arc<FaultPlan>) -> Self {
        Self { sms, mailer, plan }
    }

    async fn run<T, Fut>(
        &self,
        op: Op,
        detail: impl FnOnce() -> String,
        call: impl FnOnce() -> Fut,
    ) -> Result<T, SendError>
    where
        Fut: Future<Output = Result<T, SendError>>,
    {
        match self.plan.enter(op, detail).await {
            None => call().await,
            Some(fault) => {
                if fault.takes_effect() {
                    // The provider took it; the answer is lost.
                    let _ = call().await;
                }
                Err(Injected { fault, op }.send_error())
            }
        }
    }
}

#[async_trait]
impl SmsSender for FaultySender {
    async fn send_sms(&self, sms: &OutgoingSms) -> Result<String, SendError> {
        self.run(Op::SendSms, || sms.body.clone(), || self.sms.send_sms(sms))
            .await
    }

    async fn is_opted_out(&self, phone: &PhoneNumber) -> Result<bool, SendError> {
        self.run(Op::IsOptedOut, String::new, || self.sms.is_opted_out(phone))
            .await
    }

    async fn opted_out_numbers(&self, next_token: Option<&str>) -> Result<OptedOutPage, SendError> {
        self.run(Op::OptedOutNumbers, String::new, || {
            self.sms.opted_out_numbers(next_token)
        })
        .await
    }

    async fn opt_in_number(&self, phone: &PhoneNumber) -> Result<CarrierOptIn, SendError> {
        self.run(Op::OptInNumber, String::new, || {
            self.sms.opt_in_number(phone)
        })
        .await
    }
}

#[async_trait]
impl Mailer for FaultySender {
    async fn send_email(&self, email: &OutgoingEmail) -> Result<String, SendError> {
        self.run(
            Op::SendEmail,
            || email.subject.clone(),
            || self.mailer.send_email(email),
        )
        .await
    }
}

/// Records what the providers accepted (returned a message id for), as [`Sent`]: what a test
/// on the emulator reads instead of moto's data.json, which is slow to fetch and shared by
/// every test on the server.
pub struct Recorder {
    sms: Arc<dyn SmsSender>,
    mailer: Arc<dyn Mailer>,
    sent_sms: Mutex<Vec<SeenSms>>,
    sent_email: Mutex<Vec<SeenEmail>>,
}

impl fmt::Debug for Recorder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recorder").finish_non_exhaustive()
    }
}

impl Recorder {
    /// Wraps a sender and a mailer.
    pub fn new(sms: Arc<dyn SmsSender>, mailer: Arc<dyn Mailer>) -> Self {
        Self {
            sms,
            mailer,
            sent_sms: Mutex::new(Vec::new()),
            sent_email: Mutex::new(Vec::new()),
        }
    }
}

#[async_trait]
impl SmsSender for Recorder {
    async fn send_sms(&self, sms: &OutgoingSms) -> Result<String, SendError> {
        let id = self.sms.send_sms(sms).await?;
        self.sent_sms
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(SeenSms {
                to: sms.to.to_string(),
                body: sms.body.clone(),
            });
        Ok(id)
    }

    async fn is_opted_out(&self, phone: &PhoneNumber) -> Result<bool, SendError> {
        self.sms.is_opted_out(phone).await
    }

    async fn opted_out_numbers(&self, next_token: Option<&str>) -> Result<OptedOutPage, SendError> {
        self.sms.opted_out_numbers(next_token).await
    }

    async fn opt_in_number(&self, phone: &PhoneNumber) -> Result<CarrierOptIn, SendError> {
        self.sms.opt_in_number(phone).await
    }
}

#[async_trait]
impl Mailer for Recorder {
    async fn send_email(&self, email: &OutgoingEmail) -> Result<String, SendError> {
        let id = self.mailer.send_email(email).await?;
        self.sent_email
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(SeenEmail {
                to: email.to.clone(),
                subject: email.subject.clone(),
                body: email.html.clone(),
            });
        Ok(id)
    }
}

#[async_trait]
impl Sent for Recorder {
    async fn sms(&self) -> Vec<SeenSms> {
        self.sent_sms
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    async fn emails(&self) -> Vec<SeenEmail> {
        self.sent_email
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn opt_out_at_carrier(&self, phone: &str) {
        panic!("the recorder cannot opt {phone} out at the carrier");
    }
}

/// A service under test whose store and providers fail on command.
pub struct FaultyService {
    /// The service (routers, SNS handler, clock, what was sent).
    pub t: TestService,
    /// The plan both wrappers follow.
    pub plan: Arc<FaultPlan>,
    /// The faulty store (with its journal and the store underneath).
    pub store: Arc<FaultyStore>,
}

impl FaultyService {
    /// The in-memory store and outbox, wrapped.
    pub fn in_memory() -> Self {
        Self::on_store(Arc::new(MemoryStore::new()))
    }

    /// `store` and the in-memory outbox, wrapped.
    pub fn on_store(store: Arc<dyn Store>) -> Self {
        let clock = Arc::new(SettableClock::frozen(afternoon()));
        let outbox = Arc::new(MemoryOutbox::new(clock.clone() as Arc<dyn Clock>));
        Self::over(store, outbox.clone(), outbox.clone(), outbox, clock, 0)
    }

    /// Any store and providers, wrapped; `sent` reads what the providers took.
    pub fn over(
        store: Arc<dyn Store>,
        sms: Arc<dyn SmsSender>,
        mailer: Arc<dyn Mailer>,
        sent: Arc<dyn Sent>,
        clock: Arc<SettableClock>,
        index: u16,
    ) -> Self {
        let plan = FaultPlan::new();
        let store = Arc::new(FaultyStore::new(store, plan.clone()));
        let sender = Arc::new(FaultySender::new(sms, mailer, plan.clone()));
        let t = TestService::new(store.clone(), sender.clone(), sender, sent, clock, index);
        Self { t, plan, store }
    }
}
