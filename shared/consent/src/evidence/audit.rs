//! Audit events: the append-only paper trail of everything the service did for a number or a firm.

use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::evidence::commitment::{TextCommitment, TextSalt};
use crate::model::consent_capture::ConsentCapture;
use crate::model::gate::{BlockReason, MessageCategory, MessageKind};
use crate::model::keywords::Classification;
use crate::model::language::Language;
use crate::model::record::{ConsentBasis, ConsentStatus, StaffChannel};
use crate::model::state_rules::RuleId;

/// One entry of the paper trail. Ids are ULIDs, so sorting by id sorts by time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// ULID, unique and time-ordered.
    pub id: String,
    /// When it happened (the service's clock).
    pub at: DateTime<Utc>,
    /// What happened.
    #[serde(flatten)]
    pub kind: AuditKind,
    /// The hash of the event before it in its number's chain (the chain's genesis for the
    /// first); absent for events written while the number had no consent record (see
    /// [`crate::evidence::chain`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prev_hash: Option<String>,
    /// Hex SHA-256 of the event's canonical JSON without this field; set when it is written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
    /// The salt of the event's text that is not a consent message ([`AuditKind::private_text`]),
    /// drawn when the event is built: the event is hashed and shown with that text's
    /// commitment in its place. Kept in the store (the firm's copy), never in a default proof;
    /// absent on events without such a text and on those written before commitments, which are
    /// hashed and shown with the text in full.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salt: Option<TextSalt>,
}

impl AuditEvent {
    /// A new event at `at`, with a fresh, monotonic id.
    pub fn new(at: DateTime<Utc>, kind: AuditKind) -> Self {
        let salt = kind.private_text().map(|_| TextSalt::fresh());
        Self {
            id: next_event_id(at),
            at,
            kind,
            prev_hash: None,
            hash: None,
            salt,
        }
    }

    /// The member holding the event's text that is not a consent message, and that text's
    /// commitment, which the event is hashed and shown with; `None` when the event has no
    /// such text, or was written before commitments (no salt: the text stands in full).
    pub fn committed_text(&self) -> Option<(&'static str, TextCommitment)> {
        let (member, text) = self.kind.private_text()?;
        Some((member, self.salt.as_ref()?.commit(text)))
    }

    /// The event's type name as stored (`opted_in`, `message_sent`, ...).
    pub fn type_name(&self) -> &'static str {
        self.kind.type_name()
    }
}

/// How a contact gave consent, with what proves it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "channel", rename_all = "snake_case")]
pub enum OptInEvidence {
    /// A reply by SMS.
    Sms {
        /// The reply's text as received.
        text: String,
        /// The carrier's id of the reply.
        inbound_message_id: String,
        /// When the carrier received it.
        received_at: DateTime<Utc>,
    },
    /// The button behind the email link.
    Email {
        /// The client address the confirmation came from.
        ip: Option<String>,
        /// The browser's user agent.
        user_agent: Option<String>,
        /// When the button was pressed.
        confirmed_at: DateTime<Utc>,
    },
    /// The firm says it holds consent (double opt-in off).
    FirmAttested {
        /// The contact the firm created.
        contact_id: String,
    },
}

/// How a contact revoked consent other than by text, with what proves it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "channel", rename_all = "snake_case")]
pub enum OptOutEvidence {
    /// The decline button behind the email link ("this isn't me / no thanks").
    Email {
        /// The client address the decline came from.
        ip: Option<String>,
        /// The browser's user agent.
        user_agent: Option<String>,
        /// When the button was pressed.
        declined_at: DateTime<Utc>,
    },
}

