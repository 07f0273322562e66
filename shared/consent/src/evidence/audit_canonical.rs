//! The canonical JSON of an audit event without its `hash`: what the chain hashes, twice for
//! every gated send. The event's members are written in key order as listed here, with no
//! flattened map to collect and nothing to sort at run time; the members' values go through
//! the generic writer of [`crate::evidence::canonical`]. A text that is not a consent message
//! is written as its commitment and the salt is never written (the committed form). The text
//! is byte for byte that of the `serde_json::Value` path ([`crate::evidence::chain::event_json`];
//! a test checks every kind), so proofs verify as before. A new field is a compile error in
//! the match below, and a key out of order fails that test.

use serde::Serialize;

use crate::evidence::audit::{AuditEvent, AuditKind};
use crate::evidence::canonical::{CanonicalError, append_canonical};
use crate::evidence::commitment::TextCommitment;

/// An object whose members are written in the order given (the caller's order is key order).
struct Members {
    out: String,
    first: bool,
}

impl Members {
    fn member<T: Serialize + ?Sized>(
        &mut self,
        key: &str,
        value: &T,
    ) -> Result<(), CanonicalError> {
        self.out.push(if self.first { '{' } else { ',' });
        self.first = false;
        // Keys are this file's literals: ASCII, nothing to escape.
        self.out.push('"');
        self.out.push_str(key);
        self.out.push_str("\":");
        append_canonical(&mut self.out, value)
    }

    /// `prev_hash` is left out when absent (unchained events), as serde leaves it out.
    fn prev_hash(&mut self, event: &AuditEvent) -> Result<(), CanonicalError> {
        match &event.prev_hash {
            Some(hash) => self.member("prev_hash", hash),
            None => Ok(()),
        }
    }

    /// `actor` is left out when absent, as serde leaves it out: older events hash as before.
    fn actor(&mut self, actor: &Option<String>) -> Result<(), CanonicalError> {
        match actor {
            Some(actor) => self.member("actor", actor),
            None => Ok(()),
        }
    }

