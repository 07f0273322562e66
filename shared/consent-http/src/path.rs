//! Path parameters whose rejection is our JSON error: a segment that does not decode to UTF-8
//! names nothing the service could hold, so it is the same 404 `not_found` as an unknown route
//! (axum's own rejection is a plain-text 400 no client is told to expect).

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::ApiError;

/// The route's path parameters, as axum's `Path`, with our 404 for one that cannot be read.
#[derive(Debug, Clone)]
pub struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(Self(value)),
            // The route and the handler's parameters disagree: our bug, not the caller's.
            Err(rejection) if rejection.status().is_server_error() => {
                tracing::error!(error = %rejection.body_text(), "path parameters do not fit the route");
                Err(ApiError::new(
                    rejection.status(),
                    "internal_error",
                    "the request could not be routed",
                ))
            }
            // Not the caller's text in the log: the rejection quotes the undecodable bytes.
            Err(rejection) => {
                tracing::debug!(status = %rejection.status(), "path parameters rejected");
                Err(ApiError::not_found())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use axum::routing::get;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    use super::ApiPath;

    async fn echo(ApiPath(id): ApiPath<String>) -> String {
        id
    }

    async fn get_path(uri: &str) -> (StatusCode, String) {
        let router = Router::new().route("/things/{id}", get(echo));
        let request = Request::builder()
            .uri(uri)
            .body(Body::empty())
            .expect("a request");
        let response = match router.oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
        let status = response.status();
        let body = response.into_body().collect().await.expect("a body");
        (
            status,
            String::from_utf8_lossy(&body.to_bytes()).into_owned(),
        )
    }

    #[tokio::test]
    async fn a_segment_that_is_not_utf8_is_our_json_404() {
        assert_eq!(
            get_path("/things/a%20b").await,
            (StatusCode::OK, "a b".to_string())
        );
        let (status, body) = get_path("/things/%FF%FE").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let body: serde_json::Value = serde_json::from_str(&body).expect("a JSON body");
        assert_eq!(body["error"]["code"], "not_found", "{body}");
    }
}