/// Everything that can happen, each with its evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AuditKind {
    /// The CRM created a contact with this number.
    ContactCreated {
        /// The CRM's id.
        contact_id: String,
        /// Where the contact came from, as the CRM says.
        source: Option<String>,
        /// The contact's email, if given.
        email: Option<String>,
        /// The firm's double opt-in setting at that moment.
        double_opt_in: bool,
        /// Whether a consent record already existed (nothing is re-sent then).
        existing_status: Option<ConsentStatus>,
        /// How the number was first collected, as the CRM reports it (absent when not given;
        /// left out of the JSON then, so events written before it existed hash as they did).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        consent_capture: Option<ConsentCapture>,
        /// The language the contact is written to in (absent in events written before
        /// languages existed: left out of the JSON then, so they hash as they did).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        language: Option<Language>,
    },
    /// The opt-in request email went out.
    EmailSent {
        /// The address.
        to: String,
        /// Subject line.
        subject: String,
        /// Plain-text part.
        text: String,
        /// HTML part.
        html: String,
        /// The provider's id.
        provider_message_id: String,
    },
    /// The opt-in request email could not be sent or was not attempted.
    EmailSkipped {
        /// Why it was not sent.
        reason: String,
    },
    /// The contact confirmed.
    OptedIn {
        /// The status before.
        from: Option<ConsentStatus>,
        /// The basis now.
        basis: ConsentBasis,
        /// The proof.
        evidence: OptInEvidence,
    },
    /// The contact (or the carrier) revoked consent.
    OptedOut {
        /// The status before.
        from: Option<ConsentStatus>,
        /// The basis now.
        basis: ConsentBasis,
        /// The text received, if by SMS.
        text: Option<String>,
        /// The keyword or phrase that made it a revocation.
        matched: Option<String>,
        /// The carrier's id of the reply.
        inbound_message_id: Option<String>,
        /// What proves a revocation made other than by text (absent otherwise, and left out
        /// of the JSON then, so earlier events hash as they did).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        evidence: Option<OptOutEvidence>,
    },
    /// The firm's staff recorded a revocation the contact made to them.
    OptOutRecorded {
        /// The status before.
        from: Option<ConsentStatus>,
        /// How the contact told them.
        channel: StaffChannel,
        /// Who recorded it.
        recorded_by: String,
        /// What was said, if noted.
        note: Option<String>,
        /// When the contact said it, if the caller gave it.
        occurred_at: Option<DateTime<Utc>>,
        /// Whether the contact asked for the opt-out confirmation by text (none is owed else).
        confirmation_requested: bool,
        /// The authenticated caller who made the change (the IAM principal in AWS, `local`
        /// on the local server), beside the free-text name; absent when none was known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        actor: Option<String>,
    },
    /// A text that changed nothing: HELP, an unclear reply, a duplicate, a stale or unsolicited
    /// keyword. Kept for a person to read.
    ReplyReceived {
        /// The text as received.
        text: String,
        /// The carrier's id.
        inbound_message_id: String,
        /// How the text was read.
        classification: Classification,
        /// When the carrier received it.
        received_at: DateTime<Utc>,
        /// Why it changed nothing.
        note: ReplyNote,
    },
    /// The contact opted in again after a carrier opt-out, and the provider was asked to lift
    /// its opt-out of the number (texts fail until it does).
    CarrierOptInRequested {
        /// What the provider answered.
        outcome: CarrierOptInOutcome,
        /// The provider's error, when the request failed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
    /// The email link was used where it cannot change anything (after an opt-out, or twice).
    EmailConfirmationIgnored {
        /// The status at that moment.
        status: ConsentStatus,
        /// The client address.
        ip: Option<String>,
        /// The browser's user agent.
        user_agent: Option<String>,
    },
    /// The decline button behind the email link used where it changes nothing (the number is
    /// already opted out).
    EmailDeclineIgnored {
        /// The status at that moment.
        status: ConsentStatus,
        /// The client address.
        ip: Option<String>,
        /// The browser's user agent.
        user_agent: Option<String>,
    },
    /// The gate let a message through; it is handed to the provider next.
    MessageAllowed {
        /// What kind of message.
        kind: MessageKind,
        /// Marketing or transactional.
        category: MessageCategory,
        /// The exact text.
        body: String,
        /// The sending number.
        from: String,
        /// The firm's double opt-in setting in force.
        double_opt_in: bool,
        /// The caller's idempotency key, if any.
        idempotency_key: Option<String>,
    },
    /// The provider accepted a message the gate allowed.
    MessageSent {
        /// The `MessageAllowed` event this completes.
        allowed_event_id: String,
        /// The provider's id.
        provider_message_id: String,
    },
    /// The provider refused a message the gate allowed.
    MessageFailed {
        /// The `MessageAllowed` event this completes.
        allowed_event_id: String,
        /// The provider's reason.
        error: String,
    },
    /// The provider did not answer (a timeout, a lost reply): the message may have gone out.
    /// A one-time message stays claimed, so it is never sent twice (at most once).
    MessageUnconfirmed {
        /// The `MessageAllowed` event this completes.
        allowed_event_id: String,
        /// The provider's error.
        error: String,
    },
    /// The gate held a message until the recipient's window opens.
    MessageDeferred {
        /// What kind of message.
        kind: MessageKind,
        /// Marketing or transactional.
        category: MessageCategory,
        /// The exact text.
        body: String,
        /// When it may go.
        not_before: DateTime<Utc>,
        /// The caller's idempotency key, if any.
        idempotency_key: Option<String>,
        /// The calling rule that held it (absent in events recorded before rules were named).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rule: Option<RuleId>,
    },
    /// The opt-out confirmation was not sent: the revocation was received more than five
    /// minutes before it could go (a late delivery, a retry, a redrive), past what the FCC
    /// allows for that one text.
    OptOutConfirmationSkipped {
        /// The text that was not sent.
        body: String,
        /// Why (`confirmation_window_passed`).
        reason: BlockReason,
    },
    /// The gate refused a message.
    MessageBlocked {
        /// What kind of message.
        kind: MessageKind,
        /// Marketing or transactional.
        category: MessageCategory,
        /// The exact text.
        body: String,
        /// The rule that blocked it.
        reason: BlockReason,
        /// The caller's idempotency key, if any.
        idempotency_key: Option<String>,
        /// The calling rule or cap behind a frequency-cap block; absent for consent blocks.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rule: Option<RuleId>,
    },
    /// The firm switched double opt-in.
    DoubleOptInChanged {
        /// The new setting.
        enabled: bool,
        /// Who did it.
        changed_by: String,
        /// Whether they acknowledged the risk (required to turn it off).
        acknowledge_risk: bool,
        /// The authenticated caller who made the change (the IAM principal in AWS, `local`
        /// on the local server), beside the free-text name; absent when none was known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        actor: Option<String>,
    },
    /// The firm changed or reset a template.
    TemplateChanged {
        /// The template.
        name: String,
        /// The language of the version changed (absent in events written before languages
        /// existed, which all changed the English one).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        language: Option<Language>,
        /// Whether it went back to the default.
        reset: bool,
        /// The authenticated caller who made the change (the IAM principal in AWS, `local`
        /// on the local server), beside the free-text name; absent when none was known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        actor: Option<String>,
    },
    /// The firm registered or changed its settings.
    FirmUpdated {
        /// The firm's name now.
        name: String,
        /// Its sending number now.
        sms_number: String,
        /// The authenticated caller who made the change (the IAM principal in AWS, `local`
        /// on the local server), beside the free-text name; absent when none was known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        actor: Option<String>,
    },
}

