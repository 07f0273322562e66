//! Where the firm's numbers stand: a contact, a number's record and trail, a revocation staff
//! record, the export of every record, and the feed of changes.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use consent::evidence::shown::event_json;
use consent::flows::Services;
use consent::flows::export::{ExportPage, ExportQuery};
use consent::flows::feed::FeedPage;
use consent::flows::staff_opt_out::StaffOptOut;
use consent::model::record::{ConsentBasis, ConsentStatus, StaffChannel};
use consent_http::openapi::{ErrorBody, FirmPath, JsonBodyRejections, Unavailable};
use consent_http::{Actor, ApiError, ApiJson, ApiPath};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::params::{ContactPath, ExportQueryParams, FeedQuery, IncludeQuery, PhonePath};
use crate::query::{QueryParams, params, shown_texts};

/// A contact as the API shows it: the CRM's id, its number, and where that number stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactRecordView {
    /// The CRM's id.
    contact_id: String,
    /// The contact's number, E.164.
    phone: String,
    /// Where the number stands (absent only if its record was never written).
    consent: Option<ContactConsentView>,
}

/// The consent part of [`ContactRecordView`].
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactConsentView {
    /// The number's status.
    status: ConsentStatus,
    /// What the status rests on.
    basis: ConsentBasis,
    /// When the status last changed.
    updated_at: DateTime<Utc>,
}

/// A contact and where its number stands.
#[utoipa::path(
    get,
    path = "/v1/firms/{firm_id}/contacts/{contact_id}",
    tag = "consents",
    operation_id = "getContact",
    params(ContactPath),
    responses(
        (status = 200, description = "The contact.", body = ContactRecordView),
        (status = 404, description = "`firm_not_found` or `contact_not_found`.",
            body = ErrorBody),
        Unavailable,
    )
)]
pub async fn get_contact(
    State(services): State<Services>,
    ApiPath((firm_id, contact_id)): ApiPath<(String, String)>,
) -> Result<axum::Json<ContactRecordView>, ApiError> {
    let view = services.contact(&firm_id, &contact_id).await?;
    Ok(axum::Json(ContactRecordView {
        contact_id: view.contact.contact_id,
        phone: view.contact.phone.to_string(),
        consent: view.record.map(|record| ContactConsentView {
            status: record.status,
            basis: record.basis,
            updated_at: record.status_changed_at,
        }),
    }))
}

/// A revocation the firm's staff record, as the CRM sends it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"channel": "phone_call", "recorded_by": "Maria at the front desk",
    "note": "Client called and asked us to stop texting.", "occurred_at": "2025-03-04T15:30:00Z"}))]
pub struct StaffOptOutBody {
    /// How the contact told the firm; another value is 422 `invalid_channel`.
    #[schema(value_type = StaffChannel)]
    channel: String,
    /// Who at the firm took it.
    recorded_by: String,
    /// What was said.
    #[serde(default)]
    note: Option<String>,
    /// When the contact said it (now when absent).
    #[serde(default)]
    occurred_at: Option<DateTime<Utc>>,
    /// Send the one opt-out confirmation SMS (default false).
    #[serde(default)]
    send_confirmation: bool,
}

/// A number's status after a staff-recorded revocation.
#[derive(Debug, Serialize, ToSchema)]
pub struct OptOutView {
    /// The number, E.164.
    #[schema(value_type = String)]
    phone: consent::model::phone::PhoneNumber,
    /// `opted_out`.
    status: ConsentStatus,
    /// `staff_recorded` (or what an earlier opt-out rests on).
    basis: ConsentBasis,
}

/// Records a revocation the contact made to the firm's staff (by phone, email, in person):
/// any reasonable means revokes, also for a number the service never had.
#[utoipa::path(
    post,
    path = "/v1/firms/{firm_id}/consents/{phone}/opt-out",
    tag = "consents",
    operation_id = "recordStaffOptOut",
    params(PhonePath),
    request_body = StaffOptOutBody,
    responses(
        (status = 200, description = "Opted out.", body = OptOutView,
            example = json!({"phone": "+14155550134", "status": "opted_out", "basis": "staff_recorded"})),
        (status = 404, description = "`firm_not_found`.", body = ErrorBody),
        (status = 422, description = "`invalid_channel`, `invalid_phone` or `invalid_request` \\
            (a missing or unknown field).", body = ErrorBody),
        (status = 502, description = "`provider_unavailable`: the confirmation SMS was refused \\
            for good.", body = ErrorBody),
        JsonBodyRejections,
        Unavailable,
    )
)]
pub async fn record_opt_out(
    State(services): State<Services>,
    Actor(actor): Actor,
    ApiPath((firm_id, phone)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<StaffOptOutBody>,
) -> Result<axum::Json<OptOutView>, ApiError> {
    let services = services.acting_as(actor);
    let channel = StaffChannel::parse(&body.channel).ok_or_else(|| {
        let names: Vec<&str> = StaffChannel::ALL.iter().map(|c| c.as_str()).collect();
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_channel",
            format!("channel: must be one of {}", names.join(", ")),
        )
    })?;
    let record = services
        .record_staff_opt_out(
            &firm_id,
            &phone,
            StaffOptOut {
                channel,
                recorded_by: body.recorded_by,
                note: body.note,
                occurred_at: body.occurred_at,
                send_confirmation: body.send_confirmation,
            },
        )
        .await?;
    Ok(axum::Json(OptOutView {
        phone: record.phone,
        status: record.status,
        basis: record.basis,
    }))
}

