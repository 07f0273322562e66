//! The scenario suite on the embedded store.

use consent_tests::{TestService, scenarios};

macro_rules! on_memory {
    ($($name:ident),* $(,)?) => {$(
        #[tokio::test]
        async fn $name() {
            scenarios::$name(&TestService::in_memory()).await;
        }
    )*};
}

on_memory!(
    full_lifecycle,
    email_confirmation,
    email_after_stop,
    help_and_other_replies,
    double_opt_in_off,
    templates,
    batch,
    idempotent_repeats,
    bad_input,
    quiet_hours,
    frequency_caps,
    recipient_time_zones,
    carrier_opt_out,
    proof_of_consent,
    exports,
    contact_by_id,
    staff_opt_out,
);
