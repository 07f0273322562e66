//! An allowed message: the decision claimed in the store before the provider gets it (one-time
//! messages marked), the hand-over, and the outcome recorded after.

use chrono::{DateTime, Utc};

use super::{Claimed, SendGate, SendOutcome, SendRequest};
use crate::evidence::audit::{AuditEvent, AuditKind};
use crate::flows::draft::Draft;
use crate::flows::idempotency::Keeping;
use crate::flows::{Attempt, FlowError, retry_on_conflict};
use crate::model::firm::Firm;
use crate::model::gate::{BlockReason, MessageCategory, MessageKind};
use crate::model::phone::PhoneNumber;
use crate::model::record::{ConsentRecord, Delivery};
use crate::ports::{Completion, ConsentWrite, OutgoingSms, SendError, StoreError};

/// Adds the allow decision to `draft` (and marks the one-time messages as claimed): committed
/// before the provider gets the message, it orders the send against a concurrent STOP and
/// counts it toward the caps.
pub(super) fn claim(
    draft: &mut Draft,
    firm: &Firm,
    request: &SendRequest,
    now: DateTime<Utc>,
) -> Claimed {
    let allowed = AuditEvent::new(
        now,
        AuditKind::MessageAllowed {
            kind: request.kind,
            category: request.category,
            body: request.body.clone(),
            from: firm.sms_number.to_string(),
            double_opt_in: firm.double_opt_in,
            idempotency_key: request.idempotency_key.clone(),
        },
    );
    let mut counted_at = None;
    // No record: a HELP from a number the firm never had, kept in its trail on the condition
    // that no record appeared meanwhile.
    if let Some(next) = draft.record.as_mut() {
        match request.kind {
            MessageKind::OptInRequest => next.opt_in_sms = Delivery::Claimed { at: now },
            MessageKind::OptOutConfirmation => next.opt_out_confirmation_sent = true,
            MessageKind::FirmMessage => {
                next.recent_sends
                    .count(now, request.category == MessageCategory::Marketing);
                counted_at = Some(now);
            }
            _ => {}
        }
    }
    let allowed_event_id = allowed.id.clone();
    draft.events.push(allowed);
    Claimed {
        allowed_event_id,
        counted_at,
    }
}

/// What the provider said of a claimed message, to be recorded by the number's next write.
#[derive(Debug)]
pub(crate) struct Delivered {
    kind: MessageKind,
    allowed_event_id: String,
    counted_at: Option<DateTime<Utc>>,
    at: DateTime<Utc>,
    /// The provider's message id, or the failure as the trail keeps it.
    result: Result<String, Failure>,
}

/// A provider failure as the trail keeps it.
#[derive(Debug, Clone)]
struct Failure {
    /// The provider may have taken the message (a timeout): it is "unconfirmed".
    unconfirmed: bool,
    /// What the provider said.
    error: String,
}

impl Delivered {
    /// Records the outcome on `record` (the number's next version) and returns its event: the
    /// provider's id, or the failure with the claim given back when the message did not go.
    pub(crate) fn apply(&self, record: Option<&mut ConsentRecord>) -> AuditEvent {
        let allowed_event_id = self.allowed_event_id.clone();
        let error = match &self.result {
            Ok(id) => {
                if let Some(record) = record.filter(|_| self.kind == MessageKind::OptInRequest) {
                    record.opt_in_sms = Delivery::Sent {
                        provider_message_id: id.clone(),
                        at: self.at,
                    };
                }
                return AuditEvent::new(
                    self.at,
                    AuditKind::MessageSent {
                        allowed_event_id,
                        provider_message_id: id.clone(),
                    },
                );
            }
            Err(failure) => failure.clone(),
        };
        // After a timeout the provider may have taken it: a one-time message keeps its claim so
        // that no retry sends it twice (at most once), and the trail says "unconfirmed". After
        // a definite failure it did not go: the claim is given back so that a retry sends it.
        let Failure { unconfirmed, error } = error;
        match (unconfirmed, self.kind, record) {
            (false, MessageKind::OptInRequest, Some(record)) => {
                record.opt_in_sms = Delivery::NotSent
            }
            (false, MessageKind::OptOutConfirmation, Some(record)) => {
                record.opt_out_confirmation_sent = false
            }
            (false, MessageKind::FirmMessage, Some(record)) => {
                if let Some(at) = self.counted_at {
                    record.recent_sends.uncount(at);
                }
            }
            _ => {}
        }
        let outcome = if unconfirmed {
            AuditKind::MessageUnconfirmed {
                allowed_event_id,
                error,
            }
        } else {
            AuditKind::MessageFailed {
                allowed_event_id,
                error,
            }
        };
        AuditEvent::new(self.at, outcome)
    }
}

/// A claimed message's hand-over: delivered (or failed), or refused because the carrier holds
/// an opt-out we did not know of.
pub(crate) enum HandedOver {
    /// The provider answered: what to record, and what to tell the caller (sent, or the
    /// provider's failure).
    Delivered(Delivered, Result<SendOutcome, SendError>),
    /// The carrier refused: the number is opted out.
    CarrierOptedOut,
}