/// What became of asking the provider to lift its opt-out of a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CarrierOptInOutcome {
    /// Lifted: texts reach the number again.
    OptedIn,
    /// Refused: the provider lifts a number's opt-out at most once in 30 days.
    TooSoon,
    /// The request failed (see the event's `error`); the opt-out stands.
    Failed,
}

/// Why a reply changed nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplyNote {
    /// A HELP request, answered with the help text.
    Help,
    /// Neither a keyword nor a revocation: for a person to read.
    Unrecognized,
    /// Older than the record's current state, so it does not override it.
    Superseded,
    /// An opt-in word with no opt-in request to answer, or while already opted in.
    NoEffect,
    /// A repeat STOP while already opted out.
    AlreadyOptedOut,
}

impl AuditKind {
    /// The stored type name.
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::ContactCreated { .. } => "contact_created",
            Self::EmailSent { .. } => "email_sent",
            Self::EmailSkipped { .. } => "email_skipped",
            Self::OptedIn { .. } => "opted_in",
            Self::OptedOut { .. } => "opted_out",
            Self::OptOutRecorded { .. } => "opt_out_recorded",
            Self::ReplyReceived { .. } => "reply_received",
            Self::CarrierOptInRequested { .. } => "carrier_opt_in_requested",
            Self::EmailConfirmationIgnored { .. } => "email_confirmation_ignored",
            Self::EmailDeclineIgnored { .. } => "email_decline_ignored",
            Self::MessageAllowed { .. } => "message_allowed",
            Self::MessageSent { .. } => "message_sent",
            Self::MessageFailed { .. } => "message_failed",
            Self::MessageUnconfirmed { .. } => "message_unconfirmed",
            Self::MessageDeferred { .. } => "message_deferred",
            Self::MessageBlocked { .. } => "message_blocked",
            Self::OptOutConfirmationSkipped { .. } => "opt_out_confirmation_skipped",
            Self::DoubleOptInChanged { .. } => "double_opt_in_changed",
            Self::TemplateChanged { .. } => "template_changed",
            Self::FirmUpdated { .. } => "firm_updated",
        }
    }

    /// The one text of this event that is not a consent message, with the member that holds
    /// it: a firm's own message (`body` of a `FirmMessage` allowed, held or blocked) or a reply
    /// that changed nothing (`text` of `reply_received`). Consent messages (the opt-in request
    /// by text or email, the confirmations, the HELP reply, the replies that changed consent,
    /// the opt-out confirmation not sent) and every other field are shown in full: `None`.
    pub fn private_text(&self) -> Option<(&'static str, &str)> {
        match self {
            Self::MessageAllowed { kind, body, .. }
            | Self::MessageDeferred { kind, body, .. }
            | Self::MessageBlocked { kind, body, .. }
                if *kind == MessageKind::FirmMessage =>
            {
                Some(("body", body))
            }
            Self::ReplyReceived { text, .. } => Some(("text", text)),
            _ => None,
        }
    }
}

