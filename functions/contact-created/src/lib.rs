//! contact-created: a new contact gets a pending consent and, once per number ever, the opt-in
//! request by SMS (through the gate) and by email.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use consent::evidence::keys_used::KeysUsed;
use consent::flows::onboarding::{ContactCreated, NewContact, RequestDelivery};
use consent::flows::{FlowError, Services};
use consent::limits::MAX_FIELD_LEN;
use consent::model::consent_capture::NewConsentCapture;
use consent::model::record::ConsentStatus;
use consent::ports::StoredResponse;
use consent_http::openapi::{ErrorBody, FirmPath, JsonBodyRejections, Unavailable};
use consent_http::{ApiError, ApiJson, ApiPath};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The keys this function reads at cold start: the token keys, which sign the confirmation link of the opt-in email.
pub const KEYS_USED: KeysUsed = KeysUsed::TOKENS;

/// The header a CRM may send to make a retry safe whatever the body.
pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";

/// What `router` serves, as (method, path): the SAM template must route exactly these here.
pub const ROUTES: &[(&str, &str)] = &[("POST", "/v1/firms/{firm_id}/contacts")];

/// The contact-created routes, each registered with its documentation (for [`operations`]).
fn routes() -> OpenApiRouter<Services> {
    OpenApiRouter::new().routes(routes!(create_contact))
}

/// The contact-created routes, as [`ROUTES`] lists them, on a plain axum router: `routes()`
/// would build the operations' documentation at every cold start, for a document no function
/// serves.
pub fn router(services: Services) -> Router {
    Router::new()
        .route("/v1/firms/{firm_id}/contacts", post(create_contact))
        .layer(consent_http::body_limit())
        .with_state(services)
}

/// The OpenAPI operations of [`router`] and the schemas they use.
pub fn operations() -> utoipa::openapi::OpenApi {
    routes().into_openapi()
}

/// A contact as the CRM sends it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "contact_id": "crm-1001", "phone": "(415) 555-0134", "email": "ana@client.example",
    "first_name": "Ana", "last_name": "Ruiz", "source": "intake form", "language": "es",
    "consent_capture": {"method": "web_form", "captured_at": "2025-03-01T17:04:00Z",
        "form_url": "https://firm.example/intake"}
}))]
pub struct ContactBody {
    /// The CRM's id for the contact (two contacts may share a number).
    contact_id: String,
    /// The contact's mobile number, E.164 or a US national format.
    phone: String,
    /// Where the opt-in email goes (none sent without it).
    #[serde(default)]
    email: Option<String>,
    /// Used in the messages' greeting.
    #[serde(default)]
    first_name: Option<String>,
    /// Kept with the contact.
    #[serde(default)]
    last_name: Option<String>,
    /// Where the CRM got the contact, kept in the trail.
    #[serde(default)]
    source: Option<String>,
    /// IANA time zone, for a number outside North America (else the area code's).
    #[serde(default)]
    time_zone: Option<String>,
    /// How the number was first collected (left out when absent, so a retry's payload hash
    /// matches one made before the field existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    consent_capture: Option<NewConsentCapture>,
    /// The US state the contact lives in, two letters (left out when absent, like
    /// `consent_capture`); its calling rules apply beside the area code's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "FL")]
    state: Option<String>,
    /// The language to write to the contact in, `en` (the default) or `es` (left out when
    /// absent, like `consent_capture`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<consent::model::language::Language>)]
    language: Option<String>,
}

/// What contact-created answers: where the number stands and what the opt-in request did.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactCreatedView {
    /// The CRM's id, as sent.
    contact_id: String,
    /// The number, E.164.
    #[schema(value_type = String, example = "+14155550134")]
    phone: consent::model::phone::PhoneNumber,
    /// Where the number stands now.
    consent: ContactStatusView,
    /// What became of each channel of the one opt-in request.
    opt_in_request: OptInRequestView,
}

/// The consent status part of [`ContactCreatedView`].
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactStatusView {
    /// `pending` for a new number; an existing number keeps its status.
    status: ConsentStatus,
}

