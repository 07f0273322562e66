//! Lambda bootstrap: JSON tracing, the bus and its client built once at cold start, then each
//! batch of stream records published, its failures reported as batch item failures.

use aws_lambda_events::event::dynamodb::Event;
use aws_lambda_events::event::streams::DynamoDbEventResponse;
use consent_events::{EventBridgeBus, RetryPolicy, publish};
use lambda_runtime::{Error, LambdaEvent, run, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    consent_aws::logging::init_lambda_logging();
    let bus_name = consent_events::config::event_bus_from_env()?;
    let sdk = consent_aws::load_sdk_config().await;
    let bus = EventBridgeBus::new(aws_sdk_eventbridge::Client::new(&sdk), bus_name);
    let bus = &bus;
    run(service_fn(move |event: LambdaEvent<Event>| async move {
        let publication = publish(bus, &event.payload, &RetryPolicy::DEPLOYED).await;
        Ok::<DynamoDbEventResponse, Error>(publication.response())
    }))
    .await
}
