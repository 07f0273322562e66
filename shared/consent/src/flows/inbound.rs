//! Inbound SMS: a reply from a contact, routed to the firm by the number it was sent to.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::draft::Draft;
use super::send::{Decided, SendOutcome, SendRequest};
use super::{Attempt, FlowError, Services, firm_vars, retry_on_conflict};
use crate::evidence::audit::{AuditEvent, AuditKind, OptInEvidence, ReplyNote};
use crate::messages::templates::{self, TemplateName};
use crate::model::firm::Firm;
use crate::model::gate::{MessageCategory, MessageKind};
use crate::model::keywords::{Classification, keyword_language};
use crate::model::language::Language;
use crate::model::phone::PhoneNumber;
use crate::model::record::{ConsentRecord, ConsentStatus};
use crate::model::transition::{self, ConsentEvent, Effect, Reply};
use crate::ports::StoreError;

/// Longest inbound text kept; carriers deliver at most a few concatenated segments.
pub const MAX_INBOUND_TEXT: usize = 2_000;

/// A reply as the carrier delivers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundSms {
    /// The contact's number.
    pub from: String,
    /// The firm's number it was sent to.
    pub to: String,
    /// The text.
    pub body: String,
    /// The carrier's id.
    pub inbound_message_id: String,
    /// When the carrier received it.
    pub received_at: DateTime<Utc>,
}

/// What an inbound text did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InboundOutcome {
    /// The firm it was routed to.
    pub firm_id: String,
    /// The status after it, if the number has a record.
    pub status: Option<ConsentStatus>,
    /// How the text was read (`None` for a duplicate).
    pub classification: Option<Classification>,
    /// Whether it was a duplicate (applied before).
    pub duplicate: bool,
    /// The replies and what became of each.
    pub replies: Vec<SendOutcome>,
}

/// Why an inbound text cannot be processed at all (never retryable).
#[derive(Debug, thiserror::Error)]
pub enum InboundRejected {
    /// No firm sends from the destination number.
    #[error("no firm sends from the destination number")]
    UnknownDestination,
    /// A number is not a phone number.
    #[error("{field} is not a phone number")]
    BadNumber {
        /// The payload field that holds the bad number.
        field: &'static str,
    },
    /// The message id is missing or too long.
    #[error("inboundMessageId is missing or too long")]
    BadMessageId,
}

impl Services {
    /// Applies an inbound text: classification, transition, replies, all recorded.
    pub async fn receive_sms(&self, sms: InboundSms) -> Result<InboundOutcome, InboundError> {
        let to = PhoneNumber::parse(&sms.to).map_err(|_| InboundRejected::BadNumber {
            field: "destinationNumber",
        })?;
        let from = PhoneNumber::parse(&sms.from).map_err(|_| InboundRejected::BadNumber {
            field: "originationNumber",
        })?;
        let message_id = sms.inbound_message_id.trim().to_string();
        if message_id.is_empty() || message_id.len() > crate::limits::MAX_FIELD_LEN {
            return Err(InboundRejected::BadMessageId.into());
        }
        let firm_id = self
            .store
            .firm_for_number(&to)
            .await
            .map_err(FlowError::from)?
            .ok_or(InboundRejected::UnknownDestination)?;
        let firm = self.firm(&firm_id).await?;
        // The whole text is read (the classifier reads both ends of a long one, so a STOP at the
        // end of a long text still revokes); the trail keeps its first MAX_INBOUND_TEXT chars.
        let text = sms.body;

        retry_on_conflict!(async {
            let current = self
                .store
                .get_consent(&firm.firm_id, &from)
                .await
                .map_err(FlowError::from)?;
            let step = transition::apply(
                current.as_ref(),
                &firm.firm_id,
                &from,
                ConsentEvent::SmsReceived {
                    inbound_message_id: message_id.clone(),
                    text: text.clone(),
                    received_at: sms.received_at,
                },
                self.clock.now(),
            );
            if step.effect == Effect::Duplicate {
                return self
                    .redelivered(&firm, &from, current, &message_id)
                    .await
                    .map(Attempt::Done);
            }
            let events = step.events.into_iter().map(keep_text_bounded).collect();
            let mut draft = Draft::new(
                &firm.firm_id,
                &from,
                step.expected_version,
                step.record.clone(),
                events,
            );
            draft.inbound_message_id = Some(message_id.clone());
            let lift_carrier_opt_out = super::carrier_opt_in::resubscribed_after_carrier_opt_out(
                current.as_ref(),
                draft.record.as_ref(),
            );
            // The record's language; a number with no record (a HELP from a stranger) is
            // answered in the language of its keyword (AYUDA: Spanish), else English.
            let language = draft
                .record
                .as_ref()
                .or(current.as_ref())
                .map(|r| r.language)
                .or_else(|| keyword_language(&text))
                .unwrap_or_default();
            // The one reply rides in the change's write, unless the provider's own opt-out must
            // be lifted between the two.
            let folded = match step.replies.as_slice() {
                [reply] if !lift_carrier_opt_out => {
                    self.fold_reply(&firm, &from, *reply, language, &mut draft)
                        .await?
                }
                _ => None,
            };
            let write = draft.seal();
            // The record as written (chain head sealed): the replies decide on it, unread.
            let written = write.record.clone();
            let mut latest = written.clone().or(current);
            match self.store.commit(write).await {
                Ok(()) => {}
                Err(StoreError::VersionConflict { .. }) => return Ok(Attempt::Conflict),
                Err(StoreError::DuplicateInbound) => {
                    let current = self
                        .store
                        .get_consent(&firm.firm_id, &from)
                        .await
                        .map_err(FlowError::from)?;
                    return self
                        .redelivered(&firm, &from, current, &message_id)
                        .await
                        .map(Attempt::Done);
                }
                Err(e) => return Err(FlowError::from(e).into()),
            }
            let mut status_written = latest.as_ref().map(|r| r.status);
            let mut replies = Vec::new();
            if let Some(folded) = folded {
                let (outcome, after) = self.finish_reply(&firm, folded, written).await?;
                replies.push(outcome);
                latest = after;
            } else {
                // Before any reply: the provider drops texts to the number until it lifts its
                // opt-out.
                if lift_carrier_opt_out {
                    latest = self.lift_carrier_opt_out(&firm, &from, latest).await?;
                    status_written = latest.as_ref().map(|r| r.status).or(status_written);
                }
                for reply in &step.replies {
                    let (outcome, after) = self
                        .send_reply(&firm, &from, *reply, language, latest)
                        .await?;
                    replies.push(outcome);
                    latest = after;
                }
            }
            // A reply changes no status (a carrier opt-out found while sending one does).
            let status = latest.map(|r| r.status).or(status_written);
            Ok(Attempt::Done(InboundOutcome {
                firm_id: firm.firm_id.clone(),
                status,
                classification: step.classification,
                duplicate: false,
                replies,
            }))
        })
    }

