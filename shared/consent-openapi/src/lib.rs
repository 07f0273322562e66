//! The API's OpenAPI 3.1 document: every HTTP function's routes, as their handlers document
//! them, with the shared error responses and the SigV4 scheme on `/v1`. `docs/openapi.json` is
//! this document, written by `cargo run -p consent-local -- openapi`; firm-admin serves that
//! file at `GET /v1/openapi.json`, and the tests fail when it differs from what this generates.

use firm_admin::params::{Include, ProofFormat, TemplateNameParam};
use utoipa::openapi::OpenApi;
use utoipa::{PartialSchema, ToSchema};

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
        firm_admin::operations(),
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
    file_json(&document())
}

/// An OpenAPI document written as `docs/openapi.json` is: pretty JSON with a final newline.
pub fn file_json(doc: &OpenApi) -> String {
    let mut json = doc
        .to_pretty_json()
        // Serializing the document's own types cannot fail; were it to, an empty document
        // would fail every test that reads it.
        .unwrap_or_default();
    json.push('\n');
    json
}
