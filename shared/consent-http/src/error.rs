//! Errors as responses: a client's mistake is a 4xx with a code; the service's own failures are
//! 5xx with no internals in the body (they go to the logs).

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use consent::flows::FlowError;
use consent::templates::TemplateError;
use serde_json::json;

/// An error response: status, stable code, human message, optional details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable machine-readable code.
    pub code: &'static str,
    /// What went wrong, for a person.
    pub message: String,
    /// Extra structured detail (e.g. the list of template problems).
    pub details: Option<serde_json::Value>,
    /// Seconds to wait before retrying, sent as `Retry-After`.
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// An error with a status, code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            details: None,
            retry_after: None,
        }
    }

    /// 404 for an unknown route.
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "no such route")
    }
}

impl From<FlowError> for ApiError {
    fn from(error: FlowError) -> Self {
        let status = match &error {
            FlowError::FirmNotFound | FlowError::ConsentNotFound | FlowError::UnknownTemplate => {
                StatusCode::NOT_FOUND
            }
            FlowError::InvalidPhone(_)
            | FlowError::InvalidField { .. }
            | FlowError::RiskNotAcknowledged
            | FlowError::TemplateInvalid(_)
            | FlowError::IdempotencyMismatch => StatusCode::UNPROCESSABLE_ENTITY,
            FlowError::NumberInUse | FlowError::InProgress { .. } => StatusCode::CONFLICT,
            FlowError::Store(_)
            | FlowError::Contention
            | FlowError::ProofKeyNotConfigured
            | FlowError::ProofKeyUnavailable(_)
            | FlowError::TokenKeysNotConfigured => StatusCode::SERVICE_UNAVAILABLE,
            FlowError::Send(_) => StatusCode::BAD_GATEWAY,
        };
        let mut api = Self::new(status, error.code(), error.to_string());
        match &error {
            FlowError::TemplateInvalid(TemplateError::Invalid { problems }) => {
                api.message = "the template is missing required elements or does not render".into();
                api.details = Some(json!({ "problems": problems }));
            }
            FlowError::InProgress { retry_after_secs } => api.retry_after = Some(*retry_after_secs),
            FlowError::Store(_) | FlowError::Contention | FlowError::ProofKeyUnavailable(_) => {
                // Internals stay in the logs.
                tracing::error!(error = ?error, "store failure");
                api.message = "the service is temporarily unavailable; retry".into();
                api.retry_after = Some(1);
            }
            FlowError::ProofKeyNotConfigured => {
                tracing::error!("a proof was asked for but no proof key is configured");
            }
            FlowError::TokenKeysNotConfigured => {
                tracing::error!("a confirmation link was needed but no token keys are configured");
            }
            FlowError::Send(_) => {
                tracing::error!(error = ?error, "provider failure");
                api.message = "the messaging provider failed; retry".into();
            }
            _ => {}
        }
        api
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut error = json!({ "code": self.code, "message": self.message });
        if let (Some(details), Some(map)) = (self.details, error.as_object_mut())
            && let Some(fields) = details.as_object()
        {
            for (k, v) in fields {
                map.insert(k.clone(), v.clone());
            }
        }
        let mut response = (self.status, Json(json!({ "error": error }))).into_response();
        if let Some(secs) = self.retry_after
            && let Ok(value) = HeaderValue::from_str(&secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

/// The router's fallback: a JSON 404.
pub async fn fallback() -> ApiError {
    ApiError::not_found()
}
