//! inbound-sms: replies from contacts, delivered by AWS End User Messaging two-way SMS through
//! an SNS topic. Each record is processed on its own so one bad record cannot block the rest.

use aws_lambda_events::event::sns::{SnsEvent, SnsRecord};
use chrono::{DateTime, Utc};
use consent::evidence::keys_used::KeysUsed;
use consent::flows::Services;
use consent::flows::inbound::{InboundError, InboundOutcome, InboundSms};
use consent::model::phone::mask_phone;
use serde::{Deserialize, Serialize};

/// The keys this function reads at cold start: none (it signs no link and no proof).
pub const KEYS_USED: KeysUsed = KeysUsed::NONE;

/// The two-way SMS payload inside the SNS envelope's `Message` string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"originationNumber": "+14155550134", "destinationNumber": "+12025550100",
    "messageBody": "YES", "inboundMessageId": "in-0001"}))]
pub struct TwoWaySms {
    /// The contact's number.
    pub origination_number: String,
    /// The firm's number.
    pub destination_number: String,
    /// The keyword the carrier matched, if any (we classify the body ourselves).
    #[serde(default)]
    pub message_keyword: Option<String>,
    /// The text.
    pub message_body: String,
    /// The carrier's id.
    pub inbound_message_id: String,
    /// The id of the message this replies to, if any.
    #[serde(default)]
    pub previous_published_message_id: Option<String>,
}

/// A record could not be processed.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The `Message` is not a two-way SMS payload: retrying will not help. Only where it broke
    /// is kept: serde's message quotes the offending value, which may be a phone number.
    #[error(
        "the SNS message is not a two-way SMS payload ({category} error at line {line}, column {column})"
    )]
    Undecodable {
        /// syntax, data (wrong type or missing field), eof or io.
        category: &'static str,
        /// The line of the payload where parsing stopped.
        line: usize,
        /// The column of that line.
        column: usize,
    },
    /// Processing failed.
    #[error(transparent)]
    Inbound(#[from] InboundError),
}

impl RecordError {
    /// Whether a redelivery may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Undecodable { .. } => false,
            Self::Inbound(e) => e.is_retryable(),
        }
    }
}

impl From<serde_json::Error> for RecordError {
    fn from(error: serde_json::Error) -> Self {
        let category = match error.classify() {
            serde_json::error::Category::Io => "io",
            serde_json::error::Category::Syntax => "syntax",
            serde_json::error::Category::Data => "data",
            serde_json::error::Category::Eof => "eof",
        };
        Self::Undecodable {
            category,
            line: error.line(),
            column: error.column(),
        }
    }
}

/// The batch failed for reasons a redelivery may fix (every record is idempotent, so the
/// records that succeeded are harmless to redeliver).
#[derive(Debug, thiserror::Error)]
#[error("{failed} of {total} inbound records failed and will be retried")]
pub struct RetryableFailure {
    /// Records that failed retryably.
    pub failed: usize,
    /// Records in the event.
    pub total: usize,
}

/// Decodes the two-way payload from an SNS `Message` string.
pub fn decode(message: &str) -> Result<TwoWaySms, serde_json::Error> {
    serde_json::from_str(message)
}

/// Applies one two-way SMS payload received at `received_at`.
pub async fn receive(
    services: &Services,
    sms: TwoWaySms,
    received_at: DateTime<Utc>,
) -> Result<InboundOutcome, InboundError> {
    services
        .receive_sms(InboundSms {
            from: sms.origination_number,
            to: sms.destination_number,
            body: sms.message_body,
            inbound_message_id: sms.inbound_message_id,
            received_at,
        })
        .await
}

async fn process_record(services: &Services, record: &SnsRecord) -> Result<(), RecordError> {
    let sms = decode(&record.sns.message)?;
    let from = mask_phone(&sms.origination_number);
    let outcome = receive(services, sms, record.sns.timestamp).await?;
    tracing::info!(
        from = %from,
        firm_id = %outcome.firm_id,
        duplicate = outcome.duplicate,
        classification = ?outcome.classification.as_ref().map(classification_name),
        status = ?outcome.status,
        "inbound sms applied"
    );
    Ok(())
}

fn classification_name(c: &consent::model::keywords::Classification) -> &'static str {
    match c {
        consent::model::keywords::Classification::OptIn { .. } => "opt_in",
        consent::model::keywords::Classification::OptOut { .. } => "opt_out",
        consent::model::keywords::Classification::Help { .. } => "help",
        consent::model::keywords::Classification::Other => "other",
    }
}

/// The SNS handler: every record is tried; records that can never succeed are logged and
/// dropped (the topic's dead-letter queue is for delivery failures); if any failed retryably the
/// invocation fails so SNS redelivers.
pub async fn handle(services: &Services, event: SnsEvent) -> Result<(), RetryableFailure> {
    let total = event.records.len();
    let mut failed = 0;
    for record in &event.records {
        if let Err(error) = process_record(services, record).await {
            if error.is_retryable() {
                failed += 1;
                tracing::warn!(error = %error, message_id = %record.sns.message_id, "inbound record failed; will retry");
            } else {
                tracing::error!(error = %error, message_id = %record.sns.message_id, "inbound record rejected");
            }
        }
    }
    if failed > 0 {
        Err(RetryableFailure { failed, total })
    } else {
        Ok(())
    }
}