    /// A redelivered text changes nothing, but a reply the first delivery owed and did not get
    /// out (it failed after its state change was written) goes out now: the opt-out
    /// confirmation (the gate lets only one through), the opt-in confirmation or the HELP reply
    /// this very message called for.
    async fn redelivered(
        &self,
        firm: &Firm,
        from: &PhoneNumber,
        current: Option<ConsentRecord>,
        message_id: &str,
    ) -> Result<InboundOutcome, InboundError> {
        let mut replies = Vec::new();
        if let Some(record) = &current {
            let owed =
                if record.status == ConsentStatus::OptedOut && !record.opt_out_confirmation_sent {
                    Some(Reply::OptOutConfirmation)
                } else {
                    self.owed_reply(firm, from, record, message_id).await?
                };
            if let Some(reply) = owed {
                let (outcome, _) = self
                    .send_reply(firm, from, reply, record.language, Some(record.clone()))
                    .await?;
                replies.push(outcome);
            }
        }
        Ok(InboundOutcome {
            firm_id: firm.firm_id.clone(),
            status: current.map(|r| r.status),
            classification: None,
            duplicate: true,
            replies,
        })
    }

    /// The opt-in confirmation or HELP reply that the inbound message `message_id` called for
    /// and that never went out (no `message_sent` and no `message_blocked` of its kind after
    /// the message's event), if any.
    async fn owed_reply(
        &self,
        firm: &Firm,
        from: &PhoneNumber,
        record: &ConsentRecord,
        message_id: &str,
    ) -> Result<Option<Reply>, FlowError> {
        let events = self.store.events(&firm.firm_id, from).await?;
        let confirmation = record.status == ConsentStatus::OptedIn
            && reply_owed(
                &events,
                |kind| {
                    matches!(kind, AuditKind::OptedIn {
                        evidence: OptInEvidence::Sms { inbound_message_id, .. }, ..
                    } if inbound_message_id == message_id)
                },
                MessageKind::OptInConfirmation,
                self.clock.now(),
            );
        if confirmation {
            return Ok(Some(Reply::OptInConfirmation));
        }
        let help = reply_owed(
            &events,
            |kind| {
                matches!(kind, AuditKind::ReplyReceived {
                    inbound_message_id, note: ReplyNote::Help, ..
                } if inbound_message_id == message_id)
            },
            MessageKind::HelpReply,
            self.clock.now(),
        );
        Ok(help.then_some(Reply::Help))
    }

    /// Renders a reply in `language` and sends it through the gate, deciding on `record` (the
    /// recipient's record as just read or written); returns the outcome and the record as the
    /// gate left it.
    pub(crate) async fn send_reply(
        &self,
        firm: &Firm,
        to: &PhoneNumber,
        reply: Reply,
        language: Language,
        record: Option<ConsentRecord>,
    ) -> Result<(SendOutcome, Option<ConsentRecord>), FlowError> {
        let request = reply_request(firm, to, reply, language)?;
        self.gate.send_on(firm, &request, record).await
    }

