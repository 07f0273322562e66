//! The grammar of Tagalog, Vietnamese, Arabic and Chinese revocations.

use super::super::grammar::{Rule, Slot::*, Words};

// --- Tagalog, Vietnamese -------------------------------------------------------------------------

/// Particles between "huwag" and the verb: "huwag niyo na akong i-text", "wag nyo na po ako".
pub(super) const TL_PARTICLE: Words = &[
    "na", "mo", "niyo", "nyo", "nio", "ninyo", "kayo", "kayong", "akong", "ako", "po", "nang", "ng",
];
pub(super) const TL_MESSAGES: Words = &[
    "text", "texts", "txt", "mensahe", "message", "messages", "sms",
];

pub(super) const TAGALOG: &[Rule] = &[
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

pub(super) const VI_MESSAGES: Words = &["tin nhắn", "tin", "sms", "nhắn tin"];

pub(super) const VIETNAMESE: &[Rule] = &[
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

pub(super) const AR_MESSAGES: Words = &["رسائل", "الرسائل", "رسايل", "مسجات", "رسالة"];

pub(super) const ARABIC: &[Rule] = &[
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

pub(super) const CHINESE: &[Rule] = &[
    // "不想再收到这些短信" (don't want to receive these texts again); not "不想再收到罚单" (a
    // ticket).
    &[
        One(&[&["不想再收到", "不想收到", "不要再收到"]]),
        Maybe(&[&["这些", "這些", "你们的", "你們的", "任何"]]),
        One(&[&["短信", "信息", "訊息", "簡訊", "消息", "讯息", "短訊"]]),
    ],
];
