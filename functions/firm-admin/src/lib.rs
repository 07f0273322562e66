//! firm-admin: firm registration, the double opt-in switch, templates, consent records, their
//! signed proofs and a firm's audit bundle of them, exports, and the firm's event feed.

pub mod proof_page;

use std::collections::HashMap;

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use chrono::{DateTime, Utc};
use consent::evidence::keys_used::KeysUsed;
use consent::evidence::shown::{ShownTexts, event_json};
use consent::flows::admin::FirmSettings;
use consent::flows::export::{ExportPage, ExportQuery};
use consent::flows::staff_opt_out::StaffOptOut;
use consent::flows::{FlowError, Services};
use consent::messages::templates::{Preview, TemplateOverride};
use consent::model::caps::SendLimits;
use consent::model::firm::{DoubleOptInChange, Firm, SendHours};
use consent::model::language::Language;
use consent::model::record::StaffChannel;
use consent_http::{Actor, ApiError, ApiJson};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The keys this function reads at cold start: the proof key, which signs proof documents.
pub const KEYS_USED: KeysUsed = KeysUsed::PROOFS;

/// What `router` serves, as (method, path): the SAM template must route exactly these here.
pub const ROUTES: &[(&str, &str)] = &[
    ("PUT", "/v1/firms/{firm_id}"),
    ("GET", "/v1/firms/{firm_id}"),
    ("PUT", "/v1/firms/{firm_id}/double-opt-in"),
    ("GET", "/v1/firms/{firm_id}/templates"),
    ("PUT", "/v1/firms/{firm_id}/templates/{name}"),
    ("DELETE", "/v1/firms/{firm_id}/templates/{name}"),
    ("GET", "/v1/firms/{firm_id}/contacts/{contact_id}"),
    ("GET", "/v1/firms/{firm_id}/events"),
    ("GET", "/v1/firms/{firm_id}/consents"),
    ("GET", "/v1/firms/{firm_id}/consents/{phone}"),
    ("GET", "/v1/firms/{firm_id}/consents/{phone}/proof"),
    ("POST", "/v1/firms/{firm_id}/consents/{phone}/opt-out"),
    ("GET", "/v1/firms/{firm_id}/proofs"),
    ("GET", "/v1/proof-key"),
];

/// The firm-admin routes.
pub fn router(services: Services) -> Router {
    Router::new()
        .route("/v1/firms/{firm_id}", put(put_firm).get(get_firm))
        .route("/v1/firms/{firm_id}/double-opt-in", put(put_double_opt_in))
        .route("/v1/firms/{firm_id}/templates", get(list_templates))
        .route(
            "/v1/firms/{firm_id}/templates/{name}",
            put(put_template).delete(delete_template),
        )
        .route(
            "/v1/firms/{firm_id}/contacts/{contact_id}",
            get(get_contact),
        )
        .route("/v1/firms/{firm_id}/events", get(get_events))
        .route("/v1/firms/{firm_id}/consents", get(export_consents))
        .route("/v1/firms/{firm_id}/consents/{phone}", get(get_consent))
        .route("/v1/firms/{firm_id}/consents/{phone}/proof", get(get_proof))
        .route(
            "/v1/firms/{firm_id}/consents/{phone}/opt-out",
            post(record_opt_out),
        )
        .route("/v1/firms/{firm_id}/proofs", get(get_audit_bundle))
        .route("/v1/proof-key", get(get_proof_key))
        .layer(consent_http::body_limit())
        .with_state(services)
}

/// Body of `PUT /v1/firms/{firm_id}`.
#[derive(Debug, Deserialize)]
pub struct FirmBody {
    name: String,
    sms_number: String,
    support_email: String,
    support_phone: String,
    website: String,
    #[serde(default)]
    time_zone: Option<String>,
    #[serde(default)]
    send_window: Option<SendHours>,
    #[serde(default)]
    frequency_cap: Option<u32>,
    #[serde(default)]
    transactional_exempt: bool,
    #[serde(default)]
    privacy_url: Option<String>,
    #[serde(default)]
    terms_url: Option<String>,
    #[serde(default)]
    require_consent_capture: bool,
}

