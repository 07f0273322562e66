//! An allowed message: the decision claimed in the store before the provider gets it (one-time
//! messages marked), the hand-over, and the outcome recorded after.

use chrono::{DateTime, Utc};

use super::{Claimed, SendGate, SendOutcome, SendRequest, Step};
use crate::evidence::audit::{AuditEvent, AuditKind};
use crate::flows::{Attempt, FlowError, retry_on_conflict};
use crate::model::firm::Firm;
use crate::model::gate::{BlockReason, MessageCategory, MessageKind};
use crate::model::phone::PhoneNumber;
use crate::model::record::{ConsentRecord, Delivery};
use crate::ports::{ConsentWrite, OutgoingSms, SendError, StoreError};

impl SendGate {
    /// Records the allow decision (and marks the one-time messages as claimed) before sending.
    pub(super) async fn claim(
        &self,
        firm: &Firm,
        request: &SendRequest,
        record: Option<&ConsentRecord>,
        now: DateTime<Utc>,
    ) -> Result<Step, StoreError> {
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
        let Some(current) = record else {
            if request.kind == MessageKind::HelpReply {
                // HELP from a number with no record: the decision is kept in its trail, on the
                // condition that no record appeared meanwhile.
                let allowed_event_id = allowed.id.clone();
                let write =
                    ConsentWrite::new(&firm.firm_id, &request.to, None, None, vec![allowed]);
                self.store.commit(write).await?;
                return Ok(Step::Claimed(Claimed {
                    allowed_event_id,
                    record: None,
                    counted_at: None,
                }));
            }
            // The policy allows nothing else to an unknown number.
            return self
                .block(
                    firm,
                    request,
                    None,
                    BlockReason::UnknownRecipient,
                    None,
                    now,
                )
                .await
                .map(|r| {
                    Step::Done(
                        SendOutcome::Blocked {
                            reason: BlockReason::UnknownRecipient,
                            rule: None,
                        },
                        r,
                    )
                });
        };
        let mut next = current.next_version(now);
        match request.kind {
            MessageKind::OptInRequest => next.opt_in_sms = Delivery::Claimed { at: now },
            MessageKind::OptOutConfirmation => next.opt_out_confirmation_sent = true,
            _ => {}
        }
        let counted_at = (request.kind == MessageKind::FirmMessage).then(|| {
            next.count_send(now, request.category == MessageCategory::Marketing);
            now
        });
        let allowed_event_id = allowed.id.clone();
        let write = ConsentWrite::new(
            &firm.firm_id,
            &request.to,
            Some(current.version),
            Some(next),
            vec![allowed],
        );
        // The record as written (with its new chain head) is the base of the next write.
        let next = write.record.clone();
        self.store.commit(write).await?;
        Ok(Step::Claimed(Claimed {
            allowed_event_id,
            record: next,
            counted_at,
        }))
    }

    /// Hands a claimed message to the provider and records what happened.
    pub(super) async fn hand_over(
        &self,
        firm: &Firm,
        request: &SendRequest,
        claimed: Claimed,
    ) -> Result<(SendOutcome, Option<ConsentRecord>), FlowError> {
        let sms = OutgoingSms {
            from: firm.sms_number.clone(),
            to: request.to.clone(),
            body: request.body.clone(),
        };
        let sent = self.sms.send_sms(&sms).await;
        let now = self.clock.now();
        let allowed_event_id = claimed.allowed_event_id;
        let kind = request.kind;
        match sent {
            Ok(message_id) => {
                let id = message_id.clone();
                let written = self
                    .update(firm, &request.to, claimed.record, |record| {
                        if let Some(record) = record.filter(|_| kind == MessageKind::OptInRequest) {
                            record.opt_in_sms = Delivery::Sent {
                                provider_message_id: id.clone(),
                                at: now,
                            };
                        }
                        vec![AuditEvent::new(
                            now,
                            AuditKind::MessageSent {
                                allowed_event_id: allowed_event_id.clone(),
                                provider_message_id: id.clone(),
                            },
                        )]
                    })
                    .await;
                // The provider has the message: answer "sent" even if its id could not be
                // recorded, or the caller's retry would send it a second time. The trail keeps
                // the allow decision; the provider id is in this log line.
                let record = match written {
                    Ok(record) => record,
                    Err(error) => {
                        tracing::error!(
                            error = %error,
                            allowed_event_id = %allowed_event_id,
                            provider_message_id = %message_id,
                            "sent, but recording the provider id failed"
                        );
                        None
                    }
                };
                Ok((SendOutcome::Sent { message_id }, record))
            }
            Err(SendError::RecipientOptedOut) => {
                // The carrier knows of an opt-out we did not: record it so our record never
                // says opted in while the carrier says opted out.
                let record = self
                    .carrier_opt_out(firm, &request.to, Some(&allowed_event_id))
                    .await?;
                Ok((
                    SendOutcome::Blocked {
                        reason: BlockReason::OptedOut,
                        rule: None,
                    },
                    record,
                ))
            }
            Err(error) => {
                let reason = error.to_string();
                // After a timeout the provider may have taken it: a one-time message keeps its
                // claim so that no retry sends it twice (at most once), and the trail says
                // "unconfirmed". After a definite failure it did not go: the claim is given
                // back so that a retry sends it.
                let unconfirmed = error.may_have_been_sent();
                let counted_at = claimed.counted_at;
                self.update(firm, &request.to, claimed.record, |record| {
                    match (unconfirmed, kind, record) {
                        (false, MessageKind::OptInRequest, Some(record)) => {
                            record.opt_in_sms = Delivery::NotSent
                        }
                        (false, MessageKind::OptOutConfirmation, Some(record)) => {
                            record.opt_out_confirmation_sent = false
                        }
                        (false, MessageKind::FirmMessage, Some(record)) => {
                            if let Some(at) = counted_at {
                                record.uncount_send(at);
                            }
                        }
                        _ => {}
                    }
                    let (allowed_event_id, error) = (allowed_event_id.clone(), reason.clone());
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
                    vec![AuditEvent::new(now, outcome)]
                })
                .await?;
                Err(error.into())
            }
        }
    }

    /// Re-reads (unless a fresh copy is given) and writes a bookkeeping change with its events,
    /// retrying on lost races.
    pub(super) async fn update(
        &self,
        firm: &Firm,
        phone: &PhoneNumber,
        mut fresh: Option<ConsentRecord>,
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
            let write = ConsentWrite::new(&firm.firm_id, phone, expected, next, events);
            let next = write.record.clone();
            match self.store.commit(write).await {
                Ok(()) => Ok(Attempt::Done(next)),
                Err(StoreError::VersionConflict { .. }) => Ok(Attempt::Conflict),
                Err(e) => Err(e.into()),
            }
        })
    }
}
