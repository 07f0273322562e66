//! firm-admin's part of the API's OpenAPI document: the route that serves the whole document
//! and the schemas of its proof responses. The document itself is put together from every
//! function's routes by the `consent-openapi` crate and checked in as `docs/openapi.json`, which
//! this function serves as it is, so its binary links none of the other functions' handlers.

use utoipa::ToSchema;

/// The whole API's document, as `docs/openapi.json` holds it (the tests keep the two equal).
pub const DOCUMENT: &str = include_str!("../../../docs/openapi.json");

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
    json_response(DOCUMENT)
}

/// `json` as an `application/json` response.
pub fn json_response(json: &'static str) -> axum::response::Response {
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