/// A firm as the API shows it.
#[derive(Debug, Serialize)]
pub struct FirmView {
    firm_id: String,
    name: String,
    sms_number: String,
    support_email: String,
    support_phone: String,
    website: String,
    time_zone: Option<String>,
    double_opt_in: bool,
    double_opt_in_changed: Option<DoubleOptInChange>,
    send_window: Option<SendHours>,
    frequency_cap: Option<u32>,
    transactional_exempt: bool,
    privacy_url: Option<String>,
    terms_url: Option<String>,
    require_consent_capture: bool,
    created_at: DateTime<Utc>,
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

async fn put_firm(
    State(services): State<Services>,
    Actor(actor): Actor,
    Path(firm_id): Path<String>,
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

async fn get_firm(
    State(services): State<Services>,
    Path(firm_id): Path<String>,
) -> Result<axum::Json<FirmView>, ApiError> {
    Ok(axum::Json(services.firm(&firm_id).await?.into()))
}

/// Body of `PUT /v1/firms/{firm_id}/double-opt-in`.
#[derive(Debug, Deserialize)]
pub struct DoubleOptInBody {
    enabled: bool,
    changed_by: String,
    #[serde(default)]
    acknowledge_risk: bool,
}

async fn put_double_opt_in(
    State(services): State<Services>,
    Actor(actor): Actor,
    Path(firm_id): Path<String>,
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

/// The template routes' `?language=` (`en` when absent); any other value is the caller's
/// mistake (422 `invalid_language`).
fn template_language(query: QueryParams) -> Result<Language, ApiError> {
    let params = params(query)?;
    let language = params.get("language").map(String::as_str);
    Ok(Language::parse_or_default(language).map_err(FlowError::from)?)
}

async fn list_templates(
    State(services): State<Services>,
    Path(firm_id): Path<String>,
    query: QueryParams,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    let language = template_language(query)?;
    let templates = services.templates(&firm_id, language).await?;
    Ok(axum::Json(
        json!({ "language": language, "templates": templates }),
    ))
}

async fn put_template(
    State(services): State<Services>,
    Actor(actor): Actor,
    Path((firm_id, name)): Path<(String, String)>,
    query: QueryParams,
    ApiJson(body): ApiJson<TemplateOverride>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    let language = template_language(query)?;
    let services = services.acting_as(actor);
    let preview = services
        .put_template(&firm_id, &name, language, body)
        .await?;
    let view = match preview {
        Preview::Sms(sms) => json!({
            "name": name,
            "language": language,
            "default": false,
            "preview": { "body": sms.body },
            "segments": sms.segments.segments,
            "encoding": sms.segments.encoding,
        }),
        Preview::Email(email) => json!({
            "name": name,
            "language": language,
            "default": false,
            "preview": { "subject": email.subject, "text": email.text, "html": email.html },
        }),
    };
    Ok(axum::Json(view))
}

async fn delete_template(
    State(services): State<Services>,
    Actor(actor): Actor,
    Path((firm_id, name)): Path<(String, String)>,
    query: QueryParams,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    let language = template_language(query)?;
    let services = services.acting_as(actor);
    let view = services.reset_template(&firm_id, &name, language).await?;
    Ok(axum::Json(json!(view)))
}

/// A contact as the API shows it: the CRM's id, its number, and where that number stands.
#[derive(Debug, Serialize)]
pub struct ContactRecordView {
    contact_id: String,
    phone: String,
    consent: Option<ContactConsentView>,
}

/// The consent part of [`ContactRecordView`].
#[derive(Debug, Serialize)]
pub struct ContactConsentView {
    status: consent::model::record::ConsentStatus,
    basis: consent::model::record::ConsentBasis,
    updated_at: DateTime<Utc>,
}

async fn get_contact(
    State(services): State<Services>,
    Path((firm_id, contact_id)): Path<(String, String)>,
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
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffOptOutBody {
    channel: String,
    recorded_by: String,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    occurred_at: Option<DateTime<Utc>>,
    #[serde(default)]
    send_confirmation: bool,
}

async fn record_opt_out(
    State(services): State<Services>,
    Actor(actor): Actor,
    Path((firm_id, phone)): Path<(String, String)>,
    ApiJson(body): ApiJson<StaffOptOutBody>,
) -> Result<Response, ApiError> {
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
    Ok(axum::Json(json!({
        "phone": record.phone,
        "status": record.status,
        "basis": record.basis,
    }))
    .into_response())
}

/// A consent record as the API shows it.
#[derive(Debug, Serialize)]
pub struct ConsentRecordView {
    phone: String,
    status: consent::model::record::ConsentStatus,
    basis: consent::model::record::ConsentBasis,
    updated_at: DateTime<Utc>,
    /// The trail, privileged texts as commitments unless `?include=texts`.
    events: Vec<serde_json::Value>,
}

async fn get_consent(
    State(services): State<Services>,
    Path((firm_id, phone)): Path<(String, String)>,
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

/// Whether a route shows privileged texts: `?include=texts` for the firm's own copy, their
/// commitments alone without it; any other value is the caller's mistake (422).
fn shown_texts(params: &HashMap<String, String>) -> Result<ShownTexts, ApiError> {
    ShownTexts::from_query(params.get("include").map(String::as_str)).map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_include",
            e.to_string(),
        )
    })
}

type QueryParams = Result<Query<HashMap<String, String>>, QueryRejection>;

/// The query parameters, or our 422 for a query string that does not parse.
fn params(query: QueryParams) -> Result<HashMap<String, String>, ApiError> {
    query.map(|Query(params)| params).map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
            e.body_text(),
        )
    })
}

