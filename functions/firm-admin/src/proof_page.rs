//! The proof document as a printable page for people: the same content as the signed JSON,
//! in words, with every value escaped.

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use consent::evidence::audit::{AuditEvent, AuditKind, OptInEvidence, OptOutEvidence, ReplyNote};
use consent::evidence::proof::ProofDocument;
use consent::model::consent_capture::{CaptureMethod, ConsentCapture};
use consent::model::record::{ConsentBasis, ConsentStatus, StaffChannel};
use consent_http::{Page, escape};
use serde::Serialize;

/// The page of a signed proof.
pub fn render(proof: &ProofDocument) -> Page {
    let mut body = String::new();
    let firm = &proof.firm;
    body.push_str(&format!(
        "<h1>Proof of consent to text messages</h1>\
         <p class=\"lead\">{} &middot; {}</p>",
        escape(&firm.name),
        escape(&proof.phone)
    ));
    body.push_str("<h2>Summary</h2><table class=\"facts\">");
    for (label, value) in [
        ("Firm", format!("{} (id {})", firm.name, firm.firm_id)),
        ("Firm's texting number", firm.sms_number.clone()),
        ("Phone number", proof.phone.clone()),
        (
            "Current status",
            status_words(proof.consent.status).to_string(),
        ),
        ("Basis", basis_words(proof.consent.basis).to_string()),
        ("Status since", when(proof.consent.since)),
        ("Record created", when(proof.consent.created_at)),
        (
            "Double opt-in now",
            if firm.double_opt_in { "on" } else { "off" }.to_string(),
        ),
        ("Document generated", when(proof.generated_at)),
    ] {
        body.push_str(&format!(
            "<tr><th>{}</th><td>{}</td></tr>",
            escape(label),
            escape(&value)
        ));
    }
    body.push_str("</table>");
    body.push_str(&collection_section(&proof.events));

    body.push_str(
        "<h2>What happened, in order</h2>\
         <p class=\"muted\">Every event recorded for this number at this firm, oldest first. \
         Each one carries a fingerprint (hash) of its content and of the event before it, so \
         no event can be changed, removed or reordered without it showing.</p>",
    );
    body.push_str(&events_table(&proof.events, &proof.events));
    if !proof.unchained_events.is_empty() {
        body.push_str(
            "<h2>Recorded before this number had a consent record</h2>\
             <p class=\"muted\">These events (for example a message blocked because the number \
             was unknown) happened before any consent record existed, so they are not linked \
             into the chain above; each still carries a fingerprint of its content, and the \
             document's signature covers them.</p>",
        );
        body.push_str(&events_table(&proof.unchained_events, &proof.events));
    }

    body.push_str("<h2>How to check this document</h2>");
    let signer = proof.signer.as_ref();
    body.push_str(&format!(
        "<p>This page shows the content of a signed proof document (JSON: the same address \
         without <code>?format=html</code>). The document is signed with the service's \
         {} key <code>{}</code>; anyone can check the signature and every fingerprint with the \
         public key alone, for example with <code>consent-proof verify proof.json \
         --public-key {}</code>. The format is public (docs/proof-format.md).</p>\
         <table class=\"facts mono\">\
         <tr><th>Public key</th><td>{}</td></tr>\
         <tr><th>Signature</th><td>{}</td></tr>\
         <tr><th>Chain start (genesis)</th><td>{}</td></tr>\
         <tr><th>Chain head</th><td>{}</td></tr>\
         <tr><th>Events in the chain</th><td>{}</td></tr></table>",
        escape(signer.map_or("", |s| s.algorithm.as_str())),
        escape(signer.map_or("", |s| s.key_id.as_str())),
        escape(signer.map_or("", |s| s.public_key.as_str())),
        escape(signer.map_or("", |s| s.public_key.as_str())),
        escape(proof.signature.as_deref().unwrap_or("(unsigned)")),
        escape(&proof.chain.genesis),
        escape(proof.chain.head.as_deref().unwrap_or("(none)")),
        proof.chain.length,
    ));

    let title = format!("Proof of consent: {} at {}", proof.phone, firm.name);
    Page {
        status: StatusCode::OK,
        html: document(&title, &body),
    }
}

