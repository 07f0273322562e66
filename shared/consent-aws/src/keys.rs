//! The single-table key layout: every item's `pk`/`sk`, in one place.
//!
//! | item                 | `pk`                          | `sk`                 | other attributes                                                    |
//! |----------------------|-------------------------------|----------------------|---------------------------------------------------------------------|
//! | firm                 | `FIRM#<firm_id>`              | `FIRM`               | `doc`, `version`, `gsi2pk` = `FIRMS`, `gsi2sk` = `<firm_id>`        |
//! | firm audit events    | `FIRM#<firm_id>`              | `EVT#<ulid>`         | `doc`, `type`                                                       |
//! | contact              | `FIRM#<firm_id>`              | `CONTACT#<contact>`  | `doc`, `phone`                                                      |
//! | number route         | `NUMBER#<e164>`               | `ROUTE`              | `firm_id`                                                           |
//! | consent record       | `CONSENT#<firm_id>#<e164>`    | `RECORD`             | `doc`, `version`, `audit_head`, `gsi2pk` = `CONSENTS#<firm_id>`, `gsi2sk` = `<status>#<e164>` |
//! | consent audit events | `CONSENT#<firm_id>#<e164>`    | `EVT#<ulid>`         | `doc`, `type`                                                       |
//! | inbound marker       | `INBOUND#<firm_id>#<msg_id>`  | `INBOUND`            | `ttl` (30 days)                                                     |
//! | idempotency record   | `IDEM#<key>`                  | `IDEM`               | `payload_hash`, `in_progress_until`, `response`, `expires_at`, `ttl` |
//! | deferred send        | `DEFERRED#<id>`               | `DEFERRED`           | `doc`, `gsi1pk` = `DUE`, `gsi1sk` = `<not_before>#<id>`             |
//! | feed event           | `FEED#<firm_id>`              | `<ulid>`             | `doc`, `type`                                                       |
//!
//! - `doc` is the item's model type as JSON (the model types are serde types); attributes that
//!   conditions or queries use are native attributes beside it. A consent record's `doc` is its
//!   compact stored form (`StoredRecord`): what the key and those attributes already hold is
//!   left out (its status is the start of `gsi2sk`), so the item stays under 1 KB. Items
//!   written before that form also have a `status` attribute, read only from an item written
//!   before `gsi2` existed.
//! - A firm's template overrides are part of its `doc` (`templates`), one per template and
//!   language, keyed as every store keys them (`TemplateKey::stored`): the bare name for English
//!   (`sms_help`, as stored before languages, so those read unchanged) and `<name>#<language>`
//!   for the others (`sms_help#es`). They are few and always read with the firm, so they are no
//!   items of their own.
//! - Times used in conditions (`in_progress_until`, `expires_at`) are numbers: microseconds since
//!   the epoch. `ttl` is seconds since the epoch, as DynamoDB's TTL sweeper wants.
//! - Audit events never get a `ttl`: they are the proof, kept for good. The events of one write
//!   are one item, keyed by the first one's id: `doc` is the event, or the array of the write's
//!   events in order, and `type` their type names joined by commas (a transaction pays for each
//!   item by the KB, so one item is cheaper than one per event).
//! - Firm ids are limited to `[A-Za-z0-9_-]` and numbers are E.164, so `#` separates key parts
//!   unambiguously.
//! - Due deferred sends are found through the GSI `gsi1` without a scan: all of them live in the
//!   one GSI partition `DUE`, sorted by `gsi1sk` = not-before as fixed-width RFC 3339 (UTC,
//!   nanoseconds, so text order is time order) then `#<id>`. "Due at `now`" is one query,
//!   `gsi1pk = DUE AND gsi1sk < "<now>$"` ascending (`$` sorts right after `#`), so nothing old is
//!   ever missed and the order is (not_before, id). Deferred sends are few (quiet-hour holds, each
//!   deleted when released), so one partition is far below a GSI partition's write limit; if that
//!   ever changed, the partition would be split into `DUE#<n>` shards queried and merged.
//! - A firm's feed (DESIGN §7) is one partition, `FEED#<firm_id>`, sorted by event id (a
//!   ULID), written in the transaction of the change it reports: a page after a cursor is one
//!   Query, `pk = FEED#<firm_id> AND sk > <cursor>`. The ids are made when a write is built, so
//!   two writes committed within the same milliseconds may land out of id order; the table's
//!   stream (EventBridge) is the exact delivery, and a poller that must see every event re-reads
//!   a few seconds behind its cursor.
//! - A firm's records are listed by status (exports) through the GSI `gsi2`, which only
//!   consent records populate (a sparse index): `gsi2pk = CONSENTS#<firm_id>`, sorted by
//!   `gsi2sk = <status>#<e164>`, rewritten with the record on every write. One firm's records
//!   by status is one query (`begins_with(gsi2sk, "<status>#")`); a page resumes after a
//!   (status, number) without a scan.
//! - Firms are listed (jobs that visit every firm: carrier reconciliation) through the same
//!   `gsi2`, in its one partition `gsi2pk = FIRMS`, sorted by `gsi2sk = <firm_id>`: a page
//!   after a firm id is one query. No firm id is `CONSENTS#...`-shaped (ids are
//!   `[A-Za-z0-9_-]`), so the two kinds of partition never meet. Firms are few and their writes
//!   rare, far below a partition's limits. A firm written before this attribute existed is
//!   listed once its settings are written again (docs/deploy.md, "Upgrading").