async fn get_proof(
    State(services): State<Services>,
    Path((firm_id, phone)): Path<(String, String)>,
    query: QueryParams,
) -> Result<Response, ApiError> {
    let params = params(query)?;
    let texts = shown_texts(&params)?;
    let html = match params.get("format").map(String::as_str) {
        None | Some("json") => false,
        Some("html") => true,
        Some(_) => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_request",
                "format: must be json or html",
            ));
        }
    };
    let proof = services.proof(&firm_id, &phone, texts).await?;
    if html {
        return Ok(proof_page::render(&proof).into_response());
    }
    Ok(axum::Json(proof.to_json()).into_response())
}

/// `GET /v1/firms/{firm_id}/proofs[?status=...]`: the firm's audit bundle, streamed as it is
/// made (docs/proof-format.md). What can fail for the caller (firm, status, proof key) fails
/// before the first byte; a failure after it cuts the body short, which no verifier accepts.
async fn get_audit_bundle(
    State(services): State<Services>,
    Path(firm_id): Path<String>,
    query: QueryParams,
) -> Result<Response, ApiError> {
    let mut params = params(query)?;
    let texts = shown_texts(&params)?;
    let bundle = services
        .audit_bundle(&firm_id, params.remove("status").as_deref(), texts)
        .await?;
    let mut response = Response::new(axum::body::Body::from_stream(bundle.into_stream()));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(response)
}

async fn get_proof_key(
    State(services): State<Services>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    let (key, hex) = services.proof_key().await?;
    Ok(axum::Json(json!({
        "key_id": key.key_id,
        "algorithm": key.algorithm,
        "public_key": key.public_key,
        "public_key_hex": hex,
    })))
}

/// `GET /v1/firms/{firm_id}/events?after=&limit=`: the firm's feed after a cursor.
async fn get_events(
    State(services): State<Services>,
    Path(firm_id): Path<String>,
    query: QueryParams,
) -> Result<axum::Json<consent::flows::feed::FeedPage>, ApiError> {
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

async fn export_consents(
    State(services): State<Services>,
    Path(firm_id): Path<String>,
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