/// A consent record as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsentRecordView {
    /// The number, E.164.
    phone: String,
    /// Its status.
    status: ConsentStatus,
    /// What the status rests on.
    basis: ConsentBasis,
    /// When the status last changed.
    updated_at: DateTime<Utc>,
    /// The trail, oldest first, privileged texts as commitments unless `?include=texts`
    /// (docs/proof-format.md describes an event).
    #[schema(value_type = Vec<Object>)]
    events: Vec<serde_json::Value>,
}

/// A number's consent record and its trail.
#[utoipa::path(
    get,
    path = "/v1/firms/{firm_id}/consents/{phone}",
    tag = "consents",
    operation_id = "getConsent",
    params(PhonePath, IncludeQuery),
    responses(
        (status = 200, description = "The record.", body = ConsentRecordView),
        (status = 404, description = "`firm_not_found` or `consent_not_found`.",
            body = ErrorBody),
        (status = 422, description = "`invalid_phone`, `invalid_include` or `invalid_request`.",
            body = ErrorBody),
        Unavailable,
    )
)]
pub async fn get_consent(
    State(services): State<Services>,
    ApiPath((firm_id, phone)): ApiPath<(String, String)>,
    query: QueryParams,
) -> Result<axum::Json<ConsentRecordView>, ApiError> {
    let texts = shown_texts(&params(query)?)?;
    let view = services.consent(&firm_id, &phone).await?;
    Ok(axum::Json(ConsentRecordView {
        phone: view.record.phone.to_string(),
        status: view.record.status,
        basis: view.record.basis,
        updated_at: view.record.status_changed_at,
        events: view.events.iter().map(|e| event_json(e, texts)).collect(),
    }))
}

/// The firm's feed after a cursor: every consent change and every reply that changed nothing,
/// oldest first.
#[utoipa::path(
    get,
    path = "/v1/firms/{firm_id}/events",
    tag = "events",
    operation_id = "listEvents",
    params(FirmPath, FeedQuery),
    responses(
        (status = 200, description = "The events after `after`; poll again with \\
            `after=<next_cursor>`.", body = FeedPage,
            example = json!({"events": [{"id": "01J8ZQ4W5N3M2K1H0G9F8E7D6C", "firm_id": "demo",
                "occurred_at": "2025-03-04T15:30:00Z", "phone": "+14155550134",
                "contact_ids": ["crm-1001"], "type": "consent.changed",
                "data": {"status": "opted_in", "previous_status": "pending",
                    "basis": "sms_reply", "channel": "sms"}}],
                "next_cursor": "01J8ZQ4W5N3M2K1H0G9F8E7D6C"})),
        (status = 404, description = "`firm_not_found`.", body = ErrorBody),
        (status = 422, description = "`invalid_cursor` or `invalid_request` (`limit` out of \\
            range).", body = ErrorBody),
        Unavailable,
    )
)]
pub async fn get_events(
    State(services): State<Services>,
    ApiPath(firm_id): ApiPath<String>,
    query: QueryParams,
) -> Result<axum::Json<FeedPage>, ApiError> {
    let params = params(query)?;
    let page = services
        .feed(
            &firm_id,
            params.get("after").map(String::as_str),
            params.get("limit").map(String::as_str),
        )
        .await?;
    Ok(axum::Json(page))
}

/// A page of every number's record, as JSON or (`Accept: text/csv`) CSV.
#[utoipa::path(
    get,
    path = "/v1/firms/{firm_id}/consents",
    tag = "consents",
    operation_id = "exportConsents",
    params(FirmPath, ExportQueryParams,
        ("Accept" = Option<String>, Header, description = "`text/csv` for CSV with a header row \\
            (the next page's cursor in `X-Next-Cursor`); JSON otherwise.")),
    responses(
        (status = 200, description = "A page of records, ordered by status, then number.",
            content((ExportPage = "application/json"), (String = "text/csv")),
            headers(("X-Next-Cursor" = String, description = "CSV only: the next page's cursor."))),
        (status = 404, description = "`firm_not_found`.", body = ErrorBody),
        (status = 422, description = "`invalid_request`: a bad `status`, `limit` or `cursor`.",
            body = ErrorBody),
        Unavailable,
    )
)]
pub async fn export_consents(
    State(services): State<Services>,
    ApiPath(firm_id): ApiPath<String>,
    headers: HeaderMap,
    query: QueryParams,
) -> Result<Response, ApiError> {
    let mut params = params(query)?;
    let query = ExportQuery {
        status: params.remove("status"),
        limit: params.remove("limit"),
        cursor: params.remove("cursor"),
    };
    let page = services.export_consents(&firm_id, &query).await?;
    let wants_csv = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.to_ascii_lowercase().contains("text/csv"));
    if wants_csv {
        return Ok(csv_response(page));
    }
    Ok(axum::Json(page).into_response())
}

/// The page as CSV with a header row; the next page's cursor goes in `X-Next-Cursor`.
fn csv_response(page: ExportPage) -> Response {
    let mut csv = String::from("phone,status,basis,since\r\n");
    for row in &page.consents {
        let basis = serde_json::to_value(row.basis)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let since = row
            .since
            .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
        let fields = [row.phone.as_str(), row.status.as_str(), &basis, &since];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        csv.push_str(&line.join(","));
        csv.push_str("\r\n");
    }
    let mut response = (StatusCode::OK, csv).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Some(cursor) = page
        .next_cursor
        .and_then(|c| HeaderValue::from_str(&c).ok())
    {
        headers.insert("x-next-cursor", cursor);
    }
    response
}

/// A CSV field (RFC 4180): quoted when it holds a comma, quote or line break.
fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_string()
    }
}
