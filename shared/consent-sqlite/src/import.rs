//! A one-time import of the in-memory store's state (the local server's former `store.json`),
//! in one transaction with a marker, so an interrupted import leaves nothing half done and a
//! finished one is never repeated.

use consent::adapters::memory::StoreState;
use consent::model::record::StoredRecord;
use consent::ports::StoreError;
use rusqlite::{OptionalExtension, params};

use crate::codec::{micros, to_doc};
use crate::database::SqliteStore;
use crate::errors::store_error;
use crate::firms::EventRow;

/// What an import wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Firms written.
    pub firms: usize,
    /// Consent records written.
    pub consents: usize,
    /// Audit events, the firms' and the numbers'.
    pub events: usize,
    /// Contacts written.
    pub contacts: usize,
}

const OPERATION: &str = "import";

fn marker(source: &str) -> String {
    format!("imported:{source}")
}

impl SqliteStore {
    /// Whether the state named `source` was imported.
    pub fn is_imported(&self, source: &str) -> Result<bool, StoreError> {
        let name = marker(source);
        self.db.read("is_imported", |tx| {
            tx.prepare_cached("SELECT 1 FROM settings WHERE name = ?1")?
                .query_row([&name], |_| Ok(()))
                .optional()
                .map(|found| found.is_some())
        })
    }

    /// Writes everything in `state` and marks `source` imported, in one transaction.
    pub async fn import_state(
        &self,
        state: StoreState,
        source: &str,
    ) -> Result<ImportReport, StoreError> {
        let name = marker(source);
        self.db
            .write(OPERATION, move |tx| {
                let report = write_state(tx, &state)?;
                tx.execute(
                    "INSERT OR REPLACE INTO settings (name, value) VALUES (?1, ?2)",
                    params![name, chrono::Utc::now().to_rfc3339()],
                )
                .map_err(|e| store_error(OPERATION, e))?;
                Ok(report)
            })
            .await
    }
}

fn write_state(
    tx: &rusqlite::Transaction<'_>,
    state: &StoreState,
) -> Result<ImportReport, StoreError> {
    let sql = |e| store_error(OPERATION, e);
    let mut report = ImportReport::default();
    for firm in state.firms.values() {
        tx.execute(
            "INSERT OR REPLACE INTO firms (firm_id, version, doc) VALUES (?1, ?2, ?3)",
            params![firm.firm_id, firm.version, to_doc(OPERATION, firm)?],
        )
        .map_err(sql)?;
        report.firms += 1;
    }
    for (number, firm_id) in &state.routes {
        tx.execute(
            "INSERT OR REPLACE INTO number_routes (sms_number, firm_id) VALUES (?1, ?2)",
            params![number, firm_id],
        )
        .map_err(sql)?;
    }
    for (firm_id, events) in &state.firm_events {
        for event in events {
            let row = EventRow::of(OPERATION, event)?;
            tx.execute(
                "INSERT OR REPLACE INTO firm_events (firm_id, event_id, type, doc) VALUES (?1, ?2, ?3, ?4)",
                params![firm_id, row.id, row.kind, row.doc],
            )
            .map_err(sql)?;
            report.events += 1;
        }
    }
    for record in state.consents.values() {
        tx.execute(
            "INSERT OR REPLACE INTO consents (firm_id, phone, version, status, audit_head, doc)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                record.firm_id,
                record.phone.as_str(),
                record.version,
                record.status.as_str(),
                record.audit_head,
                to_doc(OPERATION, &StoredRecord::of(record))?
            ],
        )
        .map_err(sql)?;
        report.consents += 1;
    }
    for (key, events) in &state.events {
        // `<firm_id>#<e164>`: firm ids never hold a `#`.
        let Some((firm_id, phone)) = key.split_once('#') else {
            continue;
        };
        for event in events {
            let row = EventRow::of(OPERATION, event)?;
            tx.execute(
                "INSERT OR REPLACE INTO consent_events (firm_id, phone, event_id, type, doc)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![firm_id, phone, row.id, row.kind, row.doc],
            )
            .map_err(sql)?;
            report.events += 1;
        }
    }
    for contact in state.contacts.values() {
        tx.execute(
            "INSERT OR REPLACE INTO contacts (firm_id, contact_id, phone, doc) VALUES (?1, ?2, ?3, ?4)",
            params![
                contact.firm_id,
                contact.contact_id,
                contact.phone.as_str(),
                to_doc(OPERATION, contact)?
            ],
        )
        .map_err(sql)?;
        report.contacts += 1;
    }
    for key in &state.inbound_ids {
        if let Some((firm_id, message_id)) = key.split_once('#') {
            tx.execute(
                "INSERT OR IGNORE INTO inbound_messages (firm_id, message_id) VALUES (?1, ?2)",
                params![firm_id, message_id],
            )
            .map_err(sql)?;
        }
    }
    for (key, item) in &state.idempotency {
        let response = item
            .response
            .as_ref()
            .map(|r| to_doc(OPERATION, r))
            .transpose()?;
        tx.execute(
            "INSERT OR REPLACE INTO idempotency (key, payload_hash, in_progress_until, response, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                key,
                item.payload_hash,
                micros(item.in_progress_until),
                response,
                item.expires_at.map(micros)
            ],
        )
        .map_err(sql)?;
    }
    for events in state.feed.values() {
        crate::consents::insert_feed(tx, events)?;
    }
    for send in state.deferred.values() {
        tx.execute(
            "INSERT OR REPLACE INTO deferred_sends (id, not_before, doc) VALUES (?1, ?2, ?3)",
            params![send.id, micros(send.not_before), to_doc(OPERATION, send)?],
        )
        .map_err(sql)?;
    }
    Ok(report)
}
