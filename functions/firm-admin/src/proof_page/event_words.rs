//! Each audit event of a proof in words for a person: a headline and its details, and the
//! words for the statuses, bases, channels and notes they mention.

use chrono::{DateTime, Utc};
use consent::evidence::audit::{
    AuditEvent, AuditKind, CarrierOptInOutcome, OptInEvidence, OptOutEvidence, ReplyNote,
};
use consent::evidence::shown::ShownTexts;
use consent::evidence::token::withhold_legacy_links;
use consent::model::consent_capture::CaptureMethod;
use consent::model::language::Language;
use consent::model::record::{ConsentBasis, ConsentStatus, StaffChannel};
use serde::Serialize;

/// An event in words: a headline and the evidence it carries.
pub(super) fn describe(
    event: &AuditEvent,
    chain: &[AuditEvent],
    texts: ShownTexts,
) -> (String, Vec<(&'static str, String)>) {
    let private = |text: &String| shown_text(event, text, texts);
    let yes_no = |b: bool| if b { "on" } else { "off" }.to_string();
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "(not given)".to_string());
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
            let mut details = vec![
                ("Contact id", contact_id.clone()),
                ("Source", opt(source)),
                ("Email", opt(email)),
                ("Double opt-in", yes_no(*double_opt_in)),
                ("Language", language_name(*language)),
            ];
            if let Some(status) = existing_status {
                details.push(("Already on record as", status_words(*status).to_string()));
            }
            if let Some(capture) = consent_capture {
                details.push((
                    "Number collected",
                    format!(
                        "{}, {} (see How the number was collected)",
                        method_words(capture.method),
                        when(capture.captured_at)
                    ),
                ));
            }
            ("The firm's system added this contact".to_string(), details)
        }
        AuditKind::EmailSent {
            to,
            subject,
            text,
            provider_message_id,
            ..
        } => {
            // A link written before v2 is live and its event's hash covers it: shown withheld.
            let (subject, text) = (withheld(subject), withheld(text));
            let mut details = vec![
                ("To", to.clone()),
                ("Subject", subject.0),
                ("Text", text.0),
                ("Email provider's message id", provider_message_id.clone()),
            ];
            if subject.1 || text.1 {
                details.push((
                    "Withheld",
                    "the confirmation link, sent before links were opaque: it could still be \
                     used, so it is shown as its SHA-256; this event's hash was computed over \
                     the link itself, so it cannot be re-checked from what is shown"
                        .to_string(),
                ));
            }
            ("Opt-in request sent by email".to_string(), details)
        }
        AuditKind::EmailSkipped { reason } => (
            "Opt-in request email not sent".to_string(),
            vec![("Why", reason.clone())],
        ),
        AuditKind::OptedIn {
            from,
            basis,
            evidence,
        } => {
            let mut details = vec![
                (
                    "Status before",
                    from.map_or("none", status_words).to_string(),
                ),
                ("Basis", basis_words(*basis).to_string()),
            ];
            let headline = match evidence {
                OptInEvidence::Sms {
                    text,
                    inbound_message_id,
                    received_at,
                } => {
                    details.push(("Their reply", text.clone()));
                    details.push(("Carrier's message id", inbound_message_id.clone()));
                    details.push(("Received by the carrier", when(*received_at)));
                    "The contact agreed by text"
                }
                OptInEvidence::Email {
                    ip,
                    user_agent,
                    confirmed_at,
                } => {
                    details.push(("Confirmed at", when(*confirmed_at)));
                    details.push(("From address (IP)", opt(ip)));
                    details.push(("Browser", opt(user_agent)));
                    "The contact agreed through the email link"
                }
                OptInEvidence::FirmAttested { contact_id } => {
                    details.push(("Contact id", contact_id.clone()));
                    "The firm attested consent (double opt-in was off)"
                }
            };
            (headline.to_string(), details)
        }
        AuditKind::OptedOut {
            from,
            basis,
            text,
            matched,
            inbound_message_id,
            evidence,
        } => {
            let mut details = vec![
                (
                    "Status before",
                    from.map_or("none", status_words).to_string(),
                ),
                ("Basis", basis_words(*basis).to_string()),
            ];
            if let Some(text) = text {
                details.push(("Their text", text.clone()));
            }
            if let Some(matched) = matched {
                details.push(("Read as a revocation because of", matched.clone()));
            }
            if let Some(id) = inbound_message_id {
                details.push(("Carrier's message id", id.clone()));
            }
            if let Some(OptOutEvidence::Email {
                ip,
                user_agent,
                declined_at,
            }) = evidence
            {
                details.push(("Declined at", when(*declined_at)));
                details.push(("From address (IP)", opt(ip)));
                details.push(("Browser", opt(user_agent)));
            }
            let headline = match basis {
                ConsentBasis::Carrier => "The carrier reported that the number opted out",
                ConsentBasis::EmailDecline => {
                    "The contact declined texts through the email link (no thanks / not me)"
                }
                _ => "The contact withdrew consent",
            };
            (headline.to_string(), details)
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
            let mut details = vec![
                ("Told the firm by", channel_words(*channel).to_string()),
                ("Recorded by", recorded_by.clone()),
                (
                    "Opt-out confirmation by text",
                    if *confirmation_requested {
                        "asked for"
                    } else {
                        "not asked for"
                    }
                    .to_string(),
                ),
            ];
            if let Some(at) = occurred_at {
                details.push(("Said at", when(*at)));
            }
            if let Some(note) = note {
                details.push(("Note", note.clone()));
            }
            if let Some(status) = from {
                details.push(("Status before", status_words(*status).to_string()));
            }
            details.extend(signed_in_as(actor));
            (
                "The contact told the firm's staff to stop".to_string(),
                details,
            )
        }
        AuditKind::ReplyReceived {
            text,
            inbound_message_id,
            classification,
            received_at,
            note,
        } => (
            "A text from the contact was received".to_string(),
            vec![
                ("Their text", private(text)),
                ("Read as", words(classification)),
                ("Effect", note_words(*note).to_string()),
                ("Carrier's message id", inbound_message_id.clone()),
                ("Received by the carrier", when(*received_at)),
            ],
        ),
        AuditKind::CarrierOptInRequested { outcome, error } => {
            let headline = match outcome {
                CarrierOptInOutcome::OptedIn => {
                    "The carrier's opt-out was lifted after the contact opted in again"
                }
                CarrierOptInOutcome::TooSoon => {
                    "The carrier's opt-out could not be lifted yet (once in 30 days); texts \
                     cannot reach the number until it is"
                }
                CarrierOptInOutcome::Failed => {
                    "Asking the carrier to lift its opt-out failed; texts cannot reach the \
                     number until it is"
                }
            };
            let mut details = vec![("Answer", words(outcome))];
            if let Some(error) = error {
                details.push(("Error", error.clone()));
            }
            (headline.to_string(), details)
        }
        AuditKind::EmailConfirmationIgnored {
            status,
            ip,
            user_agent,
        } => (
            "The email link was used again; nothing changed".to_string(),
            vec![
                ("Status at that moment", status_words(*status).to_string()),
                ("From address (IP)", opt(ip)),
                ("Browser", opt(user_agent)),
            ],
        ),
        AuditKind::EmailDeclineIgnored {
            status,
            ip,
            user_agent,
        } => (
            "The email link's decline was used while already opted out; nothing changed"
                .to_string(),
            vec![
                ("Status at that moment", status_words(*status).to_string()),
                ("From address (IP)", opt(ip)),
                ("Browser", opt(user_agent)),
            ],
        ),
        AuditKind::MessageAllowed {
            kind,
            category,
            body,
            from,
            double_opt_in,
            idempotency_key,
        } => {
            let mut details = vec![
                ("Message", private(body)),
                ("Kind", words(kind)),
                ("Category", words(category)),
                ("From", from.clone()),
                ("Double opt-in in force", yes_no(*double_opt_in)),
            ];
            if let Some(key) = idempotency_key {
                details.push(("Request key", key.clone()));
            }
            (
                "A text was allowed by the consent check".to_string(),
                details,
            )
        }
        AuditKind::MessageSent {
            allowed_event_id,
            provider_message_id,
        } => (
            "The allowed text was handed to the carrier".to_string(),
            vec![
                ("For event", position_of(allowed_event_id, chain)),
                ("Carrier's message id", provider_message_id.clone()),
            ],
        ),
        AuditKind::MessageFailed {
            allowed_event_id,
            error,
        } => (
            "The allowed text could not be sent".to_string(),
            vec![
                ("For event", position_of(allowed_event_id, chain)),
                ("Error", error.clone()),
            ],
        ),
        AuditKind::MessageUnconfirmed {
            allowed_event_id,
            error,
        } => (
            "The carrier did not answer; the text may have gone out and is not sent again"
                .to_string(),
            vec![
                ("For event", position_of(allowed_event_id, chain)),
                ("Error", error.clone()),
            ],
        ),
        AuditKind::MessageDeferred {
            kind,
            body,
            not_before,
            ..
        } => (
            "A text was held until the recipient's allowed hours".to_string(),
            vec![
                ("Message", private(body)),
                ("Kind", words(kind)),
                ("Not before", when(*not_before)),
            ],
        ),
        AuditKind::OptOutConfirmationSkipped { body, .. } => (
            "The opt-out confirmation was not sent: the revocation came in more than five \
             minutes before it could go"
                .to_string(),
            vec![("Message", body.clone())],
        ),
        AuditKind::MessageBlocked {
            kind, body, reason, ..
        } => (
            "A text was blocked by the consent check".to_string(),
            vec![
                ("Message", private(body)),
                ("Kind", words(kind)),
                ("Why", words(reason)),
            ],
        ),
        AuditKind::DoubleOptInChanged {
            enabled,
            changed_by,
            acknowledge_risk,
            actor,
        } => (
            "The firm switched double opt-in".to_string(),
            [
                ("Double opt-in", yes_no(*enabled)),
                ("Changed by", changed_by.clone()),
                ("Risk acknowledged", yes_no(*acknowledge_risk)),
            ]
            .into_iter()
            .chain(signed_in_as(actor))
            .collect(),
        ),
        AuditKind::TemplateChanged {
            name,
            language,
            reset,
            actor,
        } => (
            "The firm changed a message template".to_string(),
            [
                ("Template", name.clone()),
                ("Language", language_name(*language)),
                ("Back to the default", yes_no(*reset)),
            ]
            .into_iter()
            .chain(signed_in_as(actor))
            .collect(),
        ),
        AuditKind::FirmUpdated {
            name,
            sms_number,
            actor,
        } => (
            "The firm's settings changed".to_string(),
            [
                ("Name", name.clone()),
                ("Texting number", sms_number.clone()),
            ]
            .into_iter()
            .chain(signed_in_as(actor))
            .collect(),
        ),
    }
}