use chrono::{DateTime, SecondsFormat, Utc};

use consent::model::phone::PhoneNumber;
use consent::model::record::ConsentStatus;
use consent::ports::ConsentListPosition;

/// The partition key attribute.
pub const PK: &str = "pk";
/// The sort key attribute.
pub const SK: &str = "sk";
/// The model type as JSON.
pub const DOC: &str = "doc";
/// The version conditions compare.
pub const VERSION: &str = "version";
/// DynamoDB's TTL attribute (seconds since the epoch).
pub const TTL: &str = "ttl";
/// The owning firm of a number route.
pub const FIRM_ID: &str = "firm_id";
/// An audit event's type name (for people reading the table).
pub const TYPE: &str = "type";
/// An audit events item's JSON `doc` when it is larger than a write unit, raw-deflated (a
/// binary attribute): DynamoDB bills a write by the stored bytes.
pub const DOC_DEFLATE: &str = "doc_deflate";
/// On an item holding a write's audit events: those after the first leave out their
/// `prev_hash`, each being the hash of the event before it.
pub const LINKED: &str = "linked";
/// A consent record's status as items written before `gsi2` held it; read only from those.
pub const LEGACY_STATUS: &str = "status";
/// A consent record's chain head (the hash of its newest event), which writes over the record
/// are conditioned on together with the version.
pub const AUDIT_HEAD: &str = "audit_head";
/// A contact's number (for people reading the table).
pub const PHONE: &str = "phone";
/// The GSI for due deferred sends.
pub const GSI1: &str = "gsi1";
/// The GSI's partition key attribute.
pub const GSI1PK: &str = "gsi1pk";
/// The GSI's sort key attribute.
pub const GSI1SK: &str = "gsi1sk";
/// The GSI listing a firm's consent records by status.
pub const GSI2: &str = "gsi2";
/// Its partition key attribute (`CONSENTS#<firm_id>`).
pub const GSI2PK: &str = "gsi2pk";
/// Its sort key attribute (`<status>#<e164>`).
pub const GSI2SK: &str = "gsi2sk";
/// The one GSI partition holding every deferred send.
pub const DUE_PARTITION: &str = "DUE";
/// Idempotency: hash of the request payload.
pub const PAYLOAD_HASH: &str = "payload_hash";
/// Idempotency: until when a claim holds (microseconds since the epoch).
pub const IN_PROGRESS_UNTIL: &str = "in_progress_until";
/// Idempotency: the stored response, JSON.
pub const RESPONSE: &str = "response";
/// Idempotency: when a completed response expires (microseconds since the epoch).
pub const EXPIRES_AT: &str = "expires_at";