    /// A text member: its commitment when the event commits to it (`committed`), else the text.
    fn text(
        &mut self,
        key: &str,
        text: &str,
        committed: Option<&(&'static str, TextCommitment)>,
    ) -> Result<(), CanonicalError> {
        match committed {
            Some((member, commitment)) if *member == key => self.member(key, commitment),
            _ => self.member(key, text),
        }
    }

    fn close(mut self) -> String {
        if self.first {
            self.out.push('{');
        }
        self.out.push('}');
        self.out
    }
}

/// The canonical JSON of `event` without its `hash` member. [`CanonicalError::Unsupported`]
/// if a value cannot be written directly (the caller then takes the `Value` path); a refusal
/// if a value must not be hashed at all.
pub fn without_hash(event: &AuditEvent) -> Result<String, CanonicalError> {
    let mut m = Members {
        out: String::with_capacity(512),
        first: true,
    };
    let (at, id, kind) = (&event.at, &event.id, event.kind.type_name());
    // The chained form of an event is its committed form: its salt is never hashed.
    let committed = event.committed_text();
    let committed = committed.as_ref();
    match &event.kind {
        AuditKind::ContactCreated {
            contact_id,
            source,
            email,
            double_opt_in,
            existing_status,
            consent_capture,
            language,
        } => {
            m.member("at", at)?;
            // Left out when absent, as serde leaves it out.
            if let Some(capture) = consent_capture {
                m.member("consent_capture", capture)?;
            }
            m.member("contact_id", contact_id)?;
            m.member("double_opt_in", double_opt_in)?;
            m.member("email", email)?;
            m.member("existing_status", existing_status)?;
            m.member("id", id)?;
            // Left out when absent, as serde leaves it out.
            if let Some(language) = language {
                m.member("language", language)?;
            }
            m.prev_hash(event)?;
            m.member("source", source)?;
            m.member("type", kind)?;
        }
        AuditKind::EmailSent {
            to,
            subject,
            text,
            html,
            provider_message_id,
        } => {
            m.member("at", at)?;
            m.member("html", html)?;
            m.member("id", id)?;
            m.prev_hash(event)?;
            m.member("provider_message_id", provider_message_id)?;
            m.member("subject", subject)?;
            m.member("text", text)?;
            m.member("to", to)?;
            m.member("type", kind)?;
        }
        AuditKind::EmailSkipped { reason } => {
            m.member("at", at)?;
            m.member("id", id)?;
            m.prev_hash(event)?;
            m.member("reason", reason)?;
            m.member("type", kind)?;
        }
        AuditKind::OptedIn {
            from,
            basis,
            evidence,
        } => {
            m.member("at", at)?;
            m.member("basis", basis)?;
            m.member("evidence", evidence)?;
            m.member("from", from)?;
            m.member("id", id)?;
            m.prev_hash(event)?;
            m.member("type", kind)?;
        }
        AuditKind::OptedOut {
            from,
            basis,
            text,
            matched,
            inbound_message_id,
            evidence,
        } => {
            m.member("at", at)?;
            m.member("basis", basis)?;
            // Left out when absent, as serde leaves it out.
            if let Some(evidence) = evidence {
                m.member("evidence", evidence)?;
            }
            m.member("from", from)?;
            m.member("id", id)?;
            m.member("inbound_message_id", inbound_message_id)?;
            m.member("matched", matched)?;
            m.prev_hash(event)?;
            m.member("text", text)?;
            m.member("type", kind)?;
        }
        AuditKind::OptOutRecorded {
            from,
            channel,
            recorded_by,
            note,
            occurred_at,
            confirmation_requested,
            actor,
        } => {
            m.actor(actor)?;
            m.member("at", at)?;
            m.member("channel", channel)?;
            m.member("confirmation_requested", confirmation_requested)?;
            m.member("from", from)?;
            m.member("id", id)?;
            m.member("note", note)?;
            m.member("occurred_at", occurred_at)?;
            m.prev_hash(event)?;
            m.member("recorded_by", recorded_by)?;
            m.member("type", kind)?;
        }
        AuditKind::ReplyReceived {
            text,
            inbound_message_id,
            classification,
            received_at,
            note,
        } => {
            m.member("at", at)?;
            m.member("classification", classification)?;
            m.member("id", id)?;
            m.member("inbound_message_id", inbound_message_id)?;
            m.member("note", note)?;
            m.prev_hash(event)?;
            m.member("received_at", received_at)?;
            m.text("text", text, committed)?;
            m.member("type", kind)?;
        }
        AuditKind::CarrierOptInRequested { outcome, error } => {
            m.member("at", at)?;
            // Left out when absent, as serde leaves it out.
            if let Some(error) = error {
                m.member("error", error)?;
            }
            m.member("id", id)?;
            m.member("outcome", outcome)?;
            m.prev_hash(event)?;
            m.member("type", kind)?;
        }
        AuditKind::EmailConfirmationIgnored {
            status,
            ip,
            user_agent,
        }
        | AuditKind::EmailDeclineIgnored {
            status,
            ip,
            user_agent,
        } => {
            m.member("at", at)?;
            m.member("id", id)?;
            m.member("ip", ip)?;
            m.prev_hash(event)?;
            m.member("status", status)?;
            m.member("type", kind)?;
            m.member("user_agent", user_agent)?;
        }
        AuditKind::MessageAllowed {
            kind: message_kind,
            category,
            body,
            from,
            double_opt_in,
            idempotency_key,
        } => {
            m.member("at", at)?;
            m.text("body", body, committed)?;
            m.member("category", category)?;
            m.member("double_opt_in", double_opt_in)?;
            m.member("from", from)?;
            m.member("id", id)?;
            m.member("idempotency_key", idempotency_key)?;
            m.member("kind", message_kind)?;
            m.prev_hash(event)?;
            m.member("type", kind)?;
        }
        AuditKind::MessageSent {
            allowed_event_id,
            provider_message_id,
        } => {
            m.member("allowed_event_id", allowed_event_id)?;
            m.member("at", at)?;
            m.member("id", id)?;
            m.prev_hash(event)?;
            m.member("provider_message_id", provider_message_id)?;
            m.member("type", kind)?;
        }
        AuditKind::MessageFailed {
            allowed_event_id,
            error,
        }
        | AuditKind::MessageUnconfirmed {
            allowed_event_id,
            error,
        } => {
            m.member("allowed_event_id", allowed_event_id)?;
            m.member("at", at)?;
            m.member("error", error)?;
            m.member("id", id)?;
            m.prev_hash(event)?;
            m.member("type", kind)?;
        }
        AuditKind::MessageDeferred {
            kind: message_kind,
            category,
            body,
            not_before,
            idempotency_key,
            rule,
        } => {
            m.member("at", at)?;
            m.text("body", body, committed)?;
            m.member("category", category)?;
            m.member("id", id)?;
            m.member("idempotency_key", idempotency_key)?;
            m.member("kind", message_kind)?;
            m.member("not_before", not_before)?;
            m.prev_hash(event)?;
            // Left out when absent, as serde leaves it out: older events hash as before.
            if let Some(rule) = rule {
                m.member("rule", rule)?;
            }
            m.member("type", kind)?;
        }
        AuditKind::OptOutConfirmationSkipped { body, reason } => {
            m.member("at", at)?;
            m.member("body", body)?;
            m.member("id", id)?;
            m.prev_hash(event)?;
            m.member("reason", reason)?;
            m.member("type", kind)?;
        }
        AuditKind::MessageBlocked {
            kind: message_kind,
            category,
            body,
            reason,
            idempotency_key,
            rule,
        } => {
            m.member("at", at)?;
            m.text("body", body, committed)?;
            m.member("category", category)?;
            m.member("id", id)?;
            m.member("idempotency_key", idempotency_key)?;
            m.member("kind", message_kind)?;
            m.prev_hash(event)?;
            m.member("reason", reason)?;
            // Left out when absent, as serde leaves it out: older events hash as before.
            if let Some(rule) = rule {
                m.member("rule", rule)?;
            }
            m.member("type", kind)?;
        }
        AuditKind::DoubleOptInChanged {
            enabled,
            changed_by,
            acknowledge_risk,
            actor,
        } => {
            m.member("acknowledge_risk", acknowledge_risk)?;
            m.actor(actor)?;
            m.member("at", at)?;
            m.member("changed_by", changed_by)?;
            m.member("enabled", enabled)?;
            m.member("id", id)?;
            m.prev_hash(event)?;
            m.member("type", kind)?;
        }
        AuditKind::TemplateChanged {
            name,
            language,
            reset,
            actor,
        } => {
            m.actor(actor)?;
            m.member("at", at)?;
            m.member("id", id)?;
            // Left out when absent, as serde leaves it out.
            if let Some(language) = language {
                m.member("language", language)?;
            }
            m.member("name", name)?;
            m.prev_hash(event)?;
            m.member("reset", reset)?;
            m.member("type", kind)?;
        }
        AuditKind::FirmUpdated {
            name,
            sms_number,
            actor,
        } => {
            m.actor(actor)?;
            m.member("at", at)?;
            m.member("id", id)?;
            m.member("name", name)?;
            m.prev_hash(event)?;
            m.member("sms_number", sms_number)?;
            m.member("type", kind)?;
        }
    }
    Ok(m.close())
}
