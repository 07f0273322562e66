//! Lambda bootstrap: JSON tracing, clients built once at cold start, then the daily run.

use lambda_runtime::{Error, LambdaEvent, run, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    consent_aws::logging::init_lambda_logging();
    let services = consent_aws::services_from_env(carrier_reconciliation::KEYS_USED).await?;
    let services = &services;
    run(service_fn(
        move |_: LambdaEvent<serde_json::Value>| async move {
            carrier_reconciliation::reconcile(services)
                .await
                .map(|report| serde_json::json!(report))
                .map_err(Error::from)
        },
    ))
    .await
}
