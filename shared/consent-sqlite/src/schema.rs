//! The schema, its version and its migrations, in one place. The tables mirror the DynamoDB
//! key layout (docs/architecture.md §6.1): one table per item kind, keyed as its `pk`/`sk` are,
//! the model value as JSON in `doc`, and the attributes conditions and queries use as columns.
//! docs/architecture.md §6.3 describes each table for a person opening the file in `sqlite3`.

use std::path::Path;

use rusqlite::Connection;

use crate::errors::OpenError;

/// `PRAGMA application_id` of a consent database ("Cons"): tells our file from another
/// application's SQLite database.
const APPLICATION_ID: i64 = 0x436f_6e73;

/// The migrations, oldest first; migration `n` (1-based) brings the schema to version `n`.
/// Append only: a released migration never changes.
const MIGRATIONS: &[&str] = &[
    // 1: the store, the outbox and the settings.
    r#"
    CREATE TABLE firms (
        firm_id TEXT PRIMARY KEY,
        version INTEGER NOT NULL,
        doc     TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE number_routes (
        sms_number TEXT PRIMARY KEY,
        firm_id    TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE firm_events (
        firm_id  TEXT NOT NULL,
        event_id TEXT NOT NULL,
        type     TEXT NOT NULL,
        doc      TEXT NOT NULL,
        PRIMARY KEY (firm_id, event_id)
    ) WITHOUT ROWID;
    CREATE TABLE consents (
        firm_id    TEXT NOT NULL,
        phone      TEXT NOT NULL,
        version    INTEGER NOT NULL,
        status     TEXT NOT NULL,
        audit_head TEXT,
        doc        TEXT NOT NULL,
        PRIMARY KEY (firm_id, phone)
    ) WITHOUT ROWID;
    CREATE INDEX consents_by_status ON consents (firm_id, status, phone);
    CREATE TABLE consent_events (
        firm_id  TEXT NOT NULL,
        phone    TEXT NOT NULL,
        event_id TEXT NOT NULL,
        type     TEXT NOT NULL,
        doc      TEXT NOT NULL,
        PRIMARY KEY (firm_id, phone, event_id)
    ) WITHOUT ROWID;
    CREATE TABLE contacts (
        firm_id    TEXT NOT NULL,
        contact_id TEXT NOT NULL,
        phone      TEXT NOT NULL,
        doc        TEXT NOT NULL,
        PRIMARY KEY (firm_id, contact_id)
    ) WITHOUT ROWID;
    CREATE TABLE inbound_messages (
        firm_id    TEXT NOT NULL,
        message_id TEXT NOT NULL,
        PRIMARY KEY (firm_id, message_id)
    ) WITHOUT ROWID;
    CREATE TABLE idempotency (
        key               TEXT PRIMARY KEY,
        payload_hash      TEXT NOT NULL,
        in_progress_until INTEGER NOT NULL,
        response          TEXT,
        expires_at        INTEGER
    ) WITHOUT ROWID;
    CREATE TABLE deferred_sends (
        id         TEXT PRIMARY KEY,
        not_before INTEGER NOT NULL,
        doc        TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX deferred_sends_by_due ON deferred_sends (not_before, id);
    CREATE TABLE outbox_sms (
        seq        INTEGER PRIMARY KEY,
        to_number  TEXT NOT NULL,
        from_number TEXT NOT NULL,
        body       TEXT NOT NULL,
        message_id TEXT NOT NULL,
        sent_at    INTEGER NOT NULL
    );
    CREATE TABLE outbox_email (
        seq        INTEGER PRIMARY KEY,
        to_address TEXT NOT NULL,
        subject    TEXT NOT NULL,
        text_body  TEXT NOT NULL,
        html_body  TEXT NOT NULL,
        message_id TEXT NOT NULL,
        sent_at    INTEGER NOT NULL
    );
    CREATE TABLE settings (
        name  TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) WITHOUT ROWID;
    "#,
    // 2: each firm's feed of consent changes and replies to its CRM.
    r#"
    CREATE TABLE feed_events (
        firm_id  TEXT NOT NULL,
        event_id TEXT NOT NULL,
        type     TEXT NOT NULL,
        doc      TEXT NOT NULL,
        PRIMARY KEY (firm_id, event_id)
    ) WITHOUT ROWID;
    "#,
    // 3: the tables holding documents become rowid tables. A WITHOUT ROWID table keeps a row in
    // its key's b-tree, where more than about 1,000 bytes (a consent record after a few sends, a
    // message with its body) spill into overflow pages: every update of such a row wrote two
    // or three pages and the file was 2.6 times larger. A rowid table keeps up to about 4,000
    // bytes in the leaf; the primary key stays, as the table's unique index.
    r#"
    CREATE TABLE firms_3 (
        firm_id TEXT PRIMARY KEY,
        version INTEGER NOT NULL,
        doc     TEXT NOT NULL
    );
    INSERT INTO firms_3 SELECT firm_id, version, doc FROM firms;
    DROP TABLE firms;
    ALTER TABLE firms_3 RENAME TO firms;
    CREATE TABLE firm_events_3 (
        firm_id  TEXT NOT NULL,
        event_id TEXT NOT NULL,
        type     TEXT NOT NULL,
        doc      TEXT NOT NULL,
        PRIMARY KEY (firm_id, event_id)
    );
    INSERT INTO firm_events_3 SELECT firm_id, event_id, type, doc FROM firm_events;
    DROP TABLE firm_events;
    ALTER TABLE firm_events_3 RENAME TO firm_events;
    CREATE TABLE consents_3 (
        firm_id    TEXT NOT NULL,
        phone      TEXT NOT NULL,
        version    INTEGER NOT NULL,
        status     TEXT NOT NULL,
        audit_head TEXT,
        doc        TEXT NOT NULL,
        PRIMARY KEY (firm_id, phone)
    );
    INSERT INTO consents_3 SELECT firm_id, phone, version, status, audit_head, doc FROM consents;
    DROP TABLE consents;
    ALTER TABLE consents_3 RENAME TO consents;
    CREATE INDEX consents_by_status ON consents (firm_id, status, phone);
    CREATE TABLE consent_events_3 (
        firm_id  TEXT NOT NULL,
        phone    TEXT NOT NULL,
        event_id TEXT NOT NULL,
        type     TEXT NOT NULL,
        doc      TEXT NOT NULL,
        PRIMARY KEY (firm_id, phone, event_id)
    );
    INSERT INTO consent_events_3 SELECT firm_id, phone, event_id, type, doc FROM consent_events;
    DROP TABLE consent_events;
    ALTER TABLE consent_events_3 RENAME TO consent_events;
    CREATE TABLE contacts_3 (
        firm_id    TEXT NOT NULL,
        contact_id TEXT NOT NULL,
        phone      TEXT NOT NULL,
        doc        TEXT NOT NULL,
        PRIMARY KEY (firm_id, contact_id)
    );
    INSERT INTO contacts_3 SELECT firm_id, contact_id, phone, doc FROM contacts;
    DROP TABLE contacts;
    ALTER TABLE contacts_3 RENAME TO contacts;
    CREATE TABLE idempotency_3 (
        key               TEXT PRIMARY KEY,
        payload_hash      TEXT NOT NULL,
        in_progress_until INTEGER NOT NULL,
        response          TEXT,
        expires_at        INTEGER
    );
    INSERT INTO idempotency_3
        SELECT key, payload_hash, in_progress_until, response, expires_at FROM idempotency;
    DROP TABLE idempotency;
    ALTER TABLE idempotency_3 RENAME TO idempotency;
    CREATE TABLE deferred_sends_3 (
        id         TEXT PRIMARY KEY,
        not_before INTEGER NOT NULL,
        doc        TEXT NOT NULL
    );
    INSERT INTO deferred_sends_3 SELECT id, not_before, doc FROM deferred_sends;
    DROP TABLE deferred_sends;
    ALTER TABLE deferred_sends_3 RENAME TO deferred_sends;
    CREATE INDEX deferred_sends_by_due ON deferred_sends (not_before, id);
    CREATE TABLE feed_events_3 (
        firm_id  TEXT NOT NULL,
        event_id TEXT NOT NULL,
        type     TEXT NOT NULL,
        doc      TEXT NOT NULL,
        PRIMARY KEY (firm_id, event_id)
    );
    INSERT INTO feed_events_3 SELECT firm_id, event_id, type, doc FROM feed_events;
    DROP TABLE feed_events;
    ALTER TABLE feed_events_3 RENAME TO feed_events;
    "#,
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the database at `path` to [`SCHEMA_VERSION`], each migration in its own transaction;
/// refuses a file that is not ours or is newer than this build.
pub(crate) fn migrate(connection: &mut Connection, path: &Path) -> Result<(), OpenError> {
    let prepare = |source| OpenError::Prepare {
        path: path.to_path_buf(),
        source,
    };
    let pragma = |name: &str| -> Result<i64, OpenError> {
        connection
            .query_row(&format!("PRAGMA {name}"), [], |row| row.get(0))
            .map_err(prepare)
    };
    let application_id = pragma("application_id")?;
    let found = pragma("user_version")?;
    let tables: i64 = connection
        .query_row("SELECT count(*) FROM sqlite_master", [], |row| row.get(0))
        .map_err(prepare)?;
    let ours = application_id == APPLICATION_ID || (application_id == 0 && tables == 0);
    if !ours {
        return Err(OpenError::OtherApplication {
            path: path.to_path_buf(),
        });
    }
    if found > SCHEMA_VERSION {
        return Err(OpenError::NewerSchema {
            path: path.to_path_buf(),
            found,
            supported: SCHEMA_VERSION,
        });
    }
    for (index, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .skip(usize::try_from(found).unwrap_or(0))
    {
        let version = index as i64 + 1;
        let transaction = connection.transaction().map_err(prepare)?;
        transaction.execute_batch(sql).map_err(prepare)?;
        transaction
            .execute_batch(&format!(
                "PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {version};"
            ))
            .map_err(prepare)?;
        transaction.commit().map_err(prepare)?;
        tracing::info!(path = %path.display(), version, "database schema migrated");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database at schema version 2, as the release before rowid tables left it.
    fn version_two() -> Connection {
        let connection = Connection::open_in_memory().expect("the database opens");
        for sql in &MIGRATIONS[..2] {
            connection
                .execute_batch(sql)
                .expect("an old migration runs");
        }
        connection
            .execute_batch(&format!(
                "PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = 2;
                 INSERT INTO consents VALUES ('f1', '+14155550100', 3, 'opted_in', 'h', '{{}}');
                 INSERT INTO consent_events VALUES ('f1', '+14155550100', 'e1', 'message_sent', '{{}}');
                 INSERT INTO feed_events VALUES ('f1', 'e2', 'opted_in', '{{}}');
                 INSERT INTO idempotency VALUES ('k', 'p', 0, NULL, NULL);"
            ))
            .expect("rows are written");
        connection
    }

    #[test]
    fn a_version_two_database_keeps_its_rows_in_rowid_tables() {
        let mut connection = version_two();
        migrate(&mut connection, Path::new(":memory:")).expect("the migration runs");
        let count = |table: &str| -> i64 {
            connection
                .query_row(&format!("SELECT count(*) FROM {table}"), [], |row| {
                    row.get(0)
                })
                .expect("the table is there")
        };
        for table in ["consents", "consent_events", "feed_events", "idempotency"] {
            assert_eq!(count(table), 1, "{table} kept its row");
        }
        let without_rowid: Vec<String> = connection
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE '%WITHOUT ROWID%' ORDER BY name")
            .and_then(|mut s| s.query_map([], |row| row.get(0))?.collect())
            .expect("the schema reads");
        assert_eq!(
            without_rowid,
            ["inbound_messages", "number_routes", "settings"]
        );
        let version: i64 = connection
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .expect("the version reads");
        assert_eq!(version, SCHEMA_VERSION);
        let status_index: i64 = connection
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name = 'consents_by_status'",
                [],
                |row| row.get(0),
            )
            .expect("the schema reads");
        assert_eq!(status_index, 1);
    }
}
