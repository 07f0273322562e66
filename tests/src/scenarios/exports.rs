//! Exports of a firm's consent records: by status, paged, as JSON or CSV.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::{create_contact, register_firm};
use crate::TestService;

/// Exports: a firm's records by status, paged with a cursor, as JSON or CSV; other firms' records
/// never appear; bad parameters are refused.
pub async fn exports(t: &TestService) {
    register_firm(t).await;
    for n in 1..=5 {
        let (status, body) = create_contact(t, &format!("e{n}"), &t.phone(n)).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    for n in 1..=3 {
        t.reply(&t.phone(n), &t.firm_number(), "YES", &format!("in-e{n}"))
            .await;
    }
    t.reply(&t.phone(3), &t.firm_number(), "STOP", "in-e3-stop")
        .await;
    // Another firm with a record for one of the same numbers.
    let other = format!("{}-other", t.firm_id());
    let other_number = format!("+1202{:03}0101", 200 + t.index);
    let (status, body) = t
        .call(
            Method::PUT,
            &format!("/v1/firms/{other}"),
            Some(json!({
                "name": "Other LLP",
                "sms_number": other_number,
                "support_email": "help@other.example",
                "support_phone": "(202) 555-0198",
                "website": "https://other.example"
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = t
        .call(
            Method::POST,
            &format!("/v1/firms/{other}/contacts"),
            Some(json!({ "contact_id": "o1", "phone": t.phone(1) })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    let list = |query: String| async move {
        t.call(
            Method::GET,
            &format!("/v1/firms/{}/consents{query}", t.firm_id()),
            None,
        )
        .await
    };
    let phones = |page: &Value| -> Vec<String> {
        page["consents"]
            .as_array()
            .map(|rows| {
                rows.iter()
                    .filter_map(|r| r["phone"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };

    let (status, page) = list("?status=opted_in".into()).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(phones(&page), [t.phone(1), t.phone(2)]);
    assert_eq!(page["next_cursor"], Value::Null);
    let row = &page["consents"][0];
    assert_eq!(row["status"], "opted_in");
    assert_eq!(row["basis"], "sms_reply");
    assert!(
        row["since"]
            .as_str()
            .is_some_and(|s| s.starts_with("2026-12-01T")),
        "{row}"
    );

    let (_, page) = list("?status=opted_out".into()).await;
    assert_eq!(phones(&page), [t.phone(3)]);
    assert_eq!(page["consents"][0]["basis"], "sms_reply");

    // Pending, one per page.
    let (_, first) = list("?status=pending&limit=1".into()).await;
    assert_eq!(phones(&first), [t.phone(4)]);
    let Some(cursor) = first["next_cursor"].as_str().map(str::to_string) else {
        panic!("a next_cursor expected: {first}");
    };
    let (status, second) = list(format!("?status=pending&limit=1&cursor={cursor}")).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    assert_eq!(phones(&second), [t.phone(5)]);
    assert_eq!(second["next_cursor"], Value::Null);

    // Every status, two per page: opted in, opted out, then pending, each by number.
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..5 {
        let query = match &cursor {
            Some(c) => format!("?limit=2&cursor={c}"),
            None => "?limit=2".to_string(),
        };
        let (status, page) = list(query).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        all.extend(phones(&page));
        cursor = page["next_cursor"].as_str().map(str::to_string);
        if cursor.is_none() {
            break;
        }
    }
    let expected: Vec<String> = [1, 2, 3, 4, 5].into_iter().map(|n| t.phone(n)).collect();
    assert_eq!(all, expected);

    // The other firm sees only its own.
    let (_, page) = t
        .call(Method::GET, &format!("/v1/firms/{other}/consents"), None)
        .await;
    assert_eq!(phones(&page), [t.phone(1)]);
    assert_eq!(page["consents"][0]["status"], "pending");

    // CSV: a header row, one line per record; the next page's cursor in a header.
    let path = format!("/v1/firms/{}/consents?status=opted_in", t.firm_id());
    let (status, headers, csv) = t
        .call_text(Method::GET, &path, &[("accept", "text/csv")])
        .await;
    assert_eq!(status, StatusCode::OK, "{csv}");
    assert!(
        headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/csv")),
        "{headers:?}"
    );
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert_eq!(lines[0], "phone,status,basis,since");
    assert!(
        lines[1].starts_with(&format!("{},opted_in,sms_reply,2026-12-01T", t.phone(1))),
        "{csv}"
    );
    assert!(headers.get("x-next-cursor").is_none());
    let (_, headers, csv) = t
        .call_text(
            Method::GET,
            &format!("{path}&limit=1"),
            &[("accept", "text/csv")],
        )
        .await;
    assert_eq!(csv.lines().count(), 2, "{csv}");
    let cursor = headers
        .get("x-next-cursor")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let (_, _, csv) = t
        .call_text(
            Method::GET,
            &format!("{path}&limit=1&cursor={cursor}"),
            &[("accept", "text/csv")],
        )
        .await;
    assert!(
        csv.lines()
            .nth(1)
            .is_some_and(|l| l.starts_with(&t.phone(2))),
        "{csv}"
    );

    // Refused: an unknown status, a bad or foreign cursor, a bad limit; an unknown firm.
    for (query, field) in [
        ("?status=maybe".to_string(), "status"),
        ("?status=OPTED_IN".to_string(), "status"),
        ("?cursor=not-a-cursor".to_string(), "cursor"),
        (format!("?status=opted_in&cursor={cursor}x"), "cursor"),
        (format!("?status=pending&cursor={cursor}"), "cursor"),
        ("?limit=0".to_string(), "limit"),
        ("?limit=1001".to_string(), "limit"),
        ("?limit=ten".to_string(), "limit"),
    ] {
        let (status, body) = list(query.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{query}: {body}");
        assert_eq!(body["error"]["code"], "invalid_request", "{query}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| m.starts_with(field)),
            "{query}: {body}"
        );
    }
    let (status, _) = t
        .call(
            Method::GET,
            &format!("/v1/firms/nobody-{}/consents", t.index),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
