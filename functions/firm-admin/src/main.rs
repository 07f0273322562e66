//! Lambda bootstrap: JSON tracing, clients built once at cold start, then the router.

use lambda_http::{Error, run, tracing};

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    // The one function that signs proof documents: it needs the proof key.
    let services = consent_aws::services_from_env_with_proof_key().await?;
    run(firm_admin::router(services)).await
}