/// The authenticated caller behind a change, when one was recorded.
fn signed_in_as(actor: &Option<String>) -> Option<(&'static str, String)> {
    actor.as_ref().map(|actor| ("Signed in as", actor.clone()))
}

/// `text` with a legacy confirmation link withheld, and whether one was.
fn withheld(text: &str) -> (String, bool) {
    match withhold_legacy_links(text) {
        Some(redacted) => (redacted, true),
        None => (text.to_string(), false),
    }
}

/// A text of `event` as the page shows it: in full, unless it is the event's privileged
/// text and the page shows commitments only (the commitment itself is shown beside it).
fn shown_text(event: &AuditEvent, text: &str, texts: ShownTexts) -> String {
    match event.committed_text() {
        Some((_, commitment)) if texts == ShownTexts::Committed => format!(
            "(not shown: not a consent message; its {} bytes are committed to below)",
            commitment.length
        ),
        _ => text.to_string(),
    }
}

fn position_of(event_id: &str, chain: &[AuditEvent]) -> String {
    match chain.iter().position(|e| e.id == event_id) {
        Some(i) => format!("#{} ({event_id})", i + 1),
        None => event_id.to_string(),
    }
}

pub(super) fn when(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// A model value's wire name in words (`not_opted_in` → `not opted in`).
fn words<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name.replace('_', " "),
        Ok(serde_json::Value::Object(fields)) => fields
            .values()
            .filter_map(|v| v.as_str())
            .map(|v| v.replace('_', " "))
            .collect::<Vec<_>>()
            .join(": "),
        _ => String::new(),
    }
}

