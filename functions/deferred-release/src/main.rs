//! Lambda bootstrap: JSON tracing, clients built once at cold start, then the scheduled release.

use lambda_runtime::{Error, LambdaEvent, run, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    consent_aws::logging::init_lambda_logging();
    let services = consent_aws::services_from_env(deferred_release::KEYS_USED).await?;
    let services = &services;
    run(service_fn(
        move |_: LambdaEvent<serde_json::Value>| async move {
            deferred_release::release_all(services)
                .await
                .map(|report| serde_json::json!({ "taken": report.taken, "sent": report.sent }))
                .map_err(Error::from)
        },
    ))
    .await
}
