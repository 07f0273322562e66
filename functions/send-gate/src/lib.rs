//! send-gate: every outbound SMS from the CRM passes here, one at a time or in batches.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use consent::evidence::keys_used::KeysUsed;
use consent::flows::send::SendRequest;
use consent::flows::{FlowError, Services};
use consent::limits::{MAX_BATCH, MAX_FIELD_LEN, MAX_SMS_CHARS};
use consent::model::gate::{MessageCategory, MessageKind};
use consent::model::phone::PhoneNumber;
use consent_http::{ApiError, ApiJson};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The keys this function reads at cold start: none (it signs no link and no proof).
pub const KEYS_USED: KeysUsed = KeysUsed::NONE;

/// What `router` serves, as (method, path): the SAM template must route exactly these here.
pub const ROUTES: &[(&str, &str)] = &[
    ("POST", "/v1/firms/{firm_id}/messages"),
    ("POST", "/v1/firms/{firm_id}/messages/batch"),
];

/// The send-gate routes.
pub fn router(services: Services) -> Router {
    Router::new()
        .route("/v1/firms/{firm_id}/messages", post(send_one))
        .route("/v1/firms/{firm_id}/messages/batch", post(send_batch))
        .layer(consent_http::body_limit())
        .with_state(services)
}

/// One message as the CRM sends it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MessageBody {
    to: String,
    body: String,
    #[serde(default)]
    idempotency_key: Option<String>,
    #[serde(default)]
    category: MessageCategory,
}

/// A batch.
#[derive(Debug, Deserialize)]
pub struct BatchBody {
    messages: Vec<Value>,
}

fn validate(message: &MessageBody) -> Result<SendRequest, ApiError> {
    let to = PhoneNumber::parse(&message.to).map_err(FlowError::from)?;
    if message.body.trim().is_empty() {
        return Err(FlowError::field("body", "is empty").into());
    }
    if message.body.chars().count() > MAX_SMS_CHARS {
        return Err(
            FlowError::field("body", format!("is longer than {MAX_SMS_CHARS} characters")).into(),
        );
    }
    if let Some(key) = &message.idempotency_key
        && (key.is_empty() || key.len() > MAX_FIELD_LEN)
    {
        return Err(FlowError::field(
            "idempotency_key",
            format!("must be 1 to {MAX_FIELD_LEN} characters"),
        )
        .into());
    }
    Ok(SendRequest {
        to,
        kind: MessageKind::FirmMessage,
        category: message.category,
        body: message.body.clone(),
        idempotency_key: message.idempotency_key.clone(),
    })
}

async fn send_one(
    State(services): State<Services>,
    Path(firm_id): Path<String>,
    ApiJson(message): ApiJson<MessageBody>,
) -> Result<Response, ApiError> {
    let firm = services.firm(&firm_id).await?;
    let request = validate(&message)?;
    let response = services.send_from_crm(&firm, &request).await?;
    let status = StatusCode::from_u16(response.status).unwrap_or(StatusCode::ACCEPTED);
    Ok((status, axum::Json(response.body)).into_response())
}

async fn send_batch(
    State(services): State<Services>,
    Path(firm_id): Path<String>,
    ApiJson(batch): ApiJson<BatchBody>,
) -> Result<Response, ApiError> {
    if batch.messages.len() > MAX_BATCH {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "batch_too_large",
            format!("a batch holds at most {MAX_BATCH} messages"),
        ));
    }
    let firm = services.firm(&firm_id).await?;
    let mut results: Vec<Option<Value>> = vec![None; batch.messages.len()];
    let mut valid: Vec<(usize, SendRequest)> = Vec::new();
    for (index, raw) in batch.messages.into_iter().enumerate() {
        let parsed = serde_json::from_value::<MessageBody>(raw).map_err(|e| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_request",
                e.to_string(),
            )
        });
        match parsed.and_then(|m| validate(&m)) {
            Ok(request) => valid.push((index, request)),
            Err(error) => results[index] = Some(error.body()),
        }
    }
    let (indexes, requests): (Vec<usize>, Vec<SendRequest>) = valid.into_iter().unzip();
    let outcomes = services.send_batch_from_crm(&firm, requests).await?;
    for (index, outcome) in indexes.into_iter().zip(outcomes) {
        results[index] = Some(match outcome {
            Ok(response) => response.body,
            Err(error) => ApiError::from(error).body(),
        });
    }
    let results: Vec<Value> = results.into_iter().map(Option::unwrap_or_default).collect();
    Ok(axum::Json(json!({ "results": results })).into_response())
}
