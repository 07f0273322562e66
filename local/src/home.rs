//! `GET /`: a page that ties the dev routes together for a person trying the service: forms to
//! create a contact and to reply as one, the latest feed events, and the outbox.

use axum::extract::State;
use axum::response::Html;
use consent::ports::Clock;
use consent_http::{ApiError, escape};

use crate::dev::sent;
use crate::{DEMO_FIRM_ID, DEMO_SMS_NUMBER, Local};

/// The local server's page.
#[utoipa::path(
    get,
    path = "/",
    tag = "local server",
    operation_id = "localHome",
    responses(
        (status = 200, description = "The page: forms to create a contact and reply as one, the \\
            latest feed events, the SMS and email outbox.", body = String,
            content_type = "text/html"),
        consent_http::openapi::Unavailable,
    )
)]
pub async fn home(State(local): State<Local>) -> Result<Html<String>, ApiError> {
    let contents = sent(&local)?;
    let sms_rows: String = contents
        .sms
        .iter()
        .rev()
        .map(|s| {
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&s.sent_at.format("%Y-%m-%d %H:%M:%S").to_string()),
                escape(&s.to),
                escape(&s.body)
            )
        })
        .collect();
    let email_rows: String = contents
        .email
        .iter()
        .rev()
        .map(|e| {
            let link = e
                .text
                .split_whitespace()
                .find(|w| w.contains("/confirm/"))
                .unwrap_or_default();
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td><a href=\"{}\">confirmation link</a></td></tr>",
                escape(&e.sent_at.format("%Y-%m-%d %H:%M:%S").to_string()),
                escape(&e.to),
                escape(&e.subject),
                escape(link)
            )
        })
        .collect();
    let events = local
        .latest_events(DEMO_FIRM_ID, LATEST_EVENTS)
        .map_err(|e| ApiError::from(consent::flows::FlowError::Store(e)))?;
    let event_rows: String = events.iter().map(event_row).collect();
    Ok(Html(format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Consent service (local)</title>
<style>body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1d2330}}
table{{border-collapse:collapse;width:100%}}td,th{{border-bottom:1px solid #ddd;padding:.4rem;text-align:left;vertical-align:top}}
form{{display:flex;gap:.5rem;flex-wrap:wrap;margin:.5rem 0 1.5rem}}input{{padding:.4rem}}</style></head><body>
<h1>SMS consent service — local</h1>
<p>Clock: {now} · demo firm <code>{firm}</code> texts from <code>{number}</code>.</p>
<h2>Create a contact</h2>
<form method="post" action="/dev/ui/contact">
<input name="contact_id" placeholder="contact id" required><input name="phone" placeholder="phone, e.g. (415) 555-0134" required>
<input name="email" placeholder="email (optional)"><input name="first_name" placeholder="first name (optional)"><button>Create</button></form>
<h2>Reply as the contact</h2>
<form method="post" action="/dev/ui/reply">
<input name="from" placeholder="contact's phone" required><input name="body" placeholder="YES, STOP, HELP, ..." required><button>Send reply</button></form>
<h2>Latest events for the CRM</h2><p>The newest {latest} of <code>GET /v1/firms/{firm}/events</code>.</p>
<table><tr><th>when</th><th>number</th><th>event</th><th>contacts</th></tr>{event_rows}</table>
<h2>SMS outbox</h2><table><tr><th>sent</th><th>to</th><th>text</th></tr>{sms_rows}</table>
<h2>Email outbox</h2><table><tr><th>sent</th><th>to</th><th>subject</th><th></th></tr>{email_rows}</table>
</body></html>"#,
        now = escape(&local.clock.now().to_rfc3339()),
        firm = DEMO_FIRM_ID,
        number = DEMO_SMS_NUMBER,
        latest = LATEST_EVENTS,
    )))
}

/// Feed events the page shows.
const LATEST_EVENTS: usize = 20;

/// One feed event as a row of the page.
fn event_row(event: &consent::model::feed::FeedEvent) -> String {
    use consent::model::feed::FeedChange;
    let what = match &event.change {
        FeedChange::ConsentChanged {
            status,
            previous_status,
            channel,
            ..
        } => format!(
            "{} → {} ({})",
            previous_status.map_or("new", |s| s.as_str()),
            status.as_str(),
            serde_json::to_value(channel)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        ),
        FeedChange::ReplyReceived { text, .. } => format!("replied “{text}”"),
    };
    format!(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        escape(&event.occurred_at.format("%Y-%m-%d %H:%M:%S").to_string()),
        escape(event.phone.as_str()),
        escape(&what),
        escape(&event.contact_ids.join(", "))
    )
}
