//! How each language says what CTIA asks of a message: the words and phrases the compliance
//! checks look for in a rendered template, and how a missing one is reported.
//!
//! Phrases are written as the checks compare them: lower case, one space between words, and
//! without the accents of á, é, í, ó, ú and ü (see `compliance::normalize`), so "varía" and
//! "varia" both count.

use crate::model::language::Language;

// How each missing element is reported (in English, the API's language); the Spanish wording
// below names its own reply words in the six problems that depend on them.
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

/// What one language's messages must say, as words to find.
pub(super) struct Wording {
    /// Reply words that opt in, any one standing alone ("YES").
    pub yes: &'static [&'static str],
    /// Reply words that opt out, any one standing alone ("STOP").
    pub stop: &'static [&'static str],
    /// Reply words that ask for help, any one standing alone ("HELP").
    pub help: &'static [&'static str],
    /// The rates disclosure: every group must have one of its phrases in the text.
    pub rates: &'static [&'static [&'static str]],
    /// Phrases that say how often messages come.
    pub frequency: &'static [&'static str],
    /// Phrases that say the contact is unsubscribed and gets no more messages.
    pub unsubscribed: &'static [&'static str],
    /// The problems reported when an element is missing, in the order of the fields above.
    pub problems: Problems,
}

/// How a missing element is reported for one language.
pub(super) struct Problems {
    /// No reply word that opts in.
    pub yes: &'static str,
    /// No reply word that opts out.
    pub stop: &'static str,
    /// No reply word that asks for help.
    pub help: &'static str,
    /// No rates disclosure.
    pub rates: &'static str,
    /// No "message frequency varies" disclosure.
    pub frequency: &'static str,
    /// No "you are unsubscribed".
    pub unsubscribed: &'static str,
}

/// The wording of `language`.
pub(super) fn wording(language: Language) -> &'static Wording {
    match language {
        Language::En => &ENGLISH,
        Language::Es => &SPANISH,
    }
}

const ENGLISH: Wording = Wording {
    yes: &["yes"],
    stop: &["stop"],
    help: &["help"],
    rates: &[&["rates may apply"]],
    frequency: &[
        "frequency",
        "/mo",
        "/wk",
        "/week",
        "/month",
        "per month",
        "per week",
        "a month",
        "a week",
    ],
    unsubscribed: &[
        "unsubscribed",
        "opted out",
        "opted-out",
        "will not receive",
        "won't receive",
        "will no longer receive",
        "no longer receive",
        "no more messages",
        "no further messages",
    ],
    problems: Problems {
        yes: MUST_YES,
        stop: MUST_STOP,
        help: MUST_HELP,
        rates: MUST_RATES,
        frequency: MUST_FREQUENCY,
        unsubscribed: MUST_UNSUBSCRIBED,
    },
};

/// The keywords are those the inbound reader takes in Spanish (SI, ALTO, AYUDA) and the
/// carriers' English ones, which every Spanish program also answers. "Baja" and "para" are
/// Spanish stop words too, but in a sentence they are ordinary words ("darse de baja", "para
/// ayuda"), so they do not show that the text says how to stop.
const SPANISH: Wording = Wording {
    yes: &["si", "yes"],
    stop: &["stop", "alto"],
    help: &["ayuda", "help"],
    // "Pueden aplicarse tarifas de mensajes y datos", "Msj y datos pueden tener costo".
    rates: &[&["tarifa", "cargo", "costo"], &["aplic", "pueden"]],
    frequency: &[
        "frecuencia",
        "/mes",
        "/sem",
        "por mes",
        "al mes",
        "por semana",
        "a la semana",
    ],
    unsubscribed: &[
        "dado de baja",
        "dada de baja",
        "cancelado su suscripcion",
        "cancelo su suscripcion",
        "no recibira mas",
        "ya no recibira",
        "no recibira ningun",
        "no le enviaremos mas",
    ],
    problems: Problems {
        yes: "must say how to reply SI (or YES)",
        stop: "must say how to reply STOP (or ALTO)",
        help: "must say how to reply AYUDA (or HELP)",
        rates: "must say that message and data rates may apply (\"Pueden aplicarse tarifas de mensajes y datos\")",
        frequency: "must say how often messages come (\"La frecuencia de mensajes varia\" or e.g. \"4 msjs/mes\")",
        unsubscribed: "must say that they are unsubscribed and will receive no more messages (\"Se ha dado de baja y no recibira mas mensajes\")",
    },
};
