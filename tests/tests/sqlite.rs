//! The scenario suite on the SQLite store (the local server's), each scenario on a new database.

use consent_tests::sqlite::TempDatabase;
use consent_tests::{TestService, scenarios};

macro_rules! on_sqlite {
    ($($name:ident),* $(,)?) => {$(
        #[tokio::test]
        async fn $name() {
            let database = TempDatabase::new(stringify!($name));
            scenarios::$name(&TestService::on_store(database.store.clone())).await;
        }
    )*};
}

consent_tests::every_scenario!(on_sqlite);
