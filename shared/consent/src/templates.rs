//! Message templates: the CTIA-complete defaults, per-firm overrides, sandboxed rendering, validation.

use serde::{Deserialize, Serialize};

use crate::sms_segments::SegmentCount;

/// The templates a firm can override.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TemplateName {
    /// The one opt-in request by SMS.
    SmsOptInRequest,
    /// The answer to an opt-in.
    SmsOptInConfirmation,
    /// The answer to an opt-out.
    SmsOptOutConfirmation,
    /// The answer to HELP.
    SmsHelp,
    /// The opt-in request by email.
    EmailOptInRequest,
}

impl TemplateName {
    /// Every template, in display order.
    pub const ALL: [TemplateName; 5] = [
        Self::SmsOptInRequest,
        Self::SmsOptInConfirmation,
        Self::SmsOptOutConfirmation,
        Self::SmsHelp,
        Self::EmailOptInRequest,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SmsOptInRequest => "sms_opt_in_request",
            Self::SmsOptInConfirmation => "sms_opt_in_confirmation",
            Self::SmsOptOutConfirmation => "sms_opt_out_confirmation",
            Self::SmsHelp => "sms_help",
            Self::EmailOptInRequest => "email_opt_in_request",
        }
    }

    /// The template with this wire name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == name)
    }

    /// Whether this is the email template (subject, text, html) rather than an SMS body.
    pub fn is_email(self) -> bool {
        matches!(self, Self::EmailOptInRequest)
    }
}

/// A template's source text, as a firm writes it or as it ships.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum TemplateOverride {
    /// An email: subject, plain text and HTML.
    Email {
        /// Subject line.
        subject: String,
        /// Plain-text part.
        text: String,
        /// HTML part (variables are HTML-escaped in it).
        html: String,
    },
    /// An SMS body.
    Sms {
        /// The body.
        body: String,
    },
}

/// The values a template may use.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateVars {
    /// The firm's business name.
    pub firm_name: String,
    /// The contact's first name (empty when unknown).
    pub first_name: String,
    /// The email confirmation link (empty outside the email).
    pub confirm_url: String,
    /// The firm's support phone.
    pub support_phone: String,
    /// The firm's support email.
    pub support_email: String,
    /// The firm's website.
    pub website: String,
}

/// A rendered SMS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenderedSms {
    /// The text to send.
    pub body: String,
    /// How it splits into segments.
    pub segments: SegmentCount,
}

/// A rendered email.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenderedEmail {
    /// Subject line.
    pub subject: String,
    /// Plain-text part.
    pub text: String,
    /// HTML part.
    pub html: String,
}

/// A template could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// The override's shape does not fit the template (an SMS body for the email, or the reverse).
    #[error("{name} takes {expected}")]
    WrongShape {
        /// The template.
        name: &'static str,
        /// What it takes.
        expected: &'static str,
    },
    /// The override is missing required elements or does not render; every problem is listed.
    #[error("the template is missing or breaks: {}", problems.join("; "))]
    Invalid {
        /// Each problem, in words.
        problems: Vec<String>,
    },
}

/// The shipped default of a template.
pub fn default_template(name: TemplateName) -> TemplateOverride {
    let _ = name;
    todo!("templates::default_template")
}

/// Renders an SMS template (the override if given, else the default).
pub fn render_sms(
    name: TemplateName,
    template: Option<&TemplateOverride>,
    vars: &TemplateVars,
) -> Result<RenderedSms, TemplateError> {
    let _ = (name, template, vars);
    todo!("templates::render_sms")
}

/// Renders the email template (the override if given, else the default).
pub fn render_email(
    template: Option<&TemplateOverride>,
    vars: &TemplateVars,
) -> Result<RenderedEmail, TemplateError> {
    let _ = (template, vars);
    todo!("templates::render_email")
}

/// Checks a firm's override: it must fit the template's shape, render in the sandbox and hold
/// every required element; every problem is listed at once.
pub fn validate_override(
    name: TemplateName,
    template: &TemplateOverride,
) -> Result<(), TemplateError> {
    let _ = (name, template);
    todo!("templates::validate_override")
}