/// Sort key prefix of audit events.
pub const EVENT_PREFIX: &str = "EVT#";
/// Partition key prefix of feed events: the table's stream is filtered on it (the
/// consent-events function's FilterCriteria in infra/template.yaml), so only feed items reach
/// EventBridge.
pub const FEED_PREFIX: &str = "FEED#";
/// How long an inbound marker is kept (a carrier redelivers within minutes or hours).
pub const INBOUND_MARKER_DAYS: i64 = 30;

/// A full item key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    /// Partition key.
    pub pk: String,
    /// Sort key.
    pub sk: String,
}

impl Key {
    fn new(pk: String, sk: impl Into<String>) -> Self {
        Self { pk, sk: sk.into() }
    }
}

/// The firm's settings item.
pub fn firm(firm_id: &str) -> Key {
    Key::new(firm_partition(firm_id), "FIRM")
}

/// The partition of a firm (settings, firm events, contacts).
pub fn firm_partition(firm_id: &str) -> String {
    format!("FIRM#{firm_id}")
}

/// A firm audit event.
pub fn firm_event(firm_id: &str, event_id: &str) -> Key {
    Key::new(firm_partition(firm_id), event_sk(event_id))
}

/// A contact of a firm.
pub fn contact(firm_id: &str, contact_id: &str) -> Key {
    Key::new(firm_partition(firm_id), format!("CONTACT#{contact_id}"))
}

/// The number → firm route.
pub fn route(number: &PhoneNumber) -> Key {
    Key::new(format!("NUMBER#{}", number.as_str()), "ROUTE")
}

/// The partition of one number's consent at one firm (record and events).
pub fn consent_partition(firm_id: &str, phone: &PhoneNumber) -> String {
    format!("CONSENT#{firm_id}#{}", phone.as_str())
}

/// The number a consent partition of `firm_id` is for.
pub fn consent_phone(firm_id: &str, partition: &str) -> Option<PhoneNumber> {
    let phone = partition
        .strip_prefix("CONSENT#")?
        .strip_prefix(firm_id)?
        .strip_prefix('#')?;
    PhoneNumber::from_stored(phone.to_string()).ok()
}

/// The consent record.
pub fn consent(firm_id: &str, phone: &PhoneNumber) -> Key {
    Key::new(consent_partition(firm_id, phone), "RECORD")
}

/// The `gsi2` partition of a firm's consent records.
pub fn consents_of_firm(firm_id: &str) -> String {
    format!("CONSENTS#{firm_id}")
}

/// The one `gsi2` partition listing every firm (its `gsi2sk` is the firm id).
pub const FIRMS_PARTITION: &str = "FIRMS";

/// A consent record's `gsi2sk`: its place in the firm's listing, `<status>#<e164>`.
pub fn consent_list_key(position: &ConsentListPosition) -> String {
    position.sort_key()
}

/// The status a record's `gsi2sk` names.
pub fn listed_status(list_key: &str) -> Option<ConsentStatus> {
    ConsentStatus::parse(list_key.split_once('#')?.0)
}

/// The start of every `gsi2sk` of the records in `status`.
pub fn status_prefix(status: ConsentStatus) -> String {
    format!("{}#", status.as_str())
}

/// The inclusive upper bound of the `gsi2sk`s of the records in `status` (`$` sorts right
/// after `#`).
pub fn status_upper_bound(status: ConsentStatus) -> String {
    format!("{}$", status.as_str())
}

