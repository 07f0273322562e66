//! The grammar of English revocations.

use super::super::grammar::{Rule, Slot::*, Words};

// --- English -----------------------------------------------------------------------------------

/// The sender speaking of themself: "I don't text much".
pub(super) const EN_SELF: Words = &["i", "we", "they"];
pub(super) const EN_DONT: Words = &[
    "don't",
    "dont",
    "do not",
    "dnt",
    "don't you",
    "dont you",
    "don't u",
    "dont u",
];
pub(super) const EN_EVER: Words = &["ever", "even"];
/// Texting, with no object needed ("don't text", "do not msg").
pub(super) const EN_TEXT: Words = &[
    "text",
    "txt",
    "texting",
    "txting",
    "message",
    "messaging",
    "msg",
    "msging",
    "sms",
    "text message",
    "call or text",
    "text or call",
    "call or txt",
    "call or message",
];
/// What may follow "don't text" for it to be about the texts to this number.
pub(super) const EN_TEXT_OBJECT: Words = &[
    "me",
    "us",
    "this number",
    "this phone",
    "this #",
    "this cell",
    "this line",
    "my number",
    "my phone",
    "my cell",
    "here",
    "again",
    "anymore",
    "any more",
    "no more",
    "ever again",
    "to this number",
    "at this number",
    "on this number",
];
/// Verbs that are about texting only with an object ("don't contact me", not "don't contact my
/// employer"). Not "email": "don't email me the bill" is about email.
pub(super) const EN_CONTACT: Words = &[
    "contact",
    "bother",
    "write",
    "write to",
    "reach out to",
    "reach",
    "harass",
    "spam",
];
pub(super) const EN_ME: Words = &[
    "me",
    "us",
    "this number",
    "this phone",
    "this #",
    "this cell",
    "this line",
    "my number",
    "my phone",
    "my cell",
    "my cell phone",
];
/// Every way of reaching someone by phone, for "never ... me again" and "not to ... me".
pub(super) const EN_REACH: Words = &[
    "text",
    "txt",
    "message",
    "msg",
    "contact",
    "call",
    "call or text",
    "text or call",
    "bother",
    "write",
    "texting",
    "txting",
    "messaging",
    "contacting",
    "calling",
];
pub(super) const EN_REACHING: Words = &[
    "texting",
    "txting",
    "messaging",
    "msging",
    "sending",
    "contacting",
    "bothering",
    "spamming",
    "calling",
    "harassing",
    "writing",
];
pub(super) const EN_TEXTED: Words = &[
    "texted",
    "txted",
    "contacted",
    "messaged",
    "msged",
    "bothered",
    "called",
    "harassed",
    "spammed",
];
/// Determiners before the messages ("these", "all your", "any more").
pub(super) const EN_SOME: Words = &[
    "these",
    "those",
    "the",
    "your",
    "ur",
    "all",
    "all the",
    "all these",
    "all those",
    "all of the",
    "all of these",
    "all your",
    "all of your",
    "any",
    "any more",
    "anymore",
    "more",
    "any of these",
    "any of your",
    "any of the",
    "my",
    "this",
    "further",
    "such",
];
/// The firm's messages, as people name them. Not "calls" or "contact": "no more calls from the
/// collector" and "end contact with my ex" are about someone else.
pub(super) const EN_MESSAGES: Words = &[
    "texts",
    "text",
    "txts",
    "txt",
    "texting",
    "txting",
    "messages",
    "message",
    "msgs",
    "msg",
    "sms",
    "smss",
    "sms's",
    "text messages",
    "text message",
    "txt messages",
    "text msgs",
    "reminders",
    "text reminders",
    "reminder texts",
    "reminder messages",
    "alerts",
    "text alerts",
    "notifications",
    "text notifications",
    "text updates",
    "communication",
    "communications",
    "spam",
    "robotexts",
    "marketing",
    "promotions",
    "promos",
];
/// Where a number is kept: "remove me from your list", not "from the lease".
pub(super) const EN_LIST: Words = &[
    "list",
    "lists",
    "texting list",
    "text list",
    "mailing list",
    "contact list",
    "contacts",
    "system",
    "records",
    "database",
    "texts",
    "messages",
    "text messages",
    "this",
    "these",
    "here",
];
pub(super) const EN_ME_OR_NUMBER: Words = &[
    "me",
    "us",
    "my number",
    "my #",
    "my phone number",
    "my phone",
    "my cell",
    "my cell number",
    "this number",
    "this #",
    "this phone number",
    "my contact",
    "my contact info",
    "my info",
    "my name",
];
pub(super) const EN_FROM: Words = &["from", "off", "off of", "out of"];
pub(super) const EN_NOT_WANT: Words = &[
    "don't",
    "dont",
    "do not",
    "dnt",
    "no longer",
    "never",
    "don't even",
    "do not even",
];
pub(super) const EN_WANT: Words = &["want", "wanna", "wish", "need", "care for"];
pub(super) const EN_TO_RECEIVE: Words = &[
    "to receive",
    "to recieve",
    "to get",
    "to keep getting",
    "to keep receiving",
    "to be getting",
    "to be receiving",
    "to see",
    "receiving",
    "getting",
];
pub(super) const EN_YOU: Words = &["you", "u", "y'all", "yall", "you guys", "anyone", "anybody"];
pub(super) const EN_AGAIN: Words = &["again", "ever again", "anymore", "any more"];
pub(super) const EN_CANCEL: Words = &[
    "cancel",
    "end",
    "quit",
    "cease",
    "halt",
    "discontinue",
    "terminate",
    "stp",
];
pub(super) const EN_WRONG: Words = &["wrong", "worng", "wrng"];
/// A number, however abbreviated ("wrong #"; "wrong no" only at a clause's end, below).
pub(super) const EN_NUMBER: Words = &[
    "number",
    "numbers",
    "#",
    "num",
    "numb",
    "numbr",
    "nmbr",
    "nbr",
    "numer",
    "nunber",
    "phone number",
    "cell number",
    "person",
    "persn",
];

