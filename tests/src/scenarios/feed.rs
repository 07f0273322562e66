//! The firm's event feed (DESIGN §7): every consent change and every reply that changed nothing,
//! with the firm's contact ids, read page by page with a cursor.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::{create_contact, register_firm, status_of};
use crate::TestService;

async fn feed(t: &TestService, query: &str) -> (StatusCode, Value) {
    t.call(
        Method::GET,
        &format!("/v1/firms/{}/events{query}", t.firm_id()),
        None,
    )
    .await
}

/// Every event of the feed, read `limit` at a time from the start; checks that the empty page
/// at the end hands back the cursor it was given.
async fn read_all(t: &TestService, limit: usize) -> Vec<Value> {
    let mut events = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let query = match &cursor {
            Some(after) => format!("?after={after}&limit={limit}"),
            None => format!("?limit={limit}"),
        };
        let (status, page) = feed(t, &query).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let batch = page["events"].as_array().cloned().unwrap_or_default();
        assert!(batch.len() <= limit, "{page}");
        if batch.is_empty() {
            assert_eq!(
                page["next_cursor"].as_str(),
                cursor.as_deref(),
                "an empty page hands back the cursor: {page}"
            );
            return events;
        }
        let last = batch.last().map(|e| e["id"].clone());
        assert_eq!(Some(page["next_cursor"].clone()), last, "{page}");
        cursor = page["next_cursor"].as_str().map(str::to_string);
        events.extend(batch);
    }
}

/// What a CRM reads: the type, the number, and the data's status or reply kind.
fn summary(event: &Value) -> String {
    let data = &event["data"];
    match event["type"].as_str() {
        Some("consent.changed") => format!(
            "{} changed {} -> {} ({}, {})",
            event["phone"].as_str().unwrap_or("?"),
            data["previous_status"].as_str().unwrap_or("none"),
            data["status"].as_str().unwrap_or("?"),
            data["basis"].as_str().unwrap_or("?"),
            data["channel"].as_str().unwrap_or("?"),
        ),
        Some("reply.received") => format!(
            "{} replied {:?} ({})",
            event["phone"].as_str().unwrap_or("?"),
            data["text"].as_str().unwrap_or("?"),
            data["kind"].as_str().unwrap_or("?"),
        ),
        other => format!("unknown type {other:?}"),
    }
}

/// The feed tells every change and every reply that changed nothing, in order, with the
/// contacts on the number; pages resume at their cursor; bad cursors and limits are 422.
pub async fn event_feed(t: &TestService) {
    register_firm(t).await;
    let (one, two) = (t.phone(1), t.phone(2));
    let (status, body) = feed(t, "").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({ "events": [], "next_cursor": null }));

    let (status, body) = create_contact(t, "c-1", &one).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    t.reply(&one, &t.firm_number(), "YES", "in-feed-1").await;
    t.reply(&one, &t.firm_number(), "HELP", "in-feed-2").await;
    t.reply(
        &one,
        &t.firm_number(),
        "Can I come in Tuesday?",
        "in-feed-3",
    )
    .await;
    t.reply(&one, &t.firm_number(), "STOP", "in-feed-4").await;
    // A redelivered STOP is not a new text: nothing new in the feed.
    t.reply(&one, &t.firm_number(), "STOP", "in-feed-4").await;
    let (status, body) = create_contact(t, "c-1b", &one).await;
    assert!(status.is_success(), "{body}");
    t.reply(&one, &t.firm_number(), "START", "in-feed-5").await;
    let (status, body) = t
        .call(
            Method::POST,
            &format!("/v1/firms/{}/consents/{two}/opt-out", t.firm_id()),
            Some(json!({ "channel": "phone_call", "recorded_by": "front desk" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let events = read_all(t, 2).await;
    let summaries: Vec<String> = events.iter().map(summary).collect();
    assert_eq!(
        summaries,
        [
            format!("{one} changed none -> pending (opt_in_requested, firm)"),
            format!("{one} changed pending -> opted_in (sms_reply, sms)"),
            format!("{one} replied \"HELP\" (help)"),
            format!("{one} replied \"Can I come in Tuesday?\" (other)"),
            format!("{one} changed opted_in -> opted_out (sms_reply, sms)"),
            format!("{one} changed opted_out -> opted_in (sms_reply, sms)"),
            format!("{two} changed none -> opted_out (staff_recorded, staff)"),
        ],
        "{events:#?}"
    );
    assert_eq!(
        events,
        read_all(t, 1000).await,
        "any page size reads the same feed"
    );
    let ids: Vec<&str> = events.iter().filter_map(|e| e["id"].as_str()).collect();
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "ids sort in order: {ids:?}"
    );
    assert_eq!(events[0]["contact_ids"], json!(["c-1"]));
    assert_eq!(
        events[5]["contact_ids"],
        json!(["c-1", "c-1b"]),
        "every contact on the number"
    );
    assert!(
        events.iter().all(|e| e["occurred_at"]
            .as_str()
            .is_some_and(|at| at.ends_with('Z'))),
        "{events:#?}"
    );
    // The last consent change of each number is its record's status.
    for phone in [&one, &two] {
        let last = events
            .iter()
            .rev()
            .find(|e| e["phone"] == json!(phone) && e["type"] == "consent.changed")
            .map(|e| e["data"]["status"].as_str().unwrap_or_default().to_string());
        assert_eq!(last, Some(status_of(t, phone).await));
    }

    // Resuming after the last id gives an empty page with the same cursor.
    let last = ids.last().copied().unwrap_or_default();
    let (status, page) = feed(t, &format!("?after={last}")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page, json!({ "events": [], "next_cursor": last }));

    for (query, code) in [
        ("?after=not-a-cursor", "invalid_cursor"),
        ("?after=", "invalid_cursor"),
        ("?limit=0", "invalid_request"),
        ("?limit=1001", "invalid_request"),
        ("?limit=ten", "invalid_request"),
    ] {
        let (status, body) = feed(t, query).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{query}: {body}");
        assert_eq!(body["error"]["code"], code, "{query}: {body}");
    }
    let (status, body) = t
        .call(Method::GET, "/v1/firms/no-such-firm/events", None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["error"]["code"], "firm_not_found");
}
