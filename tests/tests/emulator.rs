//! The scenario suite on the AWS adapters (DynamoDB, SNS, SES v2 through the AWS SDK) against a
//! moto server; what was sent is read back from what moto recorded.

use std::sync::Arc;

use consent::adapters::memory::SettableClock;
use consent_aws::{DynamoStore, SesMailer, SnsSmsSender, ensure_sender_identity};
use consent_tests::emulator::Moto;
use consent_tests::{TestService, afternoon, scenarios};

/// The sender address the service mails from (SES refuses it until it is an identity).
const FROM: &str = "consent@hartwell.example";

async fn on_emulator(index: u16) -> (TestService, Arc<Moto>) {
    let moto = Arc::new(Moto::start().await);
    let sdk = moto.sdk();
    let store: DynamoStore = moto.store(&format!("consent-scenario-{index}")).await;
    let ses = aws_sdk_sesv2::Client::new(&sdk);
    if let Err(e) = ensure_sender_identity(&ses, FROM).await {
        panic!("creating the SES identity: {e}");
    }
    let clock = Arc::new(SettableClock::frozen(afternoon()));
    let service = TestService::new(
        Arc::new(store),
        Arc::new(SnsSmsSender::new(aws_sdk_sns::Client::new(&sdk))),
        Arc::new(SesMailer::new(ses, FROM.to_string(), None)),
        moto.clone(),
        clock,
        index,
    );
    (service, moto)
}

macro_rules! on_emulator {
    ($($index:literal => $name:ident),* $(,)?) => {$(
        #[tokio::test]
        async fn $name() {
            let (service, _moto) = on_emulator($index).await;
            scenarios::$name(&service).await;
        }
    )*};
}

// Not here: batch_outcomes_written_together (27 numbers and their batch take over 7 minutes on
// moto, which copies the table for every transaction); it runs on DynamoDB Local, whose
// transactions are DynamoDB's, in tests/tests/dynamodb_local.rs.
on_emulator!(
    1 => full_lifecycle,
    2 => email_confirmation,
    3 => email_after_stop,
    4 => help_and_other_replies,
    5 => double_opt_in_off,
    6 => templates,
    7 => batch,
    8 => idempotent_repeats,
    9 => bad_input,
    10 => quiet_hours,
    11 => frequency_caps,
    12 => recipient_time_zones,
    13 => carrier_opt_out,
    14 => proof_of_consent,
    15 => exports,
    16 => contact_by_id,
    17 => staff_opt_out,
    18 => audit_bundle,
    19 => event_feed,
    20 => late_stop,
    21 => help_from_a_stranger,
    30 => prior_consent,
    31 => email_decline,
    40 => state_rules,
    41 => carrier_reconciliation,
    42 => spanish_speaking_contact,
    43 => templates_per_language,
    44 => maryland_at_the_cap,
);
