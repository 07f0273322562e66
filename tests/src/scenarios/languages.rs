//! A Spanish-speaking contact end to end: every message in Spanish, the firm's Spanish
//! overrides used and its English ones not, and languages the service does not write refused.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::{consent, register_firm, status_of};
use crate::TestService;

/// The firm's Spanish opt-in confirmation, distinct from every default.
const SPANISH_CONFIRMATION: &str = "{{ firm_name }}: Listo, queda suscrito. La frecuencia de \
    mensajes varia. Pueden aplicarse tarifas de mensajes y datos. AYUDA para ayuda, STOP para \
    cancelar.";

/// The firm's English opt-in confirmation, which a Spanish speaker must not get.
const ENGLISH_CONFIRMATION: &str = "{{ firm_name }}: All set. Msg frequency varies. Msg & data \
    rates may apply. HELP for help, STOP to opt out.";

async fn put_confirmation(t: &TestService, language: &str, body: &str) -> (StatusCode, Value) {
    t.call(
        Method::PUT,
        &format!(
            "/v1/firms/{}/templates/sms_opt_in_confirmation?language={language}",
            t.firm_id()
        ),
        Some(json!({ "body": body })),
    )
    .await
}

fn last(sms: &[String]) -> &str {
    sms.last().map(String::as_str).unwrap_or_default()
}

