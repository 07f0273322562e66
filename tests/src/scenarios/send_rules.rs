//! When and how often the gate lets a text go: quiet hours in the recipient's time zone, a
//! firm's own window, and the frequency caps.

use axum::http::{Method, StatusCode};
use chrono::Duration;
use serde_json::{Value, json};

use super::{consent, create_contact, register_firm, send, status_of};
use crate::TestService;

/// A firm message at night is deferred until 8:00 local and released through the gate again;
/// an opt-out in between wins.
pub async fn quiet_hours(t: &TestService) {
    register_firm(t).await;
    let phone = t.phone(1);
    let leaving = t.phone(2);
    for (id, number) in [("c1", &phone), ("c2", &leaving)] {
        create_contact(t, id, number).await;
        t.reply(number, &t.firm_number(), "YES", &format!("in-{id}"))
            .await;
    }
    // 06:00 UTC is 22:00 the evening before in California.
    let night = crate::afternoon() + Duration::hours(12);
    t.clock.set(Some(night));
    let (status, body) = send(t, &phone, "Night message", None).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["decision"], "deferred");
    assert_eq!(body["not_before"], "2026-12-02T16:00:00Z");
    let (_, body) = send(t, &leaving, "Night message", None).await;
    assert_eq!(body["decision"], "deferred");
    t.reply(&leaving, &t.firm_number(), "STOP", "in-stop").await;
    let before = t.sms_to(&phone).await.len();

    // Not yet due: nothing released.
    let report = t.services.release_due().await;
    assert!(report.is_ok_and(|r| r.taken == 0));
    t.clock.set(Some(night + Duration::hours(10)));
    let report = match t.services.release_due().await {
        Ok(report) => report,
        Err(e) => panic!("release failed: {e}"),
    };
    assert_eq!((report.sent, report.blocked), (1, 1), "{report:?}");
    let sms = t.sms_to(&phone).await;
    assert_eq!(sms.len(), before + 1);
    assert_eq!(sms.last().map(String::as_str), Some("Night message"));
    assert!(
        !t.sms_to(&leaving)
            .await
            .iter()
            .any(|s| s == "Night message")
    );
    // Released once only.
    let again = t.services.release_due().await;
    assert!(again.is_ok_and(|r| r.taken == 0));
}

async fn opted_in_contact(t: &TestService, id: &str, phone: &str) {
    let (status, body) = create_contact(t, id, phone).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    t.reply(phone, &t.firm_number(), "YES", &format!("in-{id}"))
        .await;
    assert_eq!(status_of(t, phone).await, "opted_in");
}

async fn send_as(t: &TestService, to: &str, body: &str, category: &str) -> (StatusCode, Value) {
    t.call(
        Method::POST,
        &format!("/v1/firms/{}/messages", t.firm_id()),
        Some(json!({ "to": to, "body": body, "category": category })),
    )
    .await
}

/// Florida and Oklahoma numbers get at most 3 marketing texts a day (FTSA / OTSA): the fourth is
/// deferred; a firm's own cap applies to every number; transactional messages can be exempted.
pub async fn frequency_caps(t: &TestService) {
    register_firm(t).await;
    let florida = format!("+1305{:03}1001", 200 + t.index);
    let oklahoma = format!("+1405{:03}1002", 200 + t.index);
    let california = t.phone(3);
    for (id, phone) in [("fl", &florida), ("ok", &oklahoma), ("ca", &california)] {
        opted_in_contact(t, id, phone).await;
    }
    for phone in [&florida, &oklahoma] {
        for n in 0..3 {
            let (status, body) = send_as(t, phone, &format!("Offer {n}"), "marketing").await;
            assert_eq!(status, StatusCode::ACCEPTED, "{phone} #{n}: {body}");
        }
        // The fourth waits a day, for the first to leave the 24 hours, named by the state's rule.
        let (status, body) = send_as(t, phone, "Offer 4", "marketing").await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        assert_eq!(body["decision"], "deferred", "{body}");
        assert_eq!(body["not_before"], "2026-12-02T18:00:00Z", "{body}");
        let rule = if phone == &florida {
            "fl_501_616"
        } else {
            "ok_775c_4"
        };
        assert_eq!(body["rule"], rule, "{body}");
        // The statutory cap is for marketing: a transactional message still goes.
        let (status, body) = send_as(t, phone, "Your hearing moved", "transactional").await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    }
    for n in 0..5 {
        let (status, _) = send_as(t, &california, &format!("CA {n}"), "marketing").await;
        assert_eq!(
            status,
            StatusCode::ACCEPTED,
            "no statutory cap in California"
        );
    }

    // The firm caps everyone at 5 a day, transactional included unless exempted.
    let firm = json!({
        "name": "Hartwell & Pine LLP", "sms_number": t.firm_number(),
        "support_email": "help@hartwell.example", "support_phone": "(202) 555-0199",
        "website": "https://hartwell.example", "frequency_cap": 5
    });
    let (status, body) = t
        .call(
            Method::PUT,
            &format!("/v1/firms/{}", t.firm_id()),
            Some(firm.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["frequency_cap"], 5);
    // A cap above the highest a record can count is refused.
    let mut too_high = firm.clone();
    too_high["frequency_cap"] = json!(consent::model::caps::MAX_DAILY_CAP + 1);
    let (status, body) = t
        .call(
            Method::PUT,
            &format!("/v1/firms/{}", t.firm_id()),
            Some(too_high),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) = send_as(t, &california, "CA 5", "marketing").await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["rule"], "firm_daily_cap", "{body}");
    let (status, body) = send_as(t, &california, "CA transactional", "transactional").await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["decision"], "deferred", "{body}");
    assert_eq!(body["rule"], "firm_daily_cap", "{body}");
    let mut exempt = firm;
    exempt["transactional_exempt"] = json!(true);
    let (status, _) = t
        .call(
            Method::PUT,
            &format!("/v1/firms/{}", t.firm_id()),
            Some(exempt),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = send_as(t, &california, "CA transactional", "transactional").await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");

    // A day later the count starts again; replies never counted.
    t.clock.advance(Duration::hours(25));
    let (status, _) = send_as(t, &florida, "Tomorrow's offer", "marketing").await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let (_, record) = consent(t, &florida).await;
    let deferred = record["events"]
        .as_array()
        .map(|e| {
            e.iter()
                .filter(|e| e["type"] == "message_deferred" && e["rule"] == "fl_501_616")
                .count()
        })
        .unwrap_or_default();
    assert_eq!(deferred, 1, "the deferral is recorded with its rule");
}

