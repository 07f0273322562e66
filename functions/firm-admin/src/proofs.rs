//! Proofs: a number's signed proof document (or its printable page), the firm's audit bundle,
//! and the public key that verifies both.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use consent::flows::Services;
use consent_http::openapi::{ErrorBody, FirmPath, Unavailable};
use consent_http::{ApiError, ApiPath};
use serde::Serialize;
use utoipa::ToSchema;

use crate::openapi::{AuditBundleSchema, ProofDocumentSchema};
use crate::params::{BundleQuery, PhonePath, ProofQuery};
use crate::proof_page;
use crate::query::{QueryParams, params, shown_texts};

/// The public key that verifies proofs and bundles.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProofKeyView {
    /// The key's id, as proofs name their signer.
    key_id: String,
    /// `Ed25519`.
    algorithm: String,
    /// The raw public key, base64.
    public_key: String,
    /// The same, hex.
    public_key_hex: String,
}

/// A number's signed proof, or its printable page.
#[utoipa::path(
    get,
    path = "/v1/firms/{firm_id}/consents/{phone}/proof",
    tag = "proofs",
    operation_id = "getProof",
    params(PhonePath, ProofQuery),
    responses(
        (status = 200, description = "The signed proof (`consent-proof verify` checks it \\
            offline), or with `format=html` a printable page of it.",
            content((ProofDocumentSchema = "application/json"), (String = "text/html"))),
        (status = 404, description = "`firm_not_found` or `consent_not_found`.",
            body = ErrorBody),
        (status = 422, description = "`invalid_phone`, `invalid_include` or `invalid_request` \\
            (a `format` other than `json` or `html`).", body = ErrorBody),
        Unavailable,
    )
)]
pub async fn get_proof(
    State(services): State<Services>,
    ApiPath((firm_id, phone)): ApiPath<(String, String)>,
    query: QueryParams,
) -> Result<Response, ApiError> {
    let params = params(query)?;
    let texts = shown_texts(&params)?;
    let html = match params.get("format").map(String::as_str) {
        None | Some("json") => false,
        Some("html") => true,
        Some(_) => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_request",
                "format: must be json or html",
            ));
        }
    };
    let proof = services.proof(&firm_id, &phone, texts).await?;
    if html {
        return Ok(proof_page::render(&proof).into_response());
    }
    Ok(axum::Json(proof.to_json()).into_response())
}

/// `GET /v1/firms/{firm_id}/proofs[?status=...]`: the firm's audit bundle, streamed as it is
/// made (docs/proof-format.md). What can fail for the caller (firm, status, proof key) fails
/// before the first byte; a failure after it cuts the body short, which no verifier accepts.
#[utoipa::path(
    get,
    path = "/v1/firms/{firm_id}/proofs",
    tag = "proofs",
    operation_id = "getAuditBundle",
    params(FirmPath, BundleQuery),
    responses(
        (status = 200, description = "The bundle (`consent-proof verify-bundle` checks it \\
            offline), streamed.", body = AuditBundleSchema),
        (status = 404, description = "`firm_not_found`.", body = ErrorBody),
        (status = 422, description = "`invalid_request` (a bad `status`) or `invalid_include`.",
            body = ErrorBody),
        Unavailable,
    )
)]
pub async fn get_audit_bundle(
    State(services): State<Services>,
    ApiPath(firm_id): ApiPath<String>,
    query: QueryParams,
) -> Result<Response, ApiError> {
    let mut params = params(query)?;
    let texts = shown_texts(&params)?;
    let bundle = services
        .audit_bundle(&firm_id, params.remove("status").as_deref(), texts)
        .await?;
    let mut response = Response::new(axum::body::Body::from_stream(bundle.into_stream()));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(response)
}

/// The public key that verifies every proof and bundle this deployment signs.
#[utoipa::path(
    get,
    path = "/v1/proof-key",
    tag = "proofs",
    operation_id = "getProofKey",
    responses(
        (status = 200, description = "The key.", body = ProofKeyView),
        Unavailable,
    )
)]
pub async fn get_proof_key(
    State(services): State<Services>,
) -> Result<axum::Json<ProofKeyView>, ApiError> {
    let (key, hex) = services.proof_key().await?;
    Ok(axum::Json(ProofKeyView {
        key_id: key.key_id,
        algorithm: key.algorithm,
        public_key: key.public_key,
        public_key_hex: hex,
    }))
}
