//! The local-only routes: play the carrier, read the outbox, move the clock, the page's forms,
//! and the local server's OpenAPI document.

use axum::Form;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use consent::adapters::memory::OutboxContents;
use consent::flows::inbound::InboundOutcome;
use consent::flows::onboarding::NewContact;
use consent::ports::Clock;
use consent_http::openapi::{ErrorBody, JsonBodyRejections, Unavailable};
use consent_http::{ApiError, ApiJson};
use inbound_sms::TwoWaySms;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::{DEMO_FIRM_ID, DEMO_SMS_NUMBER, Local};

/// What `router` serves, as (method, path), beside the HTTP functions' routes.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/"),
    ("GET", "/health"),
    ("GET", "/openapi.json"),
    ("POST", "/dev/inbound-sms"),
    ("GET", "/dev/outbox"),
    ("POST", "/dev/clock"),
    ("GET", "/dev/clock"),
    ("POST", "/dev/ui/contact"),
    ("POST", "/dev/ui/reply"),
];

/// The local-only routes, each registered with its documentation.
fn routes() -> OpenApiRouter<Local> {
    OpenApiRouter::new()
        .routes(routes!(crate::home::home))
        .routes(routes!(health))
        .routes(routes!(crate::openapi::get_local_openapi))
        .routes(routes!(inbound))
        .routes(routes!(outbox))
        .routes(routes!(set_clock, get_clock))
        .routes(routes!(ui_contact))
        .routes(routes!(ui_reply))
}

/// The `/dev` routes, `/`, `/health` and `/openapi.json`.
pub fn router(local: Local) -> axum::Router {
    let (router, _) = routes().split_for_parts();
    router.layer(consent_http::body_limit()).with_state(local)
}

/// The OpenAPI operations of [`router`] and the schemas they use.
pub fn operations() -> utoipa::openapi::OpenApi {
    routes().into_openapi()
}

/// Whether the server is up.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`.
    status: String,
}

/// Answers while the server runs.
#[utoipa::path(
    get,
    path = "/health",
    tag = "local server",
    operation_id = "health",
    responses((status = 200, description = "Up.", body = Health))
)]
async fn health() -> axum::Json<Health> {
    axum::Json(Health {
        status: "ok".to_string(),
    })
}

/// `POST /dev/inbound-sms`: the two-way payload, with an optional receive time.
#[derive(Debug, Deserialize, ToSchema)]
struct InboundBody {
    #[serde(flatten)]
    sms: TwoWaySms,
    /// When the carrier received it (now when absent): an older text is recorded but does not
    /// override a newer one.
    #[serde(default)]
    timestamp: Option<DateTime<Utc>>,
}

/// A text from a contact, as the carrier would deliver it (the SNS payload, unwrapped).
#[utoipa::path(
    post,
    path = "/dev/inbound-sms",
    tag = "local server",
    operation_id = "devInboundSms",
    request_body = InboundBody,
    responses(
        (status = 200, description = "What the text did.", body = InboundOutcome),
        (status = 422, description = "`inbound_rejected` (no firm sends from \\
            `destinationNumber`, a number that is not one, a bad message id) or \\
            `invalid_request`.", body = ErrorBody),
        (status = 502, description = "`provider_unavailable`: a reply was refused for good.",
            body = ErrorBody),
        JsonBodyRejections,
        Unavailable,
    )
)]
async fn inbound(
    State(local): State<Local>,
    ApiJson(body): ApiJson<InboundBody>,
) -> Result<axum::Json<InboundOutcome>, ApiError> {
    let received_at = body.timestamp.unwrap_or_else(|| local.clock.now());
    match inbound_sms::receive(&local.services, body.sms, received_at).await {
        Ok(outcome) => Ok(axum::Json(outcome)),
        Err(consent::flows::inbound::InboundError::Rejected(reason)) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "inbound_rejected",
            reason.to_string(),
        )),
        Err(consent::flows::inbound::InboundError::Flow(e)) => Err(e.into()),
    }
}

/// What was sent, or why it cannot be read.
pub(crate) fn sent(local: &Local) -> Result<OutboxContents, ApiError> {
    local
        .outbox
        .contents()
        .map_err(|e| ApiError::from(consent::flows::FlowError::Store(e)))
}

/// Every SMS and email the service sent, oldest first.
#[utoipa::path(
    get,
    path = "/dev/outbox",
    tag = "local server",
    operation_id = "devOutbox",
    responses(
        (status = 200, description = "The outbox.", body = OutboxContents),
        Unavailable,
    )
)]
async fn outbox(State(local): State<Local>) -> Result<axum::Json<OutboxContents>, ApiError> {
    Ok(axum::Json(sent(&local)?))
}

/// `POST /dev/clock`: the time to set, or `null` for real time.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"now": "2025-03-04T15:00:00Z"}))]
struct ClockBody {
    /// The time the clock jumps to and runs on from; `null` returns to real time.
    now: Option<DateTime<Utc>>,
}

