//! Lambda bootstrap: JSON tracing, clients built once at cold start, then the router.

use lambda_http::{Error, run, tracing};

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let services = consent_aws::services_from_env(send_gate::KEYS_USED).await?;
    run(send_gate::router(services)).await
}
