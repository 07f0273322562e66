//! The OpenAPI document's shared parts: the error body and its codes, the error responses many
//! routes share, and the IAM (SigV4) scheme of the `/v1` routes. Each function crate documents
//! its own routes on its handlers; firm-admin puts the whole document together.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::openapi::extensions::Extensions;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, HttpMethod, OpenApi, RefOr, Response, ResponseBuilder};
use utoipa::{IntoParams, IntoResponses, PartialSchema, ToSchema};

/// The name of the security scheme every `/v1` operation requires.
pub const SIGV4: &str = "sigv4";

/// The firm a `/v1/firms/{firm_id}/...` route acts for.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct FirmPath {
    /// The firm's id, as the CRM registered it (`demo` on the local server's `--demo`).
    #[param(example = "demo")]
    pub firm_id: String,
}

/// The body of every error response: `{"error": {...}}`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"error": {"code": "invalid_phone", "message": "phone: not a valid phone number", "retryable": false}}))]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// What went wrong, for a program (`code`, `retryable`) and for a person (`message`).
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code; each operation lists the ones it answers with.
    pub code: ErrorCode,
    /// What went wrong, in words (never the service's internals).
    pub message: String,
    /// True exactly when the same request may succeed later; the response then carries
    /// `Retry-After` and `retry_after`.
    pub retryable: bool,
    /// Seconds to wait before retrying (present exactly when `retryable`).
    #[schema(minimum = 0)]
    pub retry_after: Option<u64>,
    /// `template_invalid` only: each thing the template lacks or breaks, in words.
    pub problems: Option<Vec<String>>,
}

/// Every error code the service answers with.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// No such route, or a path segment that is not UTF-8.
    NotFound,
    /// The path exists, the method does not.
    MethodNotAllowed,
    /// The firm is not registered.
    FirmNotFound,
    /// The firm has no record for the number.
    ConsentNotFound,
    /// The firm has no contact with that id.
    ContactNotFound,
    /// No template has that name.
    TemplateNotFound,
    /// The body is not JSON.
    MalformedJson,
    /// The body is not declared as JSON.
    UnsupportedMediaType,
    /// The body is larger than 1 MiB.
    BodyTooLarge,
    /// A field or query parameter is missing, of the wrong type or out of range.
    InvalidRequest,
    /// A phone number that is not one.
    InvalidPhone,
    /// A feed cursor that is not an event id.
    InvalidCursor,
    /// A language other than `en` or `es`.
    InvalidLanguage,
    /// `include` other than `texts`.
    InvalidInclude,
    /// A staff opt-out channel the service does not know.
    InvalidChannel,
    /// The firm requires `consent_capture` on every new contact.
    ConsentCaptureRequired,
    /// Double opt-in turned off without `acknowledge_risk: true`.
    RiskNotAcknowledged,
    /// A template override lacks what the carriers require (see `problems`).
    TemplateInvalid,
    /// An idempotency key reused with a different request.
    IdempotencyKeyReused,
    /// A batch of more than 1,000 messages.
    BatchTooLarge,
    /// An inbound SMS the service cannot route or read (local server only).
    InboundRejected,
    /// Another firm already sends from that number.
    SmsNumberInUse,
    /// The same idempotency key is being worked on by another request: retry.
    RequestInProgress,
    /// The store cannot be written or read now: retry.
    StoreUnavailable,
    /// A passing failure on the service's side: retry.
    ServiceUnavailable,
    /// The deployment has no proof key.
    ProofKeyNotConfigured,
    /// The deployment has no confirmation-link keys.
    TokenKeysNotConfigured,
    /// The SMS or email provider refused the message for now (503, retry) or for good (502).
    ProviderUnavailable,
    /// A change the service could not record.
    InternalError,
}

/// The `$ref` of a shared response in `components.responses`.
fn shared(name: &str) -> RefOr<Response> {
    RefOr::Ref(utoipa::openapi::Ref::from_response_name(name))
}

/// A JSON error response with `description`; `retry` adds the `Retry-After` header.
fn error_response(description: &str, retry: bool) -> Response {
    let mut response = ResponseBuilder::new().description(description).content(
        "application/json",
        ContentBuilder::new()
            .schema(Some(ErrorBody::schema_ref()))
            .build(),
    );
    if retry {
        response = response.header(
            "Retry-After",
            HeaderBuilder::new()
                .schema(Some(u64::schema()))
                .description(Some(
                    "Seconds to wait before sending the same request again.",
                ))
                .build(),
        );
    }
    response.build()
}

impl ErrorBody {
    /// `#/components/schemas/ErrorBody`.
    fn schema_ref() -> RefOr<utoipa::openapi::schema::Schema> {
        RefOr::Ref(utoipa::openapi::Ref::from_schema_name(Self::name()))
    }
}

/// The responses every route may answer whatever its input: the store or a key unavailable
/// (503, retry after `Retry-After`).
pub struct Unavailable;

impl IntoResponses for Unavailable {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        BTreeMap::from([("503".to_string(), shared("Unavailable"))])
    }
}

