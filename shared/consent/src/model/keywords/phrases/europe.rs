//! The grammar of French, Haitian Creole, German, Italian, Polish and Russian revocations.

use super::super::grammar::{Rule, Slot::*, Words};

// --- French ------------------------------------------------------------------------------------

pub(super) const FR_MESSAGES: Words = &[
    "messages",
    "message",
    "sms",
    "textos",
    "texto",
    "messages texte",
    "notifications",
    "rappels",
];

pub(super) const FRENCH: &[Rule] = &[
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

pub(super) const HT_MESSAGES: Words = &["mesaj", "tèks", "sms", "tèks mesaj"];

pub(super) const HAITIAN: &[Rule] = &[
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

pub(super) const DE_MESSAGES: Words = &[
    "sms",
    "nachrichten",
    "nachricht",
    "textnachrichten",
    "mitteilungen",
    "erinnerungen",
];

pub(super) const GERMAN: &[Rule] = &[
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

pub(super) const IT_MESSAGES: Words = &["messaggi", "messaggio", "sms", "notifiche", "promemoria"];

pub(super) const ITALIAN: &[Rule] = &[
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

pub(super) const PL_MESSAGES: Words = &[
    "wiadomości",
    "smsów",
    "sms",
    "smsy",
    "esemesów",
    "powiadomień",
];

pub(super) const POLISH: &[Rule] = &[
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

pub(super) const RU_MESSAGES: Words = &[
    "сообщения",
    "сообщений",
    "смс",
    "sms",
    "эсэмэски",
    "рассылку",
    "уведомления",
    "напоминания",
];

pub(super) const RUSSIAN: &[Rule] = &[
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
