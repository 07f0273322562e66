//! A consent record as a store keeps it in its `doc`: only what the key and the columns beside it
//! do not already hold, under short names, so the whole item stays under 1 KB (DESIGN §5) and a
//! write costs the fewest request units. Every member also reads under its earlier long name, so
//! documents written before this form read unchanged.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{ConsentBasis, ConsentRecord, ConsentStatus, Delivery, SendHistory, stored_time};
use crate::model::language::Language;
use crate::model::phone::PhoneNumber;

/// What a store keeps of a record outside its `doc`: the key, and the columns its conditions and
/// indexes read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordColumns {
    /// The firm (in the key).
    pub firm_id: String,
    /// The number (in the key).
    pub phone: PhoneNumber,
    /// The version writes are conditioned on.
    pub version: u64,
    /// The status exports are listed by.
    pub status: ConsentStatus,
    /// The chain head writes are conditioned on.
    pub audit_head: Option<String>,
}

/// The `doc` of a consent record (docs/architecture.md lists its members).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredRecord {
    #[serde(rename = "b", alias = "basis")]
    basis: ConsentBasis,
    #[serde(rename = "c", alias = "created_at", with = "stored_time")]
    created_at: DateTime<Utc>,
    #[serde(rename = "s", alias = "status_changed_at", with = "stored_time")]
    status_changed_at: DateTime<Utc>,
    #[serde(rename = "u", alias = "updated_at", with = "stored_time")]
    updated_at: DateTime<Utc>,
    #[serde(
        rename = "sms",
        alias = "opt_in_sms",
        default,
        skip_serializing_if = "Delivery::is_not_sent"
    )]
    opt_in_sms: Delivery,
    #[serde(
        rename = "email",
        alias = "opt_in_email",
        default,
        skip_serializing_if = "Delivery::is_not_sent"
    )]
    opt_in_email: Delivery,
    #[serde(
        rename = "oc",
        alias = "opt_out_confirmation_sent",
        default,
        skip_serializing_if = "is_false"
    )]
    opt_out_confirmation_sent: bool,
    #[serde(
        rename = "in",
        alias = "recent_inbound_ids",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    recent_inbound_ids: Vec<String>,
    #[serde(
        rename = "sent",
        alias = "recent_sends",
        default,
        skip_serializing_if = "SendHistory::is_empty"
    )]
    recent_sends: SendHistory,
    #[serde(
        rename = "tz",
        alias = "time_zone",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    time_zone: Option<String>,
    #[serde(
        rename = "st",
        alias = "state",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    state: Option<String>,
    #[serde(
        rename = "lang",
        alias = "language",
        default,
        skip_serializing_if = "is_english"
    )]
    language: Language,
    #[serde(
        rename = "cids",
        alias = "contact_ids",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    contact_ids: Vec<String>,
}

fn is_false(value: &bool) -> bool {
    !*value
}

fn is_english(language: &Language) -> bool {
    *language == Language::default()
}

impl StoredRecord {
    /// What a store writes of `record` in its `doc`.
    pub fn of(record: &ConsentRecord) -> Self {
        Self {
            basis: record.basis,
            created_at: record.created_at,
            status_changed_at: record.status_changed_at,
            updated_at: record.updated_at,
            opt_in_sms: record.opt_in_sms.clone(),
            opt_in_email: record.opt_in_email.clone(),
            opt_out_confirmation_sent: record.opt_out_confirmation_sent,
            recent_inbound_ids: record.recent_inbound_ids.clone(),
            recent_sends: record.recent_sends.clone(),
            time_zone: record.time_zone.clone(),
            state: record.state.clone(),
            language: record.language,
            contact_ids: record.contact_ids.clone(),
        }
    }

