//! The scenario suite on the AWS adapters with the store on DynamoDB Local (AWS's own emulator)
//! and SNS and SES v2 on moto; what was sent is read back from what moto recorded. The tests of
//! this binary share one DynamoDB Local (a JVM takes seconds to start), each on a table of its
//! own (`consent-scenario-<name>`), and each starts its own moto server.

use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};

use consent::adapters::memory::SettableClock;
use consent_aws::{DynamoStore, SesMailer, SnsSmsSender, ensure_sender_identity};
use consent_tests::dynamodb_local::DynamoDbLocal;
use consent_tests::emulator::{Moto, SCENARIO_FROM};
use consent_tests::{TestService, afternoon, scenarios};

/// The next test's index: its firm ids and numbers differ from every other test's.
static NEXT_INDEX: AtomicU16 = AtomicU16::new(1);

/// A service whose store is a new table on the shared DynamoDB Local and whose providers are
/// a moto server of its own; keep the server alive as long as the service.
async fn on_dynamodb_local(scenario: &str) -> (TestService, Arc<Moto>) {
    let index = NEXT_INDEX.fetch_add(1, Ordering::Relaxed);
    let (dynamodb, moto) = tokio::join!(DynamoDbLocal::shared(), Moto::start());
    let moto = Arc::new(moto);
    let store: DynamoStore = dynamodb
        .store(&format!("consent-scenario-{scenario}"))
        .await;
    let sdk = moto.sdk();
    let ses = aws_sdk_sesv2::Client::new(&sdk);
    if let Err(e) = ensure_sender_identity(&ses, SCENARIO_FROM).await {
        panic!("creating the SES identity: {e}");
    }
    let clock = Arc::new(SettableClock::frozen(afternoon()));
    let service = TestService::new(
        Arc::new(store),
        Arc::new(SnsSmsSender::new(aws_sdk_sns::Client::new(&sdk))),
        Arc::new(SesMailer::new(ses, SCENARIO_FROM.to_string(), None)),
        moto.clone(),
        clock,
        index,
    );
    (service, moto)
}

macro_rules! on_dynamodb_local {
    ($($name:ident),* $(,)?) => {$(
        #[tokio::test]
        async fn $name() {
            let (service, _moto) = on_dynamodb_local(stringify!($name)).await;
            scenarios::$name(&service).await;
        }
    )*};
}

consent_tests::every_scenario!(on_dynamodb_local);
