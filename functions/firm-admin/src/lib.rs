//! firm-admin: firm registration, the double opt-in switch, templates, consent records, their
//! signed proofs and a firm's audit bundle of them, exports, the firm's event feed, and the
//! API's OpenAPI document.

mod firms;
pub mod openapi;
pub mod params;
pub mod proof_page;
mod proofs;
mod query;
mod records;
mod templates;

use axum::Router;
use axum::routing::{get, post, put};
use consent::evidence::keys_used::KeysUsed;
use consent::flows::Services;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The keys this function reads at cold start: the proof key, which signs proof documents.
pub const KEYS_USED: KeysUsed = KeysUsed::PROOFS;

/// What `router` serves, as (method, path): the SAM template must route exactly these here.
pub const ROUTES: &[(&str, &str)] = &[
    ("PUT", "/v1/firms/{firm_id}"),
    ("GET", "/v1/firms/{firm_id}"),
    ("PUT", "/v1/firms/{firm_id}/double-opt-in"),
    ("GET", "/v1/firms/{firm_id}/templates"),
    ("PUT", "/v1/firms/{firm_id}/templates/{name}"),
    ("DELETE", "/v1/firms/{firm_id}/templates/{name}"),
    ("GET", "/v1/firms/{firm_id}/contacts/{contact_id}"),
    ("GET", "/v1/firms/{firm_id}/events"),
    ("GET", "/v1/firms/{firm_id}/consents"),
    ("GET", "/v1/firms/{firm_id}/consents/{phone}"),
    ("GET", "/v1/firms/{firm_id}/consents/{phone}/proof"),
    ("POST", "/v1/firms/{firm_id}/consents/{phone}/opt-out"),
    ("GET", "/v1/firms/{firm_id}/proofs"),
    ("GET", "/v1/proof-key"),
    ("GET", "/v1/openapi.json"),
];

/// The firm-admin routes, each registered with its documentation (for [`operations`]).
fn routes() -> OpenApiRouter<Services> {
    OpenApiRouter::new()
        .routes(routes!(firms::put_firm, firms::get_firm))
        .routes(routes!(firms::put_double_opt_in))
        .routes(routes!(templates::list_templates))
        .routes(routes!(templates::put_template, templates::delete_template))
        .routes(routes!(records::get_contact))
        .routes(routes!(records::get_events))
        .routes(routes!(records::export_consents))
        .routes(routes!(records::get_consent))
        .routes(routes!(proofs::get_proof))
        .routes(routes!(records::record_opt_out))
        .routes(routes!(proofs::get_audit_bundle))
        .routes(routes!(proofs::get_proof_key))
        .routes(routes!(openapi::get_openapi))
}

/// The firm-admin routes, as [`ROUTES`] lists them, on a plain axum router: `routes()` would
/// build every operation's documentation at cold start (about 2 ms here) for a document only
/// `GET /v1/openapi.json` serves, and that serves the checked-in file.
pub fn router(services: Services) -> Router {
    Router::new()
        .route(
            "/v1/firms/{firm_id}",
            put(firms::put_firm).get(firms::get_firm),
        )
        .route(
            "/v1/firms/{firm_id}/double-opt-in",
            put(firms::put_double_opt_in),
        )
        .route(
            "/v1/firms/{firm_id}/templates",
            get(templates::list_templates),
        )
        .route(
            "/v1/firms/{firm_id}/templates/{name}",
            put(templates::put_template).delete(templates::delete_template),
        )
        .route(
            "/v1/firms/{firm_id}/contacts/{contact_id}",
            get(records::get_contact),
        )
        .route("/v1/firms/{firm_id}/events", get(records::get_events))
        .route(
            "/v1/firms/{firm_id}/consents",
            get(records::export_consents),
        )
        .route(
            "/v1/firms/{firm_id}/consents/{phone}",
            get(records::get_consent),
        )
        .route(
            "/v1/firms/{firm_id}/consents/{phone}/proof",
            get(proofs::get_proof),
        )
        .route(
            "/v1/firms/{firm_id}/consents/{phone}/opt-out",
            post(records::record_opt_out),
        )
        .route("/v1/firms/{firm_id}/proofs", get(proofs::get_audit_bundle))
        .route("/v1/proof-key", get(proofs::get_proof_key))
        .route("/v1/openapi.json", get(openapi::get_openapi))
        .layer(consent_http::body_limit())
        .with_state(services)
}

/// The OpenAPI operations of [`router`] alone and the schemas they use (the whole API's
/// document is put together by the `consent-openapi` crate).
pub fn operations() -> utoipa::openapi::OpenApi {
    routes().into_openapi()
}