    /// The record a stored `doc` and its row's columns make.
    pub fn into_record(self, columns: RecordColumns) -> ConsentRecord {
        ConsentRecord {
            firm_id: columns.firm_id,
            phone: columns.phone,
            status: columns.status,
            basis: self.basis,
            version: columns.version,
            created_at: self.created_at,
            status_changed_at: self.status_changed_at,
            updated_at: self.updated_at,
            opt_in_sms: self.opt_in_sms,
            opt_in_email: self.opt_in_email,
            opt_out_confirmation_sent: self.opt_out_confirmation_sent,
            recent_inbound_ids: self.recent_inbound_ids,
            recent_sends: self.recent_sends,
            time_zone: self.time_zone,
            audit_head: columns.audit_head,
            state: self.state,
            language: self.language,
            contact_ids: self.contact_ids,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The columns a store keeps beside `record`'s doc.
    fn columns(record: &ConsentRecord) -> RecordColumns {
        RecordColumns {
            firm_id: record.firm_id.clone(),
            phone: record.phone.clone(),
            version: record.version,
            status: record.status,
            audit_head: record.audit_head.clone(),
        }
    }

    fn busy_record() -> ConsentRecord {
        let at: DateTime<Utc> = "2026-12-06T15:04:05.123456789Z"
            .parse()
            .expect("an instant");
        let mut record: ConsentRecord = serde_json::from_value(json!({
            "firm_id": "f1", "phone": "+14155550100", "status": "opted_out",
            "basis": "sms_reply", "version": 9, "created_at": at, "status_changed_at": at,
            "updated_at": at, "audit_head": "ab".repeat(32), "time_zone": "America/Chicago",
            "state": "TX", "language": "es", "opt_out_confirmation_sent": true,
            "opt_in_sms": {"state": "sent", "provider_message_id": "m-1", "at": at},
            "opt_in_email": {"state": "claimed", "at": at},
        }))
        .expect("a record");
        record.remember_inbound("in-1");
        record.remember_contact("c-1");
        record.recent_sends.count(at, true);
        record
    }

    #[test]
    fn a_record_reads_back_equal_from_its_doc_and_columns() {
        let record = busy_record();
        let doc = serde_json::to_string(&StoredRecord::of(&record)).expect("written");
        let read: StoredRecord = serde_json::from_str(&doc).expect("read");
        assert_eq!(read.into_record(columns(&record)), record);
        for key in ["firm_id", "phone", "version", "opted_out", "audit_head"] {
            assert!(
                !doc.contains(key),
                "{key} is in the columns, not the doc: {doc}"
            );
        }
    }

    #[test]
    fn a_doc_written_before_the_compact_form_reads_the_same() {
        let record = busy_record();
        let mut legacy = serde_json::to_value(&record).expect("the long form");
        // The long form as it was: RFC 3339 instants, the provider id's long name, the list of
        // sends.
        let at = "2026-12-06T15:04:05.123456789Z";
        for key in ["created_at", "status_changed_at", "updated_at"] {
            legacy[key] = json!(at);
        }
        legacy["opt_in_sms"] = json!({"state": "sent", "provider_message_id": "m-1", "at": at});
        legacy["opt_in_email"] = json!({"state": "claimed", "at": at});
        legacy["recent_sends"] = json!([{"at": at, "marketing": true}]);
        let read: StoredRecord = serde_json::from_value(legacy).expect("read");
        assert_eq!(read.into_record(columns(&record)), record);
    }

    #[test]
    fn a_fresh_record_leaves_out_what_it_does_not_have() {
        let mut record = busy_record();
        record.recent_inbound_ids.clear();
        record.recent_sends = SendHistory::default();
        record.contact_ids.clear();
        record.time_zone = None;
        record.state = None;
        record.language = Language::default();
        record.opt_out_confirmation_sent = false;
        record.opt_in_sms = Delivery::NotSent;
        record.opt_in_email = Delivery::NotSent;
        let doc = serde_json::to_value(StoredRecord::of(&record)).expect("written");
        let keys: Vec<&String> = doc.as_object().expect("an object").keys().collect();
        assert_eq!(keys, ["b", "c", "s", "u"]);
    }
}