pub(super) const ENGLISH: &[Rule] = &[
    // "don't text me", "do not txt", "dont msg this number"; not "don't text my husband".
    &[
        NotAfter(EN_SELF),
        One(&[EN_DONT]),
        Maybe(&[EN_EVER]),
        One(&[EN_TEXT]),
        Then(&[One(&[EN_TEXT_OBJECT])]),
    ],
    // "do not contact me"; not "do not contact my employer".
    &[
        NotAfter(EN_SELF),
        One(&[EN_DONT]),
        Maybe(&[EN_EVER]),
        One(&[EN_CONTACT]),
        One(&[EN_ME]),
    ],
    // "don't send me any more texts"; not "don't send anything until ...".
    &[
        NotAfter(EN_SELF),
        One(&[EN_DONT]),
        Maybe(&[EN_EVER]),
        One(&[&["send"]]),
        Maybe(&[EN_ME]),
        Maybe(&[EN_SOME]),
        One(&[EN_MESSAGES]),
    ],
    // "never text me again"; "Never text me" at a clause's start; not "you never text me back".
    &[
        One(&[&["never"]]),
        Maybe(&[EN_EVER]),
        One(&[EN_REACH]),
        One(&[EN_ME]),
        One(&[EN_AGAIN]),
    ],
    &[
        Start,
        One(&[&["never"]]),
        Maybe(&[EN_EVER]),
        One(&[EN_REACH]),
        One(&[EN_ME]),
    ],
    // "I told you not to text me".
    &[
        One(&[&["not to", "never to"]]),
        Maybe(&[EN_EVER]),
        One(&[EN_REACH]),
        One(&[EN_ME]),
    ],
    // "no more texts", "no further messages".
    &[
        One(&[&[
            "no more",
            "no further",
            "no additional",
            "nomore",
            "no mo",
            "no más",
        ]]),
        One(&[EN_MESSAGES]),
    ],
    // "No texts please" as a clause of its own; not "no text from the court yet".
    &[Start, One(&[&["no"]]), One(&[EN_MESSAGES]), End],
    // "cancel these texts", "end all messages", "cease all communication"; not "cancel my
    // appointment" or "end the call".
    &[One(&[EN_CANCEL]), Maybe(&[EN_SOME]), One(&[EN_MESSAGES])],
    &[
        One(&[EN_CANCEL]),
        One(&[&[
            "these",
            "subscription",
            "my subscription",
            "the subscription",
            "this subscription",
        ]]),
        End,
    ],
    // "quit texting me", "stp texting".
    &[One(&[&["quit", "cease", "stp"]]), One(&[EN_REACHING])],
    // "I don't want these texts anymore", "I no longer wish to receive messages from you"; not
    // "I don't want to go to trial" or "I don't want the text to go to my work phone".
    &[
        One(&[EN_NOT_WANT]),
        One(&[EN_WANT]),
        Maybe(&[EN_TO_RECEIVE]),
        Maybe(&[EN_SOME]),
        One(&[EN_MESSAGES]),
        Then(&[One(&[&[
            "anymore",
            "any more",
            "no more",
            "from",
            "again",
            "here",
            "at all",
            "ever",
            "on this number",
            "to this number",
        ]])]),
    ],
    // "I want out of these texts".
    &[
        One(&[&["want out of", "wanna get out of"]]),
        Maybe(&[EN_SOME]),
        One(&[EN_MESSAGES, EN_LIST]),
    ],
    // "I don't want you texting me".
    &[
        One(&[EN_NOT_WANT]),
        One(&[EN_WANT]),
        One(&[EN_YOU]),
        Maybe(&[&["to"]]),
        One(&[EN_REACH]),
        One(&[EN_ME]),
    ],
    // "I do not want to be contacted"; not "... to be contacted by the other lawyer".
    &[
        One(&[EN_NOT_WANT]),
        One(&[EN_WANT]),
        One(&[&["to be", "be", "being"]]),
        One(&[EN_TEXTED]),
        Then(&[One(&[&[
            "by you", "by u", "by your", "by ur", "by this", "by these", "again", "here",
            "on this", "at this",
        ]])]),
    ],
    // "I don't want these anymore".
    &[
        One(&[EN_NOT_WANT]),
        One(&[EN_WANT]),
        One(&[&["these", "those", "them"]]),
        One(&[&["anymore", "any more", "no more"]]),
    ],
    // "wrong number", "wrong #", "wrong num", and "wrong no." ending its clause.
    &[One(&[EN_WRONG]), One(&[EN_NUMBER])],
    &[One(&[EN_WRONG]), One(&[&["no"]]), End],
    // "remove me", "delete my number", "remove me from your list"; not "remove me from the
    // lease".
    &[
        One(&[&["remove", "delete", "erase"]]),
        One(&[EN_ME_OR_NUMBER]),
        Then(&[One(&[EN_FROM]), Maybe(&[EN_SOME]), One(&[EN_LIST])]),
    ],
    // "take me off your list", "take my number off"; not "take me off the lease".
    &[
        One(&[&["take"]]),
        One(&[EN_ME_OR_NUMBER]),
        One(&[&["off", "off of", "out of"]]),
        Then(&[Maybe(&[EN_SOME]), One(&[EN_LIST])]),
    ],
    // "I'd like to be removed from your list", "I asked to be removed"; not "to be removed as
    // executor".
    &[
        One(&[&[
            "be removed",
            "be taken off",
            "be unsubscribed",
            "be deleted",
            "be taken out",
        ]]),
        Then(&[One(&[EN_FROM]), Maybe(&[EN_SOME]), One(&[EN_LIST])]),
    ],
    // "this number doesn't belong to Sarah anymore", "this phone is not Maria's".
    &[
        One(&[&[
            "this number",
            "this phone",
            "this #",
            "this phone number",
            "this cell",
        ]]),
        One(&[&[
            "doesn't belong to",
            "does not belong to",
            "no longer belongs to",
            "is no longer",
            "isn't",
            "is not",
        ]]),
    ],
    // "I revoke my consent", "I withdraw my permission".
    &[
        One(&[&[
            "revoke",
            "revoking",
            "withdraw",
            "withdrawing",
            "rescind",
            "retract",
        ]]),
        Maybe(&[&["my", "all", "any", "the", "our"]]),
        One(&[&["consent", "permission"]]),
    ],
    // "I never signed up for this"; not "I never signed up for the payment plan".
    &[
        One(&[&[
            "never",
            "didn't",
            "didnt",
            "did not",
            "don't remember",
            "dont remember",
            "do not remember",
        ]]),
        One(&[&[
            "sign up",
            "signed up",
            "signup",
            "subscribe",
            "subscribed",
            "opt in",
            "opted in",
            "optin",
        ]]),
        Maybe(&[&["for", "to"]]),
        Maybe(&[&[
            "this",
            "these",
            "that",
            "this stuff",
            "these texts",
            "texts",
            "messages",
            "this service",
            "any of this",
            "it",
            "them",
            "these messages",
        ]]),
        End,
    ],
    // "Enough with the texts"; "I'm sick of these texts", not "tired of the messages from the
    // collector".
    &[
        One(&[&["enough", "enough with", "enough of"]]),
        Maybe(&[EN_SOME]),
        One(&[EN_MESSAGES]),
    ],
    &[
        One(&[&["sick of", "tired of", "done with", "fed up with"]]),
        Maybe(&[&[
            "these",
            "your",
            "ur",
            "all these",
            "all your",
            "all of these",
            "all of your",
            "all this",
            "this",
            "those",
        ]]),
        One(&[EN_MESSAGES]),
    ],
    // "I'm going to block this number".
    &[
        One(&[&["block", "blocking", "blocked"]]),
        One(&[&[
            "you",
            "u",
            "this number",
            "your number",
            "ur number",
            "this #",
            "you guys",
            "y'all",
            "yall",
        ]]),
    ],
    // "opt me out", "I want to opt out", "opt out of these texts"; not "opt out of the class
    // action".
    &[
        One(&[&[
            "opt out",
            "opt me out",
            "opt us out",
            "opting out",
            "opted out",
        ]]),
        Then(&[
            One(&[&["of", "from"]]),
            Maybe(&[EN_SOME]),
            One(&[EN_MESSAGES, EN_LIST]),
        ]),
    ],
];
