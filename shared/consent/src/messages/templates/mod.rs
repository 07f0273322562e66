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
use defaults::defaults;
use sandbox::{BODY, HTML, SUBJECT, TEXT, render_part};

pub use key::TemplateKey;

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
mod tests {
    use super::compliance::*;

    use super::*;
    use std::time::{Duration, Instant};

    fn sms(body: &str) -> TemplateOverride {
        TemplateOverride::Sms {
            body: body.to_string(),
        }
    }

    fn problems(result: Result<(), TemplateError>) -> Vec<String> {
        match result {
            Err(TemplateError::Invalid { problems }) => problems,
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn every_default_in_every_language_validates() {
        for language in Language::ALL {
            for name in TemplateName::ALL {
                assert_eq!(
                    validate_override(name, language, &default_template(name, language)),
                    Ok(()),
                    "{} in {language}",
                    name.as_str()
                );
            }
        }
    }

    #[test]
    fn every_default_in_every_language_renders() {
        let vars = sample_vars();
        for language in Language::ALL {
            for name in TemplateName::ALL {
                if name.is_email() {
                    let email = render_email(language, None, &vars).expect("email renders");
                    assert!(email.subject.contains(&vars.firm_name));
                    assert!(email.html.contains(&format!("<html lang=\"{language}\">")));
                } else {
                    let sms = render_sms(name, language, None, &vars).expect("sms renders");
                    assert!(sms.body.starts_with(&vars.firm_name), "{}", sms.body);
                    assert_eq!(sms.body, sms.body.trim_end());
                    assert!(!sms.body.contains("{{"), "{}", sms.body);
                    // Every default text stays in GSM-7, so it costs what its length says.
                    assert_eq!(
                        sms.segments.encoding,
                        crate::messages::segments::SmsEncoding::Gsm7,
                        "{}",
                        sms.body
                    );
                }
            }
        }
    }

    #[test]
    fn default_opt_in_request_is_ctia_complete_and_short() {
        let vars = sample_vars();
        let sms =
            render_sms(TemplateName::SmsOptInRequest, Language::En, None, &vars).expect("renders");
        let body = &sms.body;
        assert!(body.contains("Hartwell & Pine LLP"), "{body}");
        assert!(body.contains("Hi Maria"), "{body}");
        for needle in [
            "YES",
            "STOP",
            "HELP",
            "Msg & data rates may apply",
            "frequency varies",
            "legal matter",
        ] {
            assert!(body.contains(needle), "{needle} missing from {body}");
        }
        assert!(sms.segments.segments <= 2, "{sms:?}");

        let long_name = TemplateVars {
            firm_name: "Smith, Johnson & Associates Personal Injury Lawyers PLLC".to_string(),
            first_name: "Alexandra".to_string(),
            ..vars
        };
        let sms = render_sms(
            TemplateName::SmsOptInRequest,
            Language::En,
            None,
            &long_name,
        )
        .expect("renders");
        assert!(sms.segments.segments <= 2, "{sms:?}");
    }

    #[test]
    fn default_opt_in_request_without_first_name() {
        let vars = TemplateVars {
            first_name: String::new(),
            ..sample_vars()
        };
        let sms =
            render_sms(TemplateName::SmsOptInRequest, Language::En, None, &vars).expect("renders");
        assert!(
            sms.body
                .starts_with("Hartwell & Pine LLP: Reply YES to confirm"),
            "{}",
            sms.body
        );
    }

    #[test]
    fn default_help_names_contacts() {
        let vars = sample_vars();
        let body = render_sms(TemplateName::SmsHelp, Language::En, None, &vars)
            .expect("renders")
            .body;
        assert!(body.contains("call (555) 010-0199 or email help@hartwellpine.example."));
        let email_only = TemplateVars {
            support_phone: String::new(),
            ..sample_vars()
        };
        let body = render_sms(TemplateName::SmsHelp, Language::En, None, &email_only)
            .expect("renders")
            .body;
        assert!(
            body.contains("For help email help@hartwellpine.example."),
            "{body}"
        );
    }

    #[test]
    fn override_missing_everything_lists_every_problem() {
        let found = problems(validate_override(
            TemplateName::SmsOptInRequest,
            Language::En,
            &sms("Hello there"),
        ));
        assert_eq!(
            found,
            vec![
                "must name the firm ({{ firm_name }})",
                "must say how to reply YES",
                "must say how to reply STOP",
                "must say how to reply HELP",
                "must say that message and data rates may apply",
            ]
        );
    }

    #[test]
    fn complete_override_validates() {
        let body = "{{ firm_name|upper }}: text Yes to get case updates. Msg&data rates may apply. \
                    Stop to end, Help for help.";
        assert_eq!(
            validate_override(TemplateName::SmsOptInRequest, Language::En, &sms(body)),
            Ok(())
        );
    }

    #[test]
    fn other_sms_templates_check_their_elements() {
        let found = problems(validate_override(
            TemplateName::SmsOptOutConfirmation,
            Language::En,
            &sms("Bye"),
        ));
        assert_eq!(found, vec![MUST_NAME_FIRM, MUST_UNSUBSCRIBED]);
        assert_eq!(
            validate_override(
                TemplateName::SmsOptOutConfirmation,
                Language::En,
                &sms("{{ firm_name }}: you have opted out. Text START to rejoin."),
            ),
            Ok(())
        );
        let found = problems(validate_override(
            TemplateName::SmsOptOutConfirmation,
            Language::En,
            &sms("{{ firm_name }}: you have opted out. Rejoin at https://firm.example/sms"),
        ));
        assert_eq!(found, vec![MUST_NO_LINK]);
        let long = format!(
            "{{{{ firm_name }}}}: you have opted out and will receive no more messages. {}",
            "We are sorry to see you go. ".repeat(5)
        );
        let found = problems(validate_override(
            TemplateName::SmsOptOutConfirmation,
            Language::En,
            &sms(&long),
        ));
        assert_eq!(found, vec![MUST_ONE_SEGMENT]);

        let found = problems(validate_override(
            TemplateName::SmsHelp,
            Language::En,
            &sms("Help!"),
        ));
        assert_eq!(found, vec![MUST_NAME_FIRM, MUST_SUPPORT, MUST_STOP]);
        assert_eq!(
            validate_override(
                TemplateName::SmsHelp,
                Language::En,
                &sms("{{ firm_name }}: email {{ support_email }}. STOP to end."),
            ),
            Ok(())
        );

        let found = problems(validate_override(
            TemplateName::SmsOptInConfirmation,
            Language::En,
            &sms("Thanks"),
        ));
        assert_eq!(
            found,
            vec![
                MUST_NAME_FIRM,
                MUST_FREQUENCY,
                MUST_RATES,
                MUST_HELP,
                MUST_STOP
            ]
        );
        assert_eq!(
            validate_override(
                TemplateName::SmsOptInConfirmation,
                Language::En,
                &sms(
                    "{{ firm_name }}: confirmed. 4 msgs/mo. Msg & data rates may apply. HELP for help, STOP to end."
                ),
            ),
            Ok(())
        );
    }

    #[test]
    fn elements_hidden_behind_first_name_are_reported() {
        let body = "{{ firm_name }}: reply YES. Msg & data rates may apply. HELP for help.\
                    {% if first_name %} STOP to opt out.{% endif %}";
        let found = problems(validate_override(
            TemplateName::SmsOptInRequest,
            Language::En,
            &sms(body),
        ));
        assert_eq!(
            found,
            vec!["must say how to reply STOP when the first name is unknown"]
        );
    }

    #[test]
    fn typo_in_variable_is_reported() {
        let body = "{{ frim_name }}: reply YES. Msg & data rates may apply. HELP, STOP.";
        let found = problems(validate_override(
            TemplateName::SmsOptInRequest,
            Language::En,
            &sms(body),
        ));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].contains("unknown variable `frim_name`"),
            "{found:?}"
        );
    }

