//! Lambda bootstrap: JSON tracing, clients built once at cold start, then the router, with the
//! caller's address taken from API Gateway's request context (the evidence of a confirmation).

use axum::extract::Request;
use axum::middleware::Next;
use email_confirm::ClientIp;
use lambda_http::request::RequestContext;
use lambda_http::{Error, run};

/// Copies API Gateway's source IP into the request for the handler.
async fn source_ip(mut request: Request, next: Next) -> axum::response::Response {
    let ip = match request.extensions().get::<RequestContext>() {
        Some(RequestContext::ApiGatewayV2(context)) => context.http.source_ip.clone(),
        _ => None,
    };
    if let Some(ip) = ip {
        request.extensions_mut().insert(ClientIp(ip));
    }
    next.run(request).await
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    consent_aws::logging::init_lambda_logging();
    let services = consent_aws::services_from_env(email_confirm::KEYS_USED).await?;
    run(email_confirm::router(services).layer(axum::middleware::from_fn(source_ip))).await
}