impl SendGate {
    /// Hands a claimed message to the provider, recording nothing yet.
    pub(crate) async fn deliver(
        &self,
        firm: &Firm,
        request: &SendRequest,
        claimed: &Claimed,
    ) -> HandedOver {
        let sms = OutgoingSms {
            from: firm.sms_number.clone(),
            to: request.to.clone(),
            body: request.body.clone(),
        };
        let (result, outcome) = match self.sms.send_sms(&sms).await {
            Err(SendError::RecipientOptedOut) => return HandedOver::CarrierOptedOut,
            Ok(id) => (Ok(id.clone()), Ok(SendOutcome::Sent { message_id: id })),
            Err(error) => {
                let failure = Failure {
                    unconfirmed: error.may_have_been_sent(),
                    error: error.to_string(),
                };
                (Err(failure), Err(error))
            }
        };
        let delivered = Delivered {
            kind: request.kind,
            allowed_event_id: claimed.allowed_event_id.clone(),
            counted_at: claimed.counted_at,
            at: self.clock.now(),
            result,
        };
        HandedOver::Delivered(delivered, outcome)
    }

    /// Hands a claimed message to the provider and records what happened; `written` is the
    /// record as the claim's write left it (`None`: read it again). With `keeping`, a sent
    /// message's record write keeps the key's response too.
    pub(super) async fn hand_over(
        &self,
        firm: &Firm,
        request: &SendRequest,
        claimed: Claimed,
        written: Option<ConsentRecord>,
        keeping: Option<&mut Keeping>,
    ) -> Result<(SendOutcome, Option<ConsentRecord>), FlowError> {
        let (delivered, outcome) = match self.deliver(firm, request, &claimed).await {
            HandedOver::Delivered(delivered, outcome) => (delivered, outcome),
            HandedOver::CarrierOptedOut => {
                return self.carrier_refused(firm, request, &claimed).await;
            }
        };
        // Only a sent message's answer is kept: after a failure the key is given back.
        let completes = match (&outcome, &keeping) {
            (Ok(sent), Some(keeping)) => {
                Some(keeping.completion(sent.response(), self.clock.now()))
            }
            _ => None,
        };
        let kept = completes.is_some();
        let written = self
            .update_completing(firm, &request.to, written, completes, |record| {
                vec![delivered.apply(record)]
            })
            .await;
        if let (Some(keeping), Ok(_)) = (keeping, &written) {
            keeping.kept |= kept;
        }
        match (outcome, written) {
            (Ok(sent), Ok(record)) => Ok((sent, record)),
            // The provider has the message: answer "sent" even if its id could not be
            // recorded, or the caller's retry would send it a second time. The trail keeps the
            // allow decision; the provider id is in the log line.
            (Ok(sent), Err(error)) => {
                log_unrecorded(&error, &delivered);
                Ok((sent, None))
            }
            (Err(failed), Ok(_)) => Err(failed.into()),
            (Err(_), Err(error)) => Err(error),
        }
    }

    /// Records that the carrier refused a claimed message for an opt-out we did not know of,
    /// so our record never says opted in while the carrier says opted out; the message is
    /// blocked.
    pub(crate) async fn carrier_refused(
        &self,
        firm: &Firm,
        request: &SendRequest,
        claimed: &Claimed,
    ) -> Result<(SendOutcome, Option<ConsentRecord>), FlowError> {
        let allowed = Some(claimed.allowed_event_id.as_str());
        let record = self.carrier_opt_out(firm, &request.to, allowed).await?;
        Ok((carrier_blocked(), record))
    }

    /// Re-reads (unless a fresh copy is given) and writes a bookkeeping change with its events,
    /// retrying on lost races.
    pub(crate) async fn update(
        &self,
        firm: &Firm,
        phone: &PhoneNumber,
        fresh: Option<ConsentRecord>,
        change: impl Fn(Option<&mut ConsentRecord>) -> Vec<AuditEvent>,
    ) -> Result<Option<ConsentRecord>, FlowError> {
        self.update_completing(firm, phone, fresh, None, change)
            .await
    }

    /// [`Self::update`], its write also keeping a keyed request's response.
    async fn update_completing(
        &self,
        firm: &Firm,
        phone: &PhoneNumber,
        mut fresh: Option<ConsentRecord>,
        completes: Option<Completion>,
        change: impl Fn(Option<&mut ConsentRecord>) -> Vec<AuditEvent>,
    ) -> Result<Option<ConsentRecord>, FlowError> {
        retry_on_conflict!(async {
            let current = match fresh.take() {
                Some(record) => Some(record),
                None => self.store.get_consent(&firm.firm_id, phone).await?,
            };
            let now = self.clock.now();
            let mut next = current.as_ref().map(|record| record.next_version(now));
            let events = change(next.as_mut());
            let expected = current.as_ref().map(|r| r.version);
            let mut write = ConsentWrite::new(&firm.firm_id, phone, expected, next, events);
            write.completes = completes.clone();
            let next = write.record.clone();
            match self.store.commit(write).await {
                Ok(()) => Ok(Attempt::Done(next)),
                Err(StoreError::VersionConflict { .. }) => Ok(Attempt::Conflict),
                Err(e) => Err(e.into()),
            }
        })
    }
}

/// The outcome of a message the carrier refused for an opt-out we did not know of.
pub(crate) fn carrier_blocked() -> SendOutcome {
    SendOutcome::Blocked {
        reason: BlockReason::OptedOut,
        rule: None,
    }
}

/// Logs a message whose outcome could not be recorded: a sent one's provider id, or a failed
/// one's claim that stays (it counts toward the caps until the record is written again).
pub(crate) fn log_unrecorded(error: &dyn std::fmt::Display, delivered: &Delivered) {
    match &delivered.result {
        Ok(id) => tracing::error!(
            error = %error,
            allowed_event_id = %delivered.allowed_event_id,
            provider_message_id = %id,
            "sent, but recording the provider id failed"
        ),
        Err(failure) => tracing::error!(
            error = %error,
            allowed_event_id = %delivered.allowed_event_id,
            send_error = %failure.error,
            "not sent, and recording the failure failed"
        ),
    }
}
