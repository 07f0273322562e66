//! [`ConsentStore`] over the table: consent records, their audit events, contacts, and the one
//! transaction that writes them together.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use aws_sdk_dynamodb::types::TransactWriteItem;
use chrono::{Duration, Utc};

use consent::evidence::audit::AuditEvent;
use consent::model::contact::Contact;
use consent::model::feed::FeedEvent;
use consent::model::phone::PhoneNumber;
use consent::model::record::{ConsentRecord, ConsentStatus, RecordColumns, StoredRecord};
use consent::ports::{ConsentListPosition, ConsentStore, ConsentWrite, StoreError};

use super::conditions::{Condition, Conflict};
use super::deferred::deferred_item;
use super::idempotency::completed_item;
use super::items::{
    ItemError, backend, doc_item, item_error, key_item, n, n_u64, optional_number, parse_doc,
    parse_events, s, string_attr,
};
use super::limits::BATCH_GET_KEYS;
use super::{DynamoStore, Item};
use crate::keys::{self, Key};

/// The operation name of a consent write, in errors.
const OP: &str = "commit";

impl DynamoStore {
    /// The transaction items of one consent write, each with the conflict its failed
    /// condition means.
    fn write_items(
        &self,
        write: &ConsentWrite,
    ) -> Result<Vec<(TransactWriteItem, Conflict)>, StoreError> {
        let firm_id = write.firm_id.as_str();
        let record_key = keys::consent(firm_id, &write.phone);
        let mut condition = Condition::version(write.expected_version);
        if write.checks_head() {
            condition = condition.and_head(write.chained_onto.as_deref());
        }
        // Index 0 is always the record, so its failed condition is found first: a version
        // conflict takes precedence over a duplicate inbound id, as in the in-memory store.
        let mut items = vec![(
            match &write.record {
                Some(record) => {
                    let item = record_item(OP, &record_key, firm_id, record)?;
                    self.put(OP, item, Some(condition))?
                }
                None => self.check(OP, &record_key, condition)?,
            },
            Conflict::Version,
        )];
        let phone = &write.phone;
        items.extend(self.event_puts(OP, &write.events, |e| {
            keys::consent_event(firm_id, phone, &e.id)
        })?);
        if let Some(contact) = &write.contact {
            let key = keys::contact(&contact.firm_id, &contact.contact_id);
            let mut item = doc_item(OP, &key, contact)?;
            item.insert(keys::PHONE.into(), s(contact.phone.as_str()));
            items.push((self.put(OP, item, None)?, Conflict::None));
        }
        if let Some(id) = &write.takes_deferred {
            items.push((
                self.delete(OP, &keys::deferred(id), Condition::must_exist())?,
                Conflict::DeferredTaken,
            ));
        }
        if let Some(deferred) = &write.deferred {
            items.push((
                self.put(OP, deferred_item(OP, deferred)?, None)?,
                Conflict::None,
            ));
        }
        if let Some(completion) = &write.completes {
            items.push((
                self.put(OP, completed_item(OP, completion)?, None)?,
                Conflict::None,
            ));
        }
        for event in &write.feed {
            let mut item = doc_item(OP, &keys::feed_event(firm_id, &event.id), event)?;
            item.insert(keys::TYPE.into(), s(event.change.type_name()));
            items.push((
                self.put(OP, item, Some(Condition::must_not_exist()))?,
                Conflict::Version,
            ));
        }
        if let Some(id) = &write.inbound_message_id {
            let mut item = key_item(&keys::inbound(firm_id, id));
            // Housekeeping only, so the wall clock is right here; the record also remembers
            // its recent inbound ids.
            let expires = Utc::now() + Duration::days(keys::INBOUND_MARKER_DAYS);
            item.insert(keys::TTL.into(), n(keys::ttl_seconds(expires)));
            items.push((
                self.put(OP, item, Some(Condition::must_not_exist()))?,
                Conflict::DuplicateInbound,
            ));
        }
        Ok(items)
    }
}

#[async_trait]
impl ConsentStore for DynamoStore {
    async fn get_consent(
        &self,
        firm_id: &str,
        phone: &PhoneNumber,
    ) -> Result<Option<ConsentRecord>, StoreError> {
        const OP: &str = "get_consent";
        self.get_item(OP, &keys::consent(firm_id, phone))
            .await?
            .map(|item| parse_record(OP, firm_id, &item))
            .transpose()
    }

