//! The grammar of revocations in plain language, language by language: a request not to text
//! ("don't text me", "no me escriban"), no more messages ("no more texts", "keine SMS mehr"),
//! ending them ("cancel these texts"), not wanting them ("I don't want these texts anymore"),
//! a wrong number ("wrong #", "número equivocado"), and being taken off the list.
//!
//! Each rule names what must surround it, so that the same words about something else are left
//! for a person: "don't text my husband", "cancel my appointment", "take me off the lease" and
//! "I don't text much" are not revocations. Fixed phrases with no parts to vary are the
//! lexicon's.

use super::grammar::{Rule, Slot::*, Words};

mod asia;
mod english;
mod europe;
mod spanish;

use asia::*;
use english::*;
use europe::*;
use spanish::*;

/// Single words that may stand before a clause's first word ("please never text me").
pub(super) const OPENERS: Words = &[
    "please",
    "pls",
    "plz",
    "so",
    "and",
    "just",
    "ok",
    "okay",
    "hey",
    "hi",
    "hello",
    "but",
    "oh",
    "also",
    "now",
    "sir",
    "yo",
    "guys",
    "seriously",
];

/// Words that may stand after a clause's last word, besides every language's courtesy words
/// ("no texts please", "don't text anymore").
pub(super) const CLOSERS: Words = &[
    "now", "anymore", "again", "already", "lol", "ever", "sir", "ma'am", "maam", "bro", "guys",
    "asap", "ya", "na",
];

// --- STOP anywhere -----------------------------------------------------------------------------

/// What "stop" may be about instead of the texts, named right after it: an activity ("stop
/// paying", "stop working"), a thing ("stop the eviction", "stop payment"), or the road
/// ("stop sign", "stop light"). A closed list: any other word after "stop", or none, leaves it
/// a revocation, and so does any word of `ABOUT_THE_TEXTS` later in the sentence ("stop the
/// texts", "stop my phone blowing up").
const STOP_SOMETHING_ELSE: Words = &[
    "paying",
    "payment",
    "payments",
    "working",
    "driving",
    "talking",
    "going",
    "taking",
    "making",
    "filing",
    "using",
    "living",
    "renting",
    "drinking",
    "smoking",
    "eating",
    "fighting",
    "trying",
    "looking",
    "waiting",
    "buying",
    "selling",
    "spending",
    "charging",
    "collecting",
    "the",
    "my",
    "a",
    "an",
    "his",
    "her",
    "their",
    "our",
    "sign",
    "signs",
    "light",
    "lights",
];
/// Words that put the texts or the sender back into what is being stopped ("stop the texts",
/// "stop blowing up my phone").
const ABOUT_THE_TEXTS: Words = &[
    "me",
    "us",
    "phone",
    "number",
    "cell",
    "calls",
    "spam",
    "harassment",
    "texts",
    "text",
    "txts",
    "txt",
    "texting",
    "messages",
    "message",
    "msgs",
    "msg",
    "messaging",
    "sms",
    "reminders",
    "alerts",
    "notifications",
    "sending",
    "contacting",
    "calling",
    "bothering",
    "harassing",
    "spamming",
];

/// Words that revoke wherever they stand, with the rare exception spelled out in the rule.
pub(super) const ANYWHERE: &[Rule] = &[
    // STOP anywhere, erring toward opt-out, which START undoes: "please stop", "yes stop",
    // "STOP texting", and even "I'll stop by" (a visit) or "he won't stop calling". Not when
    // the words right after it name something else being stopped: "should I stop paying the
    // card?", "stop the garnishment", "a stop sign".
    &[
        One(&[&["stop"]]),
        Unless(&[One(&[STOP_SOMETHING_ELSE]), NoneOf(ABOUT_THE_TEXTS)]),
        // "stop contacting him" (said of someone else).
        Unless(&[One(&[EN_REACHING]), One(&[&["him", "her", "them"]])]),
    ],
];

/// Every language's grammar.
pub(super) const RULES: &[&[Rule]] = &[
    ENGLISH, SPANISH, PORTUGUESE, FRENCH, HAITIAN, GERMAN, ITALIAN, POLISH, RUSSIAN, TAGALOG,
    VIETNAMESE, ARABIC, CHINESE,
];