/// The opt-in request part of [`ContactCreatedView`].
#[derive(Debug, Serialize, ToSchema)]
pub struct OptInRequestView {
    /// The SMS: sent now, deferred to the recipient's calling window, or skipped (asked before).
    sms: RequestDelivery,
    /// The email: likewise (skipped without an address).
    email: RequestDelivery,
}

fn response_of(created: &ContactCreated) -> StoredResponse {
    let status = if created.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    StoredResponse {
        status: status.as_u16(),
        body: json!(ContactCreatedView {
            contact_id: created.contact_id.clone(),
            phone: created.phone.clone(),
            consent: ContactStatusView {
                status: created.status
            },
            opt_in_request: OptInRequestView {
                sms: created.sms,
                email: created.email,
            },
        }),
    }
}

/// A new contact: a pending consent and, once per number ever, the opt-in request by SMS and
/// by email.
#[utoipa::path(
    post,
    path = "/v1/firms/{firm_id}/contacts",
    tag = "contacts",
    operation_id = "createContact",
    params(
        FirmPath,
        ("Idempotency-Key" = Option<String>, Header,
            description = "Makes a retry safe whatever the body: the same key again answers \
                what the first call did (1 to 256 characters).")
    ),
    request_body = ContactBody,
    responses(
        (status = 201, description = "A new contact: its number pending, the opt-in request sent \
            or deferred (or skipped, for a number asked before).", body = ContactCreatedView,
            example = json!({"contact_id": "crm-1001", "phone": "+14155550134",
                "consent": {"status": "pending"}, "opt_in_request": {"sms": "sent", "email": "sent"}})),
        (status = 200, description = "The same contact again (or a replayed `Idempotency-Key`): \
            nothing re-sent.", body = ContactCreatedView),
        (status = 404, description = "`firm_not_found`.", body = ErrorBody),
        (status = 409, description = "`request_in_progress`: the same `Idempotency-Key` is being \
            worked on; retry after `Retry-After`.", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
        (status = 422, description = "`invalid_phone`, `invalid_language`, \
            `consent_capture_required`, `idempotency_key_reused` or `invalid_request` (a missing \
            or bad field, named in `message`): nothing stored or sent.", body = ErrorBody),
        (status = 502, description = "`provider_unavailable`: the provider refused a message for \
            good.", body = ErrorBody),
        JsonBodyRejections,
        Unavailable,
    )
)]
async fn create_contact(
    State(services): State<Services>,
    ApiPath(firm_id): ApiPath<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<ContactBody>,
) -> Result<Response, ApiError> {
    let contact = NewContact {
        contact_id: body.contact_id.clone(),
        phone: body.phone.clone(),
        email: body.email.clone(),
        first_name: body.first_name.clone(),
        last_name: body.last_name.clone(),
        source: body.source.clone(),
        time_zone: body.time_zone.clone(),
        consent_capture: body.consent_capture.clone(),
        state: body.state.clone(),
        language: body.language.clone(),
    };
    let key = headers
        .get(IDEMPOTENCY_HEADER)
        .map(|v| v.to_str().map(str::to_string))
        .transpose()
        .map_err(|_| FlowError::field("Idempotency-Key", "must be visible ASCII"))?;
    let response = match key {
        Some(key) if key.is_empty() || key.len() > MAX_FIELD_LEN => {
            return Err(FlowError::field(
                "Idempotency-Key",
                format!("must be 1 to {MAX_FIELD_LEN} characters"),
            )
            .into());
        }
        Some(key) => {
            let scoped = format!("contact#{firm_id}#{key}");
            let payload = json!(body);
            let (mut response, replayed) = services
                .idempotent(&scoped, &payload, || async {
                    services
                        .create_contact(&firm_id, contact)
                        .await
                        .map(|c| response_of(&c))
                })
                .await?;
            // A replay reports what the first call did, as the same request again: 200.
            if replayed && response.status == StatusCode::CREATED.as_u16() {
                response.status = StatusCode::OK.as_u16();
            }
            response
        }
        None => response_of(&services.create_contact(&firm_id, contact).await?),
    };
    let status = StatusCode::from_u16(response.status).unwrap_or(StatusCode::OK);
    Ok((status, axum::Json(response.body)).into_response())
}
