//! A firm's registration and its double opt-in switch.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use consent::flows::Services;
use consent::flows::admin::FirmSettings;
use consent::model::caps::SendLimits;
use consent::model::firm::{DoubleOptInChange, Firm, SendHours};
use consent_http::openapi::{ErrorBody, FirmPath, JsonBodyRejections, Unavailable};
use consent_http::{Actor, ApiError, ApiJson, ApiPath};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Body of `PUT /v1/firms/{firm_id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({
    "name": "Ruiz & Park LLP", "sms_number": "+12025550100",
    "support_email": "help@ruizpark.example", "support_phone": "(202) 555-0199",
    "website": "https://ruizpark.example", "privacy_url": "https://ruizpark.example/privacy",
    "terms_url": "https://ruizpark.example/sms-terms"
}))]
pub struct FirmBody {
    /// The business name every text carries.
    name: String,
    /// The number the firm texts from, E.164 (inbound replies route by it; one firm each).
    sms_number: String,
    /// Where contacts write for help (named in HELP replies).
    support_email: String,
    /// Where contacts call for help.
    support_phone: String,
    /// The firm's website.
    website: String,
    /// IANA time zone, for numbers outside North America.
    #[serde(default)]
    time_zone: Option<String>,
    /// A narrower sending window, local hours (may only narrow 8:00 to 21:00).
    #[serde(default)]
    send_window: Option<SendHours>,
    /// Marketing messages per number per 24 hours, 1 to 100.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 100)]
    frequency_cap: Option<u32>,
    /// Whether transactional messages are exempt from the cap.
    #[serde(default)]
    transactional_exempt: bool,
    /// The firm's privacy policy (https), linked from the confirmation page.
    #[serde(default)]
    privacy_url: Option<String>,
    /// The firm's messaging terms (https), linked from the confirmation page.
    #[serde(default)]
    terms_url: Option<String>,
    /// Whether every new contact must say how its number was collected (`consent_capture`).
    #[serde(default)]
    require_consent_capture: bool,
}

/// A firm as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct FirmView {
    /// The firm's id, as the CRM chose it.
    firm_id: String,
    /// The business name the texts carry.
    name: String,
    /// The number the firm texts from, E.164.
    sms_number: String,
    /// Where contacts write for help.
    support_email: String,
    /// Where contacts call for help.
    support_phone: String,
    /// The firm's website.
    website: String,
    /// IANA time zone, if set.
    time_zone: Option<String>,
    /// Whether a new number must confirm before it gets texts (on unless turned off with the
    /// risk acknowledged).
    double_opt_in: bool,
    /// Who last turned the switch, and when.
    double_opt_in_changed: Option<DoubleOptInChange>,
    /// The firm's narrower sending window, if set.
    send_window: Option<SendHours>,
    /// Marketing messages per number per 24 hours, if capped.
    frequency_cap: Option<u32>,
    /// Whether transactional messages are exempt from the cap.
    transactional_exempt: bool,
    /// The privacy policy linked from the confirmation page.
    privacy_url: Option<String>,
    /// The messaging terms linked from the confirmation page.
    terms_url: Option<String>,
    /// Whether new contacts must carry `consent_capture`.
    require_consent_capture: bool,
    /// When the firm was registered.
    created_at: DateTime<Utc>,
    /// When its settings last changed.
    updated_at: DateTime<Utc>,
}

impl From<Firm> for FirmView {
    fn from(firm: Firm) -> Self {
        Self {
            firm_id: firm.firm_id,
            name: firm.name,
            sms_number: firm.sms_number.to_string(),
            support_email: firm.support_email,
            support_phone: firm.support_phone,
            website: firm.website,
            time_zone: firm.time_zone,
            double_opt_in: firm.double_opt_in,
            double_opt_in_changed: firm.double_opt_in_changed,
            send_window: firm.send_window,
            frequency_cap: firm.limits.daily_cap,
            transactional_exempt: firm.limits.transactional_exempt,
            privacy_url: firm.privacy_url,
            terms_url: firm.terms_url,
            require_consent_capture: firm.require_consent_capture,
            created_at: firm.created_at,
            updated_at: firm.updated_at,
        }
    }
}

/// Registers a firm, or replaces its settings (templates and the double opt-in switch kept).
#[utoipa::path(
    put,
    path = "/v1/firms/{firm_id}",
    tag = "firms",
    operation_id = "putFirm",
    params(FirmPath),
    request_body = FirmBody,
    responses(
        (status = 201, description = "Registered.", body = FirmView),
        (status = 200, description = "Updated.", body = FirmView),
        (status = 404, description = "`not_found`: no such route (an empty `firm_id`).",
            body = ErrorBody),
        (status = 409, description = "`sms_number_in_use`: another firm texts from that number.",
            body = ErrorBody),
        (status = 422, description = "`invalid_phone` (`sms_number`) or `invalid_request` (a \\
            missing or bad field, an id, URL, time zone, window or cap out of range; named in \\
            `message`).", body = ErrorBody),
        JsonBodyRejections,
        Unavailable,
    )
)]
pub async fn put_firm(
    State(services): State<Services>,
    Actor(actor): Actor,
    ApiPath(firm_id): ApiPath<String>,
    ApiJson(body): ApiJson<FirmBody>,
) -> Result<Response, ApiError> {
    let services = services.acting_as(actor);
    let settings = FirmSettings {
        name: body.name,
        sms_number: body.sms_number,
        support_email: body.support_email,
        support_phone: body.support_phone,
        website: body.website,
        time_zone: body.time_zone,
        send_window: body.send_window,
        limits: SendLimits {
            daily_cap: body.frequency_cap,
            transactional_exempt: body.transactional_exempt,
        },
        privacy_url: body.privacy_url,
        terms_url: body.terms_url,
        require_consent_capture: body.require_consent_capture,
    };
    let (firm, created) = services.put_firm(&firm_id, settings).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(FirmView::from(firm))).into_response())
}

/// The firm, with its double opt-in switch.
#[utoipa::path(
    get,
    path = "/v1/firms/{firm_id}",
    tag = "firms",
    operation_id = "getFirm",
    params(FirmPath),
    responses(
        (status = 200, description = "The firm.", body = FirmView),
        (status = 404, description = "`firm_not_found`.", body = ErrorBody),
        Unavailable,
    )
)]
pub async fn get_firm(
    State(services): State<Services>,
    ApiPath(firm_id): ApiPath<String>,
) -> Result<axum::Json<FirmView>, ApiError> {
    Ok(axum::Json(services.firm(&firm_id).await?.into()))
}

/// Body of `PUT /v1/firms/{firm_id}/double-opt-in`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"enabled": false, "changed_by": "Dana Park, compliance", "acknowledge_risk": true}))]
pub struct DoubleOptInBody {
    /// On (the default) or off.
    enabled: bool,
    /// Who turns it (recorded in the firm's chain beside the authenticated caller).
    changed_by: String,
    /// Must be true to turn it off: numbers are then texted on the firm's word alone.
    #[serde(default)]
    acknowledge_risk: bool,
}

/// Turns double opt-in on or off; off needs the risk acknowledged, and is recorded.
#[utoipa::path(
    put,
    path = "/v1/firms/{firm_id}/double-opt-in",
    tag = "firms",
    operation_id = "putDoubleOptIn",
    params(FirmPath),
    request_body = DoubleOptInBody,
    responses(
        (status = 200, description = "The firm with its switch as set.", body = FirmView),
        (status = 404, description = "`firm_not_found`.", body = ErrorBody),
        (status = 422, description = "`risk_not_acknowledged` (off without \\
            `acknowledge_risk: true`) or `invalid_request`.", body = ErrorBody),
        JsonBodyRejections,
        Unavailable,
    )
)]
pub async fn put_double_opt_in(
    State(services): State<Services>,
    Actor(actor): Actor,
    ApiPath(firm_id): ApiPath<String>,
    ApiJson(body): ApiJson<DoubleOptInBody>,
) -> Result<axum::Json<FirmView>, ApiError> {
    let services = services.acting_as(actor);
    let firm = services
        .set_double_opt_in(
            &firm_id,
            body.enabled,
            &body.changed_by,
            body.acknowledge_risk,
        )
        .await?;
    Ok(axum::Json(firm.into()))
}
