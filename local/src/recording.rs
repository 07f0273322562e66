//! What `/dev/outbox` reads: the embedded database's outbox, or in `--aws` mode a copy of what
//! was handed to SNS and SES, with the provider's message ids.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use consent::adapters::memory::{OutboxContents, SentEmail, SentSms};
use consent::ports::{
    CarrierOptIn, Clock, Mailer, OptedOutPage, OutgoingEmail, OutgoingSms, SendError, SmsSender,
    StoreError,
};

/// Reads what was sent.
pub trait OutboxView: Send + Sync {
    /// Everything sent so far, oldest first.
    fn contents(&self) -> Result<OutboxContents, StoreError>;
}

impl OutboxView for consent_sqlite::SqliteOutbox {
    fn contents(&self) -> Result<OutboxContents, StoreError> {
        consent_sqlite::SqliteOutbox::contents(self)
    }
}

/// Sends through real adapters and remembers what went out.
pub struct RecordingOutbox {
    sms: Arc<dyn SmsSender>,
    mailer: Arc<dyn Mailer>,
    clock: Arc<dyn Clock>,
    sent: Mutex<OutboxContents>,
}

impl std::fmt::Debug for RecordingOutbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordingOutbox").finish_non_exhaustive()
    }
}

impl RecordingOutbox {
    /// Wraps an SMS sender and a mailer.
    pub fn new(sms: Arc<dyn SmsSender>, mailer: Arc<dyn Mailer>, clock: Arc<dyn Clock>) -> Self {
        Self {
            sms,
            mailer,
            clock,
            sent: Mutex::new(OutboxContents::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, OutboxContents> {
        self.sent.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl OutboxView for RecordingOutbox {
    fn contents(&self) -> Result<OutboxContents, StoreError> {
        Ok(self.lock().clone())
    }
}

#[async_trait]
impl SmsSender for RecordingOutbox {
    async fn send_sms(&self, sms: &OutgoingSms) -> Result<String, SendError> {
        let message_id = self.sms.send_sms(sms).await?;
        self.lock().sms.push(SentSms {
            to: sms.to.to_string(),
            from: sms.from.to_string(),
            body: sms.body.clone(),
            message_id: message_id.clone(),
            sent_at: self.clock.now(),
        });
        Ok(message_id)
    }

    async fn is_opted_out(
        &self,
        phone: &consent::model::phone::PhoneNumber,
    ) -> Result<bool, SendError> {
        self.sms.is_opted_out(phone).await
    }

    async fn opted_out_numbers(&self, next_token: Option<&str>) -> Result<OptedOutPage, SendError> {
        self.sms.opted_out_numbers(next_token).await
    }

    async fn opt_in_number(
        &self,
        phone: &consent::model::phone::PhoneNumber,
    ) -> Result<CarrierOptIn, SendError> {
        self.sms.opt_in_number(phone).await
    }
}

#[async_trait]
impl Mailer for RecordingOutbox {
    async fn send_email(&self, email: &OutgoingEmail) -> Result<String, SendError> {
        let message_id = self.mailer.send_email(email).await?;
        self.lock().email.push(SentEmail {
            to: email.to.clone(),
            subject: email.subject.clone(),
            text: email.text.clone(),
            html: email.html.clone(),
            message_id: message_id.clone(),
            sent_at: self.clock.now(),
        });
        Ok(message_id)
    }
}
