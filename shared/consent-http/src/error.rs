//! Errors as responses: a client's mistake is a 4xx with a code; the service's own failures are
//! 5xx with no internals in the body (they go to the logs).

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use consent::flows::FlowError;
use consent::messages::templates::TemplateError;
use consent::ports::StoreError;
use serde_json::json;
use std::sync::Arc;

/// Seconds a client waits before retrying a send the provider refused for now (throttling, a
/// 5xx): by then the SDK's own backoff has already been spent, and SNS's per-second rate has
/// turned over.
pub const PROVIDER_RETRY_AFTER_SECS: u64 = 2;

/// An error response: status, stable code, human message, optional details.
#[derive(Debug, Clone)]
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
    /// The service's own failure behind a 5xx, logged when the response is written.
    pub cause: Option<Arc<FlowError>>,
}

impl PartialEq for ApiError {
    /// Two responses are equal when a client would see the same thing; the logged cause is not
    /// part of what it sees.
    fn eq(&self, other: &Self) -> bool {
        (
            self.status,
            self.code,
            &self.message,
            &self.details,
            self.retry_after,
        ) == (
            other.status,
            other.code,
            &other.message,
            &other.details,
            other.retry_after,
        )
    }
}

impl Eq for ApiError {}

impl ApiError {
    /// An error with a status, code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            details: None,
            retry_after: None,
            cause: None,
        }
    }

    /// 404 for an unknown route.
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "no such route")
    }
}

/// How a domain error reads over HTTP: status, stable code, and whether it is the service's own
/// failure (its internals are logged where the response is written, never put in the body).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorMapping {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable machine-readable code.
    pub code: &'static str,
    /// The service failed (5xx), not the client.
    pub internal: bool,
}

