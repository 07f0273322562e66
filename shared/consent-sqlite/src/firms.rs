//! Firms, their number routes and their own audit events.

use async_trait::async_trait;
use consent::evidence::audit::AuditEvent;
use consent::model::firm::Firm;
use consent::model::phone::PhoneNumber;
use consent::ports::{FirmStore, StoreError};
use rusqlite::{OptionalExtension, params};

use crate::codec::{from_doc, to_doc};
use crate::database::SqliteStore;
use crate::errors::store_error;

/// An audit event as a row: id, type name (for a person reading the table) and document.
pub(crate) struct EventRow {
    pub(crate) id: String,
    pub(crate) kind: String,
    pub(crate) doc: String,
}

impl EventRow {
    pub(crate) fn of(operation: &'static str, event: &AuditEvent) -> Result<Self, StoreError> {
        Ok(Self {
            id: event.id.clone(),
            kind: event.type_name().to_string(),
            doc: to_doc(operation, event)?,
        })
    }
}

#[async_trait]
impl FirmStore for SqliteStore {
    async fn get_firm(&self, firm_id: &str) -> Result<Option<Firm>, StoreError> {
        self.db.read("get_firm", |tx| {
            tx.prepare_cached("SELECT doc FROM firms WHERE firm_id = ?1")?
                .query_row([firm_id], |row| from_doc(0, &row.get::<_, String>(0)?))
                .optional()
        })
    }

    async fn put_firm(
        &self,
        firm: &Firm,
        expected_version: Option<u64>,
        previous_number: Option<&PhoneNumber>,
        events: &[AuditEvent],
    ) -> Result<(), StoreError> {
        const OPERATION: &str = "put_firm";
        let doc = to_doc(OPERATION, firm)?;
        let rows = events
            .iter()
            .map(|e| EventRow::of(OPERATION, e))
            .collect::<Result<Vec<_>, _>>()?;
        let firm_id = firm.firm_id.clone();
        let version = firm.version;
        let number = firm.sms_number.as_str().to_string();
        let previous = previous_number
            .filter(|p| p.as_str() != number)
            .map(|p| p.as_str().to_string());
        self.db
            .write(OPERATION, move |tx| {
                let sql = |e| store_error(OPERATION, e);
                let stored: Option<u64> = tx
                    .prepare_cached("SELECT version FROM firms WHERE firm_id = ?1")
                    .and_then(|mut s| s.query_row([&firm_id], |row| row.get(0)).optional())
                    .map_err(sql)?;
                if stored != expected_version {
                    return Err(StoreError::VersionConflict {
                        operation: OPERATION,
                    });
                }
                let owner: Option<String> = tx
                    .prepare_cached("SELECT firm_id FROM number_routes WHERE sms_number = ?1")
                    .and_then(|mut s| s.query_row([&number], |row| row.get(0)).optional())
                    .map_err(sql)?;
                if owner.is_some_and(|owner| owner != firm_id) {
                    return Err(StoreError::NumberInUse);
                }
                if let Some(previous) = &previous {
                    tx.execute(
                        "DELETE FROM number_routes WHERE sms_number = ?1 AND firm_id = ?2",
                        params![previous, firm_id],
                    )
                    .map_err(sql)?;
                }
                tx.execute(
                    "INSERT OR REPLACE INTO number_routes (sms_number, firm_id) VALUES (?1, ?2)",
                    params![number, firm_id],
                )
                .map_err(sql)?;
                tx.execute(
                    "INSERT OR REPLACE INTO firms (firm_id, version, doc) VALUES (?1, ?2, ?3)",
                    params![firm_id, version, doc],
                )
                .map_err(sql)?;
                let mut insert = tx
                    .prepare_cached(
                        "INSERT INTO firm_events (firm_id, event_id, type, doc) VALUES (?1, ?2, ?3, ?4)",
                    )
                    .map_err(sql)?;
                for row in &rows {
                    insert
                        .execute(params![firm_id, row.id, row.kind, row.doc])
                        .map_err(sql)?;
                }
                Ok(())
            })
            .await
    }

    async fn firm_for_number(
        &self,
        sms_number: &PhoneNumber,
    ) -> Result<Option<String>, StoreError> {
        self.db.read("firm_for_number", |tx| {
            tx.prepare_cached("SELECT firm_id FROM number_routes WHERE sms_number = ?1")?
                .query_row([sms_number.as_str()], |row| row.get(0))
                .optional()
        })
    }

    async fn list_firm_ids(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        let after = after.unwrap_or_default();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        // The primary key serves the order and the start.
        self.db.read("list_firm_ids", |tx| {
            tx.prepare_cached(
                "SELECT firm_id FROM firms WHERE firm_id > ?1 ORDER BY firm_id LIMIT ?2",
            )?
            .query_map(params![after, limit], |row| row.get(0))?
            .collect()
        })
    }

    async fn firm_events(&self, firm_id: &str) -> Result<Vec<AuditEvent>, StoreError> {
        self.db.read("firm_events", |tx| {
            tx.prepare_cached("SELECT doc FROM firm_events WHERE firm_id = ?1 ORDER BY event_id")?
                .query_map([firm_id], |row| from_doc(0, &row.get::<_, String>(0)?))?
                .collect()
        })
    }
}
