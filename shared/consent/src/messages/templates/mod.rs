//! Message templates: the catalogue and its per-firm overrides in each language
//! ([`key`]), rendered in a sandbox ([`sandbox`]) from the shipped defaults ([`defaults`],
//! [`defaults_es`]) and checked for what CTIA asks of each message ([`compliance`]) in the
//! words of its language ([`wording`]).

mod compliance;
mod defaults;
mod defaults_es;
mod key;
mod sandbox;
mod wording;

use serde::{Deserialize, Serialize};

use crate::messages::segments::{SegmentCount, count_segments};
use crate::model::language::Language;
use compliance::missing_elements;
use defaults::Defaults;
use sandbox::{BODY, HTML, SUBJECT, TEXT, render_part};

pub use key::TemplateKey;

/// The shipped defaults of `language`.
fn defaults(language: Language) -> &'static Defaults {
    match language {
        Language::En => &defaults::ENGLISH,
        Language::Es => &defaults_es::SPANISH,
    }
}

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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

/// The shipped default of a template in `language`.
pub fn default_template(name: TemplateName, language: Language) -> TemplateOverride {
    let shipped = defaults(language);
    match default_sms_source(name, language) {
        Some(body) => TemplateOverride::Sms {
            body: body.to_string(),
        },
        None => TemplateOverride::Email {
            subject: shipped.email_subject.to_string(),
            text: shipped.email_text.to_string(),
            html: shipped.email_html.to_string(),
        },
    }
}

/// Renders an SMS template (the override if given, else the default of `language`).
pub fn render_sms(
    name: TemplateName,
    language: Language,
    template: Option<&TemplateOverride>,
    vars: &TemplateVars,
) -> Result<RenderedSms, TemplateError> {
    let body = render_sms_body(name, language, template, vars)?;
    let segments = count_segments(&body);
    Ok(RenderedSms { body, segments })
}

/// Renders the email template (the override if given, else the default of `language`).
pub fn render_email(
    language: Language,
    template: Option<&TemplateOverride>,
    vars: &TemplateVars,
) -> Result<RenderedEmail, TemplateError> {
    match template {
        Some(TemplateOverride::Email {
            subject,
            text,
            html,
        }) => render_email_parts(subject, text, html, vars),
        Some(TemplateOverride::Sms { .. }) => Err(wrong_shape(TemplateName::EmailOptInRequest)),
        None => {
            let shipped = defaults(language);
            render_email_parts(
                shipped.email_subject,
                shipped.email_text,
                shipped.email_html,
                vars,
            )
        }
    }
}

/// Checks a firm's override in `language`: it must fit the template's shape, render in the
/// sandbox and hold every required element, in that language's words; every problem is listed
/// at once.
pub fn validate_override(
    name: TemplateName,
    language: Language,
    template: &TemplateOverride,
) -> Result<(), TemplateError> {
    check_shape(name, template)?;
    let full = sample_vars();
    // A required element hidden in `{% if first_name %}` would vanish for contacts without one,
    // so the template is also checked with the first name blank.
    let blank_name = TemplateVars {
        first_name: String::new(),
        ..full.clone()
    };
    let with_name = render_any(name, template, &full)?;
    let without_name = render_any(name, template, &blank_name)?;
    let missing_with = missing_elements(name, language, &with_name, &full);
    let missing_without = missing_elements(name, language, &without_name, &blank_name);
    let mut problems: Vec<String> = missing_with.iter().map(|m| m.to_string()).collect();
    for m in missing_without {
        if !missing_with.contains(&m) {
            problems.push(format!("{m} when the first name is unknown"));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(TemplateError::Invalid { problems })
    }
}

/// Plausible values for previews and validation.
pub fn sample_vars() -> TemplateVars {
    TemplateVars {
        firm_name: "Hartwell & Pine LLP".to_string(),
        first_name: "Maria".to_string(),
        confirm_url: "https://consent.example.com/confirm/sample-token".to_string(),
        support_phone: "(555) 010-0199".to_string(),
        support_email: "help@hartwellpine.example".to_string(),
        website: "https://hartwellpine.example".to_string(),
    }
}

/// A template rendered with [`sample_vars`], as the admin API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Preview {
    /// An SMS body and its segments.
    Sms(RenderedSms),
    /// An email's subject, text and HTML.
    Email(RenderedEmail),
}

