//! The SNS SMS sender: one `Publish` per message, straight to the phone number.

use async_trait::async_trait;
use aws_sdk_sns::Client;
use aws_sdk_sns::error::ProvideErrorMetadata;
use aws_sdk_sns::types::MessageAttributeValue;

use consent::model::phone::PhoneNumber;
use consent::ports::{CarrierOptIn, OptedOutPage, OutgoingSms, SendError, SmsSender};

use crate::errors::{MissingMessageId, provider_error};

/// The SMS type attribute: transactional messages get the more reliable route.
pub const SMS_TYPE_ATTRIBUTE: &str = "AWS.SNS.SMS.SMSType";
/// The origination number attribute: the firm's own number, so replies route back to it.
pub const ORIGINATION_NUMBER_ATTRIBUTE: &str = "AWS.MM.SMS.OriginationNumber";

/// Error codes with which SNS reports a recipient who opted out with the carrier. `Publish`
/// usually accepts such a message and drops it (the delivery log says so), so this is only
/// the synchronous case.
const OPTED_OUT_CODES: &[&str] = &["OptedOut", "OptedOutException"];

/// The error code with which SNS refuses `OptInPhoneNumber` for a well-formed number. SNS lifts
/// a number's opt-out at most once in 30 days and documents no error of its own for a second
/// request; `InvalidParameter` is the one it answers, and the number we pass is E.164 we
/// parsed ourselves, so the refusal is read as "too soon". `Throttled` is the account's request
/// rate, not this limit: a failure worth retrying.
const OPT_IN_REFUSED_CODE: &str = "InvalidParameter";

/// Sends SMS through SNS `Publish`.
#[derive(Debug, Clone)]
pub struct SnsSmsSender {
    client: Client,
}

impl SnsSmsSender {
    /// A sender through `client`.
    pub fn new(client: Client) -> Self {
        Self { client }
    }
}

fn string_attribute(value: &str) -> Result<MessageAttributeValue, SendError> {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .map_err(|e| SendError::Provider {
            operation: "publish",
            retryable: false,
            source: Box::new(e),
        })
}

#[async_trait]
impl SmsSender for SnsSmsSender {
    async fn send_sms(&self, sms: &OutgoingSms) -> Result<String, SendError> {
        const OP: &str = "publish";
        let output = self
            .client
            .publish()
            .phone_number(sms.to.as_str())
            .message(&sms.body)
            .message_attributes(SMS_TYPE_ATTRIBUTE, string_attribute("Transactional")?)
            .message_attributes(
                ORIGINATION_NUMBER_ATTRIBUTE,
                string_attribute(sms.from.as_str())?,
            )
            .send()
            .await;
        match output {
            Ok(output) => output.message_id.ok_or_else(|| SendError::Provider {
                operation: OP,
                retryable: false,
                source: Box::new(MissingMessageId),
            }),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.code().is_some_and(|c| OPTED_OUT_CODES.contains(&c))) =>
            {
                Err(SendError::RecipientOptedOut)
            }
            Err(e) => Err(provider_error(OP, e)),
        }
    }

    async fn is_opted_out(&self, phone: &PhoneNumber) -> Result<bool, SendError> {
        const OP: &str = "check_if_phone_number_is_opted_out";
        let output = self
            .client
            .check_if_phone_number_is_opted_out()
            .phone_number(phone.as_str())
            .send()
            .await
            .map_err(|e| provider_error(OP, e))?;
        Ok(output.is_opted_out)
    }

    async fn opted_out_numbers(&self, next_token: Option<&str>) -> Result<OptedOutPage, SendError> {
        const OP: &str = "list_phone_numbers_opted_out";
        let output = self
            .client
            .list_phone_numbers_opted_out()
            .set_next_token(next_token.map(str::to_string))
            .send()
            .await
            .map_err(|e| provider_error(OP, e))?;
        Ok(OptedOutPage {
            numbers: output.phone_numbers.unwrap_or_default(),
            // An empty token ends the list as an absent one does.
            next_token: output.next_token.filter(|t| !t.is_empty()),
        })
    }

    async fn opt_in_number(&self, phone: &PhoneNumber) -> Result<CarrierOptIn, SendError> {
        const OP: &str = "opt_in_phone_number";
        match self
            .client
            .opt_in_phone_number()
            .phone_number(phone.as_str())
            .send()
            .await
        {
            Ok(_) => Ok(CarrierOptIn::OptedIn),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.code() == Some(OPT_IN_REFUSED_CODE)) =>
            {
                Ok(CarrierOptIn::TooSoon)
            }
            Err(e) => Err(provider_error(OP, e)),
        }
    }
}
