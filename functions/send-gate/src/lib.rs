//! send-gate: every outbound SMS from the CRM passes here, one at a time or in batches.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use consent::evidence::keys_used::KeysUsed;
use consent::flows::send::{SendOutcome, SendRequest};
use consent::flows::{FlowError, Services};
use consent::limits::{MAX_BATCH, MAX_FIELD_LEN, MAX_SMS_CHARS};
use consent::model::gate::{MessageCategory, MessageKind};
use consent::model::phone::PhoneNumber;
use consent_http::openapi::{ErrorBody, ErrorDetail, FirmPath, JsonBodyRejections, Unavailable};
use consent_http::{ApiError, ApiJson, ApiPath};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The keys this function reads at cold start: none (it signs no link and no proof).
pub const KEYS_USED: KeysUsed = KeysUsed::NONE;

/// What `router` serves, as (method, path): the SAM template must route exactly these here.
pub const ROUTES: &[(&str, &str)] = &[
    ("POST", "/v1/firms/{firm_id}/messages"),
    ("POST", "/v1/firms/{firm_id}/messages/batch"),
];

/// The send-gate routes, each registered with its documentation (for [`operations`]).
fn routes() -> OpenApiRouter<Services> {
    OpenApiRouter::new()
        .routes(routes!(send_one))
        .routes(routes!(send_batch))
}

/// The send-gate routes, as [`ROUTES`] lists them, on a plain axum router: `routes()`
/// would build the operations' documentation at every cold start, for a document no function
/// serves.
pub fn router(services: Services) -> Router {
    Router::new()
        .route("/v1/firms/{firm_id}/messages", post(send_one))
        .route("/v1/firms/{firm_id}/messages/batch", post(send_batch))
        .layer(consent_http::body_limit())
        .with_state(services)
}

/// The OpenAPI operations of [`router`] and the schemas they use.
pub fn operations() -> utoipa::openapi::OpenApi {
    routes().into_openapi()
}

/// One message as the CRM sends it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"to": "+14155550134", "body": "Your appointment is Tuesday at 10:00.",
    "idempotency_key": "crm-msg-8812", "category": "transactional"}))]
pub struct MessageBody {
    /// The recipient, E.164 or a US national format.
    to: String,
    /// The text, at most 1,530 characters.
    body: String,
    /// Makes a retry safe: the same key and message again answers the first decision and sends
    /// nothing (1 to 256 characters; the same key with another message is 422).
    #[serde(default)]
    idempotency_key: Option<String>,
    /// `marketing` (the default, the stricter reading) or `transactional`.
    #[serde(default)]
    category: MessageCategory,
}

/// A batch: up to 1,000 messages, each as `POST .../messages` takes it.
#[derive(Debug, Deserialize, ToSchema)]
pub struct BatchBody {
    /// The messages, each decided in order; an invalid one gets its error in its place.
    #[schema(value_type = Vec<MessageBody>, max_items = 1000)]
    messages: Vec<Value>,
}

/// The answer to a batch: one result per message, in order.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchResults {
    /// Each message's `decision`: `sent`, `deferred`, `blocked`, or `failed`; resend exactly
    /// the `failed` ones whose `retryable` is true.
    #[schema(value_type = Vec<BatchResult>)]
    results: Vec<Value>,
}

/// One message's result in a batch: the gate's decision, or why it could not decide.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum BatchResult {
    /// The gate's decision.
    Decision(SendOutcome),
    /// The message was not decided.
    Failed(BatchFailure),
}

/// A message of a batch the gate did not decide: invalid, or the provider or the store failed.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"decision": "failed", "retryable": true, "error": {
    "code": "provider_unavailable", "message": "the messaging provider is busy or failed; retry",
    "retryable": true, "retry_after": 2}}))]
pub struct BatchFailure {
    /// Always `failed`.
    decision: Failed,
    /// True exactly when the same message may go through later (after `error.retry_after`
    /// seconds): its claim was handed back, so the resend goes out once.
    retryable: bool,
    /// What went wrong, as the same message's error response would say it.
    error: ErrorDetail,
}

/// The `decision` of a message the gate did not decide.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Failed {
    /// The message was not decided.
    Failed,
}

