//! The send gate: the one path by which any SMS leaves the service. It decides with the gate
//! policy, claims the decision in the store (so a concurrent STOP is ordered before or after it),
//! hands the message to the provider, and records the outcome.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;

mod allow;
mod batch;
pub(crate) use allow::{Delivered, HandedOver, log_unrecorded};
pub use batch::OUTCOMES_PER_WRITE;
mod carrier;
mod held;

use super::draft::Draft;
use super::idempotency::Keeping;
use super::{Attempt, FlowError, retry_on_conflict};
use crate::model::deferred::DeferredSend;
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
pub(crate) struct Claimed {
    /// The id of the `message_allowed` event that claimed it.
    pub(crate) allowed_event_id: String,
    /// When the claim counted a firm message toward the caps: a definite failure gives it back,
    /// since only a message the provider accepted counts.
    counted_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// A deferred send a release takes off the queue in its decision's write.
pub(crate) struct Taking<'a> {
    /// The send.
    pub(crate) send: &'a DeferredSend,
    /// Whether a write that took it committed: from then on the releaser owns it, and puts it
    /// back if the message then fails.
    pub(crate) taken: bool,
}

impl Taking<'_> {
    /// Takes the send in a write of its own, for a decision that writes nothing it could ride
    /// in; `DeferredTaken` if another releaser took it first.
    pub(crate) async fn take_apart(&mut self, store: &dyn Store) -> Result<(), FlowError> {
        if !store.take_deferred(self.send).await? {
            return Err(StoreError::DeferredTaken.into());
        }
        self.taken = true;
        Ok(())
    }
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
        let known = &mut KnownRecord::Unread;
        self.send_with(firm, request, known, &mut Rider::Nothing)
            .await
    }

    /// Sends one message under a claimed idempotency key, keeping the key's response in the
    /// write that finishes the message (the provider's id, or the deferral or block):
    /// `keeping.kept` says whether that write committed.
    pub(crate) async fn send_keeping(
        &self,
        firm: &Firm,
        request: &SendRequest,
        keeping: &mut Keeping,
    ) -> Result<SendOutcome, FlowError> {
        let known = &mut KnownRecord::Unread;
        self.send_with(firm, request, known, &mut Rider::KeyedAnswer(keeping))
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
        let outcome = self
            .send_with(firm, request, &mut known, &mut Rider::Nothing)
            .await?;
        Ok((outcome, known.into_record()))
    }

    /// Sends a deferred send at its release through the gate again, its decision's write taking
    /// it off the queue (so of two releasers exactly one decides it; the other gets
    /// `StoreError::DeferredTaken`). `taking.taken` says whether that write committed.
    pub(crate) async fn send_taking(
        &self,
        firm: &Firm,
        request: &SendRequest,
        taking: &mut Taking<'_>,
    ) -> Result<SendOutcome, FlowError> {
        let known = &mut KnownRecord::Unread;
        self.send_with(firm, request, known, &mut Rider::Release(taking))
            .await
    }

    /// The gate's loop: decide on the record known (or read), commit the decision under the
    /// record's version, hand an allowed message over, and on a lost race re-read and
    /// re-decide. `known` is left holding the record as the gate wrote it, or
    /// [`KnownRecord::Unread`] when it must be read again; `rider` says what else its writes
    /// carry.
    async fn send_with(
        &self,
        firm: &Firm,
        request: &SendRequest,
        known: &mut KnownRecord,
        rider: &mut Rider<'_, '_>,
    ) -> Result<SendOutcome, FlowError> {
        retry_on_conflict!(async {
            let record = match std::mem::take(known) {
                KnownRecord::Seen(record) => record,
                KnownRecord::Unread => self.store.get_consent(&firm.firm_id, &request.to).await?,
            };
            let now = self.clock.now();
            let mut draft = Draft::over(&firm.firm_id, &request.to, record.as_ref(), now);
            match rider {
                Rider::Release(taking) => draft.takes_deferred = Some(taking.send.id.clone()),
                Rider::BatchOutcome(Some(previous)) => {
                    draft.events.push(previous.apply(draft.record.as_mut()));
                }
                Rider::Nothing | Rider::BatchOutcome(None) | Rider::KeyedAnswer(_) => {}
            }
            let decided = self.decide_into(firm, request, &mut draft, now).await?;
            // Nothing to commit: the carrier's opt-out is recorded on its own (and a released
            // send taken apart, first).
            if let Decided::CarrierOptedOut = decided {
                if let Rider::Release(taking) = rider {
                    taking.take_apart(self.store.as_ref()).await?;
                }
                let (outcome, record) = self.complete(firm, request, decided, None, None).await?;
                *known = KnownRecord::Seen(record);
                return Ok(Attempt::Done(outcome));
            }
            // A deferral or block is finished by this write: its answer rides in it.
            if let (Decided::Done(outcome), Rider::KeyedAnswer(keeping)) = (&decided, &rider) {
                draft.completes = Some(keeping.completion(outcome.response(), now));
            }
            let write = draft.seal();
            let written = write.record.clone();
            let completes = write.completes.is_some();
            match self.store.commit(write).await {
                Ok(()) => {}
                Err(StoreError::VersionConflict { .. }) => return Ok(Attempt::Conflict),
                Err(other) => return Err(other.into()),
            }
            match rider {
                Rider::Release(taking) => taking.taken = true,
                Rider::KeyedAnswer(keeping) => keeping.kept |= completes,
                // The previous message's outcome is written now.
                Rider::BatchOutcome(slot) => **slot = None,
                Rider::Nothing => {}
            }
            let outcome = self
                .after_commit(firm, request, (decided, written), known, rider)
                .await?;
            Ok(Attempt::Done(outcome))
        })
    }

    /// Finishes a decision once its write is committed (`written`: the record as that write
    /// left it), leaving `known` holding the record as the gate left it. In a batch lane an
    /// allowed message's outcome is left in the rider for the number's next write; for a keyed
    /// request, the write recording a sent message keeps the key's response.
    async fn after_commit(
        &self,
        firm: &Firm,
        request: &SendRequest,
        (decided, written): (Decided, Option<ConsentRecord>),
        known: &mut KnownRecord,
        rider: &mut Rider<'_, '_>,
    ) -> Result<SendOutcome, FlowError> {
        let (outcome, record) = match (decided, rider) {
            // In a batch lane the answer waits for the number's next write.
            (Decided::Claimed(claimed), Rider::BatchOutcome(slot)) => {
                match self.deliver(firm, request, &claimed).await {
                    HandedOver::Delivered(delivered, outcome) => {
                        **slot = Some(delivered);
                        *known = KnownRecord::Seen(written);
                        let outcome = outcome?;
                        log_decision(firm, request, &outcome);
                        return Ok(outcome);
                    }
                    HandedOver::CarrierOptedOut => {
                        let refused = self.carrier_refused(firm, request, &claimed).await?;
                        log_decision(firm, request, &refused.0);
                        refused
                    }
                }
            }
            (decided, rider) => {
                let keeping = match rider {
                    Rider::KeyedAnswer(keeping) => Some(&mut **keeping),
                    _ => None,
                };
                self.complete(firm, request, decided, written, keeping)
                    .await?
            }
        };
        // `None` after a claim: its last write failed; read the record again.
        *known = match (record, &outcome) {
            (Some(record), _) => KnownRecord::Seen(Some(record)),
            (None, SendOutcome::Sent { .. }) => KnownRecord::Unread,
            (None, _) => KnownRecord::Seen(None),
        };
        Ok(outcome)
    }

    /// Decides `request` on the record `draft` leaves (the state a flow is about to commit, or
    /// the record as read) and adds the decision's bookkeeping to the draft, so that it is
    /// committed with it: the claim of an allowed message, the deferral or the block. A
    /// message the gate allows to a number the carrier holds as opted out adds nothing
    /// ([`Decided::CarrierOptedOut`]).
    pub(crate) async fn decide_into(
        &self,
        firm: &Firm,
        request: &SendRequest,
        draft: &mut Draft,
        now: DateTime<Utc>,
    ) -> Result<Decided, FlowError> {
        let record = draft.record.as_ref();
        let window = recipient_window(firm, &request.to, record);
        let decision = gate::decide(GateQuestion {
            record,
            double_opt_in: firm.double_opt_in,
            kind: request.kind,
            window: &window,
            now,
            category: request.category,
            limits: firm.limits,
        });
        Ok(match decision {
            // The policy allows nothing but HELP to a number with no record.
            GateDecision::Allow if record.is_none() && request.kind != MessageKind::HelpReply => {
                let reason = BlockReason::UnknownRecipient;
                held::block(draft, request, reason, None, now);
                Decided::Done(SendOutcome::Blocked { reason, rule: None })
            }
            GateDecision::Allow => {
                // The opt-in request goes to a number we have never texted: ask the carrier
                // first whether it holds an opt-out, so we never solicit a number that said
                // STOP to it.
                if request.kind == MessageKind::OptInRequest
                    && self.sms.is_opted_out(&request.to).await?
                {
                    return Ok(Decided::CarrierOptedOut);
                }
                Decided::Claimed(allow::claim(draft, firm, request, now))
            }
            GateDecision::Defer { not_before, rule } => {
                held::defer(draft, request, not_before, Some(rule), now);
                let rule = Some(rule);
                Decided::Done(SendOutcome::Deferred { not_before, rule })
            }
            GateDecision::Block { reason, rule } => {
                held::block(draft, request, reason, rule, now);
                Decided::Done(SendOutcome::Blocked { reason, rule })
            }
        })
    }

    /// Finishes a decision whose draft was committed (`written`: the record as that write left
    /// it): hands an allowed message over and records what happened (with `keeping`, keeping
    /// the key's response in that record's write). Returns the outcome and the record as the
    /// gate left it (`None`: unknown, read it again).
    pub(crate) async fn complete(
        &self,
        firm: &Firm,
        request: &SendRequest,
        decided: Decided,
        written: Option<ConsentRecord>,
        keeping: Option<&mut Keeping>,
    ) -> Result<(SendOutcome, Option<ConsentRecord>), FlowError> {
        let (outcome, record) = match decided {
            Decided::Done(outcome) => (outcome, written),
            Decided::Claimed(claimed) => {
                self.hand_over(firm, request, claimed, written, keeping)
                    .await?
            }
            Decided::CarrierOptedOut => {
                let record = self.carrier_opt_out(firm, &request.to, None).await?;
                (allow::carrier_blocked(), record)
            }
        };
        log_decision(firm, request, &outcome);
        Ok((outcome, record))
    }
}

/// What a message's writes carry beyond its own decision; a send is at most one of these.
pub(crate) enum Rider<'a, 'b> {
    /// Nothing: a send of its own.
    Nothing,
    /// A batch lane's slot: the outcome of the lane's previous message rides in this message's
    /// write, and this message's outcome is left here for the next write instead of being
    /// written now.
    BatchOutcome(&'a mut Option<Delivered>),
    /// A release: the decision's write also takes the deferred send off the queue.
    Release(&'a mut Taking<'b>),
    /// A keyed request: the write that finishes the message keeps its response.
    KeyedAnswer(&'a mut Keeping),
}

/// What the gate added to a draft for one message.
pub(crate) enum Decided {
    /// Allowed: the claim is in the draft; once it is committed, the message is handed over.
    Claimed(Claimed),
    /// Deferred or blocked: the decision is in the draft; nothing goes out.
    Done(SendOutcome),
    /// Allowed, but the carrier holds an opt-out for the number: nothing was added; the
    /// carrier's opt-out is to be recorded, and nothing goes out.
    CarrierOptedOut,
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