    async fn get_consents(
        &self,
        firm_id: &str,
        phones: &[PhoneNumber],
    ) -> Result<HashMap<PhoneNumber, ConsentRecord>, StoreError> {
        const OP: &str = "get_consents";
        // BatchGetItem refuses a request that names one key twice.
        let mut unique: Vec<&PhoneNumber> = Vec::new();
        let mut seen = HashSet::new();
        for phone in phones {
            if seen.insert(phone.as_str()) {
                unique.push(phone);
            }
        }
        let mut found = HashMap::new();
        for chunk in unique.chunks(BATCH_GET_KEYS) {
            let keys: Vec<Item> = chunk
                .iter()
                .map(|phone| key_item(&keys::consent(firm_id, phone)))
                .collect();
            for item in self.batch_get(OP, keys).await? {
                let record = parse_record(OP, firm_id, &item)?;
                found.insert(record.phone.clone(), record);
            }
        }
        Ok(found)
    }

    async fn commit(&self, write: ConsentWrite) -> Result<(), StoreError> {
        let items = self.write_items(&write)?;
        self.transact(OP, items).await
    }

    async fn commit_all(&self, writes: Vec<ConsentWrite>) -> Result<(), StoreError> {
        if writes.is_empty() {
            return Ok(());
        }
        let mut items = Vec::new();
        for write in &writes {
            items.extend(self.write_items(write)?);
        }
        // One transaction (at most MAX_TRANSACTION_ITEMS items): all of them or none.
        self.transact(OP, items).await
    }

    async fn events(
        &self,
        firm_id: &str,
        phone: &PhoneNumber,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        const OP: &str = "events";
        self.query_prefix(
            OP,
            &keys::consent_partition(firm_id, phone),
            keys::EVENT_PREFIX,
        )
        .await?
        .iter()
        .map(|item| parse_events(OP, "consent event", item))
        .collect::<Result<Vec<_>, _>>()
        .map(|items| items.into_iter().flatten().collect())
    }

    async fn feed(
        &self,
        firm_id: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<FeedEvent>, StoreError> {
        const OP: &str = "feed";
        let mut events = Vec::new();
        let mut start: Option<Item> = None;
        while events.len() < limit {
            let page = i32::try_from(limit - events.len()).unwrap_or(i32::MAX);
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :pk AND #sk > :after")
                .expression_attribute_names("#pk", keys::PK)
                .expression_attribute_names("#sk", keys::SK)
                .expression_attribute_values(":pk", s(keys::feed_partition(firm_id)))
                // From the start: every ULID sorts after "0" (an empty string is not a value).
                .expression_attribute_values(":after", s(after.unwrap_or("0")))
                .consistent_read(true)
                .scan_index_forward(true)
                .limit(page)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| backend(OP, e))?;
            for item in output.items.unwrap_or_default() {
                events.push(parse_doc(OP, "feed event", &item)?);
            }
            match output.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => break,
            }
        }
        events.truncate(limit);
        Ok(events)
    }

    async fn get_contact(
        &self,
        firm_id: &str,
        contact_id: &str,
    ) -> Result<Option<Contact>, StoreError> {
        const OP: &str = "get_contact";
        self.get_item(OP, &keys::contact(firm_id, contact_id))
            .await?
            .map(|item| parse_doc(OP, "contact", &item))
            .transpose()
    }

    async fn list_consents(
        &self,
        firm_id: &str,
        status: Option<ConsentStatus>,
        after: Option<&ConsentListPosition>,
        limit: usize,
    ) -> Result<Vec<ConsentRecord>, StoreError> {
        const OP: &str = "list_consents";
        let after = after.map(keys::consent_list_key);
        // One sort key condition per query: a status is the range from its prefix to its
        // upper bound, resumed from the last key seen (inclusive, so that one is dropped
        // below); without a status, everything after it. The positions are built from our own
        // keys rather than passed as an ExclusiveStartKey, so a page resumes correctly even
        // when the last record has changed status since.
        let (condition, values): (&str, Vec<(&str, String)>) = match (status, &after) {
            (Some(status), Some(after)) => (
                "#gpk = :firm AND #gsk BETWEEN :from AND :to",
                vec![
                    (":from", after.clone()),
                    (":to", keys::status_upper_bound(status)),
                ],
            ),
            (Some(status), None) => (
                "#gpk = :firm AND begins_with(#gsk, :prefix)",
                vec![(":prefix", keys::status_prefix(status))],
            ),
            (None, Some(after)) => (
                "#gpk = :firm AND #gsk > :from",
                vec![(":from", after.clone())],
            ),
            (None, None) => ("#gpk = :firm", Vec::new()),
        };
        let mut records = Vec::new();
        let mut start: Option<Item> = None;
        while records.len() < limit {
            // One more than needed: the inclusive lower bound may return the last one seen.
            let page = i32::try_from(limit - records.len() + 1).unwrap_or(i32::MAX);
            let mut query = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(keys::GSI2)
                .key_condition_expression(condition)
                .expression_attribute_names("#gpk", keys::GSI2PK)
                .expression_attribute_values(":firm", s(keys::consents_of_firm(firm_id)))
                .scan_index_forward(true)
                .limit(page)
                .set_exclusive_start_key(start.take());
            // DynamoDB refuses a name the expression does not use.
            if !values.is_empty() {
                query = query.expression_attribute_names("#gsk", keys::GSI2SK);
            }
            for (name, value) in &values {
                query = query.expression_attribute_values(*name, s(value.clone()));
            }
            let output = query.send().await.map_err(|e| backend(OP, e))?;
            for item in output.items.unwrap_or_default() {
                let key = string_attr(OP, "consent", &item, keys::GSI2SK)?;
                if after.as_ref().is_some_and(|after| &key <= after) {
                    continue;
                }
                records.push(parse_record(OP, firm_id, &item)?);
            }
            match output.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => break,
            }
        }
        records.truncate(limit);
        Ok(records)
    }
}