pub(super) fn status_words(status: ConsentStatus) -> &'static str {
    match status {
        ConsentStatus::Pending => "Pending (asked, no answer yet)",
        ConsentStatus::OptedIn => "Opted in",
        ConsentStatus::OptedOut => "Opted out",
    }
}

pub(super) fn basis_words(basis: ConsentBasis) -> &'static str {
    match basis {
        ConsentBasis::OptInRequested => "Opt-in request sent to a new contact",
        ConsentBasis::SmsReply => "The contact's text message",
        ConsentBasis::EmailConfirmation => "The contact's confirmation through the email link",
        ConsentBasis::FirmAttested => "The firm's attestation (double opt-in off)",
        ConsentBasis::Carrier => "The carrier's opt-out report",
        ConsentBasis::StaffRecorded => "A revocation the firm's staff recorded",
        ConsentBasis::EmailDecline => "The contact's decline through the email link",
    }
}

pub(super) fn method_words(method: CaptureMethod) -> &'static str {
    match method {
        CaptureMethod::WebForm => "A form on a website",
        CaptureMethod::PaperForm => "A paper form",
        CaptureMethod::Verbal => "Given aloud to the firm",
        CaptureMethod::TextIn => "The contact texted the firm first",
        CaptureMethod::Other => "Another way",
    }
}

fn channel_words(channel: StaffChannel) -> &'static str {
    match channel {
        StaffChannel::PhoneCall => "a phone call",
        StaffChannel::Email => "an email",
        StaffChannel::InPerson => "in person",
        StaffChannel::Mail => "a letter",
        StaffChannel::Other => "another way",
    }
}

fn note_words(note: ReplyNote) -> &'static str {
    match note {
        ReplyNote::Help => "A request for help, answered with the help text",
        ReplyNote::Unrecognized => "Not a keyword: kept for a person to read",
        ReplyNote::Superseded => "Older than the current status, so it did not change it",
        ReplyNote::NoEffect => "A yes with nothing to answer, or while already opted in",
        ReplyNote::AlreadyOptedOut => "Another stop while already opted out",
    }
}

/// A language as the page names it; an event written before languages existed was English.
fn language_name(language: Option<Language>) -> String {
    match language.unwrap_or_default() {
        Language::En => "English",
        Language::Es => "Spanish",
    }
    .to_string()
}
