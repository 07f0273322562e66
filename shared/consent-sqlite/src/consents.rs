//! Consent records, their audit events, contacts and inbound markers: a [`ConsentWrite`] is one
//! transaction, checked against the stored version and chain head before anything is written.

use std::collections::HashMap;

use async_trait::async_trait;
use consent::evidence::audit::AuditEvent;
use consent::model::contact::Contact;
use consent::model::feed::{self, FeedEvent};
use consent::model::phone::PhoneNumber;
use consent::model::record::{ConsentRecord, ConsentStatus, RecordColumns, StoredRecord};
use consent::ports::{ConsentListPosition, ConsentStore, ConsentWrite, StoreError};
use rusqlite::types::Type;
use rusqlite::{OptionalExtension, Row, Transaction, params};

use crate::codec::{from_doc, micros, to_doc};
use crate::database::SqliteStore;
use crate::deferred;
use crate::errors::store_error;
use crate::firms::EventRow;
use crate::idempotency;

/// A write's rows, encoded before the writer is taken so the transaction only writes.
struct EncodedWrite {
    write: ConsentWrite,
    record: Option<String>,
    events: Vec<EventRow>,
    contact: Option<String>,
    deferred: Option<String>,
    response: Option<String>,
}

/// The operation name of a consent write, in errors.
const OPERATION: &str = "commit";

impl EncodedWrite {
    fn new(write: ConsentWrite) -> Result<Self, StoreError> {
        let doc = |value: Option<Result<String, StoreError>>| value.transpose();
        Ok(Self {
            record: doc(write
                .record
                .as_ref()
                .map(|r| to_doc(OPERATION, &StoredRecord::of(r))))?,
            events: write
                .events
                .iter()
                .map(|e| EventRow::of(OPERATION, e))
                .collect::<Result<_, _>>()?,
            contact: doc(write.contact.as_ref().map(|c| to_doc(OPERATION, c)))?,
            deferred: doc(write.deferred.as_ref().map(|d| to_doc(OPERATION, d)))?,
            response: doc(write
                .completes
                .as_ref()
                .map(|c| to_doc(OPERATION, &c.response)))?,
            write,
        })
    }
}

/// One record by its key, in the columns [`record_of_row`] reads.
const SELECT_RECORD: &str = "SELECT firm_id, phone, version, status, audit_head, doc
                             FROM consents WHERE firm_id = ?1 AND phone = ?2";

/// A record from its row: `firm_id, phone, version, status, audit_head, doc`.
fn record_of_row(row: &Row<'_>) -> rusqlite::Result<ConsentRecord> {
    let unreadable = |column: usize, error: String| {
        rusqlite::Error::FromSqlConversionFailure(column, Type::Text, error.into())
    };
    let phone: String = row.get(1)?;
    let status: String = row.get(3)?;
    let columns = RecordColumns {
        firm_id: row.get(0)?,
        phone: PhoneNumber::from_stored(phone).map_err(|e| unreadable(1, e.to_string()))?,
        version: row.get(2)?,
        status: ConsentStatus::parse(&status)
            .ok_or_else(|| unreadable(3, format!("no status {status:?}")))?,
        audit_head: row.get(4)?,
    };
    let stored: StoredRecord = from_doc(5, &row.get::<_, String>(5)?)?;
    Ok(stored.into_record(columns))
}

#[async_trait]
impl ConsentStore for SqliteStore {
    async fn get_consent(
        &self,
        firm_id: &str,
        phone: &PhoneNumber,
    ) -> Result<Option<ConsentRecord>, StoreError> {
        self.db.read("get_consent", |tx| {
            tx.prepare_cached(SELECT_RECORD)?
                .query_row([firm_id, phone.as_str()], record_of_row)
                .optional()
        })
    }

    async fn get_consents(
        &self,
        firm_id: &str,
        phones: &[PhoneNumber],
    ) -> Result<HashMap<PhoneNumber, ConsentRecord>, StoreError> {
        self.db.read("get_consents", |tx| {
            let mut select = tx.prepare_cached(SELECT_RECORD)?;
            let mut found = HashMap::with_capacity(phones.len());
            for phone in phones {
                let record: Option<ConsentRecord> = select
                    .query_row([firm_id, phone.as_str()], record_of_row)
                    .optional()?;
                if let Some(record) = record {
                    found.insert(phone.clone(), record);
                }
            }
            Ok(found)
        })
    }

    async fn commit(&self, write: ConsentWrite) -> Result<(), StoreError> {
        let encoded = EncodedWrite::new(write)?;
        self.db
            .write(OPERATION, move |tx| apply_write(tx, encoded))
            .await
    }

    async fn commit_all(&self, writes: Vec<ConsentWrite>) -> Result<(), StoreError> {
        if writes.is_empty() {
            return Ok(());
        }
        let encoded = writes
            .into_iter()
            .map(EncodedWrite::new)
            .collect::<Result<Vec<_>, _>>()?;
        // One savepoint for all of them: a failed condition rolls every one back.
        self.db
            .write(OPERATION, move |tx| {
                encoded
                    .into_iter()
                    .try_for_each(|write| apply_write(tx, write))
            })
            .await
    }

