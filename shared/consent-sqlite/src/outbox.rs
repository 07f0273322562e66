//! The local server's outbox kept in the database: what the service "sent", so `/dev/outbox`
//! survives a restart. It stands in for the carrier and the mail provider. Its rows are
//! committed without a sync of their own: the gate's synced `message_sent` write follows each
//! one at once, and syncs it too.

use std::sync::Arc;

use async_trait::async_trait;
use consent::adapters::memory::{OutboxContents, SentEmail, SentSms};
use consent::model::phone::PhoneNumber;
use consent::ports::{
    CarrierOptIn, Clock, Mailer, OptedOutPage, OutgoingEmail, OutgoingSms, SendError, SmsSender,
    StoreError,
};
use rusqlite::params;

use crate::codec::{from_micros, micros};
use crate::database::{Database, SqliteStore};
use crate::errors::store_error;

/// An SMS sender and mailer that records each message in the database instead of sending it.
#[derive(Clone)]
pub struct SqliteOutbox {
    db: Arc<Database>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for SqliteOutbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteOutbox").finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// The outbox kept in this database, stamping messages with `clock`.
    pub fn outbox(&self, clock: Arc<dyn Clock>) -> SqliteOutbox {
        SqliteOutbox {
            db: self.db.clone(),
            clock,
        }
    }
}

impl SqliteOutbox {
    /// Everything sent so far, oldest first.
    pub fn contents(&self) -> Result<OutboxContents, StoreError> {
        self.db.read("outbox", |tx| {
            let sms = tx
                .prepare_cached(
                    "SELECT to_number, from_number, body, message_id, sent_at FROM outbox_sms ORDER BY seq",
                )?
                .query_map([], |row| {
                    Ok(SentSms {
                        to: row.get(0)?,
                        from: row.get(1)?,
                        body: row.get(2)?,
                        message_id: row.get(3)?,
                        sent_at: from_micros(4, row.get(4)?)?,
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
            let email = tx
                .prepare_cached(
                    "SELECT to_address, subject, text_body, html_body, message_id, sent_at
                     FROM outbox_email ORDER BY seq",
                )?
                .query_map([], |row| {
                    Ok(SentEmail {
                        to: row.get(0)?,
                        subject: row.get(1)?,
                        text: row.get(2)?,
                        html: row.get(3)?,
                        message_id: row.get(4)?,
                        sent_at: from_micros(5, row.get(5)?)?,
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
            Ok(OutboxContents { sms, email })
        })
    }
}

/// A message that could not be recorded is a provider failure the caller may retry.
fn not_recorded(operation: &'static str, error: StoreError) -> SendError {
    SendError::Provider {
        operation,
        retryable: error.is_retryable(),
        source: Box::new(error),
    }
}

#[async_trait]
impl SmsSender for SqliteOutbox {
    async fn send_sms(&self, sms: &OutgoingSms) -> Result<String, SendError> {
        const OPERATION: &str = "send_sms";
        let message_id = format!("local-sms-{}", ulid::Ulid::new());
        let row = (
            sms.to.as_str().to_string(),
            sms.from.as_str().to_string(),
            sms.body.clone(),
            message_id.clone(),
            micros(self.clock.now()),
        );
        self.db
            .write_unsynced(OPERATION, move |tx| {
                tx.prepare_cached(
                    "INSERT INTO outbox_sms (to_number, from_number, body, message_id, sent_at)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .and_then(|mut s| s.execute(params![row.0, row.1, row.2, row.3, row.4]))
                .map_err(|e| store_error(OPERATION, e))?;
                Ok(())
            })
            .await
            .map_err(|e| not_recorded(OPERATION, e))?;
        Ok(message_id)
    }

    async fn is_opted_out(&self, _phone: &PhoneNumber) -> Result<bool, SendError> {
        // No carrier stands behind the local outbox, so it holds no opt-outs of its own.
        Ok(false)
    }

    async fn opted_out_numbers(
        &self,
        _next_token: Option<&str>,
    ) -> Result<OptedOutPage, SendError> {
        // Nor a list of them: reconciling against it finds nothing.
        Ok(OptedOutPage::default())
    }

    async fn opt_in_number(&self, _phone: &PhoneNumber) -> Result<CarrierOptIn, SendError> {
        // Nothing to lift: the outbox never refuses a number.
        Ok(CarrierOptIn::OptedIn)
    }
}

#[async_trait]
impl Mailer for SqliteOutbox {
    async fn send_email(&self, email: &OutgoingEmail) -> Result<String, SendError> {
        const OPERATION: &str = "send_email";
        let message_id = format!("local-email-{}", ulid::Ulid::new());
        let email = email.clone();
        let id = message_id.clone();
        let sent_at = micros(self.clock.now());
        self.db
            .write_unsynced(OPERATION, move |tx| {
                tx.prepare_cached(
                    "INSERT INTO outbox_email (to_address, subject, text_body, html_body, message_id, sent_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )
                .and_then(|mut s| {
                    s.execute(params![email.to, email.subject, email.text, email.html, id, sent_at])
                })
                .map_err(|e| store_error(OPERATION, e))?;
                Ok(())
            })
            .await
            .map_err(|e| not_recorded(OPERATION, e))?;
        Ok(message_id)
    }
}
