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

// --- English -----------------------------------------------------------------------------------

/// The sender speaking of themself: "I don't text much".
const EN_SELF: Words = &["i", "we", "they"];
const EN_DONT: Words = &[
    "don't",
    "dont",
    "do not",
    "dnt",
    "don't you",
    "dont you",
    "don't u",
    "dont u",
];
const EN_EVER: Words = &["ever", "even"];
/// Texting, with no object needed ("don't text", "do not msg").
const EN_TEXT: Words = &[
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
const EN_TEXT_OBJECT: Words = &[
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
const EN_CONTACT: Words = &[
    "contact",
    "bother",
    "write",
    "write to",
    "reach out to",
    "reach",
    "harass",
    "spam",
];
const EN_ME: Words = &[
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
const EN_REACH: Words = &[
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
const EN_REACHING: Words = &[
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
const EN_TEXTED: Words = &[
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
const EN_SOME: Words = &[
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
const EN_MESSAGES: Words = &[
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
const EN_LIST: Words = &[
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
const EN_ME_OR_NUMBER: Words = &[
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
const EN_FROM: Words = &["from", "off", "off of", "out of"];
const EN_NOT_WANT: Words = &[
    "don't",
    "dont",
    "do not",
    "dnt",
    "no longer",
    "never",
    "don't even",
    "do not even",
];
const EN_WANT: Words = &["want", "wanna", "wish", "need", "care for"];
const EN_TO_RECEIVE: Words = &[
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
const EN_YOU: Words = &["you", "u", "y'all", "yall", "you guys", "anyone", "anybody"];
const EN_AGAIN: Words = &["again", "ever again", "anymore", "any more"];
const EN_CANCEL: Words = &[
    "cancel",
    "end",
    "quit",
    "cease",
    "halt",
    "discontinue",
    "terminate",
    "stp",
];
const EN_WRONG: Words = &["wrong", "worng", "wrng"];
/// A number, however abbreviated ("wrong #"; "wrong no" only at a clause's end, below).
const EN_NUMBER: Words = &[
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

const ENGLISH: &[Rule] = &[
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

// --- Spanish (and Portuguese where they share words) -----------------------------------------

const ES_NO: Words = &["no", "nunca", "jamás"];
const ES_ME: Words = &["me", "nos"];
/// Verbs that ask not to write, with no object needed ("no me escriban").
const ES_WRITE: Words = &[
    "escribas",
    "escriban",
    "escriba",
    "escribir",
    "contactes",
    "contacten",
    "contacte",
    "contactar",
    "molestes",
    "molesten",
    "moleste",
    "molestar",
    "textees",
    "texteen",
    "textee",
];
/// Verbs that ask not to send, about messages only when messages follow ("no me manden más
/// mensajes"; not "no me mande la factura").
const ES_SEND: Words = &[
    "envíes", "envíen", "envíe", "mandes", "manden", "mande", "enviar", "mandar",
];
const ES_MESSAGES: Words = &[
    "mensajes",
    "mensaje",
    "mensajes de texto",
    "msj",
    "msjs",
    "textos",
    "texto",
    "sms",
    "mensajitos",
    "notificaciones",
    "recordatorios",
];
const ES_WANT: Words = &["quiero", "deseo", "quisiera", "necesito", "queremos"];
const ES_SOME: Words = &[
    "sus",
    "tus",
    "los",
    "estos",
    "esos",
    "ningún",
    "ninguno",
    "ninguna",
    "más",
    "más de sus",
    "más de estos",
];
/// Spanish and Portuguese infinitives of writing and sending, clitics attached or not.
const ES_PT_WRITING: Words = &[
    "escribir",
    "escribirme",
    "escribirnos",
    "mandar",
    "mandarme",
    "mandarnos",
    "enviar",
    "enviarme",
    "enviarnos",
    "textear",
    "textearme",
    "contactar",
    "contactarme",
    "molestar",
    "molestarme",
    "me mandar",
    "me enviar",
    "me escrever",
    "escrever",
    "me contactar",
    "contatar",
    "me contatar",
    "me incomodar",
];

const SPANISH: &[Rule] = &[
    // "no me escriban", "no me contacten más".
    &[
        One(&[ES_NO]),
        Maybe(&[ES_ME]),
        Maybe(&[&["más"]]),
        One(&[ES_WRITE]),
    ],
    // "no me manden más mensajes", "ya no me envíen nada".
    &[
        One(&[ES_NO]),
        Maybe(&[ES_ME]),
        Maybe(&[&["más"]]),
        One(&[ES_SEND]),
        Then(&[One(&[ES_MESSAGES, &["más", "nada", "ningún", "otro"]])]),
    ],
    // "ya no quiero recibir mensajes", "no deseo más mensajes".
    &[
        One(&[ES_NO]),
        One(&[ES_WANT]),
        Maybe(&[&["recibir", "que me lleguen", "tener"]]),
        Maybe(&[ES_SOME]),
        One(&[ES_MESSAGES]),
    ],
    // "no quiero que me manden mensajes".
    &[
        One(&[ES_NO]),
        One(&[ES_WANT]),
        One(&[&["que"]]),
        Maybe(&[ES_ME]),
        Maybe(&[&["sigan", "sigas", "vuelvan a"]]),
        One(&[ES_WRITE, ES_SEND]),
    ],
    // "para de escribirme", "dejen de mandarme mensajes", "parem de me mandar mensagens".
    &[
        One(&[&[
            "deja", "dejen", "deje", "dejes", "dejar", "dejad", "para", "paren", "pare", "parar",
            "parad", "parem",
        ]]),
        One(&[&["de"]]),
        Then(&[One(&[ES_PT_WRITING])]),
    ],
    // "número equivocado", "número errado"; "se equivocó de número"; "persona equivocada".
    &[
        One(&[&["número", "#", "num", "teléfono"]]),
        One(&[&[
            "equivocado",
            "equivocada",
            "incorrecto",
            "erróneo",
            "errado",
            "errada",
        ]]),
    ],
    &[
        One(&[&[
            "equivocó",
            "equivocaron",
            "equivocado",
            "equivocada",
            "equivocados",
            "equivocan",
            "equivocaste",
        ]]),
        One(&[&["de"]]),
        One(&[&["número", "persona", "teléfono"]]),
    ],
    &[One(&[&["persona"]]), One(&[&["equivocada", "incorrecta"]])],
    // "denme de baja", "quiero darme de baja".
    &[
        One(&[&[
            "dar", "darme", "denme", "deme", "dame", "doy", "den", "darnos", "dé", "dan", "darse",
            "des",
        ]]),
        One(&[&["de"]]),
        One(&[&["baja"]]),
    ],
    // "quítenme de la lista", "sáquenme de su lista".
    &[
        One(&[&[
            "quítenme",
            "quíteme",
            "quítame",
            "sáquenme",
            "sáqueme",
            "sácame",
            "bórrenme",
            "bórreme",
            "bórrame",
            "elimínenme",
            "elimíneme",
            "elimíname",
            "quiten",
            "saquen",
            "borren",
            "eliminen",
            "quitar",
            "sacar",
            "borrar",
            "eliminar",
        ]]),
        Maybe(&[ES_ME]),
        One(&[&["de"]]),
        Maybe(&[&["la", "su", "sus", "tu", "esta", "esa", "las"]]),
        One(&[&["lista", "listas", "sistema", "contactos", "mensajes"]]),
    ],
    // "borren mi número".
    &[
        One(&[&[
            "borren", "borra", "borre", "borrar", "eliminen", "elimine", "eliminar", "quiten",
            "quitar",
        ]]),
        One(&[&[
            "mi número",
            "mi teléfono",
            "mi contacto",
            "este número",
            "mi celular",
        ]]),
    ],
    // "déjenme en paz".
    &[
        One(&[&["déjenme", "déjame", "déjeme", "déjanos", "déjennos"]]),
        One(&[&["en paz", "tranquilo", "tranquila"]]),
    ],
    // "cancelar los mensajes"; not "cancelar mi cita".
    &[
        One(&[&["cancelar", "cancelen", "cancela", "cancele", "cancelo"]]),
        Maybe(&[&["los", "sus", "estos", "mis", "todos los", "las", "la", "mi"]]),
        One(&[ES_MESSAGES, &["suscripción"]]),
    ],
    // "no más", "no más mensajes"; not Mexican "no más quería saber" (just wanted to know).
    &[One(&[&["no más"]]), Then(&[One(&[ES_MESSAGES])])],
    // "para ya", "basta ya" as a clause of their own.
    &[One(&[&["para ya", "alto ya", "paren ya"]]), End],
];

const PT_MESSAGES: Words = &[
    "mensagens",
    "mensagem",
    "sms",
    "textos",
    "notificações",
    "lembretes",
];

const PORTUGUESE: &[Rule] = &[
    // "não me mandem mais mensagens".
    &[
        One(&[&["não", "nunca"]]),
        Maybe(&[&["me"]]),
        One(&[&[
            "envie",
            "enviem",
            "mande",
            "mandem",
            "manda",
            "envia",
            "escreva",
            "escrevam",
            "contate",
            "contatem",
            "contacte",
            "contactem",
            "mandar",
            "enviar",
        ]]),
        Then(&[One(&[PT_MESSAGES, &["mais", "nada"]])]),
    ],
    // "não quero mais receber mensagens".
    &[
        One(&[&["não", "nunca"]]),
        One(&[&["quero", "desejo", "queremos"]]),
        Maybe(&[&["mais"]]),
        Maybe(&[&["receber"]]),
        Maybe(&[&["mais", "essas", "suas", "as", "estas", "nenhuma", "nenhum"]]),
        One(&[PT_MESSAGES]),
    ],
    // "chega de mensagens".
    &[One(&[&["chega"]]), One(&[&["de"]]), One(&[PT_MESSAGES])],
];

// --- French ------------------------------------------------------------------------------------

const FR_MESSAGES: Words = &[
    "messages",
    "message",
    "sms",
    "textos",
    "texto",
    "messages texte",
    "notifications",
    "rappels",
];

const FRENCH: &[Rule] = &[
    // "arrête !", "arrêtez de m'envoyer des messages"; not "il a été arrêté" typed bare.
    &[
        NotAfter(&[
            "été", "était", "est", "a", "ai", "as", "suis", "sont", "es", "ont", "avez", "avons",
            "être", "s'est", "l'a", "l'ont", "m'a",
        ]),
        One(&[&["arrêt", "arrête", "arrêtez", "arrêter", "arrêtes"]]),
        Then(&[One(&[&[
            "de",
            "d'envoyer",
            "d'écrire",
            "les",
            "vos",
            "ces",
            "des",
            "tout",
            "ça",
            "maintenant",
            "sms",
            "messages",
        ]])]),
    ],
    // "ne m'envoyez plus de messages"; not "vous pouvez m'envoyer plus d'informations".
    &[
        One(&[&["ne"]]),
        Maybe(&[&["me"]]),
        One(&[&[
            "m'envoyez",
            "m'envoie",
            "m'envoies",
            "m'envoyer",
            "envoyez",
            "m'écrivez",
            "m'écris",
            "m'écrire",
            "écrivez",
            "contactez",
            "contacte",
            "textez",
            "texte",
        ]]),
        Maybe(&[&["moi", "rien", "jamais"]]),
        One(&[&["plus"]]),
    ],
    &[
        One(&[&["n'envoyez", "n'écrivez", "n'envoie", "n'écris"]]),
        One(&[&["plus"]]),
    ],
    // "ne plus m'envoyer de messages" (an infinitive, as on a form).
    &[
        One(&[&["ne plus", "plus jamais"]]),
        One(&[&[
            "m'envoyer",
            "envoyer",
            "m'écrire",
            "écrire",
            "me contacter",
            "contacter",
            "recevoir",
        ]]),
    ],
    // "je ne veux plus recevoir de SMS".
    &[
        One(&[&[
            "veux plus",
            "veut plus",
            "souhaite plus",
            "voulons plus",
            "veux pas",
            "souhaite pas",
            "voulons pas",
        ]]),
        Maybe(&[&["recevoir"]]),
        Maybe(&[&["de", "vos", "ces", "les", "des", "aucun"]]),
        One(&[FR_MESSAGES]),
    ],
    // "Plus de messages svp" as a clause's start; not "j'ai reçu plus de messages que prévu".
    &[Start, One(&[&["plus de", "pas de"]]), One(&[FR_MESSAGES])],
];

// --- Haitian Creole ------------------------------------------------------------------------------

const HT_MESSAGES: Words = &["mesaj", "tèks", "sms", "tèks mesaj"];

const HAITIAN: &[Rule] = &[
    // "sispann voye mesaj"; not "mwen sispann travay" (I stopped working).
    &[
        One(&[&["sispann"]]),
        Then(&[One(&[
            HT_MESSAGES,
            &["voye", "ekri", "kontakte", "tekste", "non", "sa"],
        ])]),
    ],
    // "pa voye m mesaj ankò".
    &[
        One(&[&["pa"]]),
        Maybe(&[&["janm", "janmen", "janmè"]]),
        One(&[&["voye", "ekri", "kontakte", "tekste"]]),
        Maybe(&[&["m", "mwen", "nou", "ban m", "ban mwen", "pou mwen"]]),
        Maybe(&[&["okenn", "lòt"]]),
        Maybe(&[HT_MESSAGES]),
        One(&[&["ankò"]]),
    ],
    // "mwen pa vle resevwa mesaj ankò".
    &[
        One(&[&["pa vle"]]),
        Maybe(&[&["resevwa", "jwenn"]]),
        Maybe(&[&["okenn", "lòt"]]),
        One(&[HT_MESSAGES]),
    ],
    // "retire m nan lis la"; not "retire m nan ka a" (the case).
    &[
        One(&[&["retire"]]),
        One(&[&["m", "mwen", "nimewo m", "nimewo mwen"]]),
        Then(&[One(&[&["nan lis", "sou lis"]])]),
    ],
];

// --- German, Italian, Polish ---------------------------------------------------------------------

const DE_MESSAGES: Words = &[
    "sms",
    "nachrichten",
    "nachricht",
    "textnachrichten",
    "mitteilungen",
    "erinnerungen",
];

const GERMAN: &[Rule] = &[
    // "keine SMS mehr"; not "ich habe keine Nachricht bekommen".
    &[
        One(&[&["keine"]]),
        Maybe(&[&["weiteren", "weitere"]]),
        One(&[DE_MESSAGES]),
        Then(&[One(&[&["mehr"]])]),
    ],
    // "schreiben Sie mir nicht mehr".
    &[
        One(&[&[
            "schreiben",
            "schreib",
            "schicken",
            "schick",
            "senden",
            "kontaktieren",
            "simsen",
            "texten",
        ]]),
        Maybe(&[&["sie", "du", "ihr"]]),
        Maybe(&[&["mir", "mich", "uns"]]),
        Maybe(&[&["keine sms", "keine nachrichten"]]),
        One(&[&["nicht mehr", "nie mehr", "nie wieder"]]),
    ],
    // "bitte nicht mehr schreiben".
    &[
        One(&[&["nicht mehr", "nie mehr", "nie wieder"]]),
        One(&[&[
            "schreiben",
            "anschreiben",
            "kontaktieren",
            "schicken",
            "senden",
            "simsen",
            "texten",
        ]]),
    ],
    // "hören Sie auf, mir zu schreiben"; not "hören Sie auf den Anwalt" (listen to).
    &[
        One(&[&["hör", "hören", "hört", "hoer", "hoeren"]]),
        Maybe(&[&["sie", "ihr"]]),
        One(&[&["auf"]]),
        Then(&[One(&[&["mir", "mich", "zu", "damit", "mit"]])]),
    ],
];

const IT_MESSAGES: Words = &["messaggi", "messaggio", "sms", "notifiche", "promemoria"];

const ITALIAN: &[Rule] = &[
    // "non scrivetemi più".
    &[
        One(&[&["non"]]),
        Maybe(&[&["mi", "ci"]]),
        One(&[&[
            "scrivete",
            "scrivetemi",
            "scrivermi",
            "scrivere",
            "mandate",
            "mandatemi",
            "inviate",
            "inviatemi",
            "contattate",
            "contattatemi",
            "contattarmi",
            "mandare",
            "inviare",
            "scrivi",
            "scrivimi",
            "mandarmi",
            "inviarmi",
        ]]),
        Maybe(&[&["mai"]]),
        One(&[&["più"]]),
    ],
    // "non voglio più ricevere messaggi".
    &[
        One(&[&["non"]]),
        One(&[&["voglio", "desidero", "vogliamo"]]),
        Maybe(&[&["più"]]),
        Maybe(&[&["ricevere"]]),
        Maybe(&[&["più", "altri", "questi", "i", "vostri"]]),
        One(&[IT_MESSAGES]),
    ],
    // "smettete di scrivermi".
    &[
        One(&[&["smettete di", "smetti di", "smettere di"]]),
        Then(&[One(&[&[
            "scrivermi",
            "scrivere",
            "mandare",
            "mandarmi",
            "inviare",
            "inviarmi",
            "contattarmi",
            "disturbarmi",
        ]])]),
    ],
];

const PL_MESSAGES: Words = &[
    "wiadomości",
    "smsów",
    "sms",
    "smsy",
    "esemesów",
    "powiadomień",
];

const POLISH: &[Rule] = &[
    // "nie piszcie do mnie więcej"; not "nie piszcie do niego".
    &[
        One(&[&["nie"]]),
        One(&[&[
            "piszcie",
            "pisz",
            "pisać",
            "wysyłajcie",
            "wysyłaj",
            "wysyłać",
            "kontaktujcie",
            "kontaktuj",
            "przysyłajcie",
            "przysyłaj",
        ]]),
        Then(&[One(&[
            PL_MESSAGES,
            &["do mnie", "mi", "więcej", "już", "na ten numer"],
        ])]),
    ],
    // "nie chcę więcej wiadomości".
    &[
        One(&[&["nie"]]),
        One(&[&["chcę"]]),
        Maybe(&[&["więcej", "już"]]),
        Maybe(&[&["otrzymywać", "dostawać"]]),
        Maybe(&[&["więcej", "tych", "żadnych"]]),
        One(&[PL_MESSAGES]),
    ],
    // "proszę przestać pisać".
    &[
        One(&[&["przestańcie", "przestań", "przestać"]]),
        Then(&[One(&[&["pisać", "wysyłać", "do mnie", "mi", "mnie"]])]),
    ],
];

// --- Russian -------------------------------------------------------------------------------------

const RU_MESSAGES: Words = &[
    "сообщения",
    "сообщений",
    "смс",
    "sms",
    "эсэмэски",
    "рассылку",
    "уведомления",
    "напоминания",
];

const RUSSIAN: &[Rule] = &[
    // "не пишите мне больше", "больше не присылайте сообщения".
    &[
        One(&[&["не"]]),
        One(&[&[
            "пишите",
            "пиши",
            "присылайте",
            "присылай",
            "отправляйте",
            "отправляй",
            "беспокойте",
            "беспокой",
            "шлите",
            "шли",
        ]]),
        Then(&[One(&[
            RU_MESSAGES,
            &["мне", "больше", "сюда", "на этот номер", "меня"],
        ])]),
    ],
    // "я не хочу получать сообщения".
    &[
        One(&[&["не хочу", "не желаю", "не хотим"]]),
        Maybe(&[&["больше"]]),
        Maybe(&[&["получать"]]),
        Maybe(&[&["больше", "ваши", "эти", "никаких", "ваших"]]),
        One(&[RU_MESSAGES]),
    ],
    // "хватит мне писать".
    &[
        One(&[&[
            "хватит",
            "прекратите",
            "прекрати",
            "перестаньте",
            "перестань",
        ]]),
        Maybe(&[&["мне", "меня"]]),
        One(&[&["писать", "присылать", "слать", "отправлять", "беспокоить"]]),
    ],
];

// --- Tagalog, Vietnamese -------------------------------------------------------------------------

/// Particles between "huwag" and the verb: "huwag niyo na akong i-text", "wag nyo na po ako".
const TL_PARTICLE: Words = &[
    "na", "mo", "niyo", "nyo", "nio", "ninyo", "kayo", "kayong", "akong", "ako", "po", "nang", "ng",
];
const TL_MESSAGES: Words = &[
    "text", "texts", "txt", "mensahe", "message", "messages", "sms",
];

const TAGALOG: &[Rule] = &[
    // "huwag niyo na akong i-text", "wag na kayong mag text".
    &[
        One(&[&["huwag", "wag"]]),
        Maybe(&[TL_PARTICLE]),
        Maybe(&[TL_PARTICLE]),
        Maybe(&[TL_PARTICLE]),
        Maybe(&[TL_PARTICLE]),
        One(&[&[
            "i text",
            "itext",
            "mag text",
            "magtext",
            "text",
            "txt",
            "mag txt",
            "mensahe",
            "magmensahe",
            "padalhan",
            "magpadala",
            "message",
            "i message",
            "mag message",
        ]]),
    ],
    // "ayoko na ng text".
    &[
        One(&[&["ayoko", "ayaw ko", "ayaw namin"]]),
        Maybe(&[&["na", "nang"]]),
        Maybe(&[&["ng", "nang", "sa", "po ng", "po"]]),
        Maybe(&[&["mga"]]),
        One(&[TL_MESSAGES]),
    ],
    // "maling number po".
    &[
        One(&[&["maling"]]),
        Maybe(&[&["po"]]),
        One(&[&["number", "numero", "tao"]]),
    ],
];

const VI_MESSAGES: Words = &["tin nhắn", "tin", "sms", "nhắn tin"];

const VIETNAMESE: &[Rule] = &[
    // "đừng nhắn tin nữa", "ngừng gửi tin nhắn", "dung nhan tin" typed bare; not "dừng lại ở
    // đèn đỏ" (stopped at the red light).
    &[
        One(&[&["dừng", "đừng", "ngừng", "ngưng", "thôi"]]),
        One(&[&[
            "nhắn",
            "nhắn tin",
            "gửi",
            "gởi",
            "liên lạc",
            "liên hệ",
            "làm phiền",
            "text",
        ]]),
    ],
    // "tôi không muốn nhận tin nhắn nữa"; not "tôi không nhận được tin nhắn" (didn't get it).
    &[
        One(&[&["không", "ko", "hông", "chẳng"]]),
        One(&[&["muốn"]]),
        Maybe(&[&["nhận", "nhận được"]]),
        Maybe(&[&["thêm"]]),
        One(&[VI_MESSAGES]),
    ],
];

// --- Arabic, Chinese -----------------------------------------------------------------------------

const AR_MESSAGES: Words = &["رسائل", "الرسائل", "رسايل", "مسجات", "رسالة"];

const ARABIC: &[Rule] = &[
    // "لا ترسل لي رسائل" (don't send me messages).
    &[
        One(&[&["لا"]]),
        One(&[&[
            "ترسل",
            "ترسلوا",
            "ترسلي",
            "ترسلو",
            "تبعث",
            "تبعثوا",
            "تراسلني",
            "تراسلوني",
            "تراسلنا",
        ]]),
        Then(&[One(&[
            AR_MESSAGES,
            &["لي", "مرة", "أبدا", "بعد", "مجددا", "ثانية"],
        ])]),
    ],
    // "لا أريد استلام رسائل" (I don't want to receive messages).
    &[
        One(&[&["لا أريد", "ما أريد", "لا نريد"]]),
        Maybe(&[&["استلام", "تلقي", "استقبال"]]),
        Maybe(&[&["المزيد من", "أي", "هذه"]]),
        One(&[AR_MESSAGES]),
    ],
    // "أوقفوا الرسائل" (stop the messages), "كفى رسائل" (enough messages).
    &[
        One(&[&["أوقف", "أوقفوا", "توقف عن", "توقفوا عن", "كفى", "كفاية"]]),
        Maybe(&[&["إرسال"]]),
        One(&[AR_MESSAGES]),
    ],
];

const CHINESE: &[Rule] = &[
    // "不想再收到这些短信" (don't want to receive these texts again); not "不想再收到罚单" (a
    // ticket).
    &[
        One(&[&["不想再收到", "不想收到", "不要再收到"]]),
        Maybe(&[&["这些", "這些", "你们的", "你們的", "任何"]]),
        One(&[&["短信", "信息", "訊息", "簡訊", "消息", "讯息", "短訊"]]),
    ],
];

/// Every language's grammar.
pub(super) const RULES: &[&[Rule]] = &[
    ENGLISH, SPANISH, PORTUGUESE, FRENCH, HAITIAN, GERMAN, ITALIAN, POLISH, RUSSIAN, TAGALOG,
    VIETNAMESE, ARABIC, CHINESE,
];
