//! Query strings: read as text and checked by the handlers (so a bad value is our 422 with a
//! code, not axum's plain-text rejection), and described for the OpenAPI document.

use std::collections::HashMap;

use axum::extract::Query;
use axum::extract::rejection::QueryRejection;
use axum::http::StatusCode;
use consent::evidence::shown::ShownTexts;
use consent::flows::FlowError;
use consent::model::language::Language;
use consent_http::ApiError;

/// The query string as the handler receives it.
pub type QueryParams = Result<Query<HashMap<String, String>>, QueryRejection>;

/// The query parameters, or our 422 for a query string that does not parse.
pub fn params(query: QueryParams) -> Result<HashMap<String, String>, ApiError> {
    query.map(|Query(params)| params).map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
            e.body_text(),
        )
    })
}

/// The template routes' `?language=` (`en` when absent); any other value is the caller's
/// mistake (422 `invalid_language`).
pub fn template_language(query: QueryParams) -> Result<Language, ApiError> {
    let params = params(query)?;
    let language = params.get("language").map(String::as_str);
    Ok(Language::parse_or_default(language).map_err(FlowError::from)?)
}

/// Whether a route shows privileged texts: `?include=texts` for the firm's own copy, their
/// commitments alone without it; any other value is the caller's mistake (422).
pub fn shown_texts(params: &HashMap<String, String>) -> Result<ShownTexts, ApiError> {
    ShownTexts::from_query(params.get("include").map(String::as_str)).map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_include",
            e.to_string(),
        )
    })
}