/// A contact created with `"language": "es"` gets the opt-in request by SMS and email in
/// Spanish, and Spanish answers to SI, AYUDA and ALTO; the firm's Spanish override is used and
/// its English one is not; a language the service does not write is a 422.
pub async fn spanish_speaking_contact(t: &TestService) {
    register_firm(t).await;
    let (status, body) = put_confirmation(t, "es", SPANISH_CONFIRMATION).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["language"], "es");
    let (status, body) = put_confirmation(t, "en", ENGLISH_CONFIRMATION).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // A language the service does not write is the caller's mistake, and nothing is stored.
    let phone = t.phone(1);
    let contacts = format!("/v1/firms/{}/contacts", t.firm_id());
    let (status, body) = t
        .call(
            Method::POST,
            &contacts,
            Some(json!({ "contact_id": "fr", "phone": phone, "language": "fr" })),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "invalid_language", "{body}");
    let (status, _) = consent(t, &phone).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "nothing recorded");
    assert!(t.sms_to(&phone).await.is_empty(), "nothing sent");

    // Created in Spanish: the opt-in request by SMS and by email are Spanish.
    let (status, body) = t
        .call(
            Method::POST,
            &contacts,
            Some(json!({
                "contact_id": "es-1", "phone": phone, "email": "lucia@client.example",
                "first_name": "Lucia", "language": "es"
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let sms = t.sms_to(&phone).await;
    assert_eq!(sms.len(), 1, "{sms:?}");
    assert!(
        sms[0].starts_with("Hartwell & Pine LLP: Hola Lucia, responda SI para confirmar"),
        "{}",
        sms[0]
    );
    assert!(
        sms[0].contains("Pueden aplicarse tarifas de mensajes y datos."),
        "{}",
        sms[0]
    );
    let emails = t.emails_to("lucia@client.example").await;
    assert_eq!(emails.len(), 1);
    assert_eq!(
        emails[0].subject,
        "Confirme los mensajes de texto de Hartwell & Pine LLP"
    );
    let (_, record) = consent(t, &phone).await;
    let created = record["events"]
        .as_array()
        .and_then(|events| events.iter().find(|e| e["type"] == "contact_created"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(created["language"], "es", "{record}");

    // SI: the firm's Spanish confirmation, not its English one.
    let firm_number = t.firm_number();
    t.reply(&phone, &firm_number, "Sí", "in-es-si").await;
    assert_eq!(status_of(t, &phone).await, "opted_in");
    let sms = t.sms_to(&phone).await;
    assert_eq!(
        last(&sms),
        "Hartwell & Pine LLP: Listo, queda suscrito. La frecuencia de mensajes varia. Pueden \
         aplicarse tarifas de mensajes y datos. AYUDA para ayuda, STOP para cancelar."
    );
    assert!(!sms.iter().any(|s| s.contains("All set")), "{sms:?}");

    // AYUDA: the Spanish help text.
    t.reply(&phone, &firm_number, "AYUDA", "in-es-ayuda").await;
    let sms = t.sms_to(&phone).await;
    assert!(
        last(&sms)
            .contains("Para ayuda llame al (202) 555-0199 o escriba a help@hartwell.example."),
        "{}",
        last(&sms)
    );

    // ALTO: opted out, with the Spanish opt-out confirmation.
    t.reply(&phone, &firm_number, "ALTO", "in-es-alto").await;
    assert_eq!(status_of(t, &phone).await, "opted_out");
    let sms = t.sms_to(&phone).await;
    assert_eq!(
        last(&sms),
        "Hartwell & Pine LLP: Se ha dado de baja y no recibira mas mensajes. Responda START \
         para volver a suscribirse."
    );
    assert_eq!(sms.len(), 4, "{sms:?}");

    // An English contact of the same firm gets the firm's English override.
    let english = t.phone(2);
    let (status, _) = t
        .call(
            Method::POST,
            &contacts,
            Some(json!({ "contact_id": "en-1", "phone": english })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(
        last(&t.sms_to(&english).await).contains("YES to confirm"),
        "English when not said"
    );
    t.reply(&english, &firm_number, "YES", "in-en-yes").await;
    assert_eq!(
        last(&t.sms_to(&english).await),
        "Hartwell & Pine LLP: All set. Msg frequency varies. Msg & data rates may apply. HELP \
         for help, STOP to opt out."
    );

    // A stranger writing AYUDA is answered in Spanish, one writing HELP in English.
    let (ayuda, help) = (t.phone(3), t.phone(4));
    t.reply(&ayuda, &firm_number, "ayuda", "in-stranger-ayuda")
        .await;
    assert!(
        last(&t.sms_to(&ayuda).await).contains("Textos sobre su asunto legal"),
        "{:?}",
        t.sms_to(&ayuda).await
    );
    t.reply(&help, &firm_number, "HELP", "in-stranger-help")
        .await;
    assert!(
        last(&t.sms_to(&help).await).contains("Texts about your legal matter"),
        "{:?}",
        t.sms_to(&help).await
    );
}

/// The template routes take `?language=es`: each language lists its own versions, an override
/// in one leaves the other at its default, a reset touches only its language, and a language
/// the service does not write is a 422.
pub async fn templates_per_language(t: &TestService) {
    register_firm(t).await;
    let list = |language: Option<&'static str>| {
        let query = language.map_or(String::new(), |l| format!("?language={l}"));
        let path = format!("/v1/firms/{}/templates{query}", t.firm_id());
        async move { t.call(Method::GET, &path, None).await }
    };
    let help_in = |body: &Value| -> Value {
        body["templates"]
            .as_array()
            .and_then(|all| all.iter().find(|v| v["name"] == "sms_help"))
            .cloned()
            .unwrap_or_default()
    };
    let (status, body) = list(Some("es")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["language"], "es");
    assert_eq!(body["templates"].as_array().map(Vec::len), Some(5));
    let help = help_in(&body);
    assert_eq!(help["default"], true);
    assert_eq!(help["language"], "es");
    assert!(
        help["body"]
            .as_str()
            .is_some_and(|b| b.contains("Para ayuda")),
        "{help}"
    );
    let (_, body) = list(None).await;
    assert_eq!(body["language"], "en", "English when not said");
    assert!(
        help_in(&body)["body"]
            .as_str()
            .is_some_and(|b| b.contains("For help")),
        "{body}"
    );

    // A Spanish override is checked in Spanish words: English words alone are not enough.
    let path = format!("/v1/firms/{}/templates/sms_help?language=es", t.firm_id());
    let (status, body) = t
        .call(
            Method::PUT,
            &path,
            Some(json!({ "body": "{{ firm_name }}: llame al {{ support_phone }}." })),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "template_invalid");
    assert_eq!(
        body["error"]["problems"],
        json!(["must say how to reply STOP (or ALTO)"])
    );
    let spanish_help =
        "{{ firm_name }}: Ayuda: llame al {{ support_phone }}. Responda ALTO para cancelar.";
    let (status, body) = t
        .call(Method::PUT, &path, Some(json!({ "body": spanish_help })))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["preview"]["body"],
        "Hartwell & Pine LLP: Ayuda: llame al (202) 555-0199. Responda ALTO para cancelar."
    );
    let (_, body) = list(Some("es")).await;
    assert_eq!(help_in(&body)["default"], false);
    assert_eq!(help_in(&body)["body"], spanish_help);
    let (_, body) = list(Some("en")).await;
    assert_eq!(help_in(&body)["default"], true, "English is untouched");

    // Codes are read in any case.
    let (_, firm_events) = t
        .call(
            Method::GET,
            &format!("/v1/firms/{}/templates?language=ES", t.firm_id()),
            None,
        )
        .await;
    assert_eq!(firm_events["language"], "es", "codes are read in any case");

    // Reset in English changes nothing in Spanish; reset in Spanish restores its default.
    let reset = |language: &'static str| {
        let path = format!(
            "/v1/firms/{}/templates/sms_help?language={language}",
            t.firm_id()
        );
        async move { t.call(Method::DELETE, &path, None).await }
    };
    let (status, _) = reset("en").await;
    assert_eq!(status, StatusCode::OK);
    let (_, body) = list(Some("es")).await;
    assert_eq!(help_in(&body)["default"], false);
    let (status, body) = reset("es").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["language"], "es");
    assert_eq!(body["default"], true);
    let (_, body) = list(Some("es")).await;
    assert_eq!(help_in(&body)["default"], true);

    // Any other language, on every template route, is a 422 naming the mistake.
    for (method, path, payload) in [
        (
            Method::GET,
            format!("/v1/firms/{}/templates?language=fr", t.firm_id()),
            None,
        ),
        (
            Method::PUT,
            format!("/v1/firms/{}/templates/sms_help?language=pt", t.firm_id()),
            Some(json!({ "body": spanish_help })),
        ),
        (
            Method::DELETE,
            format!("/v1/firms/{}/templates/sms_help?language=", t.firm_id()),
            None,
        ),
    ] {
        let (status, body) = t.call(method, &path, payload).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {body}");
        assert_eq!(body["error"]["code"], "invalid_language", "{body}");
    }
}
