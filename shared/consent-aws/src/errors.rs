//! One classifier for SDK errors, shared by the store, the SMS sender and the mailer: whether
//! trying again may succeed.

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::http::Response;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use consent::ports::SendError;

/// Error codes that mean "slow down" or "the service had a bad moment", across the three SDKs.
const RETRYABLE_CODES: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "ThrottledException",
    // SNS's `ThrottledException` on the wire (its account request rate: OptInPhoneNumber,
    // ListPhoneNumbersOptedOut, CheckIfPhoneNumberIsOptedOut); the SDK's own classifier does
    // not know this code, so it is not retried there.
    "Throttled",
    // SES v2's throttling (`SendEmail` over the account's sending rate).
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "TransactionConflictException",
    "TransactionInProgressException",
    "InternalServerError",
    "InternalErrorException",
    "InternalFailure",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "KMSThrottlingException",
    "LimitExceededException",
    "RequestTimeout",
    "RequestTimeoutException",
];

/// Cancellation-reason codes of a `TransactWriteItems` that a retry may get past.
const RETRYABLE_REASONS: &[&str] = &[
    "TransactionConflict",
    "ThrottlingError",
    "ProvisionedThroughputExceeded",
    "RequestLimitExceeded",
];

/// Whether an SDK error is worth retrying: throttling, 5xx, timeouts and network failures are;
/// a refused request (4xx, bad input, missing resource) is not.
pub fn is_retryable<E>(error: &SdkError<E, Response>) -> bool
where
    E: ProvideErrorMetadata,
{
    match error {
        SdkError::TimeoutError(_) | SdkError::ResponseError(_) => true,
        // A user error is a misconfiguration (bad endpoint), which no retry fixes.
        SdkError::DispatchFailure(failure) => !failure.is_user(),
        SdkError::ServiceError(context) => {
            let status = context.raw().status().as_u16();
            status >= 500 || status == 429 || is_retryable_code(context.err().code())
        }
        // Construction failures are our own bugs; anything else new is not assumed transient.
        _ => false,
    }
}

/// Whether a service error code names a transient condition.
pub fn is_retryable_code(code: Option<&str>) -> bool {
    code.is_some_and(|code| RETRYABLE_CODES.contains(&code))
}

/// Whether a transaction cancellation reason names a transient condition.
pub fn is_retryable_reason(code: Option<&str>) -> bool {
    code.is_some_and(|code| RETRYABLE_REASONS.contains(&code))
}

/// A provider failure, classified, with the SDK error kept whole. A timeout or an unreadable
/// answer leaves it unknown whether the provider took the message: `Unconfirmed`, so a
/// one-time message is not sent again after it.
pub fn provider_error<E>(operation: &'static str, error: SdkError<E, Response>) -> SendError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match error {
        SdkError::TimeoutError(_) | SdkError::ResponseError(_) => SendError::Unconfirmed {
            operation,
            source: Box::new(error),
        },
        error => SendError::Provider {
            operation,
            retryable: is_retryable(&error),
            source: Box::new(error),
        },
    }
}

/// The provider answered without what it always sends (a message id): not retried, since the
/// message may have gone out.
#[derive(Debug, thiserror::Error)]
#[error("the provider's answer has no message id")]
pub struct MissingMessageId;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttling_codes_are_retryable() {
        assert!(is_retryable_code(Some(
            "ProvisionedThroughputExceededException"
        )));
        assert!(is_retryable_code(Some("RequestLimitExceeded")));
        assert!(is_retryable_code(Some("ThrottlingException")));
        // SNS Publish over the rate, SNS's ThrottledException, SES v2 over the sending rate.
        assert!(is_retryable_code(Some("Throttling")));
        assert!(is_retryable_code(Some("Throttled")));
        assert!(is_retryable_code(Some("TooManyRequestsException")));
        assert!(!is_retryable_code(Some("InvalidParameter")));
        assert!(!is_retryable_code(Some("ValidationException")));
        assert!(!is_retryable_code(None));
        assert!(is_retryable_reason(Some("TransactionConflict")));
        assert!(!is_retryable_reason(Some("ConditionalCheckFailed")));
    }
}
