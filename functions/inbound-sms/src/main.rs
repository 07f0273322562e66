//! Lambda bootstrap: JSON tracing, clients built once at cold start, then the SNS handler. A
//! retryable failure fails the invocation so SNS redelivers; records are idempotent.

use aws_lambda_events::event::sns::SnsEvent;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    consent_aws::logging::init_lambda_logging();
    let services = consent_aws::services_from_env(inbound_sms::KEYS_USED).await?;
    let services = &services;
    run(service_fn(move |event: LambdaEvent<SnsEvent>| async move {
        inbound_sms::handle(services, event.payload)
            .await
            .map_err(Error::from)
    }))
    .await
}
