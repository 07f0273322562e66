//! Lambda bootstrap: JSON tracing, clients built once at cold start, then the router.

use lambda_http::{Error, run, tracing};

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let services = consent_aws::services_from_env(contact_created::KEYS_USED).await?;
    run(contact_created::router(services)).await
}