fn document(title: &str, body: &str) -> String {
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{}</title>
<style>
body{{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;background:#f5f6f8;color:#1d2330;line-height:1.45}}
main{{max-width:60rem;margin:2rem auto;padding:2rem;background:#fff;border-radius:12px;box-shadow:0 1px 4px rgba(0,0,0,.08)}}
h1{{font-size:1.5rem;margin:0 0 .25rem}} h2{{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #dde1e8;padding-bottom:.25rem}}
.lead{{font-size:1.1rem;margin-top:0}} .muted{{color:#5b6476;font-size:.9rem}}
table{{border-collapse:collapse;width:100%}} th,td{{text-align:left;vertical-align:top;padding:.4rem .5rem;border-bottom:1px solid #eceff4}}
.facts th{{width:14rem;color:#5b6476;font-weight:600}}
.events th{{background:#f5f6f8;font-size:.85rem}} .events td{{font-size:.92rem}}
.mono td,.hash{{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.78rem;word-break:break-all}}
dl{{margin:.25rem 0 0;display:grid;grid-template-columns:max-content 1fr;gap:.1rem .75rem}} dt{{color:#5b6476}} dd{{margin:0;word-break:break-word}}
pre{{white-space:pre-wrap;margin:0;font-family:inherit}}
@media print{{body{{background:#fff}} main{{box-shadow:none;margin:0;max-width:none;padding:0}} tr{{break-inside:avoid}}}}
</style></head>
<body><main>
{}
</main></body></html>"#,
        escape(title),
        body
    )
}

/// Prior consent: how the firm says the number was first collected, from each
/// `contact_created` event that carries it (what justified the one opt-in request).
fn collection_section(events: &[AuditEvent]) -> String {
    let mut html = String::from("<h2>How the number was collected</h2>");
    let captures: Vec<(usize, &str, &ConsentCapture)> = events
        .iter()
        .enumerate()
        .filter_map(|(i, event)| match &event.kind {
            AuditKind::ContactCreated {
                contact_id,
                consent_capture: Some(capture),
                ..
            } => Some((i, contact_id.as_str(), capture)),
            _ => None,
        })
        .collect();
    if captures.is_empty() {
        html.push_str(
            "<p>The firm's system did not say how or when the contact gave this number.</p>",
        );
        return html;
    }
    html.push_str(
        "<p class=\"muted\">As the firm's system reported it when it added the contact; it is \
         part of that event, so its fingerprint covers it.</p>",
    );
    for (index, contact_id, capture) in captures {
        let mut rows = vec![
            ("Recorded in event", format!("#{}", index + 1)),
            ("Contact id", contact_id.to_string()),
            ("How", method_words(capture.method).to_string()),
            ("When", when(capture.captured_at)),
        ];
        for (label, value) in [
            ("Consent wording shown", &capture.disclosure_text),
            ("Form address", &capture.form_url),
            ("Sent from address (IP)", &capture.ip),
            ("Browser", &capture.user_agent),
            ("Taken down by", &capture.captured_by),
        ] {
            if let Some(value) = value {
                rows.push((label, value.clone()));
            }
        }
        html.push_str("<table class=\"facts\">");
        for (label, value) in rows {
            html.push_str(&format!(
                "<tr><th>{}</th><td><pre>{}</pre></td></tr>",
                escape(label),
                escape(&value)
            ));
        }
        html.push_str("</table>");
    }
    html
}

fn events_table(events: &[AuditEvent], chain: &[AuditEvent]) -> String {
    if events.is_empty() {
        return "<p>No events.</p>".to_string();
    }
    let mut html = String::from(
        "<table class=\"events\"><tr><th>#</th><th>When (UTC)</th><th>What happened</th>\
         <th>Fingerprint</th></tr>",
    );
    for (i, event) in events.iter().enumerate() {
        let (what, details) = describe(event, chain);
        let mut cell = format!("<strong>{}</strong>", escape(&what));
        if !details.is_empty() {
            cell.push_str("<dl>");
            for (label, value) in details {
                cell.push_str(&format!(
                    "<dt>{}</dt><dd><pre>{}</pre></dd>",
                    escape(label),
                    escape(&value)
                ));
            }
            cell.push_str("</dl>");
        }
        html.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"hash\">{}<br><span class=\"muted\">event id {}</span></td></tr>",
            i + 1,
            escape(&when(event.at)),
            cell,
            escape(event.hash.as_deref().unwrap_or("(none)")),
            escape(&event.id),
        ));
    }
    html.push_str("</table>");
    html
}

/// An event in words: a headline and the evidence it carries.
fn describe(event: &AuditEvent, chain: &[AuditEvent]) -> (String, Vec<(&'static str, String)>) {
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
        } => {
            let mut details = vec![
                ("Contact id", contact_id.clone()),
                ("Source", opt(source)),
                ("Email", opt(email)),
                ("Double opt-in", yes_no(*double_opt_in)),
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
        } => (
            "Opt-in request sent by email".to_string(),
            vec![
                ("To", to.clone()),
                ("Subject", subject.clone()),
                ("Text", text.clone()),
                ("Email provider's message id", provider_message_id.clone()),
            ],
        ),
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
                ("Their text", text.clone()),
                ("Read as", words(classification)),
                ("Effect", note_words(*note).to_string()),
                ("Carrier's message id", inbound_message_id.clone()),
                ("Received by the carrier", when(*received_at)),
            ],
        ),
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
                ("Message", body.clone()),
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
                ("Message", body.clone()),
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
                ("Message", body.clone()),
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
        AuditKind::TemplateChanged { name, reset, actor } => (
            "The firm changed a message template".to_string(),
            [
                ("Template", name.clone()),
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

fn position_of(event_id: &str, chain: &[AuditEvent]) -> String {
    match chain.iter().position(|e| e.id == event_id) {
        Some(i) => format!("#{} ({event_id})", i + 1),
        None => event_id.to_string(),
    }
}

fn when(at: DateTime<Utc>) -> String {
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

fn status_words(status: ConsentStatus) -> &'static str {
    match status {
        ConsentStatus::Pending => "Pending (asked, no answer yet)",
        ConsentStatus::OptedIn => "Opted in",
        ConsentStatus::OptedOut => "Opted out",
    }
}

fn basis_words(basis: ConsentBasis) -> &'static str {
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

fn method_words(method: CaptureMethod) -> &'static str {
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
