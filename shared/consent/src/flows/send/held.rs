//! Decisions that send nothing: a message held for the recipient's window and a block, each
//! added to the write it rides in, and an opt-out the carrier reports at send time.

use chrono::{DateTime, Utc};

use super::{SendGate, SendRequest};
use crate::evidence::audit::{AuditEvent, AuditKind};
use crate::flows::draft::Draft;
use crate::flows::{Attempt, FlowError, retry_on_conflict};
use crate::model::deferred::DeferredSend;
use crate::model::firm::Firm;
use crate::model::gate::{BlockReason, MessageKind};
use crate::model::phone::PhoneNumber;
use crate::model::record::{ConsentRecord, Delivery};
use crate::model::state_rules::RuleId;
use crate::model::transition::{self, ConsentEvent};
use crate::ports::{ConsentWrite, SendError, StoreError};

/// Adds a deferral to `draft`: its event, and the message stored for release when the window
/// opens (or the cap has room again).
pub(super) fn defer(
    draft: &mut Draft,
    request: &SendRequest,
    not_before: DateTime<Utc>,
    rule: Option<RuleId>,
    now: DateTime<Utc>,
) {
    if let Some(next) = draft.record.as_mut()
        && request.kind == MessageKind::OptInRequest
    {
        next.opt_in_sms = Delivery::Deferred { not_before };
    }
    draft.events.push(AuditEvent::new(
        now,
        AuditKind::MessageDeferred {
            kind: request.kind,
            category: request.category,
            body: request.body.clone(),
            not_before,
            idempotency_key: request.idempotency_key.clone(),
            rule,
        },
    ));
    draft.deferred = Some(DeferredSend {
        id: ulid::Ulid::new().to_string(),
        firm_id: draft.firm_id.clone(),
        to: request.to.clone(),
        kind: request.kind,
        category: request.category,
        body: request.body.clone(),
        not_before,
        idempotency_key: request.idempotency_key.clone(),
    });
}

/// Adds a block to `draft`: the message never goes.
pub(super) fn block(
    draft: &mut Draft,
    request: &SendRequest,
    reason: BlockReason,
    rule: Option<RuleId>,
    now: DateTime<Utc>,
) {
    let kind = if reason == BlockReason::ConfirmationWindowPassed {
        // Its own event: a carrier reading the trail sees why the one owed text is missing.
        AuditKind::OptOutConfirmationSkipped {
            body: request.body.clone(),
            reason,
        }
    } else {
        AuditKind::MessageBlocked {
            kind: request.kind,
            category: request.category,
            body: request.body.clone(),
            reason,
            idempotency_key: request.idempotency_key.clone(),
            rule,
        }
    };
    draft.events.push(AuditEvent::new(now, kind));
}

impl SendGate {
    /// Records an opt-out the carrier reports when asked before a send.
    pub(super) async fn carrier_opt_out(
        &self,
        firm: &Firm,
        phone: &PhoneNumber,
        allowed_event_id: Option<&str>,
    ) -> Result<Option<ConsentRecord>, FlowError> {
        retry_on_conflict!(async {
            let current = self.store.get_consent(&firm.firm_id, phone).await?;
            let now = self.clock.now();
            let mut step = transition::apply(
                current.as_ref(),
                &firm.firm_id,
                phone,
                ConsentEvent::CarrierOptOut,
                now,
            );
            let mut events: Vec<AuditEvent> = allowed_event_id
                .map(|id| {
                    AuditEvent::new(
                        now,
                        AuditKind::MessageFailed {
                            allowed_event_id: id.to_string(),
                            error: SendError::RecipientOptedOut.to_string(),
                        },
                    )
                })
                .into_iter()
                .collect();
            events.append(&mut step.events);
            let record = step
                .record
                .clone()
                .or_else(|| current.as_ref().map(|r| r.next_version(now)));
            let write = ConsentWrite::new(
                &firm.firm_id,
                phone,
                current.as_ref().map(|r| r.version),
                record,
                events,
            );
            let record = write.record.clone();
            match self.store.commit(write).await {
                Ok(()) => Ok(Attempt::Done(record)),
                Err(StoreError::VersionConflict { .. }) => Ok(Attempt::Conflict),
                Err(e) => Err(e.into()),
            }
        })
    }
}
