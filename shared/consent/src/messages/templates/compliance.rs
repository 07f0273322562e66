//! What CTIA asks each message to say, checked on the rendered text of a firm's override.

use minijinja::HtmlEscape;

use super::wording::{
    MUST_EMAIL_FIRM, MUST_HTML_LINK, MUST_NAME_FIRM, MUST_NO_LINK, MUST_ONE_SEGMENT, MUST_SUPPORT,
    MUST_TEXT_LINK, wording,
};
use super::{Rendered, TemplateName, TemplateVars};
use crate::messages::segments::count_segments;
use crate::model::language::Language;

/// The required elements the rendered text lacks, in a fixed order; the words looked for are
/// those of the template's `language` ([`wording`]).
pub(super) fn missing_elements(
    name: TemplateName,
    language: Language,
    rendered: &Rendered,
    vars: &TemplateVars,
) -> Vec<&'static str> {
    let words = wording(language);
    let says = &words.problems;
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
            let any_word = |list: &[&str]| list.iter().any(|w| has_word(body, w));
            let rates = words
                .rates
                .iter()
                .all(|group| group.iter().any(|p| text.contains(p)));
            match name {
                TemplateName::SmsOptInRequest => {
                    require(names_firm, MUST_NAME_FIRM);
                    require(any_word(words.yes), says.yes);
                    require(any_word(words.stop), says.stop);
                    require(any_word(words.help), says.help);
                    require(rates, says.rates);
                }
                TemplateName::SmsOptInConfirmation => {
                    // CTIA's confirmation message: program, frequency, rates, HELP and STOP.
                    require(names_firm, MUST_NAME_FIRM);
                    require(
                        words.frequency.iter().any(|p| text.contains(p)),
                        says.frequency,
                    );
                    require(rates, says.rates);
                    require(any_word(words.help), says.help);
                    require(any_word(words.stop), says.stop);
                }
                TemplateName::SmsOptOutConfirmation => {
                    require(names_firm, MUST_NAME_FIRM);
                    require(
                        words.unsubscribed.iter().any(|p| text.contains(p)),
                        says.unsubscribed,
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
                    require(any_word(words.stop), says.stop);
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

/// Lower case, one space between words, straight apostrophes and the accents of Spanish
/// vowels left off, for lenient phrase matching ("varía" reads as "varia").
pub(super) fn normalize(text: &str) -> String {
    text.replace(['\u{2019}', '\u{2018}'], "'")
        .to_lowercase()
        .chars()
        .map(fold_accent)
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// A lower-case vowel without its accent; every other character as it is (ñ stays ñ).
fn fold_accent(c: char) -> char {
    match c {
        'á' | 'à' => 'a',
        'é' | 'è' => 'e',
        'í' | 'ì' => 'i',
        'ó' | 'ò' => 'o',
        'ú' | 'ù' | 'ü' => 'u',
        other => other,
    }
}

/// Whether normalized `text` holds a web link.
fn has_link(text: &str) -> bool {
    ["http://", "https://", "www."]
        .iter()
        .any(|start| text.contains(start))
}

/// Whether `word` (written as [`normalize`] writes) stands alone in `text`, in any case and
/// with or without accents: "YES" in "Reply Yes," but not in "yesterday"; "si" in "Responda SÍ".
pub(super) fn has_word(text: &str, word: &str) -> bool {
    normalize(text)
        .split(|c: char| !c.is_alphanumeric())
        .any(|w| w == word)
}