    async fn events(
        &self,
        firm_id: &str,
        phone: &PhoneNumber,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        self.db.read("events", |tx| {
            tx.prepare_cached(
                "SELECT doc FROM consent_events WHERE firm_id = ?1 AND phone = ?2 ORDER BY event_id",
            )?
            .query_map([firm_id, phone.as_str()], |row| {
                from_doc(0, &row.get::<_, String>(0)?)
            })?
            .collect()
        })
    }

    async fn feed(
        &self,
        firm_id: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<FeedEvent>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.db.read("feed", |tx| {
            tx.prepare_cached(
                "SELECT doc FROM feed_events WHERE firm_id = ?1 AND event_id > ?2
                 ORDER BY event_id LIMIT ?3",
            )?
            .query_map(params![firm_id, after.unwrap_or(""), limit], |row| {
                from_doc(0, &row.get::<_, String>(0)?)
            })?
            .collect()
        })
    }

    async fn get_contact(
        &self,
        firm_id: &str,
        contact_id: &str,
    ) -> Result<Option<Contact>, StoreError> {
        self.db.read("get_contact", |tx| {
            tx.prepare_cached("SELECT doc FROM contacts WHERE firm_id = ?1 AND contact_id = ?2")?
                .query_row([firm_id, contact_id], |row| {
                    from_doc(0, &row.get::<_, String>(0)?)
                })
                .optional()
        })
    }

    async fn list_consents(
        &self,
        firm_id: &str,
        status: Option<ConsentStatus>,
        after: Option<&ConsentListPosition>,
        limit: usize,
    ) -> Result<Vec<ConsentRecord>, StoreError> {
        // (status, phone) order is `<status>#<phone>` text order (ConsentListPosition says why);
        // the index consents_by_status serves each filter and the order.
        const SELECT: &str = "SELECT firm_id, phone, version, status, audit_head, doc
                              FROM consents WHERE firm_id = :firm";
        const ORDER: &str = " ORDER BY status, phone LIMIT :limit";
        let filter = match (status.is_some(), after.is_some()) {
            (false, false) => "",
            (false, true) => " AND (status, phone) > (:after_status, :after_phone)",
            (true, false) => " AND status = :status",
            (true, true) => {
                " AND status = :status AND (status, phone) > (:after_status, :after_phone)"
            }
        };
        let sql = format!("{SELECT}{filter}{ORDER}");
        let status = status.map(|s| s.as_str());
        let (after_status, after_phone) =
            after.map(|a| (a.status.as_str(), a.phone.as_str())).unzip();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.db.read("list_consents", |tx| {
            let mut select = tx.prepare_cached(&sql)?;
            let mut bound: Vec<(&str, &dyn rusqlite::ToSql)> =
                vec![(":firm", &firm_id), (":limit", &limit)];
            if status.is_some() {
                bound.push((":status", &status));
            }
            if after.is_some() {
                bound.push((":after_status", &after_status));
                bound.push((":after_phone", &after_phone));
            }
            select.query_map(bound.as_slice(), record_of_row)?.collect()
        })
    }
}

impl SqliteStore {
    /// A firm's newest feed events, newest first (the local server's page shows them).
    pub fn latest_feed(&self, firm_id: &str, limit: usize) -> Result<Vec<FeedEvent>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.db.read("latest_feed", |tx| {
            tx.prepare_cached(
                "SELECT doc FROM feed_events WHERE firm_id = ?1 ORDER BY event_id DESC LIMIT ?2",
            )?
            .query_map(params![firm_id, limit], |row| {
                from_doc(0, &row.get::<_, String>(0)?)
            })?
            .collect()
        })
    }
}

/// Writes a record's row: a new row, or the stored one updated in place. An update leaves
/// `status` (and so the `consents_by_status` index) alone unless it changed: most writes (a
/// send, a claim) keep the status, and rewriting an index entry costs a page write.
fn write_record(
    tx: &rusqlite::Transaction<'_>,
    (firm_id, phone): (&str, &str),
    record: &ConsentRecord,
    doc: &str,
    stored_status: Option<String>,
) -> rusqlite::Result<usize> {
    let status = record.status.as_str();
    match stored_status {
        None => tx
            .prepare_cached(
                "INSERT INTO consents (firm_id, phone, version, status, audit_head, doc)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                firm_id,
                phone,
                record.version,
                status,
                record.audit_head,
                doc
            ]),
        Some(stored) if stored == status => tx
            .prepare_cached(
                "UPDATE consents SET version = ?3, audit_head = ?4, doc = ?5
                 WHERE firm_id = ?1 AND phone = ?2",
            )?
            .execute(params![
                firm_id,
                phone,
                record.version,
                record.audit_head,
                doc
            ]),
        Some(_) => tx
            .prepare_cached(
                "UPDATE consents SET version = ?3, status = ?4, audit_head = ?5, doc = ?6
                 WHERE firm_id = ?1 AND phone = ?2",
            )?
            .execute(params![
                firm_id,
                phone,
                record.version,
                status,
                record.audit_head,
                doc
            ]),
    }
}