/// The service's clock.
#[derive(Debug, Serialize, ToSchema)]
struct ClockView {
    /// What the service takes for now.
    now: DateTime<Utc>,
}

/// Sets the clock (kept across restarts) and releases what became due.
#[utoipa::path(
    post,
    path = "/dev/clock",
    tag = "local server",
    operation_id = "devSetClock",
    request_body = ClockBody,
    responses(
        (status = 200, description = "The clock as set.", body = ClockView),
        (status = 422, description = "`invalid_request`: `now` missing or not an RFC 3339 time.",
            body = ErrorBody),
        JsonBodyRejections,
        Unavailable,
    )
)]
async fn set_clock(
    State(local): State<Local>,
    ApiJson(body): ApiJson<ClockBody>,
) -> Result<axum::Json<ClockView>, ApiError> {
    local
        .set_clock(body.now)
        .await
        .map_err(|e| ApiError::from(consent::flows::FlowError::Store(e)))?;
    // Moving time may make deferred sends due: release them now rather than on the next tick.
    local.services.release_due().await?;
    Ok(axum::Json(ClockView {
        now: local.clock.now(),
    }))
}

/// What the service takes for now.
#[utoipa::path(
    get,
    path = "/dev/clock",
    tag = "local server",
    operation_id = "devGetClock",
    responses((status = 200, description = "The clock.", body = ClockView))
)]
async fn get_clock(State(local): State<Local>) -> axum::Json<ClockView> {
    axum::Json(ClockView {
        now: local.clock.now(),
    })
}

/// A form body, or our error for one the service cannot read.
fn form<T>(form: Result<Form<T>, FormRejection>) -> Result<T, ApiError> {
    match form {
        Ok(Form(value)) => Ok(value),
        Err(FormRejection::InvalidFormContentType(_)) => Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the form as application/x-www-form-urlencoded",
        )),
        Err(rejection) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
            rejection.body_text(),
        )),
    }
}

/// The page's "create a contact" form.
#[derive(Debug, Deserialize, ToSchema)]
struct ContactForm {
    /// The CRM's id for the contact.
    contact_id: String,
    /// The contact's number.
    phone: String,
    /// Where the opt-in email goes (none when empty).
    #[serde(default)]
    email: String,
    /// The contact's first name.
    #[serde(default)]
    first_name: String,
}

/// The page's "create a contact" form: a contact of the demo firm, then back to the page.
#[utoipa::path(
    post,
    path = "/dev/ui/contact",
    tag = "local server",
    operation_id = "devUiContact",
    request_body(content = ContactForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Created: back to the page.",
            headers(("Location" = String, description = "`/`"))),
        (status = 404, description = "`firm_not_found`: the server runs without `--demo`.",
            body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: not a form.", body = ErrorBody),
        (status = 422, description = "`invalid_phone`, `invalid_request` or another field's \\
            code.", body = ErrorBody),
        (status = 502, description = "`provider_unavailable`.", body = ErrorBody),
        Unavailable,
    )
)]
async fn ui_contact(
    State(local): State<Local>,
    body: Result<Form<ContactForm>, FormRejection>,
) -> Result<Response, ApiError> {
    let form = form(body)?;
    local
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
        .await?;
    Ok(Redirect::to("/").into_response())
}

/// The page's "reply as the contact" form.
#[derive(Debug, Deserialize, ToSchema)]
struct ReplyForm {
    /// The contact's number.
    from: String,
    /// The text.
    body: String,
}

/// The page's "reply as the contact" form: a text to the demo firm, then back to the page.
#[utoipa::path(
    post,
    path = "/dev/ui/reply",
    tag = "local server",
    operation_id = "devUiReply",
    request_body(content = ReplyForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Received: back to the page.",
            headers(("Location" = String, description = "`/`"))),
        (status = 415, description = "`unsupported_media_type`: not a form.", body = ErrorBody),
        (status = 422, description = "`inbound_rejected` or `invalid_request`.", body = ErrorBody),
        (status = 502, description = "`provider_unavailable`.", body = ErrorBody),
        Unavailable,
    )
)]
async fn ui_reply(
    State(local): State<Local>,
    body: Result<Form<ReplyForm>, FormRejection>,
) -> Result<Response, ApiError> {
    let form = form(body)?;
    let sms = TwoWaySms {
        origination_number: form.from,
        destination_number: DEMO_SMS_NUMBER.to_string(),
        message_keyword: None,
        message_body: form.body,
        inbound_message_id: format!("local-{}", ulid::Ulid::new()),
        previous_published_message_id: None,
    };
    match inbound_sms::receive(&local.services, sms, local.clock.now()).await {
        Ok(_) => Ok(Redirect::to("/").into_response()),
        Err(consent::flows::inbound::InboundError::Rejected(reason)) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "inbound_rejected",
            reason.to_string(),
        )),
        Err(consent::flows::inbound::InboundError::Flow(e)) => Err(e.into()),
    }
}
