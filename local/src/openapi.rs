//! The local server's OpenAPI document: the API's (`consent-openapi`) and the local-only routes,
//! served at `GET /openapi.json`; the schemathesis run fuzzes the server from it.

use std::sync::LazyLock;

use utoipa::openapi::OpenApi;

/// What the local document adds to the API's description.
const LOCAL_NOTE: &str = "\n\nThis is the local server's document: the API above, unsigned \
(the local server checks no signature and records every change as made by `local`), and the \
local-only routes (tag `local server`) that stand in for the carrier, the outbox and the clock.";

/// The API's document with the local-only routes.
pub fn document() -> OpenApi {
    let mut doc = consent_openapi::document();
    doc.merge(crate::dev::operations());
    if let Some(description) = &mut doc.info.description {
        description.push_str(LOCAL_NOTE);
    }
    doc
}

/// [`document`] as pretty JSON with a final newline.
pub fn document_json() -> String {
    consent_openapi::file_json(&document())
}

/// The local server's OpenAPI 3.1 document: the API's routes and the local-only ones.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "local server",
    operation_id = "getLocalOpenApi",
    responses(
        (status = 200, description = "The OpenAPI 3.1 document of every route this server \\
            serves.", body = Object, content_type = "application/json"),
    )
)]
pub async fn get_local_openapi() -> axum::response::Response {
    // Made once per process: it depends on the code alone.
    static DOCUMENT: LazyLock<String> = LazyLock::new(document_json);
    firm_admin::openapi::json_response(DOCUMENT.as_str())
}