/// A consent audit event.
pub fn consent_event(firm_id: &str, phone: &PhoneNumber, event_id: &str) -> Key {
    Key::new(consent_partition(firm_id, phone), event_sk(event_id))
}

/// The marker that an inbound message was applied.
pub fn inbound(firm_id: &str, inbound_message_id: &str) -> Key {
    Key::new(format!("INBOUND#{firm_id}#{inbound_message_id}"), "INBOUND")
}

/// An idempotency record.
pub fn idempotency(key: &str) -> Key {
    Key::new(format!("IDEM#{key}"), "IDEM")
}

/// The partition of a firm's feed.
pub fn feed_partition(firm_id: &str) -> String {
    format!("{FEED_PREFIX}{firm_id}")
}

/// The firm whose feed partition `pk` is, or `None` when `pk` is no feed partition (an item of
/// another kind on the table's stream).
pub fn feed_firm_id(pk: &str) -> Option<&str> {
    pk.strip_prefix(FEED_PREFIX)
        .filter(|firm_id| !firm_id.is_empty())
}

/// A feed event.
pub fn feed_event(firm_id: &str, event_id: &str) -> Key {
    Key::new(feed_partition(firm_id), event_id)
}

/// A deferred send.
pub fn deferred(id: &str) -> Key {
    Key::new(format!("DEFERRED#{id}"), "DEFERRED")
}

/// The GSI sort key of a deferred send: fixed-width time, then the id.
pub fn due_sort_key(not_before: DateTime<Utc>, id: &str) -> String {
    format!("{}#{id}", sortable_time(not_before))
}

/// The exclusive upper bound of GSI sort keys due at `now` (`$` sorts right after `#`).
pub fn due_upper_bound(now: DateTime<Utc>) -> String {
    format!("{}$", sortable_time(now))
}

/// RFC 3339 in UTC with exactly nine fractional digits, so text order is time order.
pub fn sortable_time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

/// Microseconds since the epoch, the unit of times that conditions compare.
pub fn micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

/// Seconds since the epoch for `ttl`, rounded up so an item never goes before its time.
pub fn ttl_seconds(at: DateTime<Utc>) -> i64 {
    let seconds = at.timestamp();
    if at.timestamp_subsec_nanos() > 0 {
        seconds.saturating_add(1)
    } else {
        seconds
    }
}

fn event_sk(event_id: &str) -> String {
    format!("{EVENT_PREFIX}{event_id}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn due_sort_keys_sort_by_time_then_id() {
        let early = Utc
            .with_ymd_and_hms(2026, 1, 1, 9, 0, 0)
            .single()
            .expect("valid time");
        let later = early + chrono::Duration::nanoseconds(500_000_000);
        let a = due_sort_key(early, "B");
        let b = due_sort_key(later, "A");
        assert!(a < b, "{a} < {b}");
        assert!(due_sort_key(early, "A") < due_sort_key(early, "B"));
        // Due exactly at `now` is included; a nanosecond later is not.
        assert!(due_sort_key(early, "ZZZ") < due_upper_bound(early));
        assert!(
            due_sort_key(early + chrono::Duration::nanoseconds(1), "0") > due_upper_bound(early)
        );
    }

    #[test]
    fn a_feed_partition_names_its_firm_and_nothing_else_does() {
        assert_eq!(feed_firm_id(&feed_partition("firm-7")), Some("firm-7"));
        assert_eq!(feed_firm_id(&firm_partition("firm-7")), None);
        assert_eq!(feed_firm_id(&consents_of_firm("firm-7")), None);
        assert_eq!(feed_firm_id(FEED_PREFIX), None);
    }

    #[test]
    fn ttl_rounds_up() {
        let at = Utc
            .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .single()
            .expect("valid time");
        assert_eq!(ttl_seconds(at), at.timestamp());
        assert_eq!(
            ttl_seconds(at + chrono::Duration::milliseconds(1)),
            at.timestamp() + 1
        );
    }
}
