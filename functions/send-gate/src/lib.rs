//! send-gate: every outbound SMS from the CRM passes here, one at a time or in batches.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use consent::firm::Firm;
use consent::flows::send::{SendOutcome, SendRequest};
use consent::flows::{FlowError, Services};
use consent::gate::{MessageCategory, MessageKind};
use consent::phone::PhoneNumber;
use consent::ports::StoredResponse;
use consent_http::{ApiError, ApiJson};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The keys this function reads at cold start: none (it signs no link and no proof).
pub const KEYS_USED: consent_aws::KeysUsed = consent_aws::KeysUsed::NONE;

/// Most messages in one batch.
pub const MAX_BATCH: usize = 1_000;
/// Longest message body accepted (ten GSM-7 segments).
pub const MAX_BODY_CHARS: usize = 1_530;
/// Longest idempotency key accepted.
pub const MAX_KEY_LEN: usize = 256;

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
    if message.body.chars().count() > MAX_BODY_CHARS {
        return Err(FlowError::field(
            "body",
            format!("is longer than {MAX_BODY_CHARS} characters"),
        )
        .into());
    }
    if let Some(key) = &message.idempotency_key
        && (key.is_empty() || key.len() > MAX_KEY_LEN)
    {
        return Err(FlowError::field("idempotency_key", "must be 1 to 256 characters").into());
    }
    Ok(SendRequest {
        to,
        kind: MessageKind::FirmMessage,
        category: message.category,
        body: message.body.clone(),
        idempotency_key: message.idempotency_key.clone(),
    })
}

/// The status and body of one decision, as the single route answers it.
fn outcome_response(outcome: &SendOutcome) -> StoredResponse {
    let status = match outcome {
        SendOutcome::Blocked { .. } => StatusCode::FORBIDDEN,
        _ => StatusCode::ACCEPTED,
    };
    StoredResponse {
        status: status.as_u16(),
        body: json!(outcome),
    }
}

fn error_body(error: &ApiError) -> Value {
    json!({ "error": { "code": error.code, "message": error.message } })
}

/// Sends one request, once per idempotency key.
async fn send_keyed(
    services: &Services,
    firm: &Firm,
    message: &MessageBody,
    request: SendRequest,
) -> Result<StoredResponse, FlowError> {
    match &request.idempotency_key {
        Some(key) => {
            let scoped = format!("gate#{}#{key}", firm.firm_id);
            let payload =
                json!({ "to": request.to, "body": request.body, "category": message.category });
            services
                .idempotent(&scoped, &payload, || async {
                    services
                        .gate
                        .send(firm, &request)
                        .await
                        .map(|o| outcome_response(&o))
                })
                .await
                .map(|(response, _)| response)
        }
        None => services
            .gate
            .send(firm, &request)
            .await
            .map(|o| outcome_response(&o)),
    }
}

async fn send_one(
    State(services): State<Services>,
    Path(firm_id): Path<String>,
    ApiJson(message): ApiJson<MessageBody>,
) -> Result<Response, ApiError> {
    let firm = services.firm(&firm_id).await?;
    let request = validate(&message)?;
    let response = send_keyed(&services, &firm, &message, request).await?;
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
    // Messages go out in request order: runs of unkeyed messages share one batch read; a keyed
    // message goes alone, under its own idempotency record.
    let mut run: Vec<(usize, SendRequest)> = Vec::new();
    for (index, raw) in batch.messages.into_iter().enumerate() {
        let parsed = serde_json::from_value::<MessageBody>(raw).map_err(|e| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_request",
                e.to_string(),
            )
        });
        match parsed.and_then(|m| validate(&m).map(|r| (m, r))) {
            Err(error) => results[index] = Some(error_body(&error)),
            Ok((message, request)) if request.idempotency_key.is_some() => {
                flush(&services, &firm, &mut run, &mut results).await?;
                let result = send_keyed(&services, &firm, &message, request).await;
                results[index] = Some(match result {
                    Ok(response) => response.body,
                    Err(error) => error_body(&error.into()),
                });
            }
            Ok((_, request)) => run.push((index, request)),
        }
    }
    flush(&services, &firm, &mut run, &mut results).await?;
    let results: Vec<Value> = results.into_iter().map(Option::unwrap_or_default).collect();
    Ok(axum::Json(json!({ "results": results })).into_response())
}

/// Sends a run of unkeyed messages with one batch read, filling their results in.
async fn flush(
    services: &Services,
    firm: &Firm,
    run: &mut Vec<(usize, SendRequest)>,
    results: &mut [Option<Value>],
) -> Result<(), ApiError> {
    if run.is_empty() {
        return Ok(());
    }
    let (indexes, requests): (Vec<usize>, Vec<SendRequest>) =
        std::mem::take(run).into_iter().unzip();
    let outcomes = services.gate.send_batch(firm, &requests).await?;
    for (index, outcome) in indexes.into_iter().zip(outcomes) {
        results[index] = Some(match outcome {
            Ok(outcome) => json!(outcome),
            Err(error) => error_body(&error.into()),
        });
    }
    Ok(())
}