/// A batch result for a message that was not decided: its error, and whether to resend it.
fn failed(error: &ApiError) -> Value {
    let body = error.body();
    // The error body already says whether to retry; the result repeats it at the top.
    json!({
        "decision": Failed::Failed,
        "retryable": body["error"]["retryable"],
        "error": body["error"],
    })
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

/// One outbound SMS through the gate: sent, deferred to the recipient's calling window, or
/// blocked, and the decision recorded with the rule that made it.
#[utoipa::path(
    post,
    path = "/v1/firms/{firm_id}/messages",
    tag = "messages",
    operation_id = "sendMessage",
    params(FirmPath),
    request_body = MessageBody,
    responses(
        (status = 202, description = "`sent` (handed to the carrier) or `deferred` (held until \
            `not_before`, then released through the gate again).", body = SendOutcome,
            examples(
                ("sent" = (value = json!({"decision": "sent", "message_id": "msg-01J8Z"}))),
                ("deferred" = (value = json!({"decision": "deferred",
                    "not_before": "2025-03-04T13:00:00Z", "rule": "fl_501_616"})))
            )),
        (status = 403, description = "`blocked`: the gate refused it; it never goes out. \
            `reason` says why (`unknown_recipient`, `opted_out`, `not_opted_in`, \
            `frequency_cap`, ...).", body = SendOutcome,
            example = json!({"decision": "blocked", "reason": "not_opted_in"})),
        (status = 404, description = "`firm_not_found`.", body = ErrorBody),
        (status = 409, description = "`request_in_progress`: the same `idempotency_key` is being \
            worked on; retry after `Retry-After`.", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
        (status = 422, description = "`invalid_phone`, `idempotency_key_reused` or \
            `invalid_request` (a missing, empty or too long field, named in `message`).",
            body = ErrorBody),
        (status = 502, description = "`provider_unavailable`: the provider refused the message \
            for good; not retryable.", body = ErrorBody),
        JsonBodyRejections,
        Unavailable,
    )
)]
async fn send_one(
    State(services): State<Services>,
    ApiPath(firm_id): ApiPath<String>,
    ApiJson(message): ApiJson<MessageBody>,
) -> Result<Response, ApiError> {
    let firm = services.firm(&firm_id).await?;
    let request = validate(&message)?;
    let response = services.send_from_crm(&firm, &request).await?;
    let status = StatusCode::from_u16(response.status).unwrap_or(StatusCode::ACCEPTED);
    Ok((status, axum::Json(response.body)).into_response())
}

/// Up to 1,000 outbound SMS through the gate, decided in order.
#[utoipa::path(
    post,
    path = "/v1/firms/{firm_id}/messages/batch",
    tag = "messages",
    operation_id = "sendBatch",
    params(FirmPath),
    request_body = BatchBody,
    responses(
        (status = 200, description = "One result per message, in order: its decision, or \
            `failed` with its error and whether to resend it.", body = BatchResults,
            example = json!({"results": [
                {"decision": "sent", "message_id": "msg-01J8Z"},
                {"decision": "blocked", "reason": "opted_out"},
                {"decision": "failed", "retryable": true, "error": {
                    "code": "provider_unavailable",
                    "message": "the messaging provider is busy or failed; retry",
                    "retryable": true, "retry_after": 2}},
                {"decision": "failed", "retryable": false, "error": {
                    "code": "invalid_phone", "message": "'not a phone' is not a phone number",
                    "retryable": false}}]})),
        (status = 404, description = "`firm_not_found`.", body = ErrorBody),
        (status = 422, description = "`batch_too_large` (more than 1,000 messages) or \
            `invalid_request` (no `messages` list).", body = ErrorBody),
        JsonBodyRejections,
        Unavailable,
    )
)]
async fn send_batch(
    State(services): State<Services>,
    ApiPath(firm_id): ApiPath<String>,
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
            Err(error) => results[index] = Some(failed(&error)),
        }
    }
    let (indexes, requests): (Vec<usize>, Vec<SendRequest>) = valid.into_iter().unzip();
    let outcomes = services.send_batch_from_crm(&firm, requests).await?;
    for (index, outcome) in indexes.into_iter().zip(outcomes) {
        results[index] = Some(match outcome {
            Ok(response) => response.body,
            Err(error) => failed(&ApiError::from(error)),
        });
    }
    let results: Vec<Value> = results.into_iter().map(Option::unwrap_or_default).collect();
    Ok(axum::Json(json!({ "results": results })).into_response())
}
