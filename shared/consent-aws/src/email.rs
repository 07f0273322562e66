//! The SES v2 mailer: one `SendEmail` per message, with text and HTML parts.

use async_trait::async_trait;
use aws_sdk_sesv2::Client;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};

use consent::ports::{Mailer, OutgoingEmail, SendError};

use crate::errors::{MissingMessageId, provider_error};

/// The charset of every part.
const CHARSET: &str = "UTF-8";

/// Sends email through SES v2.
#[derive(Debug, Clone)]
pub struct SesMailer {
    client: Client,
    from_address: String,
    configuration_set: Option<String>,
}

impl SesMailer {
    /// A mailer sending from `from_address`, through `configuration_set` if given.
    pub fn new(
        client: Client,
        from_address: impl Into<String>,
        configuration_set: Option<String>,
    ) -> Self {
        Self {
            client,
            from_address: from_address.into(),
            configuration_set,
        }
    }
}

fn content(data: &str) -> Result<Content, SendError> {
    Content::builder()
        .data(data)
        .charset(CHARSET)
        .build()
        .map_err(|e| SendError::Provider {
            operation: "send_email",
            retryable: false,
            source: Box::new(e),
        })
}

#[async_trait]
impl Mailer for SesMailer {
    async fn send_email(&self, email: &OutgoingEmail) -> Result<String, SendError> {
        const OP: &str = "send_email";
        let message = Message::builder()
            .subject(content(&email.subject)?)
            .body(
                Body::builder()
                    .text(content(&email.text)?)
                    .html(content(&email.html)?)
                    .build(),
            )
            .build();
        let output = self
            .client
            .send_email()
            .from_email_address(&self.from_address)
            .destination(Destination::builder().to_addresses(&email.to).build())
            .content(EmailContent::builder().simple(message).build())
            .set_configuration_set_name(self.configuration_set.clone())
            .send()
            .await
            .map_err(|e| provider_error(OP, e))?;
        output.message_id.ok_or_else(|| SendError::Provider {
            operation: OP,
            retryable: false,
            source: Box::new(MissingMessageId),
        })
    }
}

/// Registers `address` as an SES sender identity, if it is not one yet (tests and the local
/// server's `--aws` mode; in AWS the identity is verified once by hand).
pub async fn ensure_sender_identity(client: &Client, address: &str) -> Result<(), SendError> {
    match client
        .create_email_identity()
        .email_identity(address)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_already_exists_exception()) =>
        {
            Ok(())
        }
        Err(e) => Err(provider_error("create_email_identity", e)),
    }
}
