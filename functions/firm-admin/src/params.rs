//! The parameters the OpenAPI document describes: each route's path and query parameters.
//! The handlers read the query as text (so each bad value is answered with its own code, not a
//! generic rejection), and the path through `ApiPath`; these types describe them, never parse.

use consent::model::language::Language;
use consent::model::record::ConsentStatus;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

/// The firm and number a consent route acts on.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct PhonePath {
    /// The firm's id.
    #[param(example = "demo")]
    pub firm_id: String,
    /// The number, E.164 (`+` may be sent as `%2B`) or a US national format.
    #[param(example = "+14155550134")]
    pub phone: String,
}

/// The firm and contact of `GET .../contacts/{contact_id}`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ContactPath {
    /// The firm's id.
    #[param(example = "demo")]
    pub firm_id: String,
    /// The CRM's id for the contact.
    #[param(example = "crm-1001")]
    pub contact_id: String,
}

/// The firm and template a template route acts on.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct TemplatePath {
    /// The firm's id.
    #[param(example = "demo")]
    pub firm_id: String,
    /// The template; another name is 404 `template_not_found`.
    #[param(value_type = TemplateNameParam)]
    pub name: String,
}

/// The templates a firm may override.
#[derive(Debug, ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum TemplateNameParam {
    /// The one opt-in request by SMS.
    SmsOptInRequest,
    /// The reply to YES (or the email button).
    SmsOptInConfirmation,
    /// The one reply to STOP.
    SmsOptOutConfirmation,
    /// The reply to HELP.
    SmsHelp,
    /// The opt-in email (subject, text, HTML).
    EmailOptInRequest,
}

/// `?language=` of the template routes.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LanguageQuery {
    /// The templates' language: `en` (the default) or `es`; another value is 422
    /// `invalid_language`.
    pub language: Option<Language>,
}

/// `?include=texts`: the firm's own copy, privileged texts shown beside their commitments.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Include {
    /// Every text in full, with its salt.
    Texts,
}

/// `?include=` of the record view.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IncludeQuery {
    /// `texts` for the firm's own copy; without it the firm's own messages and replies that
    /// changed nothing are commitments. Another value is 422 `invalid_include`.
    pub include: Option<Include>,
}

/// A proof's rendering.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProofFormat {
    /// The signed document (the default).
    Json,
    /// A printable page of it.
    Html,
}

/// `?include=&format=` of the proof.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProofQuery {
    /// `texts` for the firm's own copy (each commitment's text and salt beside it); another
    /// value is 422 `invalid_include`.
    pub include: Option<Include>,
    /// `json` (the default) or `html`; another value is 422 `invalid_request`.
    pub format: Option<ProofFormat>,
}

/// `?status=&include=` of the audit bundle.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BundleQuery {
    /// Only the numbers in this status (every number when absent); another value is 422.
    pub status: Option<ConsentStatus>,
    /// `texts` for the firm's own copy; another value is 422 `invalid_include`.
    pub include: Option<Include>,
}

/// `?after=&limit=` of the event feed.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// The last event id seen (the previous page's `next_cursor`); from the start when absent.
    /// Not an event id: 422 `invalid_cursor`.
    #[param(example = "01J8ZQ4W5N3M2K1H0G9F8E7D6C")]
    pub after: Option<String>,
    /// Events per page, 1 to 1,000 (default 100); another value is 422 `invalid_request`.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

/// `?status=&limit=&cursor=` of the export.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQueryParams {
    /// Only the numbers in this status (every number when absent).
    pub status: Option<ConsentStatus>,
    /// Records per page, 1 to 1,000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// The previous page's `next_cursor`.
    pub cursor: Option<String>,
}