/// The responses of a route with a JSON body, to a body the service cannot read: 400 not JSON,
/// 413 too large, 415 not declared as JSON.
pub struct JsonBodyRejections;

impl IntoResponses for JsonBodyRejections {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        BTreeMap::from([
            ("400".to_string(), shared("MalformedJson")),
            ("413".to_string(), shared("BodyTooLarge")),
            ("415".to_string(), shared("UnsupportedMediaType")),
        ])
    }
}

/// The shared responses and schemas the operations refer to, and the SigV4 scheme: the
/// document every router's operations are merged into.
pub fn base_document(title: &str, description: &str) -> OpenApi {
    let mut doc = OpenApi::new(
        utoipa::openapi::InfoBuilder::new()
            .title(title)
            .version(env!("CARGO_PKG_VERSION"))
            .description(Some(description))
            .license(Some(
                utoipa::openapi::LicenseBuilder::new()
                    .name("Apache-2.0")
                    .identifier(Some("Apache-2.0"))
                    .build(),
            ))
            .build(),
        utoipa::openapi::Paths::new(),
    );
    let components = doc.components.get_or_insert_with(Default::default);
    let mut schemas = Vec::new();
    ErrorBody::schemas(&mut schemas);
    components
        .schemas
        .insert(ErrorBody::name().into_owned(), ErrorBody::schema());
    for (name, schema) in schemas {
        components.schemas.insert(name, schema);
    }
    for (name, description, retry) in [
        (
            "Unavailable",
            "`store_unavailable` or `service_unavailable` (retry after `Retry-After`), \
             `provider_unavailable` where the route sends (the provider refused for now; \
             nothing was sent; retry after `Retry-After`), or `proof_key_not_configured`, \
             `token_keys_not_configured` (not until the deployment is fixed).",
            true,
        ),
        (
            "MalformedJson",
            "`malformed_json`: the body is not JSON.",
            false,
        ),
        (
            "BodyTooLarge",
            "`body_too_large`: the body is larger than 1 MiB.",
            false,
        ),
        (
            "UnsupportedMediaType",
            "`unsupported_media_type`: send the body with `Content-Type: application/json`.",
            false,
        ),
    ] {
        components.responses.insert(
            name.to_string(),
            RefOr::T(error_response(description, retry)),
        );
    }
    components.add_security_scheme(SIGV4, sigv4_scheme());
    doc
}

/// AWS Signature Version 4 over the `Authorization` header, as API Gateway's IAM authorizer
/// checks it (OpenAPI has no type of its own for it; this is how API Gateway exports it).
fn sigv4_scheme() -> SecurityScheme {
    let mut key = ApiKeyValue::with_description(
        "Authorization",
        "AWS Signature Version 4 (service `execute-api`) by an IAM principal allowed to call \
         the API; see docs/integrating.md. The local server checks no signature.",
    );
    let mut extensions = Extensions::default();
    extensions.insert("x-amazon-apigateway-authtype".into(), "awsSigv4".into());
    key.extensions = Some(extensions);
    SecurityScheme::ApiKey(ApiKey::Header(key))
}

/// Requires SigV4 on every operation under `/v1` (in AWS the HTTP API's IAM authorizer is the
/// default on them; the confirmation page is public).
pub fn require_sigv4_on_v1(doc: &mut OpenApi) {
    for (path, item) in doc.paths.paths.iter_mut() {
        if !path.starts_with("/v1/") {
            continue;
        }
        for method in [
            HttpMethod::Get,
            HttpMethod::Put,
            HttpMethod::Post,
            HttpMethod::Delete,
            HttpMethod::Patch,
        ] {
            if let Some(operation) = operation_mut(item, method) {
                operation.security = Some(vec![SecurityRequirement::new::<_, _, &str>(SIGV4, [])]);
            }
        }
    }
}

/// The operation of `method` in a path item.
pub fn operation_mut(
    item: &mut utoipa::openapi::PathItem,
    method: HttpMethod,
) -> Option<&mut utoipa::openapi::path::Operation> {
    match method {
        HttpMethod::Get => item.get.as_mut(),
        HttpMethod::Put => item.put.as_mut(),
        HttpMethod::Post => item.post.as_mut(),
        HttpMethod::Delete => item.delete.as_mut(),
        HttpMethod::Patch => item.patch.as_mut(),
        HttpMethod::Head => item.head.as_mut(),
        HttpMethod::Options => item.options.as_mut(),
        HttpMethod::Trace => item.trace.as_mut(),
    }
}

/// Every operation of a document as (METHOD, path), sorted: what the drift tests compare with
/// the routers' route tables.
pub fn operations(doc: &OpenApi) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (path, item) in &doc.paths.paths {
        for (name, present) in [
            ("GET", item.get.is_some()),
            ("PUT", item.put.is_some()),
            ("POST", item.post.is_some()),
            ("DELETE", item.delete.is_some()),
            ("PATCH", item.patch.is_some()),
            ("HEAD", item.head.is_some()),
            ("OPTIONS", item.options.is_some()),
            ("TRACE", item.trace.is_some()),
        ] {
            if present {
                out.push((name.to_string(), path.clone()));
            }
        }
    }
    out.sort();
    out
}