    /// Renders a reply in `language` and decides it into `draft`, the write of the change that
    /// calls for it, so that its claim rides in that write. `None`: the draft has no record to
    /// decide on, and the reply goes after the write with [`Self::send_reply`].
    pub(crate) async fn fold_reply(
        &self,
        firm: &Firm,
        to: &PhoneNumber,
        reply: Reply,
        language: Language,
        draft: &mut Draft,
    ) -> Result<Option<FoldedReply>, FlowError> {
        if draft.record.is_none() {
            return Ok(None);
        }
        let request = reply_request(firm, to, reply, language)?;
        let now = self.clock.now();
        Ok(
            match self.gate.decide_into(firm, &request, draft, now).await? {
                // The gate asks the carrier before an opt-in request only, never before a reply.
                Decided::CarrierOptedOut => None,
                decided => Some(FoldedReply { request, decided }),
            },
        )
    }

    /// Sends a reply folded into a committed write (`written`: the record as that write left
    /// it) and records what happened; returns the outcome and the record as the gate left it.
    pub(crate) async fn finish_reply(
        &self,
        firm: &Firm,
        folded: FoldedReply,
        written: Option<ConsentRecord>,
    ) -> Result<(SendOutcome, Option<ConsentRecord>), FlowError> {
        self.gate
            .complete(firm, &folded.request, folded.decided, written, None)
            .await
    }
}

/// A reply decided into the write of the change that calls for it.
pub(crate) struct FoldedReply {
    request: SendRequest,
    decided: Decided,
}

/// A reply rendered in `language`, as the gate takes it.
fn reply_request(
    firm: &Firm,
    to: &PhoneNumber,
    reply: Reply,
    language: Language,
) -> Result<SendRequest, FlowError> {
    let (name, kind) = match reply {
        Reply::OptInConfirmation => (
            TemplateName::SmsOptInConfirmation,
            MessageKind::OptInConfirmation,
        ),
        Reply::OptOutConfirmation => (
            TemplateName::SmsOptOutConfirmation,
            MessageKind::OptOutConfirmation,
        ),
        Reply::Help => (TemplateName::SmsHelp, MessageKind::HelpReply),
    };
    let rendered = templates::render_sms(
        name,
        language,
        firm.template(name, language),
        &firm_vars(firm, None, ""),
    )?;
    Ok(SendRequest {
        to: to.clone(),
        kind,
        category: MessageCategory::Transactional,
        body: rendered.body,
        idempotency_key: None,
    })
}

/// An inbound text failed: rejected for good, or a failure worth retrying.
#[derive(Debug, thiserror::Error)]
pub enum InboundError {
    /// The message can never be processed; retrying will not help.
    #[error(transparent)]
    Rejected(#[from] InboundRejected),
    /// The service failed; see `FlowError::is_retryable`.
    #[error(transparent)]
    Flow(#[from] FlowError),
}

impl InboundError {
    /// Whether a redelivery may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Rejected(_) => false,
            Self::Flow(e) => e.is_retryable(),
        }
    }
}

/// How long after the event that calls for a reply a repeat of the same request leaves the
/// reply to the first attempt, which may still be sending it (a double click, SNS delivering
/// one message twice at once). SNS retries a failed delivery after a minute, and the error page
/// asks the contact to try again in a minute.
pub const REPLY_GRACE_SECS: i64 = 30;

/// Whether the reply that the last event matching `trigger` called for is still owed at `now`:
/// the event is older than [`REPLY_GRACE_SECS`], and after it (events oldest first) no
/// `message_allowed` of `kind` reached `message_sent` and no message of `kind` was blocked or
/// deferred. A reply whose send failed, or whose allow was written without the send, is owed
/// again (at least once).
pub(crate) fn reply_owed(
    events: &[AuditEvent],
    trigger: impl Fn(&AuditKind) -> bool,
    kind: MessageKind,
    now: DateTime<Utc>,
) -> bool {
    let Some(start) = events.iter().rposition(|e| trigger(&e.kind)) else {
        return false;
    };
    if now - events[start].at < chrono::Duration::seconds(REPLY_GRACE_SECS) {
        return false;
    }
    let mut allowed: Vec<&str> = Vec::new();
    for event in &events[start + 1..] {
        match &event.kind {
            AuditKind::MessageAllowed { kind: k, .. } if *k == kind => allowed.push(&event.id),
            AuditKind::MessageSent {
                allowed_event_id, ..
            } if allowed.contains(&allowed_event_id.as_str()) => return false,
            AuditKind::MessageBlocked { kind: k, .. }
            | AuditKind::MessageDeferred { kind: k, .. }
                if *k == kind =>
            {
                return false;
            }
            _ => {}
        }
    }
    true
}

/// An event as the trail keeps it: an inbound text cut to its first [`MAX_INBOUND_TEXT`]
/// characters.
fn keep_text_bounded(mut event: AuditEvent) -> AuditEvent {
    let cut = |text: &mut String| {
        if let Some((end, _)) = text.char_indices().nth(MAX_INBOUND_TEXT) {
            text.truncate(end);
        }
    };
    match &mut event.kind {
        AuditKind::ReplyReceived { text, .. }
        | AuditKind::OptedOut {
            text: Some(text), ..
        }
        | AuditKind::OptedIn {
            evidence: OptInEvidence::Sms { text, .. },
            ..
        } => cut(text),
        _ => {}
    }
    event
}