/// Renders a template (the override if given, else the default of `language`) with
/// [`sample_vars`]; it does not check required elements, which is [`validate_override`]'s job.
pub fn preview(
    name: TemplateName,
    language: Language,
    template: Option<&TemplateOverride>,
) -> Result<Preview, TemplateError> {
    let vars = sample_vars();
    if name.is_email() {
        render_email(language, template, &vars).map(Preview::Email)
    } else {
        render_sms(name, language, template, &vars).map(Preview::Sms)
    }
}

fn wrong_shape(name: TemplateName) -> TemplateError {
    TemplateError::WrongShape {
        name: name.as_str(),
        expected: if name.is_email() {
            "an email (subject, text and html)"
        } else {
            "an SMS body"
        },
    }
}

fn check_shape(name: TemplateName, template: &TemplateOverride) -> Result<(), TemplateError> {
    match (name.is_email(), template) {
        (true, TemplateOverride::Email { .. }) | (false, TemplateOverride::Sms { .. }) => Ok(()),
        _ => Err(wrong_shape(name)),
    }
}

fn invalid(problems: Vec<String>) -> TemplateError {
    TemplateError::Invalid { problems }
}

/// Renders an SMS body without counting segments; trailing whitespace is dropped, as carriers
/// bill for it.
fn render_sms_body(
    name: TemplateName,
    language: Language,
    template: Option<&TemplateOverride>,
    vars: &TemplateVars,
) -> Result<String, TemplateError> {
    let source = match template {
        Some(TemplateOverride::Sms { body }) if !name.is_email() => body.as_str(),
        Some(_) => return Err(wrong_shape(name)),
        None => default_sms_source(name, language).ok_or_else(|| wrong_shape(name))?,
    };
    let mut body = render_part(BODY, source, vars).map_err(invalid)?;
    body.truncate(body.trim_end().len());
    Ok(body)
}

/// The shipped body of an SMS template in `language`; `None` for the email.
fn default_sms_source(name: TemplateName, language: Language) -> Option<&'static str> {
    let shipped = defaults(language);
    match name {
        TemplateName::SmsOptInRequest => Some(shipped.sms_opt_in_request),
        TemplateName::SmsOptInConfirmation => Some(shipped.sms_opt_in_confirmation),
        TemplateName::SmsOptOutConfirmation => Some(shipped.sms_opt_out_confirmation),
        TemplateName::SmsHelp => Some(shipped.sms_help),
        TemplateName::EmailOptInRequest => None,
    }
}

/// Renders all three email parts, listing the problems of every part.
fn render_email_parts(
    subject: &str,
    text: &str,
    html: &str,
    vars: &TemplateVars,
) -> Result<RenderedEmail, TemplateError> {
    let subject = render_part(SUBJECT, subject, vars);
    let text = render_part(TEXT, text, vars);
    let html = render_part(HTML, html, vars);
    match (subject, text, html) {
        (Ok(subject), Ok(text), Ok(html)) => Ok(RenderedEmail {
            subject: one_line(&subject),
            text,
            html,
        }),
        (subject, text, html) => Err(invalid(
            [subject.err(), text.err(), html.err()]
                .into_iter()
                .flatten()
                .flatten()
                .collect(),
        )),
    }
}

/// A subject is one header line: a line break from a contact's name must not start a new header.
fn one_line(subject: &str) -> String {
    let flat: String = subject
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    flat.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// What a template rendered to, for the required-element checks.
enum Rendered {
    Sms(String),
    Email(RenderedEmail),
}

fn render_any(
    name: TemplateName,
    template: &TemplateOverride,
    vars: &TemplateVars,
) -> Result<Rendered, TemplateError> {
    // The override itself is rendered: no default (and so no language) comes into it.
    if name.is_email() {
        render_email(Language::En, Some(template), vars).map(Rendered::Email)
    } else {
        render_sms_body(name, Language::En, Some(template), vars).map(Rendered::Sms)
    }
}

#[cfg(test)]
mod tests;
