//! contact-created: a new contact gets a pending consent and, once per number ever, the opt-in
//! request by SMS (through the gate) and by email.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use consent::evidence::keys_used::KeysUsed;
use consent::flows::onboarding::{ContactCreated, NewContact};
use consent::flows::{FlowError, Services};
use consent::limits::MAX_FIELD_LEN;
use consent::model::consent_capture::NewConsentCapture;
use consent::ports::StoredResponse;
use consent_http::{ApiError, ApiJson};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The keys this function reads at cold start: the token keys, which sign the confirmation link of the opt-in email.
pub const KEYS_USED: KeysUsed = KeysUsed::TOKENS;

/// The header a CRM may send to make a retry safe whatever the body.
pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";

/// What `router` serves, as (method, path): the SAM template must route exactly these here.
pub const ROUTES: &[(&str, &str)] = &[("POST", "/v1/firms/{firm_id}/contacts")];

/// The contact-created routes.
pub fn router(services: Services) -> Router {
    Router::new()
        .route("/v1/firms/{firm_id}/contacts", post(create_contact))
        .layer(consent_http::body_limit())
        .with_state(services)
}

/// A contact as the CRM sends it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContactBody {
    contact_id: String,
    phone: String,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    first_name: Option<String>,
    #[serde(default)]
    last_name: Option<String>,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    time_zone: Option<String>,
    /// How the number was first collected (left out when absent, so a retry's payload hash
    /// matches one made before the field existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    consent_capture: Option<NewConsentCapture>,
    /// The US state the contact lives in (left out when absent, like `consent_capture`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    state: Option<String>,
    /// The language to write to the contact in, `en` (the default) or `es` (left out when
    /// absent, like `consent_capture`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    language: Option<String>,
}

fn response_of(created: &ContactCreated) -> StoredResponse {
    let status = if created.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    StoredResponse {
        status: status.as_u16(),
        body: json!({
            "contact_id": created.contact_id,
            "phone": created.phone,
            "consent": { "status": created.status },
            "opt_in_request": { "sms": created.sms, "email": created.email },
        }),
    }
}

async fn create_contact(
    State(services): State<Services>,
    Path(firm_id): Path<String>,
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