    #[test]
    fn syntax_error_is_reported() {
        let found = problems(validate_override(
            TemplateName::SmsOptInRequest,
            Language::En,
            &sms("{{ firm_name "),
        ));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("syntax error"), "{found:?}");
    }

    #[test]
    fn endless_loops_fail_fast() {
        let started = Instant::now();
        // minijinja refuses a range this large outright.
        let found = problems(validate_override(
            TemplateName::SmsOptInRequest,
            Language::En,
            &sms("{% for i in range(100000000) %}x{% endfor %}"),
        ));
        assert!(
            found[0].contains("range has too many elements"),
            "{found:?}"
        );
        // Ten billion empty iterations: only fuel stops this one.
        let found = problems(validate_override(
            TemplateName::SmsOptInRequest,
            Language::En,
            &sms(
                "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
            ),
        ));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("too much work"), "{found:?}");
        // Recursion is outside the allowed syntax.
        let found = problems(validate_override(
            TemplateName::SmsOptInRequest,
            Language::En,
            &sms("{% for x in [1] recursive %}{{ loop([x]) }}{% endfor %}"),
        ));
        assert!(found[0].contains("may not use `recursive`"), "{found:?}");
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn output_is_capped() {
        let found = problems(validate_override(
            TemplateName::SmsOptInRequest,
            Language::En,
            &sms("{% for i in range(10000) %}{{ firm_name }}{% endfor %}"),
        ));
        assert_eq!(
            found,
            vec![format!(
                "the SMS body renders to more than {} characters",
                crate::limits::MAX_SMS_CHARS
            )]
        );
        let found = problems(validate_override(
            TemplateName::SmsOptInRequest,
            Language::En,
            &sms(&"x".repeat(10_001)),
        ));
        assert_eq!(found, vec!["the SMS body is longer than 10000 characters"]);
    }

    #[test]
    fn no_file_access() {
        for body in [
            "{% include \"x\" %}",
            "{% include \"/etc/passwd\" %}",
            "{% extends \"base.html\" %}",
            "{% import \"x\" as y %}",
        ] {
            let err = render_sms(
                TemplateName::SmsHelp,
                Language::En,
                Some(&sms(body)),
                &sample_vars(),
            );
            assert!(
                matches!(err, Err(TemplateError::Invalid { .. })),
                "{body}: {err:?}"
            );
        }
    }

    fn email(subject: &str, text: &str, html: &str) -> TemplateOverride {
        TemplateOverride::Email {
            subject: subject.to_string(),
            text: text.to_string(),
            html: html.to_string(),
        }
    }

    #[test]
    fn email_html_escapes_variables_and_text_does_not() {
        let vars = TemplateVars {
            first_name: "<script>alert(1)</script>".to_string(),
            ..sample_vars()
        };
        let rendered = render_email(Language::En, None, &vars).expect("renders");
        assert!(!rendered.html.contains("<script>"), "{}", rendered.html);
        assert!(rendered.html.contains("&lt;script&gt;alert(1)&lt;"));
        assert!(rendered.text.contains("Hi <script>alert(1)</script>,"));
        assert!(rendered.html.contains("Hartwell &amp; Pine LLP"));
        assert!(rendered.text.contains("Hartwell & Pine LLP"));
        assert!(rendered.subject.contains("Hartwell & Pine LLP"));
    }

    #[test]
    fn email_html_cannot_turn_escaping_off() {
        let vars = TemplateVars {
            first_name: "<b>x</b>".to_string(),
            ..sample_vars()
        };
        for html in [
            "{{ first_name|safe }} {{ confirm_url }}",
            "{% autoescape false %}{{ first_name }}{% endautoescape %}{{ confirm_url }}",
            "{%- AutoEscape false %}{{ first_name }}{% endautoescape %}{{ confirm_url }}",
            "{% filter safe %}{{ first_name }}{% endfilter %}{{ confirm_url }}",
        ] {
            let template = email("{{ firm_name }}", "{{ confirm_url }}", html);
            let rendered = render_email(Language::En, Some(&template), &vars);
            assert!(
                matches!(rendered, Err(TemplateError::Invalid { .. })),
                "{html}: {rendered:?}"
            );
        }
    }

    #[test]
    fn email_subject_is_one_line() {
        let vars = TemplateVars {
            first_name: "Ann\r\nBcc: victim@example.com".to_string(),
            ..sample_vars()
        };
        let template = email(
            "Hi {{ first_name }}",
            "{{ confirm_url }}",
            "{{ confirm_url }}",
        );
        let rendered = render_email(Language::En, Some(&template), &vars).expect("renders");
        assert_eq!(rendered.subject, "Hi Ann Bcc: victim@example.com");
    }

    #[test]
    fn email_override_lists_problems_of_every_part() {
        let found = problems(validate_override(
            TemplateName::EmailOptInRequest,
            Language::En,
            &email("Hello", "Hi {{ first_name }}", "<p>Hi</p>"),
        ));
        assert_eq!(found, vec![MUST_TEXT_LINK, MUST_HTML_LINK, MUST_EMAIL_FIRM]);

        let found = problems(validate_override(
            TemplateName::EmailOptInRequest,
            Language::En,
            &email("{{ oops", "{{ nope }}", "{{ confirm_url }}"),
        ));
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].contains("syntax error"), "{found:?}");
        assert!(found[1].contains("unknown variable `nope`"), "{found:?}");

        assert_eq!(
            validate_override(
                TemplateName::EmailOptInRequest,
                Language::En,
                &email(
                    "Texts from {{ firm_name }}",
                    "Confirm: {{ confirm_url }}",
                    "<a href=\"{{ confirm_url }}\">Confirm</a>",
                ),
            ),
            Ok(())
        );
    }

    #[test]
    fn wrong_shape_is_rejected() {
        let email_shape = default_template(TemplateName::EmailOptInRequest, Language::En);
        assert_eq!(
            validate_override(TemplateName::SmsHelp, Language::En, &email_shape),
            Err(TemplateError::WrongShape {
                name: "sms_help",
                expected: "an SMS body"
            })
        );
        assert!(matches!(
            validate_override(TemplateName::EmailOptInRequest, Language::En, &sms("hi")),
            Err(TemplateError::WrongShape {
                name: "email_opt_in_request",
                ..
            })
        ));
        let vars = sample_vars();
        assert!(matches!(
            render_sms(
                TemplateName::SmsHelp,
                Language::En,
                Some(&email_shape),
                &vars
            ),
            Err(TemplateError::WrongShape { .. })
        ));
        assert!(matches!(
            render_sms(TemplateName::EmailOptInRequest, Language::En, None, &vars),
            Err(TemplateError::WrongShape { .. })
        ));
        assert!(matches!(
            render_email(Language::En, Some(&sms("hi")), &vars),
            Err(TemplateError::WrongShape { .. })
        ));
    }

    #[test]
    fn override_serde_round_trip() {
        for template in [sms("{{ firm_name }}: hi"), email("s", "t", "<p>h</p>")] {
            let json = serde_json::to_string(&template).expect("serializes");
            let back: TemplateOverride = serde_json::from_str(&json).expect("deserializes");
            assert_eq!(back, template);
        }
        let back: TemplateOverride = serde_json::from_str(r#"{"body":"x"}"#).expect("deserializes");
        assert_eq!(back, sms("x"));
        let back: TemplateOverride =
            serde_json::from_str(r#"{"subject":"s","text":"t","html":"h"}"#).expect("deserializes");
        assert_eq!(back, email("s", "t", "h"));
    }

    #[test]
    fn preview_renders_with_sample_vars() {
        let Ok(Preview::Sms(sms_preview)) =
            preview(TemplateName::SmsOptInRequest, Language::En, None)
        else {
            panic!("expected an SMS preview");
        };
        assert!(sms_preview.body.contains("Hartwell & Pine LLP"));
        let json =
            serde_json::to_value(preview(TemplateName::EmailOptInRequest, Language::En, None).ok())
                .expect("serializes");
        assert_eq!(json["kind"], "email");
        assert!(
            json["html"]
                .as_str()
                .is_some_and(|h| h.contains("Confirm text messages"))
        );
        let json = serde_json::to_value(Preview::Sms(sms_preview)).expect("serializes");
        assert_eq!(json["kind"], "sms");
        assert!(json["segments"]["segments"].is_number());
        assert!(matches!(
            preview(TemplateName::SmsHelp, Language::En, Some(&sms("{{ x }}"))),
            Err(TemplateError::Invalid { .. })
        ));
    }

    #[test]
    fn sms_is_not_html_escaped_and_trailing_space_is_trimmed() {
        let vars = TemplateVars {
            first_name: "<O'Brien & Co>".to_string(),
            ..sample_vars()
        };
        let rendered = render_sms(
            TemplateName::SmsHelp,
            Language::En,
            Some(&sms("{{ first_name }} \n\n")),
            &vars,
        )
        .expect("renders");
        assert_eq!(rendered.body, "<O'Brien & Co>");
    }
}