static EVENT_IDS: Mutex<Option<ulid::Generator>> = Mutex::new(None);

/// A ULID for `at`, strictly greater than every id this process made before, so events
/// appended in one process keep their order even within one millisecond.
fn next_event_id(at: DateTime<Utc>) -> String {
    let mut guard = EVENT_IDS
        .lock()
        .unwrap_or_else(|poison| poison.into_inner());
    let generator = guard.get_or_insert_with(ulid::Generator::new);
    let time: std::time::SystemTime = at.into();
    match generator.generate_from_datetime(time) {
        Ok(id) => id.to_string(),
        // Overflow within one millisecond (2^80 ids) or a clock set backwards: a fresh id at
        // `at` is still unique, and time order is what the reader relies on.
        Err(_) => ulid::Ulid::from_datetime(time).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_increasing_within_a_millisecond() {
        let at = Utc::now();
        let ids: Vec<String> = (0..100)
            .map(|_| AuditEvent::new(at, AuditKind::EmailSkipped { reason: "x".into() }).id)
            .collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
        sorted.dedup();
        assert_eq!(sorted.len(), 100);
    }

    #[test]
    fn serializes_with_a_type_tag() {
        let event = AuditEvent::new(
            Utc::now(),
            AuditKind::DoubleOptInChanged {
                enabled: false,
                changed_by: "ops@firm".into(),
                acknowledge_risk: true,
                actor: None,
            },
        );
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["type"], "double_opt_in_changed");
        let back: AuditEvent = serde_json::from_value(json).unwrap();
        assert_eq!(back, event);
    }
}