/// A consent record's item: the conditions' attributes beside the document, and its place in
/// the sparse index of a firm's records by status (exports).
fn record_item(
    operation: &'static str,
    key: &Key,
    firm_id: &str,
    record: &ConsentRecord,
) -> Result<Item, StoreError> {
    let mut item = doc_item(operation, key, &StoredRecord::of(record))?;
    item.insert(keys::VERSION.into(), n_u64(record.version));
    if let Some(head) = &record.audit_head {
        item.insert(keys::AUDIT_HEAD.into(), s(head));
    }
    item.insert(keys::GSI2PK.into(), s(keys::consents_of_firm(firm_id)));
    item.insert(
        keys::GSI2SK.into(),
        s(keys::consent_list_key(&ConsentListPosition::of(record))),
    );
    Ok(item)
}

/// A consent record from its item: the `doc` and the attributes beside it (the number from the
/// key).
fn parse_record(
    operation: &'static str,
    firm_id: &str,
    item: &Item,
) -> Result<ConsentRecord, StoreError> {
    const KIND: &str = "consent";
    let missing = |attribute| {
        item_error(
            operation,
            ItemError::MissingAttribute {
                kind: KIND,
                attribute,
            },
        )
    };
    let pk = string_attr(operation, KIND, item, keys::PK)?;
    // The start of `gsi2sk`; an item written before `gsi2` existed holds it as `status`.
    let status = if item.contains_key(keys::GSI2SK) {
        keys::listed_status(&string_attr(operation, KIND, item, keys::GSI2SK)?)
    } else {
        ConsentStatus::parse(&string_attr(operation, KIND, item, keys::LEGACY_STATUS)?)
    };
    let audit_head = match item.get(keys::AUDIT_HEAD) {
        None => None,
        Some(_) => Some(string_attr(operation, KIND, item, keys::AUDIT_HEAD)?),
    };
    let columns = RecordColumns {
        firm_id: firm_id.to_string(),
        phone: keys::consent_phone(firm_id, &pk).ok_or_else(|| missing(keys::PK))?,
        version: optional_number(operation, KIND, item, keys::VERSION)?
            .and_then(|v| u64::try_from(v).ok())
            .ok_or_else(|| missing(keys::VERSION))?,
        status: status.ok_or_else(|| missing(keys::GSI2SK))?,
        audit_head,
    };
    let stored: StoredRecord = parse_doc(operation, KIND, item)?;
    Ok(stored.into_record(columns))
}

#[cfg(test)]
mod tests {
    use aws_sdk_dynamodb::types::AttributeValue;
    use chrono::{DateTime, TimeDelta, Utc};
    use consent::limits::{CONTACT_IDS_BYTES, MAX_CONTACT_IDS};
    use consent::model::firm::MAX_FIRM_ID_LEN;
    use consent::model::language::Language;
    use consent::model::record::{ConsentBasis, Delivery};

    use super::*;

    /// DynamoDB's size of an item: each attribute's name and value, a number by its digits.
    fn item_size(item: &Item) -> usize {
        item.iter()
            .map(|(name, value)| {
                name.len()
                    + match value {
                        AttributeValue::S(text) => text.len(),
                        AttributeValue::N(digits) => digits.len() / 2 + 1,
                        other => panic!("an attribute this test does not size: {other:?}"),
                    }
            })
            .sum()
    }

