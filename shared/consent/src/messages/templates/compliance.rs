//! What CTIA asks each message to say, checked on the rendered text of a firm's override.

use minijinja::HtmlEscape;

use super::{Rendered, TemplateName, TemplateVars};
use crate::messages::segments::count_segments;
pub(super) const MUST_NAME_FIRM: &str = "must name the firm ({{ firm_name }})";
pub(super) const MUST_YES: &str = "must say how to reply YES";
pub(super) const MUST_STOP: &str = "must say how to reply STOP";
pub(super) const MUST_HELP: &str = "must say how to reply HELP";
pub(super) const MUST_RATES: &str = "must say that message and data rates may apply";
pub(super) const MUST_FREQUENCY: &str =
    "must say how often messages come (\"Msg frequency varies\" or e.g. \"4 msgs/mo\")";
pub(super) const MUST_UNSUBSCRIBED: &str =
    "must say that they are unsubscribed and will receive no more messages";
pub(super) const MUST_SUPPORT: &str =
    "must give a support contact ({{ support_phone }} or {{ support_email }})";
pub(super) const MUST_NO_LINK: &str =
    "must not contain a link: the opt-out confirmation only confirms the opt-out";
pub(super) const MUST_ONE_SEGMENT: &str =
    "must fit in one SMS segment (160 GSM-7 or 70 UCS-2 characters)";
pub(super) const MUST_TEXT_LINK: &str =
    "the email text must contain the confirmation link ({{ confirm_url }})";
pub(super) const MUST_HTML_LINK: &str =
    "the email HTML must contain the confirmation link ({{ confirm_url }})";
pub(super) const MUST_EMAIL_FIRM: &str =
    "the email subject or text must name the firm ({{ firm_name }})";

/// The required elements the rendered text lacks, in a fixed order.
pub(super) fn missing_elements(
    name: TemplateName,
    rendered: &Rendered,
    vars: &TemplateVars,
) -> Vec<&'static str> {
    let mut missing = Vec::new();
    let mut require = |ok: bool, message: &'static str| {
        if !ok {
            missing.push(message);
        }
    };
    match rendered {
        Rendered::Sms(body) => {
            let text = normalize(body);
            let names_firm = text.contains(&normalize(&vars.firm_name));
            match name {
                TemplateName::SmsOptInRequest => {
                    require(names_firm, MUST_NAME_FIRM);
                    require(has_word(body, "YES"), MUST_YES);
                    require(has_word(body, "STOP"), MUST_STOP);
                    require(has_word(body, "HELP"), MUST_HELP);
                    require(text.contains("rates may apply"), MUST_RATES);
                }
                TemplateName::SmsOptInConfirmation => {
                    // CTIA's confirmation message: program, frequency, rates, HELP and STOP.
                    require(names_firm, MUST_NAME_FIRM);
                    require(says_frequency(&text), MUST_FREQUENCY);
                    require(text.contains("rates may apply"), MUST_RATES);
                    require(has_word(body, "HELP"), MUST_HELP);
                    require(has_word(body, "STOP"), MUST_STOP);
                }
                TemplateName::SmsOptOutConfirmation => {
                    require(names_firm, MUST_NAME_FIRM);
                    const SAYS_UNSUBSCRIBED: [&str; 9] = [
                        "unsubscribed",
                        "opted out",
                        "opted-out",
                        "will not receive",
                        "won't receive",
                        "will no longer receive",
                        "no longer receive",
                        "no more messages",
                        "no further messages",
                    ];
                    require(
                        SAYS_UNSUBSCRIBED.iter().any(|p| text.contains(p)),
                        MUST_UNSUBSCRIBED,
                    );
                    // CTIA: one message, no marketing, nothing to click.
                    require(!has_link(&text), MUST_NO_LINK);
                    require(count_segments(body).segments <= 1, MUST_ONE_SEGMENT);
                }
                TemplateName::SmsHelp => {
                    require(names_firm, MUST_NAME_FIRM);
                    let contact = [&vars.support_phone, &vars.support_email]
                        .into_iter()
                        .any(|c| !c.is_empty() && text.contains(&normalize(c)));
                    require(contact, MUST_SUPPORT);
                    require(has_word(body, "STOP"), MUST_STOP);
                }
                TemplateName::EmailOptInRequest => {}
            }
        }
        Rendered::Email(email) => {
            let url = &vars.confirm_url;
            require(email.text.contains(url.as_str()), MUST_TEXT_LINK);
            // Escaping turns `/` into `&#x2f;`, which browsers read back in an href.
            let escaped = HtmlEscape(url).to_string();
            require(
                email.html.contains(url.as_str()) || email.html.contains(&escaped),
                MUST_HTML_LINK,
            );
            let firm = normalize(&vars.firm_name);
            require(
                normalize(&email.subject).contains(&firm) || normalize(&email.text).contains(&firm),
                MUST_EMAIL_FIRM,
            );
        }
    }
    missing
}

/// Lower case, one space between words and straight apostrophes, for lenient phrase matching.
pub(super) fn normalize(text: &str) -> String {
    text.replace(['\u{2019}', '\u{2018}'], "'")
        .to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether normalized `text` says how often messages come.
fn says_frequency(text: &str) -> bool {
    text.contains("frequency")
        || [
            "/mo",
            "/wk",
            "/week",
            "/month",
            "per month",
            "per week",
            "a month",
            "a week",
        ]
        .iter()
        .any(|period| text.contains(period))
}

/// Whether normalized `text` holds a web link.
fn has_link(text: &str) -> bool {
    ["http://", "https://", "www."]
        .iter()
        .any(|start| text.contains(start))
}

/// Whether `word` stands alone (any case), e.g. "YES" in "Reply Yes," but not in "yesterday".
pub(super) fn has_word(text: &str, word: &str) -> bool {
    text.split(|c: char| !c.is_alphanumeric())
        .any(|w| w.eq_ignore_ascii_case(word))
}
