//! The API's OpenAPI 3.1 document: every HTTP function's routes, as their handlers document
//! them, with the shared error responses and the SigV4 scheme on `/v1`. firm-admin serves it at
//! `GET /v1/openapi.json`; `docs/openapi.json` is the same document, checked in.

use std::sync::LazyLock;

use utoipa::openapi::OpenApi;
use utoipa::{PartialSchema, ToSchema};

use crate::params::{Include, ProofFormat, TemplateNameParam};

/// What the document says of the API as a whole.
const DESCRIPTION: &str = "SMS double opt-in consent for law-firm CRMs: contacts, the send \
gate, consent records and their signed proofs, the event feed, and the confirmation page behind \
the email link. Every `/v1` call is signed with AWS Signature Version 4 (IAM); the confirmation \
page is public. Errors are `{\"error\": {\"code\", \"message\", \"retryable\"}}`: a client's \
mistake is a 4xx with a stable code, and `retryable: true` (with `Retry-After`) marks exactly the \
requests that may succeed if sent again. docs/integrating.md is the guide.";

/// The whole API's document.
pub fn document() -> OpenApi {
    let mut doc = consent_http::openapi::base_document("SMS consent service", DESCRIPTION);
    for part in [
        contact_created::operations(),
        send_gate::operations(),
        crate::operations(),
        email_confirm::operations(),
    ] {
        doc.merge(part);
    }
    // The parameters' own schemas: utoipa registers those of bodies, not of parameters.
    let components = doc.components.get_or_insert_with(Default::default);
    for (name, schema) in [
        (Include::name(), Include::schema()),
        (ProofFormat::name(), ProofFormat::schema()),
        (TemplateNameParam::name(), TemplateNameParam::schema()),
    ] {
        components.schemas.insert(name.into_owned(), schema);
    }
    consent_http::openapi::require_sigv4_on_v1(&mut doc);
    doc
}

/// The document as the file and the route give it: pretty JSON with a final newline.
pub fn document_json() -> String {
    let mut json = document()
        .to_pretty_json()
        // Serializing the document's own types cannot fail; were it to, an empty document
        // would fail every test that reads it.
        .unwrap_or_default();
    json.push('\n');
    json
}

/// This API's OpenAPI 3.1 document, to generate a client from.
#[utoipa::path(
    get,
    path = "/v1/openapi.json",
    tag = "meta",
    operation_id = "getOpenApi",
    responses(
        (status = 200, description = "The OpenAPI 3.1 document of every route.",
            body = Object, content_type = "application/json"),
    )
)]
pub async fn get_openapi() -> axum::response::Response {
    // Made once per process: it depends on the code alone.
    static DOCUMENT: LazyLock<String> = LazyLock::new(document_json);
    json_response(DOCUMENT.clone())
}

/// `json` as an `application/json` response.
pub fn json_response(json: String) -> axum::response::Response {
    use axum::response::IntoResponse;
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        json,
    )
        .into_response()
}

/// A signed proof document (docs/proof-format.md): the firm, the number, its consent, the
/// hash-chained trail and the signature over all of it. Only the members a reader relies on
/// are listed; the format may add members.
#[derive(Debug, ToSchema)]
#[schema(as = ProofDocument)]
pub struct ProofDocumentSchema {
    /// `consent-proof/v1` or a later version.
    pub format: String,
    /// When the document was made, RFC 3339.
    pub generated_at: String,
    /// The firm's id, name and number.
    #[schema(value_type = Object)]
    pub firm: serde_json::Value,
    /// The number, E.164.
    pub phone: String,
    /// The current status and basis.
    #[schema(value_type = Object)]
    pub consent: serde_json::Value,
    /// The chain's parameters, genesis and head.
    #[schema(value_type = Object)]
    pub chain: serde_json::Value,
    /// Every chained event, oldest first.
    #[schema(value_type = Vec<Object>)]
    pub events: Vec<serde_json::Value>,
    /// Events recorded while the number had no record: hashed, not linked.
    #[schema(value_type = Vec<Object>)]
    pub unchained_events: Vec<serde_json::Value>,
    /// The key that signed the document.
    #[schema(value_type = Object)]
    pub signer: serde_json::Value,
    /// Ed25519 signature, base64, over the canonical JSON of the rest.
    pub signature: String,
}

/// A firm's audit bundle (docs/proof-format.md): every number's proof and a signed manifest.
#[derive(Debug, ToSchema)]
#[schema(as = AuditBundle)]
pub struct AuditBundleSchema {
    /// The bundle format's name and version.
    pub format: String,
    /// Every number's signed proof.
    pub proofs: Vec<ProofDocumentSchema>,
    /// The numbers, their chain heads and event counts, and the firm chain's head, signed with
    /// the proof key.
    #[schema(value_type = Object)]
    pub manifest: serde_json::Value,
}