    /// A record as large as its fields allow, after days of a message every quarter of an hour
    /// (every hour of the day counted, none forgotten for the highest cap), many replies and
    /// many CRM contacts (their ids as long as the record keeps together).
    fn largest_record() -> ConsentRecord {
        let at: DateTime<Utc> = "2026-12-06T15:04:05.123456789Z"
            .parse()
            .expect("an instant");
        let mut record = ConsentRecord {
            firm_id: "F".repeat(MAX_FIRM_ID_LEN),
            phone: PhoneNumber::from_stored("+123456789012345".into()).expect("E.164-shaped"),
            status: ConsentStatus::OptedOut,
            basis: ConsentBasis::EmailConfirmation,
            version: 1_000_000_000,
            created_at: at,
            status_changed_at: at,
            updated_at: at,
            opt_in_sms: Delivery::Sent {
                provider_message_id: "6f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d".into(),
                at,
            },
            opt_in_email: Delivery::Sent {
                provider_message_id: "0100018c2f3e0f2a-3b1c9e5d-6f7a-4b8c-9d0e-1f2a3b4c5d6e-000000"
                    .into(),
                at,
            },
            opt_out_confirmation_sent: true,
            recent_inbound_ids: Vec::new(),
            recent_sends: Default::default(),
            time_zone: Some("America/Argentina/ComodRivadavia".into()),
            audit_head: Some("ab".repeat(32)),
            state: Some("TX".into()),
            language: Language::Es,
            contact_ids: Vec::new(),
        };
        for quarter in 0..3 * 24 * 4 {
            let sent = at - TimeDelta::minutes(15 * (3 * 24 * 4 - quarter));
            record.recent_sends.count(sent, quarter % 7 == 0);
            record.remember_inbound(&format!("{quarter:08}-2c1e-4f55-9c9e-0d2b1e6f7a11"));
        }
        // As many as the record keeps, each as long as that many can be within the bytes.
        let longest = CONTACT_IDS_BYTES / MAX_CONTACT_IDS;
        for i in 0..2 * MAX_CONTACT_IDS {
            record.remember_contact(&format!("{i:0longest$}"));
        }
        assert_eq!(record.contact_ids.len(), MAX_CONTACT_IDS);
        record
    }

    #[test]
    fn a_consent_record_item_stays_under_one_kilobyte_whatever_its_history() {
        let record = largest_record();
        let key = keys::consent(&record.firm_id, &record.phone);
        let item = record_item("test", &key, &record.firm_id, &record).expect("an item");
        let size = item_size(&item);
        assert!(size <= 1024, "{size} bytes: {item:?}");
        let read = parse_record("test", &record.firm_id, &item).expect("read back");
        assert_eq!(read, record);
    }

    #[test]
    fn a_record_item_written_before_the_compact_form_reads_the_same() {
        let at = "2026-12-06T15:04:05.123456789Z";
        let doc = serde_json::json!({
            "firm_id": "ruiz-park", "phone": "+14155550134", "status": "opted_in",
            "basis": "sms_reply", "version": 4, "created_at": at, "status_changed_at": at,
            "updated_at": at, "audit_head": "ab".repeat(32),
            "opt_in_sms": {"state": "sent", "provider_message_id": "m-1", "at": at},
            "opt_in_email": {"state": "not_sent"}, "opt_out_confirmation_sent": false,
            "recent_inbound_ids": ["4b1f6f4a-2c1e-4f55-9c9e-0d2b1e6f7a11"],
            "recent_sends": [{"at": at, "marketing": true}], "time_zone": null,
            "language": "en", "contact_ids": ["crm-1001"],
        });
        let record: ConsentRecord = serde_json::from_value(doc.clone()).expect("the long form");
        let phone = record.phone.clone();
        let mut item = key_item(&keys::consent("ruiz-park", &phone));
        item.insert(keys::DOC.into(), s(doc.to_string()));
        item.insert(keys::VERSION.into(), n_u64(4));
        item.insert("status".into(), s("opted_in"));
        item.insert(keys::AUDIT_HEAD.into(), s("ab".repeat(32)));
        item.insert(keys::GSI2PK.into(), s(keys::consents_of_firm("ruiz-park")));
        item.insert(
            keys::GSI2SK.into(),
            s(format!("opted_in#{}", phone.as_str())),
        );
        let read = parse_record("test", "ruiz-park", &item).expect("read");
        assert_eq!(read, record);
        assert!(read.has_applied("4b1f6f4a-2c1e-4f55-9c9e-0d2b1e6f7a11"));
        assert_eq!(read.recent_sends.within_day(read.updated_at, true), 1);
    }

    #[test]
    fn a_record_item_written_before_gsi2_reads_its_status_attribute() {
        let record = largest_record();
        let key = keys::consent(&record.firm_id, &record.phone);
        let mut item = record_item("test", &key, &record.firm_id, &record).expect("an item");
        item.remove(keys::GSI2PK);
        item.remove(keys::GSI2SK);
        item.insert(keys::LEGACY_STATUS.into(), s("opted_out"));
        let read = parse_record("test", &record.firm_id, &item).expect("read");
        assert_eq!(read, record);
    }
}
