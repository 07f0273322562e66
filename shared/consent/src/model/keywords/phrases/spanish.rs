//! The grammar of Spanish revocations, and of Portuguese where the two share words.

use super::super::grammar::{Rule, Slot::*, Words};

// --- Spanish (and Portuguese where they share words) -----------------------------------------

pub(super) const ES_NO: Words = &["no", "nunca", "jamás"];
pub(super) const ES_ME: Words = &["me", "nos"];
/// Verbs that ask not to write, with no object needed ("no me escriban").
pub(super) const ES_WRITE: Words = &[
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
pub(super) const ES_SEND: Words = &[
    "envíes", "envíen", "envíe", "mandes", "manden", "mande", "enviar", "mandar",
];
pub(super) const ES_MESSAGES: Words = &[
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
pub(super) const ES_WANT: Words = &["quiero", "deseo", "quisiera", "necesito", "queremos"];
pub(super) const ES_SOME: Words = &[
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
pub(super) const ES_PT_WRITING: Words = &[
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

pub(super) const SPANISH: &[Rule] = &[
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

pub(super) const PT_MESSAGES: Words = &[
    "mensagens",
    "mensagem",
    "sms",
    "textos",
    "notificações",
    "lembretes",
];

pub(super) const PORTUGUESE: &[Rule] = &[
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
