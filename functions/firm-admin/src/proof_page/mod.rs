//! The proof document as a printable page for people: the same content as the signed JSON,
//! in words, with every value escaped.

use axum::http::StatusCode;
use consent::evidence::audit::{AuditEvent, AuditKind};
use consent::evidence::proof::ProofDocument;
use consent::evidence::shown::ShownTexts;
use consent::model::consent_capture::ConsentCapture;
use consent_http::{Page, escape};

mod event_words;

use event_words::{basis_words, describe, method_words, status_words, when};

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
    body.push_str(&format!(
        "<p class=\"muted\">{}</p>",
        escape(COMMITMENTS_IN_TWO_SENTENCES)
    ));
    body.push_str(&events_table(&proof.events, &proof.events, proof.texts));
    if !proof.unchained_events.is_empty() {
        body.push_str(
            "<h2>Recorded before this number had a consent record</h2>\
             <p class=\"muted\">These events (for example a message blocked because the number \
             was unknown) happened before any consent record existed, so they are not linked \
             into the chain above; each still carries a fingerprint of its content, and the \
             document's signature covers them.</p>",
        );
        body.push_str(&events_table(
            &proof.unchained_events,
            &proof.events,
            proof.texts,
        ));
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

/// What a carrier reading the page needs to know about the texts it does not show.
pub const COMMITMENTS_IN_TWO_SENTENCES: &str = "Consent messages (the opt-in request, \
     confirmations, HELP replies and the replies that changed consent) are shown in full; \
     every other text (the firm's own messages, replies that changed nothing) is shown as a \
     commitment: the SHA-256 of the text with a random salt only the firm holds, and its \
     length in bytes. The fingerprints cover the commitment, so this document verifies \
     without the text, and a text the firm discloses with its salt can be checked against it \
     by anyone (consent-proof verify --disclose TEXT --salt SALT).";

/// The commitment of an event's privileged text, its salt in the firm's copy, or a note that
/// the text was recorded before commitments and so stands in full.
fn commitment_rows(event: &AuditEvent, texts: ShownTexts) -> Vec<(&'static str, String)> {
    match (event.committed_text(), &event.salt) {
        (Some((_, commitment)), Some(salt)) => {
            let mut rows = vec![
                ("Commitment (SHA-256)", commitment.commitment),
                (
                    "Text length",
                    format!("{} bytes (UTF-8)", commitment.length),
                ),
            ];
            if texts == ShownTexts::Included {
                rows.push(("Salt (the firm's copy)", salt.to_hex()));
            }
            rows
        }
        _ if event.kind.private_text().is_some() => vec![(
            "Note",
            "Recorded before texts were kept as commitments: shown in full, as its \
             fingerprint covers it."
                .to_string(),
        )],
        _ => Vec::new(),
    }
}

fn events_table(events: &[AuditEvent], chain: &[AuditEvent], texts: ShownTexts) -> String {
    if events.is_empty() {
        return "<p>No events.</p>".to_string();
    }
    let mut html = String::from(
        "<table class=\"events\"><tr><th>#</th><th>When (UTC)</th><th>What happened</th>\
         <th>Fingerprint</th></tr>",
    );
    for (i, event) in events.iter().enumerate() {
        let (what, mut details) = describe(event, chain, texts);
        details.extend(commitment_rows(event, texts));
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
