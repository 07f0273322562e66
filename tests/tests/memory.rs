//! The scenario suite on the in-memory store.

use consent_tests::{TestService, scenarios};

macro_rules! on_memory {
    ($($name:ident),* $(,)?) => {$(
        #[tokio::test]
        async fn $name() {
            scenarios::$name(&TestService::in_memory()).await;
        }
    )*};
}

consent_tests::every_scenario!(on_memory);
