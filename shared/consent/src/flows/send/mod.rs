//! The send gate: the one path by which any SMS leaves the service. It decides with the gate
//! policy, claims the decision in the store (so a concurrent STOP is ordered before or after it),
//! hands the message to the provider, and records the outcome.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures_util::stream::{self, StreamExt};
use serde::Serialize;

mod allow;
mod carrier;
mod held;

use super::{Attempt, FlowError, retry_on_conflict};
use crate::model::firm::Firm;
use crate::model::gate::{
    self, BlockReason, GateDecision, GateQuestion, MessageCategory, MessageKind,
};
use crate::model::phone::PhoneNumber;
use crate::model::quiet_hours::{SendWindow, parse_time_zone};
use crate::model::record::ConsentRecord;
use crate::model::state_rules::RuleId;
use crate::ports::{Clock, SmsSender, Store, StoreError};

/// How many numbers a batch sends to at once: enough to finish 1,000 messages within a
/// request's time, few enough to stay under the SMS provider's rate (SNS throttles are retried
/// by the SDK, then reported per message).
pub const BATCH_CONCURRENCY: usize = 16;

/// One message for the gate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendRequest {
    /// The recipient.
    pub to: PhoneNumber,
    /// What the message is.
    pub kind: MessageKind,
    /// Marketing or transactional.
    pub category: MessageCategory,
    /// The text.
    pub body: String,
    /// The caller's idempotency key, kept in the audit trail.
    pub idempotency_key: Option<String>,
}

/// What became of a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum SendOutcome {
    /// Handed to the provider.
    Sent {
        /// The provider's id.
        message_id: String,
    },
    /// Held until the window opens (or a cap has room again).
    Deferred {
        /// When it goes.
        not_before: DateTime<Utc>,
        /// The calling rule or cap that held it.
        #[serde(skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "fl_501_616"))]
        rule: Option<RuleId>,
    },
    /// The gate refused it: it never goes out.
    Blocked {
        /// The rule that refused it.
        reason: BlockReason,
        /// The calling rule or cap behind the block, where one is (a frequency cap).
        #[serde(skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "fl_501_616"))]
        rule: Option<RuleId>,
    },
}

/// The gate with the only SMS sender in the service.
#[derive(Clone)]
pub struct SendGate {
    store: Arc<dyn Store>,
    sms: Arc<dyn SmsSender>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for SendGate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SendGate").finish_non_exhaustive()
    }
}

/// A gate decision claimed in the store, ready to hand over.
struct Claimed {
    allowed_event_id: String,
    /// The record as the claim wrote it (`None`: read it again).
    record: Option<ConsentRecord>,
    /// When the claim counted a firm message toward the caps: a definite failure gives it back,
    /// since only a message the provider accepted counts.
    counted_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// What the gate knows of the recipient's record before it decides.
// One per send or batch lane, moved rather than copied: boxing the record would cost an
// allocation on the gate's hot path for nothing.
#[expect(clippy::large_enum_variant)]
#[derive(Debug, Clone, Default)]
enum KnownRecord {
    /// Nothing: read it from the store.
    #[default]
    Unread,
    /// As just read or written: the record, or `None` for a number that has none.
    Seen(Option<ConsentRecord>),
}

impl KnownRecord {
    /// The record as last seen (`None`: no record, or not known).
    fn into_record(self) -> Option<ConsentRecord> {
        match self {
            Self::Unread => None,
            Self::Seen(record) => record,
        }
    }
}

impl SendGate {
    /// A gate over a store and the SMS sender.
    pub fn new(store: Arc<dyn Store>, sms: Arc<dyn SmsSender>, clock: Arc<dyn Clock>) -> Self {
        Self { store, sms, clock }
    }

    /// Sends one message through the gate.
    pub async fn send(&self, firm: &Firm, request: &SendRequest) -> Result<SendOutcome, FlowError> {
        self.send_with(firm, request, &mut KnownRecord::Unread)
            .await
    }

    /// Sends one message deciding first on `record`, the recipient's record as the caller has
    /// just read or written it (saving the gate's read; a stale copy only costs a lost race and
    /// a re-read). Returns the outcome and the record as the gate left it (`None`: unknown, or
    /// not known after a failed bookkeeping write; read it again).
    pub async fn send_on(
        &self,
        firm: &Firm,
        request: &SendRequest,
        record: Option<ConsentRecord>,
    ) -> Result<(SendOutcome, Option<ConsentRecord>), FlowError> {
        let mut known = KnownRecord::Seen(record);
        let outcome = self.send_with(firm, request, &mut known).await?;
        Ok((outcome, known.into_record()))
    }

    /// Sends many messages, reading all their records in one batch; results in order. A
    /// failure of one message is reported in its place and does not stop the others. Messages
    /// to one number go in order, one after another; different numbers go concurrently, at
    /// most [`BATCH_CONCURRENCY`] at once (one after another, a batch of 1,000 would wait on
    /// 3,000 round trips: longer than a Lambda invocation or an HTTP API request may last).
    pub async fn send_batch(
        &self,
        firm: &Firm,
        requests: &[SendRequest],
    ) -> Result<Vec<Result<SendOutcome, FlowError>>, FlowError> {
        // Each number's messages, by position, in the order given.
        let mut by_number: Vec<(PhoneNumber, Vec<usize>)> = Vec::new();
        let mut slot: HashMap<&PhoneNumber, usize> = HashMap::new();
        for (index, request) in requests.iter().enumerate() {
            let at = *slot.entry(&request.to).or_insert_with(|| {
                by_number.push((request.to.clone(), Vec::new()));
                by_number.len() - 1
            });
            by_number[at].1.push(index);
        }
        let phones: Vec<PhoneNumber> = by_number.iter().map(|(p, _)| p.clone()).collect();
        let mut found: HashMap<PhoneNumber, ConsentRecord> =
            self.store.get_consents(&firm.firm_id, &phones).await?;
        let lanes = by_number.into_iter().map(|(phone, indices)| {
            let mut known = KnownRecord::Seen(found.remove(&phone));
            async move {
                let mut results = Vec::with_capacity(indices.len());
                for index in indices {
                    let result = self.send_with(firm, &requests[index], &mut known).await;
                    results.push((index, result));
                }
                results
            }
        });
        let mut results: Vec<Option<Result<SendOutcome, FlowError>>> =
            std::iter::repeat_with(|| None)
                .take(requests.len())
                .collect();
        let mut done = stream::iter(lanes).buffer_unordered(BATCH_CONCURRENCY);
        while let Some(lane) = done.next().await {
            for (index, result) in lane {
                results[index] = Some(result);
            }
        }
        // Every position was filled by its number's lane.
        Ok(results
            .into_iter()
            .map(|r| r.unwrap_or(Err(FlowError::Contention)))
            .collect())
    }

