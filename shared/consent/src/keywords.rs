//! Inbound keyword rules: how a reply is read (opt-in, opt-out, help, other).

use serde::{Deserialize, Serialize};

/// How an inbound text is read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Classification {
    /// An unambiguous opt-in word (YES, START, ...).
    OptIn {
        /// The word, upper-cased.
        word: String,
    },
    /// A revocation: a keyword or any reasonable plain-language way of saying no.
    OptOut {
        /// The keyword or phrase that matched.
        matched: String,
    },
    /// A request for help.
    Help {
        /// The word, upper-cased.
        word: String,
    },
    /// Anything else: recorded for a person.
    Other,
}

/// Reads an inbound text. Opt-out wins over everything.
pub fn classify(text: &str) -> Classification {
    let _ = text;
    todo!("keywords::classify")
}
