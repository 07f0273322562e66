//! A firm's message templates: every one in a language, an override with its preview, and the
//! way back to the default.

use axum::extract::State;
use consent::flows::Services;
use consent::flows::admin::TemplateView;
use consent::messages::segments::SmsEncoding;
use consent::messages::templates::{Preview, TemplateOverride};
use consent::model::language::Language;
use consent_http::openapi::{ErrorBody, JsonBodyRejections, Unavailable};
use consent_http::{Actor, ApiError, ApiJson, ApiPath};
use serde::Serialize;
use utoipa::ToSchema;

use crate::params::{LanguageQuery, TemplatePath};
use crate::query::{QueryParams, template_language};

/// Every template of a firm in one language.
#[derive(Debug, Serialize, ToSchema)]
pub struct TemplateList {
    /// The language asked for.
    language: Language,
    /// Every template, the firm's override or the shipped default (`default: true`).
    templates: Vec<TemplateView>,
}

/// An override as the API shows it once stored: rendered with sample values.
#[derive(Debug, Serialize, ToSchema)]
pub struct TemplatePreview {
    /// The template.
    name: String,
    /// The override's language.
    language: Language,
    /// Always false: this is the firm's override.
    default: bool,
    /// The override rendered with sample values.
    preview: PreviewText,
    /// SMS only: the segments it is billed as.
    #[serde(skip_serializing_if = "Option::is_none")]
    segments: Option<u32>,
    /// SMS only: the encoding it needs.
    #[serde(skip_serializing_if = "Option::is_none")]
    encoding: Option<SmsEncoding>,
}

/// A rendered template: an SMS body, or an email's parts.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum PreviewText {
    /// An SMS.
    Sms {
        /// The text.
        body: String,
    },
    /// An email.
    Email {
        /// Subject line.
        subject: String,
        /// Plain-text part.
        text: String,
        /// HTML part.
        html: String,
    },
}

/// Every template in a language, the firm's overrides and the defaults.
#[utoipa::path(
    get,
    path = "/v1/firms/{firm_id}/templates",
    tag = "templates",
    operation_id = "listTemplates",
    params(consent_http::openapi::FirmPath, LanguageQuery),
    responses(
        (status = 200, description = "Every template in that language.", body = TemplateList),
        (status = 404, description = "`firm_not_found`.", body = ErrorBody),
        (status = 422, description = "`invalid_language` or `invalid_request` (a query string \\
            that does not parse).", body = ErrorBody),
        Unavailable,
    )
)]
pub async fn list_templates(
    State(services): State<Services>,
    ApiPath(firm_id): ApiPath<String>,
    query: QueryParams,
) -> Result<axum::Json<TemplateList>, ApiError> {
    let language = template_language(query)?;
    let templates = services.templates(&firm_id, language).await?;
    Ok(axum::Json(TemplateList {
        language,
        templates,
    }))
}

/// Overrides a template in a language, once it carries what the carriers require of it.
#[utoipa::path(
    put,
    path = "/v1/firms/{firm_id}/templates/{name}",
    tag = "templates",
    operation_id = "putTemplate",
    params(TemplatePath, LanguageQuery),
    request_body(content = TemplateOverride, description = "`{\"body\"}` for an SMS template, \\
        `{\"subject\",\"text\",\"html\"}` for the email.",
        example = json!({"body": "{{ firm_name }}: reply YES to get texts about your case. Msg frequency varies. Msg & data rates may apply. Reply HELP for help, STOP to opt out."})),
    responses(
        (status = 200, description = "Stored, with its preview.", body = TemplatePreview),
        (status = 404, description = "`firm_not_found` or `template_not_found`.",
            body = ErrorBody),
        (status = 422, description = "`template_invalid` (with `problems`: what it lacks, in \\
            that language's words), `invalid_language` or `invalid_request`.", body = ErrorBody),
        JsonBodyRejections,
        Unavailable,
    )
)]
pub async fn put_template(
    State(services): State<Services>,
    Actor(actor): Actor,
    ApiPath((firm_id, name)): ApiPath<(String, String)>,
    query: QueryParams,
    ApiJson(body): ApiJson<TemplateOverride>,
) -> Result<axum::Json<TemplatePreview>, ApiError> {
    let language = template_language(query)?;
    let services = services.acting_as(actor);
    let preview = services
        .put_template(&firm_id, &name, language, body)
        .await?;
    let (preview, segments, encoding) = match preview {
        Preview::Sms(sms) => (
            PreviewText::Sms { body: sms.body },
            Some(sms.segments.segments),
            Some(sms.segments.encoding),
        ),
        Preview::Email(email) => (
            PreviewText::Email {
                subject: email.subject,
                text: email.text,
                html: email.html,
            },
            None,
            None,
        ),
    };
    Ok(axum::Json(TemplatePreview {
        name,
        language,
        default: false,
        preview,
        segments,
        encoding,
    }))
}

/// Drops the firm's override in a language: the default applies again.
#[utoipa::path(
    delete,
    path = "/v1/firms/{firm_id}/templates/{name}",
    tag = "templates",
    operation_id = "deleteTemplate",
    params(TemplatePath, LanguageQuery),
    responses(
        (status = 200, description = "The default, as it now applies.", body = TemplateView),
        (status = 404, description = "`firm_not_found` or `template_not_found`.",
            body = ErrorBody),
        (status = 422, description = "`invalid_language` or `invalid_request`.", body = ErrorBody),
        Unavailable,
    )
)]
pub async fn delete_template(
    State(services): State<Services>,
    Actor(actor): Actor,
    ApiPath((firm_id, name)): ApiPath<(String, String)>,
    query: QueryParams,
) -> Result<axum::Json<TemplateView>, ApiError> {
    let language = template_language(query)?;
    let services = services.acting_as(actor);
    let view = services.reset_template(&firm_id, &name, language).await?;
    Ok(axum::Json(view))
}