    /// The gate's loop: decide on the record known (or read), claim the decision under the
    /// record's version, and on a lost race re-read and re-decide. `known` is left holding the
    /// record as the gate wrote it, or [`KnownRecord::Unread`] when it must be read again.
    async fn send_with(
        &self,
        firm: &Firm,
        request: &SendRequest,
        known: &mut KnownRecord,
    ) -> Result<SendOutcome, FlowError> {
        retry_on_conflict!(async {
            let record = match std::mem::take(known) {
                KnownRecord::Seen(record) => record,
                KnownRecord::Unread => self.store.get_consent(&firm.firm_id, &request.to).await?,
            };
            let now = self.clock.now();
            let window = recipient_window(firm, &request.to, record.as_ref());
            let decision = gate::decide(GateQuestion {
                record: record.as_ref(),
                double_opt_in: firm.double_opt_in,
                kind: request.kind,
                window: &window,
                now,
                category: request.category,
                limits: firm.limits,
            });
            // The opt-in request goes to a number we have never texted: ask the carrier first
            // whether it holds an opt-out, so we never solicit a number that said STOP to it.
            if decision == GateDecision::Allow
                && request.kind == MessageKind::OptInRequest
                && self.sms.is_opted_out(&request.to).await?
            {
                let record = self.carrier_opt_out(firm, &request.to, None).await?;
                *known = KnownRecord::Seen(record);
                return Ok(Attempt::Done(SendOutcome::Blocked {
                    reason: BlockReason::OptedOut,
                    rule: None,
                }));
            }
            let attempt = match decision {
                GateDecision::Allow => self.claim(firm, request, record.as_ref(), now).await,
                GateDecision::Defer { not_before, rule } => self
                    .defer(firm, request, record.as_ref(), not_before, Some(rule), now)
                    .await
                    .map(|record| {
                        let rule = Some(rule);
                        Step::Done(SendOutcome::Deferred { not_before, rule }, record)
                    }),
                GateDecision::Block { reason, rule } => self
                    .block(firm, request, record.as_ref(), reason, rule, now)
                    .await
                    .map(|record| Step::Done(SendOutcome::Blocked { reason, rule }, record)),
            };
            match attempt {
                Ok(Step::Done(outcome, record)) => {
                    log_decision(firm, request, &outcome);
                    *known = KnownRecord::Seen(record);
                    Ok(Attempt::Done(outcome))
                }
                Ok(Step::Claimed(claimed)) => {
                    let (outcome, record) = self.hand_over(firm, request, claimed).await?;
                    log_decision(firm, request, &outcome);
                    // A claimed message had a record: `None` here means its last write failed.
                    *known = record.map_or(KnownRecord::Unread, |r| KnownRecord::Seen(Some(r)));
                    Ok(Attempt::Done(outcome))
                }
                Err(StoreError::VersionConflict { .. }) => Ok(Attempt::Conflict),
                Err(other) => Err(other.into()),
            }
        })
    }
}

/// What one attempt of the gate's loop came to: done (the outcome and the record as left), or
/// claimed and ready to hand over.
enum Step {
    Done(SendOutcome, Option<ConsentRecord>),
    Claimed(Claimed),
}

/// The recipient's sending window: the contact's zone if the record has one, the area code's,
/// else the firm's; the calling rules of the number's state and the federal default (records
/// carry no state of residence yet, so the area code's state is the recipient's state).
pub fn recipient_window(
    firm: &Firm,
    phone: &PhoneNumber,
    record: Option<&ConsentRecord>,
) -> SendWindow {
    let contact_zone = record
        .and_then(|r| r.time_zone.as_deref())
        .and_then(parse_time_zone);
    let firm_zone = firm.time_zone.as_deref().and_then(parse_time_zone);
    let contact_state = record.and_then(|r| r.state.as_deref());
    let window = SendWindow::for_resident(phone, contact_state, contact_zone, firm_zone);
    match firm.send_window {
        Some(hours) => window.narrowed(hours.opens_hour, hours.closes_hour),
        None => window,
    }
}

/// One JSON log line per decision (the deployed stack's blocked-sends metric counts them).
fn log_decision(firm: &Firm, request: &SendRequest, outcome: &SendOutcome) {
    let (decision, reason) = match outcome {
        SendOutcome::Sent { .. } => ("sent", None),
        SendOutcome::Deferred { .. } => ("deferred", None),
        SendOutcome::Blocked { reason, .. } => ("blocked", Some(reason.as_str())),
    };
    tracing::info!(
        decision,
        reason,
        firm_id = %firm.firm_id,
        to = %request.to.masked(),
        kind = ?request.kind,
        "gate decision"
    );
}
