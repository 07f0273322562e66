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

/// The firm-admin routes, each registered with its documentation.
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

/// The firm-admin routes.
pub fn router(services: Services) -> Router {
    let (router, _) = routes().split_for_parts();
    router
        .layer(consent_http::body_limit())
        .with_state(services)
}

/// The OpenAPI operations of [`router`] alone and the schemas they use (the whole API's
/// document is put together by the `consent-openapi` crate).
pub fn operations() -> utoipa::openapi::OpenApi {
    routes().into_openapi()
}