/// The recipient's local time decides: Florida closes at 20:00; a contact's own time zone wins
/// over the area code's; a firm may narrow the window; the opt-in request of a contact created
/// at night waits for the morning.
pub async fn recipient_time_zones(t: &TestService) {
    register_firm(t).await;
    let florida = format!("+1305{:03}1001", 200 + t.index);
    let traveller = t.phone(2);
    opted_in_contact(t, "fl", &florida).await;
    let (status, body) = t
        .call(
            Method::POST,
            &format!("/v1/firms/{}/contacts", t.firm_id()),
            Some(
                json!({ "contact_id": "tz", "phone": traveller, "time_zone": "America/New_York" }),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    t.reply(&traveller, &t.firm_number(), "YES", "in-tz").await;

    // 2026-12-02 01:30 UTC = 20:30 in Miami, 17:30 in California.
    t.clock
        .set(Some(crate::afternoon() + Duration::minutes(450)));
    let (_, body) = send_as(t, &florida, "Evening", "marketing").await;
    assert_eq!(body["decision"], "deferred", "{body}");
    assert_eq!(body["not_before"], "2026-12-02T13:00:00Z");
    // 20:30 in New York is fine by the 21:00 rule, whatever the 415 area code says.
    let (_, body) = send_as(t, &traveller, "Evening", "marketing").await;
    assert_eq!(body["decision"], "sent", "{body}");
    // 2026-12-02 12:30 UTC = 07:30 in New York (04:30 in California): closed for the traveller.
    t.clock
        .set(Some(crate::afternoon() + Duration::minutes(1110)));
    let (_, body) = send_as(t, &traveller, "Early", "marketing").await;
    assert_eq!(body["decision"], "deferred", "{body}");
    assert_eq!(body["not_before"], "2026-12-02T13:00:00Z");

    // A firm window of 10:00-16:00 narrows the law's.
    let firm = json!({
        "name": "Hartwell & Pine LLP", "sms_number": t.firm_number(),
        "support_email": "help@hartwell.example", "support_phone": "(202) 555-0199",
        "website": "https://hartwell.example", "send_window": { "opens_hour": 10, "closes_hour": 16 }
    });
    let (status, body) = t
        .call(
            Method::PUT,
            &format!("/v1/firms/{}", t.firm_id()),
            Some(firm.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    t.clock.set(Some(crate::afternoon() + Duration::hours(20)));
    // 14:00 UTC = 09:00 in New York: inside the law's window, outside the firm's.
    let (_, body) = send_as(t, &traveller, "Morning", "marketing").await;
    assert_eq!(body["not_before"], "2026-12-02T15:00:00Z", "{body}");
    let mut wider = firm;
    wider["send_window"] = json!({ "opens_hour": 6, "closes_hour": 23 });
    let (status, body) = t
        .call(
            Method::PUT,
            &format!("/v1/firms/{}", t.firm_id()),
            Some(wider),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a firm cannot widen the window: {body}"
    );

    let (status, _) = t
        .call(
            Method::PUT,
            &format!("/v1/firms/{}", t.firm_id()),
            Some(firm_without_window(t)),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    // A contact created at night: the opt-in request waits, then goes out once.
    t.clock.set(Some(crate::afternoon() + Duration::hours(12)));
    let night_owl = t.phone(3);
    let (status, body) = create_contact(t, "owl", &night_owl).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["opt_in_request"]["sms"], "deferred");
    assert_eq!(body["opt_in_request"]["email"], "sent");
    assert!(t.sms_to(&night_owl).await.is_empty());
    let (status, body) = create_contact(t, "owl", &night_owl).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["opt_in_request"]["sms"], "deferred");
    t.clock.set(Some(crate::afternoon() + Duration::hours(23)));
    let released = t.services.release_due().await;
    assert!(released.is_ok_and(|r| r.sent >= 1));
    let sms = t.sms_to(&night_owl).await;
    assert_eq!(sms.len(), 1, "{sms:?}");
    assert!(sms[0].contains("YES"));
    let again = t.services.release_due().await;
    assert!(again.is_ok());
    assert_eq!(t.sms_to(&night_owl).await.len(), 1);
}

fn firm_without_window(t: &TestService) -> Value {
    json!({
        "name": "Hartwell & Pine LLP", "sms_number": t.firm_number(),
        "support_email": "help@hartwell.example", "support_phone": "(202) 555-0199",
        "website": "https://hartwell.example"
    })
}

/// State rules from the table: a Texas number waits for noon on a Sunday, a Maryland number for
/// 8:00 after 20:00 and gets at most three marketing texts a day, and the trail names the rule.
pub async fn state_rules(t: &TestService) {
    register_firm(t).await;
    let texas = format!("+1512{:03}1001", 200 + t.index);
    let maryland = format!("+1410{:03}1002", 200 + t.index);
    for (id, phone) in [("tx", &texas), ("md", &maryland)] {
        opted_in_contact(t, id, phone).await;
    }
    // Sunday 2026-12-06, 10:30 in Austin (CST): Texas allows texts from noon on Sundays.
    t.clock.set(Some(at("2026-12-06T16:30:00Z")));
    let (status, body) = send_as(t, &texas, "Sunday reminder", "marketing").await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["decision"], "deferred");
    assert_eq!(body["not_before"], "2026-12-06T18:00:00Z", "noon in Austin");
    let (_, record) = consent(t, &texas).await;
    let deferred = record["events"]
        .as_array()
        .and_then(|events| {
            events
                .iter()
                .rev()
                .find(|e| e["type"] == "message_deferred")
        })
        .cloned()
        .unwrap_or_default();
    assert_eq!(deferred["rule"], "tx_301_051", "{record}");

    // Tuesday 20:30 in Baltimore (EST): Maryland stops at 20:00 and opens at 8:00.
    t.clock.set(Some(at("2026-12-02T01:30:00Z")));
    let (status, body) = send_as(t, &maryland, "Evening reminder", "marketing").await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(
        body["not_before"], "2026-12-02T13:00:00Z",
        "8:00 in Baltimore"
    );

    // Wednesday midday: three marketing texts, then Maryland's cap; a transactional one goes.
    t.clock.set(Some(at("2026-12-02T17:00:00Z")));
    for n in 0..3 {
        let (status, body) = send_as(t, &maryland, &format!("Offer {n}"), "marketing").await;
        assert_eq!(status, StatusCode::ACCEPTED, "#{n}: {body}");
    }
    let (status, body) = send_as(t, &maryland, "Offer 4", "marketing").await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["decision"], "deferred", "{body}");
    assert_eq!(body["rule"], "md_14_4502", "{body}");
    let (status, body) = send_as(t, &maryland, "Your hearing moved", "transactional").await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");

    // A Florida resident with a California number: Florida's 20:00 applies, in the number's
    // Pacific time; a Californian is still within the federal 21:00.
    t.clock.set(Some(crate::afternoon()));
    let (floridian, californian) = (t.phone(7), t.phone(8));
    for (id, phone, state) in [
        ("fl-res", &floridian, json!("fl")),
        ("ca-res", &californian, json!(null)),
    ] {
        let (status, body) = t
            .call(
                Method::POST,
                &format!("/v1/firms/{}/contacts", t.firm_id()),
                Some(json!({ "contact_id": id, "phone": phone, "state": state })),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        t.reply(phone, &t.firm_number(), "YES", &format!("in-{id}"))
            .await;
    }
    t.clock.set(Some(at("2026-12-02T04:30:00Z")));
    let (_, body) = send_as(t, &floridian, "Evening note", "marketing").await;
    assert_eq!(body["decision"], "deferred", "{body}");
    assert_eq!(body["not_before"], "2026-12-02T16:00:00Z", "8:00 Pacific");
    let (_, body) = send_as(t, &californian, "Evening note", "marketing").await;
    assert_eq!(body["decision"], "sent", "{body}");
    let (status, body) = t
        .call(
            Method::POST,
            &format!("/v1/firms/{}/contacts", t.firm_id()),
            Some(json!({ "contact_id": "bad-state", "phone": t.phone(9), "state": "XX" })),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("state")),
        "{body}"
    );
}

fn at(text: &str) -> chrono::DateTime<chrono::Utc> {
    match text.parse() {
        Ok(at) => at,
        Err(e) => panic!("{text}: {e}"),
    }
}