/// The one table from each domain error to its status and code. Pure: no logging, no I/O.
pub fn error_mapping(error: &FlowError) -> ErrorMapping {
    let (status, code) = match error {
        FlowError::FirmNotFound => (StatusCode::NOT_FOUND, "firm_not_found"),
        FlowError::ConsentNotFound => (StatusCode::NOT_FOUND, "consent_not_found"),
        FlowError::ContactNotFound => (StatusCode::NOT_FOUND, "contact_not_found"),
        FlowError::UnknownTemplate => (StatusCode::NOT_FOUND, "template_not_found"),
        FlowError::InvalidPhone(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_phone"),
        FlowError::InvalidField { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_request"),
        FlowError::InvalidCursor => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_cursor"),
        FlowError::InvalidLanguage(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_language"),
        FlowError::ConsentCaptureRequired => {
            (StatusCode::UNPROCESSABLE_ENTITY, "consent_capture_required")
        }
        FlowError::RiskNotAcknowledged => {
            (StatusCode::UNPROCESSABLE_ENTITY, "risk_not_acknowledged")
        }
        FlowError::TemplateInvalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "template_invalid"),
        FlowError::IdempotencyMismatch => {
            (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused")
        }
        FlowError::NumberInUse => (StatusCode::CONFLICT, "sms_number_in_use"),
        FlowError::InProgress { .. } => (StatusCode::CONFLICT, "request_in_progress"),
        FlowError::Store(StoreError::Unavailable { .. }) => {
            (StatusCode::SERVICE_UNAVAILABLE, "store_unavailable")
        }
        FlowError::Store(_) | FlowError::Contention | FlowError::ProofKeyUnavailable(_) => {
            (StatusCode::SERVICE_UNAVAILABLE, "service_unavailable")
        }
        FlowError::ProofKeyNotConfigured => {
            (StatusCode::SERVICE_UNAVAILABLE, "proof_key_not_configured")
        }
        FlowError::TokenKeysNotConfigured => {
            (StatusCode::SERVICE_UNAVAILABLE, "token_keys_not_configured")
        }
        // Refused for now (throttling, a 5xx), or no answer: the same request may succeed, and
        // the gate gave back whatever it had claimed, so the retry sends it once.
        FlowError::Send(e) if e.is_retryable() => {
            (StatusCode::SERVICE_UNAVAILABLE, "provider_unavailable")
        }
        // Refused for good (a request the provider will never take): retrying will not help.
        FlowError::Send(_) => (StatusCode::BAD_GATEWAY, "provider_unavailable"),
        FlowError::Unhashable(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal_error"),
    };
    ErrorMapping {
        status,
        code,
        internal: status.is_server_error(),
    }
}

impl From<FlowError> for ApiError {
    fn from(error: FlowError) -> Self {
        let mapping = error_mapping(&error);
        let mut api = Self::new(mapping.status, mapping.code, error.to_string());
        match &error {
            FlowError::TemplateInvalid(TemplateError::Invalid { problems }) => {
                api.message = "the template is missing required elements or does not render".into();
                api.details = Some(json!({ "problems": problems }));
            }
            FlowError::InProgress { retry_after_secs } => api.retry_after = Some(*retry_after_secs),
            FlowError::Store(StoreError::Unavailable { reason, .. }) => {
                // The reason is the operator's remedy ("the disk is full"), not an internal.
                api.message = format!("the store is unavailable ({reason}); retry later");
                api.retry_after = Some(1);
            }
            FlowError::Store(_) | FlowError::Contention | FlowError::ProofKeyUnavailable(_) => {
                api.message = "the service is temporarily unavailable; retry".into();
                api.retry_after = Some(1);
            }
            FlowError::Send(e) if e.is_retryable() => {
                api.message = "the messaging provider is busy or failed; retry".into();
                api.retry_after = Some(PROVIDER_RETRY_AFTER_SECS);
            }
            FlowError::Send(_) => {
                api.message = "the messaging provider refused the message".into();
            }
            FlowError::Unhashable(_) => {
                api.message = "the change could not be recorded".into();
            }
            _ => {}
        }
        if mapping.internal {
            api.cause = Some(Arc::new(error));
        }
        api
    }
}

impl ApiError {
    /// The JSON body `{"error": {"code", "message", "retryable", ...details}}`, written where a
    /// response (or one result of a batch) is written: so this is where a 5xx's cause is logged.
    /// `retryable` is true exactly when the response carries `Retry-After`: a batch result has
    /// no header of its own, so the body says whether the same message may be sent again.
    pub fn body(&self) -> serde_json::Value {
        if let Some(cause) = &self.cause {
            tracing::error!(code = self.code, error = ?cause, "request failed on the service's side");
        }
        let mut error = json!({
            "code": self.code,
            "message": self.message,
            "retryable": self.retry_after.is_some(),
        });
        if let (Some(secs), Some(map)) = (self.retry_after, error.as_object_mut()) {
            map.insert("retry_after".into(), json!(secs));
        }
        if let (Some(details), Some(map)) = (&self.details, error.as_object_mut())
            && let Some(fields) = details.as_object()
        {
            for (k, v) in fields {
                map.insert(k.clone(), v.clone());
            }
        }
        json!({ "error": error })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body())).into_response();
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

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use consent::flows::FlowError;

    use super::*;

    /// Log lines written while `f` runs on this thread.
    fn logged(f: impl FnOnce()) -> String {
        #[derive(Clone, Default)]
        struct Lines(Arc<Mutex<Vec<u8>>>);
        impl Write for Lines {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let lines = Lines::default();
        let writer = lines.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, f);
        String::from_utf8_lossy(&lines.0.lock().unwrap()).to_string()
    }

    #[test]
    fn the_mapping_is_pure_and_a_service_failure_is_logged_where_its_body_is_written() {
        let logs = logged(|| {
            let api = ApiError::from(FlowError::Contention);
            assert_eq!(api.status, StatusCode::SERVICE_UNAVAILABLE);
            assert!(api.cause.is_some());
        });
        assert!(logs.is_empty(), "mapping logged: {logs}");
        let logs = logged(|| {
            let body = ApiError::from(FlowError::Contention).body();
            assert_eq!(body["error"]["code"], "service_unavailable");
            assert!(
                !body.to_string().contains("Contention"),
                "internals in {body}"
            );
        });
        assert!(
            logs.contains("request failed on the service's side"),
            "{logs}"
        );
        let logs = logged(|| {
            let _ = ApiError::from(FlowError::ConsentNotFound).body();
        });
        assert!(
            logs.is_empty(),
            "a client's mistake logged as a failure: {logs}"
        );
    }

    fn provider_failure(retryable: bool) -> FlowError {
        FlowError::Send(consent::ports::SendError::Provider {
            operation: "publish",
            retryable,
            source: Box::new(std::io::Error::other("Throttling")),
        })
    }

    #[test]
    fn a_throttled_send_is_a_503_with_retry_after_and_a_refused_one_a_502() {
        let throttled = ApiError::from(provider_failure(true));
        assert_eq!(throttled.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(throttled.code, "provider_unavailable");
        let body = throttled.body();
        assert_eq!(body["error"]["retryable"], true, "{body}");
        assert_eq!(
            body["error"]["retry_after"], PROVIDER_RETRY_AFTER_SECS,
            "{body}"
        );
        let response = throttled.into_response();
        assert_eq!(
            response.headers().get(header::RETRY_AFTER),
            Some(&HeaderValue::from(PROVIDER_RETRY_AFTER_SECS))
        );

        let refused = ApiError::from(provider_failure(false));
        assert_eq!(refused.status, StatusCode::BAD_GATEWAY);
        assert_eq!(refused.code, "provider_unavailable");
        assert_eq!(refused.body()["error"]["retryable"], false);
        let response = refused.into_response();
        assert!(response.headers().get(header::RETRY_AFTER).is_none());
    }

    #[test]
    fn a_clients_mistake_is_not_retryable() {
        let body = ApiError::from(FlowError::ConsentNotFound).body();
        assert_eq!(body["error"]["retryable"], false, "{body}");
        assert!(body["error"].get("retry_after").is_none(), "{body}");
    }
}
