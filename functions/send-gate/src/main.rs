//! Lambda bootstrap: JSON tracing, clients built once at cold start, then the router.

use lambda_http::{Error, run};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    consent_aws::logging::init_lambda_logging();
    let services = consent_aws::services_from_env(send_gate::KEYS_USED).await?;
    run(send_gate::router(services)).await
}
