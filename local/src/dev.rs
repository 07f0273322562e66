//! The local-only routes: play the carrier, read the outbox, move the clock, and a page that
//! ties them together for a person trying the service.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::{DateTime, Utc};
use consent::flows::onboarding::NewContact;
use consent::ports::Clock;
use consent_http::{ApiError, ApiJson, escape};
use inbound_sms::TwoWaySms;
use serde::Deserialize;
use serde_json::json;

use crate::{DEMO_FIRM_ID, DEMO_SMS_NUMBER, Local};

/// The `/dev` routes, `/` and `/health`.
pub fn router(local: Local) -> axum::Router {
    Router::new()
        .route("/", get(home))
        .route(
            "/health",
            get(|| async { axum::Json(json!({ "status": "ok" })) }),
        )
        .route("/dev/inbound-sms", post(inbound))
        .route("/dev/outbox", get(outbox))
        .route("/dev/clock", post(set_clock).get(get_clock))
        .route("/dev/ui/contact", post(ui_contact))
        .route("/dev/ui/reply", post(ui_reply))
        .layer(consent_http::body_limit())
        .with_state(local)
}

/// `POST /dev/inbound-sms`: the two-way payload, with an optional receive time.
#[derive(Debug, Deserialize)]
struct InboundBody {
    #[serde(flatten)]
    sms: TwoWaySms,
    #[serde(default)]
    timestamp: Option<DateTime<Utc>>,
}

async fn inbound(
    State(local): State<Local>,
    ApiJson(body): ApiJson<InboundBody>,
) -> Result<Response, ApiError> {
    let received_at = body.timestamp.unwrap_or_else(|| local.clock.now());
    match inbound_sms::receive(&local.services, body.sms, received_at).await {
        Ok(outcome) => Ok(axum::Json(json!(outcome)).into_response()),
        Err(consent::flows::inbound::InboundError::Rejected(reason)) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "inbound_rejected",
            reason.to_string(),
        )),
        Err(consent::flows::inbound::InboundError::Flow(e)) => Err(e.into()),
    }
}

/// What was sent, or why it cannot be read.
fn sent(local: &Local) -> Result<consent::adapters::memory::OutboxContents, ApiError> {
    local
        .outbox
        .contents()
        .map_err(|e| ApiError::from(consent::flows::FlowError::Store(e)))
}

async fn outbox(State(local): State<Local>) -> Result<axum::Json<serde_json::Value>, ApiError> {
    let contents = sent(&local)?;
    Ok(axum::Json(json!({
        "sms": contents.sms,
        "email": contents.email.iter().map(|e| json!({
            "to": e.to, "subject": e.subject, "text": e.text, "html": e.html,
            "message_id": e.message_id, "sent_at": e.sent_at,
        })).collect::<Vec<_>>(),
    })))
}

#[derive(Debug, Deserialize)]
struct ClockBody {
    now: Option<DateTime<Utc>>,
}

async fn set_clock(
    State(local): State<Local>,
    ApiJson(body): ApiJson<ClockBody>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    local
        .set_clock(body.now)
        .await
        .map_err(|e| ApiError::from(consent::flows::FlowError::Store(e)))?;
    // Moving time may make deferred sends due: release them now rather than on the next tick.
    local.services.release_due().await?;
    Ok(axum::Json(json!({ "now": local.clock.now() })))
}

async fn get_clock(State(local): State<Local>) -> axum::Json<serde_json::Value> {
    axum::Json(json!({ "now": local.clock.now() }))
}

#[derive(Debug, Deserialize)]
struct ContactForm {
    contact_id: String,
    phone: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    first_name: String,
}

async fn ui_contact(State(local): State<Local>, Form(form): Form<ContactForm>) -> Response {
    let result = local
        .services
        .create_contact(
            DEMO_FIRM_ID,
            NewContact {
                contact_id: form.contact_id,
                phone: form.phone,
                email: Some(form.email).filter(|e| !e.trim().is_empty()),
                first_name: Some(form.first_name).filter(|n| !n.trim().is_empty()),
                source: Some("local page".to_string()),
                ..NewContact::default()
            },
        )
        .await;
    match result {
        Ok(_) => Redirect::to("/").into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

#[derive(Debug, Deserialize)]
struct ReplyForm {
    from: String,
    body: String,
}

async fn ui_reply(State(local): State<Local>, Form(form): Form<ReplyForm>) -> Response {
    let sms = TwoWaySms {
        origination_number: form.from,
        destination_number: DEMO_SMS_NUMBER.to_string(),
        message_keyword: None,
        message_body: form.body,
        inbound_message_id: format!("local-{}", ulid::Ulid::new()),
        previous_published_message_id: None,
    };
    match inbound_sms::receive(&local.services, sms, local.clock.now()).await {
        Ok(_) => Redirect::to("/").into_response(),
        Err(e) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "inbound_rejected",
            e.to_string(),
        )
        .into_response(),
    }
}

async fn home(State(local): State<Local>) -> Result<Html<String>, ApiError> {
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