/// Writes feed events (their ids already in order) in the caller's transaction.
pub(crate) fn insert_feed(
    tx: &rusqlite::Transaction<'_>,
    events: &[FeedEvent],
) -> Result<(), StoreError> {
    const OPERATION: &str = "commit";
    let mut insert = tx
        .prepare_cached(
            "INSERT INTO feed_events (firm_id, event_id, type, doc) VALUES (?1, ?2, ?3, ?4)",
        )
        .map_err(|e| store_error(OPERATION, e))?;
    for event in events {
        insert
            .execute(params![
                event.firm_id,
                event.id,
                event.change.type_name(),
                to_doc(OPERATION, event)?
            ])
            .map_err(|e| store_error(OPERATION, e))?;
    }
    Ok(())
}

/// Checks a write's conditions against the stored record (and the deferred send it takes)
/// and writes its rows; a failed condition leaves the writer to roll the write back.
fn apply_write(tx: &Transaction<'_>, encoded: EncodedWrite) -> Result<(), StoreError> {
    let sql = |e| store_error(OPERATION, e);
    let EncodedWrite {
        write,
        record,
        events,
        contact,
        deferred,
        response,
    } = encoded;
    let firm_id = write.firm_id.as_str();
    let phone = write.phone.as_str();
    let stored: Option<(u64, Option<String>, String)> = tx
        .prepare_cached(
            "SELECT version, audit_head, status FROM consents WHERE firm_id = ?1 AND phone = ?2",
        )
        .and_then(|mut s| {
            s.query_row([firm_id, phone], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?))
            })
            .optional()
        })
        .map_err(sql)?;
    let head_moved = write.checks_head()
        && stored.as_ref().and_then(|(_, head, _)| head.as_deref())
            != write.chained_onto.as_deref();
    if stored.as_ref().map(|(version, _, _)| *version) != write.expected_version || head_moved {
        return Err(StoreError::VersionConflict {
            operation: OPERATION,
        });
    }
    if let Some(message_id) = &write.inbound_message_id {
        let marked = tx
            .prepare_cached(
                "INSERT INTO inbound_messages (firm_id, message_id) VALUES (?1, ?2)
                     ON CONFLICT DO NOTHING",
            )
            .and_then(|mut s| s.execute([firm_id, message_id.as_str()]))
            .map_err(sql)?;
        if marked == 0 {
            return Err(StoreError::DuplicateInbound);
        }
    }
    if let Some(id) = &write.takes_deferred
        && !deferred::remove(tx, id).map_err(sql)?
    {
        return Err(StoreError::DeferredTaken);
    }
    if let (Some(record), Some(doc)) = (&write.record, &record) {
        write_record(tx, (firm_id, phone), record, doc, stored.map(|(_, _, s)| s)).map_err(sql)?;
    }
    let mut insert = tx
        .prepare_cached(
            "INSERT INTO consent_events (firm_id, phone, event_id, type, doc)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .map_err(sql)?;
    for row in &events {
        insert
            .execute(params![firm_id, phone, row.id, row.kind, row.doc])
            .map_err(sql)?;
    }
    if let (Some(contact), Some(doc)) = (&write.contact, &contact) {
        tx.prepare_cached(
            "INSERT OR REPLACE INTO contacts (firm_id, contact_id, phone, doc)
                 VALUES (?1, ?2, ?3, ?4)",
        )
        .and_then(|mut s| {
            s.execute(params![
                contact.firm_id,
                contact.contact_id,
                contact.phone.as_str(),
                doc
            ])
        })
        .map_err(sql)?;
    }
    if let (Some(send), Some(doc)) = (&write.deferred, &deferred) {
        tx.prepare_cached(
            "INSERT OR REPLACE INTO deferred_sends (id, not_before, doc) VALUES (?1, ?2, ?3)",
        )
        .and_then(|mut s| s.execute(params![send.id, micros(send.not_before), doc]))
        .map_err(sql)?;
    }
    if let (Some(completion), Some(response)) = (&write.completes, &response) {
        idempotency::keep(tx, completion, response).map_err(sql)?;
    }
    if !write.feed.is_empty() {
        let mut events = write.feed;
        let latest: Option<String> = tx
            .prepare_cached("SELECT max(event_id) FROM feed_events WHERE firm_id = ?1")
            .and_then(|mut s| s.query_row([firm_id], |row| row.get(0)))
            .map_err(sql)?;
        feed::order_after(latest.as_deref(), &mut events);
        insert_feed(tx, &events)?;
    }
    Ok(())
}
