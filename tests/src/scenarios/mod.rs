//! The scenarios, each an async function over a `TestService`, so the same flows run on the
//! in-memory store (`tests/memory.rs`), the SQLite store (`tests/sqlite.rs`) and the AWS adapters
//! (`tests/emulator.rs`). One file per area; the requests most of them make are here.

mod bad_input;
mod cap_deferral;
mod carrier_reconciliation;
mod email_confirmation;
mod exports;
mod feed;
mod firm_admin;
mod gate;
mod languages;
mod lifecycle;
mod prior_consent;
mod privileged_texts;
mod proofs;
mod send_rules;

pub use bad_input::bad_input;
pub use cap_deferral::maryland_at_the_cap;
pub use carrier_reconciliation::carrier_reconciliation;
pub use email_confirmation::{email_after_stop, email_confirmation, email_decline};
pub use exports::exports;
pub use feed::event_feed;
pub use firm_admin::{contact_by_id, double_opt_in_off, templates};
pub use gate::{batch, batch_outcomes_written_together, idempotent_repeats};
pub use languages::{spanish_speaking_contact, templates_per_language};
pub use lifecycle::{
    carrier_opt_out, full_lifecycle, help_and_other_replies, help_from_a_stranger, late_stop,
    staff_opt_out,
};
pub use prior_consent::prior_consent;
pub use privileged_texts::{
    CLIENT_TEXT, FIRM_TEXT, PrivilegedProofs, SHORT_TEXT, privileged_proofs, privileged_texts,
};
pub use proofs::{audit_bundle, audit_bundle_text, lifecycle_proof, proof_of_consent};
pub use send_rules::{frequency_caps, quiet_hours, recipient_time_zones, state_rules};

/// Invokes `$run!` with every scenario's name, so each store's suite runs them all.
#[macro_export]
macro_rules! every_scenario {
    ($run:ident) => {
        $run!(
            full_lifecycle,
            email_confirmation,
            email_after_stop,
            help_and_other_replies,
            double_opt_in_off,
            templates,
            batch,
            batch_outcomes_written_together,
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
            event_feed,
            audit_bundle,
            late_stop,
            help_from_a_stranger,
            state_rules,
            prior_consent,
            email_decline,
            privileged_texts,
            spanish_speaking_contact,
            templates_per_language,
            maryland_at_the_cap,
            carrier_reconciliation,
        );
    };
}

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::TestService;

/// Registers this test's firm.
pub async fn register_firm(t: &TestService) {
    let (status, body) = t
        .call(
            Method::PUT,
            &format!("/v1/firms/{}", t.firm_id()),
            Some(json!({
                "name": "Hartwell & Pine LLP",
                "sms_number": t.firm_number(),
                "support_email": "help@hartwell.example",
                "support_phone": "(202) 555-0199",
                "website": "https://hartwell.example"
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["double_opt_in"], true);
}

async fn create_contact(t: &TestService, contact_id: &str, phone: &str) -> (StatusCode, Value) {
    t.call(
        Method::POST,
        &format!("/v1/firms/{}/contacts", t.firm_id()),
        Some(json!({
            "contact_id": contact_id,
            "phone": phone,
            "email": format!("{contact_id}@client.example"),
            "first_name": "Maria",
            "last_name": "Lopez",
            "source": "intake form"
        })),
    )
    .await
}

async fn send(t: &TestService, to: &str, body: &str, key: Option<&str>) -> (StatusCode, Value) {
    let mut message = json!({ "to": to, "body": body });
    if let Some(key) = key {
        message["idempotency_key"] = json!(key);
    }
    t.call(
        Method::POST,
        &format!("/v1/firms/{}/messages", t.firm_id()),
        Some(message),
    )
    .await
}

async fn consent(t: &TestService, phone: &str) -> (StatusCode, Value) {
    t.call(
        Method::GET,
        &format!("/v1/firms/{}/consents/{}", t.firm_id(), phone),
        None,
    )
    .await
}

async fn status_of(t: &TestService, phone: &str) -> String {
    let (code, body) = consent(t, phone).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    body["status"].as_str().unwrap_or_default().to_string()
}
