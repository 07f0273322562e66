//! The keywords of each language: whole-message keywords, words that revoke wherever they stand,
//! fixed revocation phrases, help and opt-in words, and courtesy words.
//!
//! The languages are English and Spanish and the other languages most spoken in the US: Chinese
//! (simplified and traditional), Tagalog, Vietnamese, Arabic, French, Korean, Russian, Haitian
//! Creole, Portuguese, German, Italian, Polish, Japanese and Hindi. Entries are written in their
//! proper spelling: a reply typed without accents still matches (see `grammar`). Phrases built
//! from interchangeable parts ("don't" + "text" + "me") are the grammar's, in `phrases`.

use super::grammar::Words;

/// The keywords of one language.
pub(super) struct Language {
    /// Revoke as the whole message (with courtesy words around), reported upper-cased.
    pub opt_out_alone: Words,
    /// Revoke wherever they stand, reported upper-cased: nobody writes them for another reason.
    pub opt_out_anywhere: Words,
    /// Fixed revocation phrases, wherever they stand, reported as typed.
    pub revocations: Words,
    /// Opt in, as the whole message only: consent must be unambiguous.
    pub opt_in_alone: Words,
    /// Ask for help, as the whole message only: "help me" may be a plea for legal help.
    pub help_alone: Words,
    /// Courtesy words: around a whole-message keyword they add nothing ("yes please").
    pub courtesy: Words,
}

/// Every language read, English first.
pub(super) const LANGUAGES: &[Language] = &[
    ENGLISH, SPANISH, CHINESE, TAGALOG, VIETNAMESE, ARABIC, FRENCH, KOREAN, RUSSIAN, HAITIAN,
    PORTUGUESE, GERMAN, ITALIAN, POLISH, JAPANESE, HINDI,
];

const NONE: Words = &[];

/// The languages the service also writes in, with their keywords: a keyword alone tells which
/// of them a contact with no record wrote in.
pub(super) const WRITTEN: [(crate::model::language::Language, &Language); 2] = [
    (crate::model::language::Language::En, &ENGLISH),
    (crate::model::language::Language::Es, &SPANISH),
];

/// The carriers' (CTIA) keywords, the FCC's examples, and what people type instead. Alone they
/// revoke; inside a sentence "cancel", "end", "quit", "remove" and "TD" usually mean something
/// else ("cancel my appointment"), so there the grammar decides.
const ENGLISH: Language = Language {
    opt_out_alone: &[
        "stop",
        "stopall",
        "unsubscribe",
        "cancel",
        "end",
        "quit",
        "revoke",
        "optout",
        "opt out", // also "OPT-OUT": the hyphen only separates words
        "remove",
        "td", // a Chinese carrier's unsubscribe code, on the carriers' list
        "stp",
        "s t o p",
    ],
    // "stop" anywhere is the grammar's (`phrases::ANYWHERE`).
    opt_out_anywhere: &[
        "stopall",
        "unsubscribe",
        "optout",
        "unsub",
        "unsuscribe",
        "unsubcribe",
        "unsubscibe",
        "unsubsribe",
        "unsusbcribe",
    ],
    revocations: &[
        "not my number",
        "not my #",
        "not my phone number",
        "isn't my number",
        "leave me alone",
        "leave us alone",
        "quit it",
        "cease and desist",
        "lose my number",
        "lose this number",
        "forget my number",
    ],
    opt_in_alone: &["yes", "y", "start", "unstop", "subscribe"],
    help_alone: &["help", "info"],
    courtesy: &[
        "please",
        "pls",
        "plz",
        "thanks",
        "thank you",
        "thank u",
        "thx",
        "ty",
        "ok",
        "okay",
    ],
};

const SPANISH: Language = Language {
    // "para" and "cancelar" are the words a Spanish speaker sends alone; "alto" (as on the stop
    // sign) and "baja" (as in "darse de baja") too, while inside a sentence they mean "high"
    // and "low".
    opt_out_alone: &["para", "cancelar", "alto", "baja", "parar", "detener"],
    opt_out_anywhere: &[
        "desuscribir",
        "desuscribirme",
        "desuscríbanme",
        "desuscríbeme",
        "desinscribirme",
    ],
    revocations: &["basta"],
    opt_in_alone: &["sí"],
    help_alone: &["ayuda"],
    courtesy: &["por favor", "porfa", "gracias"],
};

/// Written without spaces: entries are found inside a longer message (see `reading`).
const CHINESE: Language = Language {
    opt_out_alone: &["停止", "退订", "退訂", "取消", "退出"],
    opt_out_anywhere: &["退订", "退訂", "取消订阅", "取消訂閱"],
    revocations: &[
        "停止发送",
        "停止發送",
        "停止短信",
        "停止簡訊",
        "停止信息",
        "停止訊息",
        "停止发短信",
        "不要再发",
        "不要再發",
        "不要再傳",
        "不要再给我发",
        "不要再給我發",
        "不要再給我傳",
        "不要给我发",
        "不要給我發",
        "别再发",
        "別再發",
        "别再给我发",
        "別再給我發",
        "别发了",
        "別發了",
        "不要再联系我",
        "不要再聯繫我",
        "不要再聯絡我",
        "不要联系我",
        "不要聯繫我",
        "别联系我",
        "別聯繫我",
        "别再联系我",
        "別再聯繫我",
        "不要再打扰",
        "不要再打擾",
        "别打扰我",
        "別打擾我",
        "发错人",
        "發錯人",
        "发错号",
        "發錯號",
        "号码错了",
        "號碼錯了",
        "错号",
        "錯號",
    ],
    opt_in_alone: NONE,
    help_alone: &["帮助", "幫助"],
    courtesy: &["请", "請", "谢谢", "謝謝"],
};

const TAGALOG: Language = Language {
    // "tigil" alone; inside a sentence ("walang tigil", without stopping) only its commands.
    opt_out_alone: &["tigil", "itigil", "tigilan", "pakitigil", "hinto", "ihinto"],
    opt_out_anywhere: &["itigil", "tigilan", "pakitigil", "ihinto"],
    revocations: NONE,
    opt_in_alone: NONE,
    help_alone: &["tulong"],
    courtesy: &["po", "salamat"],
};

/// Written with or without its tone marks: entries are matched both ways, except where the bare
/// spelling is another word ("dung" is both "dừng", stop, and "đúng", right).
const VIETNAMESE: Language = Language {
    opt_out_alone: &["=dừng", "dừng lại", "ngừng", "ngưng", "=hủy", "=huỷ"],
    opt_out_anywhere: &["hủy đăng ký", "huỷ đăng ký"],
    revocations: &["nhầm số", "sai số", "gửi nhầm", "nhầm người"],
    opt_in_alone: NONE,
    help_alone: &["trợ giúp", "giúp đỡ"],
    courtesy: &["xin", "làm ơn", "cảm ơn"],
};

const ARABIC: Language = Language {
    opt_out_alone: &["توقف", "قف", "إلغاء", "أوقف", "كفى", "كفاية"],
    opt_out_anywhere: &["إلغاء الاشتراك", "إلغاء اشتراك"],
    revocations: &[
        "رقم خطأ",
        "رقم خاطئ",
        "رقم غلط",
        "الرقم غلط",
        "الرقم خطأ",
        "الرقم خاطئ",
    ],
    opt_in_alone: NONE,
    help_alone: &["مساعدة"],
    courtesy: &["من فضلك", "شكرا"],
};

const FRENCH: Language = Language {
    opt_out_alone: &["arrêt", "annuler"],
    opt_out_anywhere: &[
        "désabonner",
        "désabonnez",
        "désabonne",
        "désabonnement",
        "désinscrire",
        "désinscrivez",
        "désinscription",
    ],
    revocations: &[
        "mauvais numéro",
        "faux numéro",
        "mauvaise personne",
        "erreur de numéro",
        "laissez moi tranquille",
        "laisse moi tranquille",
        "laissez moi en paix",
        "fichez moi la paix",
    ],
    opt_in_alone: NONE,
    help_alone: &["aide"],
    // Not "stp" (s'il te plaît): in English it is STOP.
    courtesy: &["merci", "svp", "s'il vous plaît", "s'il te plaît"],
};

/// Written without spaces inside words as people type them ("중지해주세요"): read per syllable.
const KOREAN: Language = Language {
    opt_out_alone: &["중지", "그만", "취소", "거부", "해지", "정지"],
    opt_out_anywhere: &["수신거부", "수신중지", "수신차단"],
    revocations: &[
        "그만 보내",
        "그만 연락",
        "그만해",
        "그만하세요",
        "그만 받",
        "문자 그만",
        "보내지 마",
        "연락하지 마",
        "중지해",
        "중지하",
        "중지 부탁",
        "잘못된 번호",
        "번호 잘못 아셨",
        "잘못 보내셨",
        "잘못 보내신",
    ],
    opt_in_alone: NONE,
    help_alone: &["도움말", "도움"],
    courtesy: &["주세요", "감사합니다"],
};

const RUSSIAN: Language = Language {
    opt_out_alone: &[
        "стоп",
        "хватит",
        "отмена",
        "прекратите",
        "прекрати",
        "отписаться",
    ],
    opt_out_anywhere: &[
        "стоп",
        "отписаться",
        "отпишите",
        "отпишись",
        "отписка",
        "отписываюсь",
    ],
    revocations: &[
        "неправильный номер",
        "не тот номер",
        "ошиблись номером",
        "ошибся номером",
        "ошиблась номером",
        "удалите мой номер",
        "удалите меня",
        "оставьте меня в покое",
    ],
    opt_in_alone: NONE,
    help_alone: &["помощь"],
    courtesy: &["пожалуйста", "спасибо"],
};

const HAITIAN: Language = Language {
    opt_out_alone: &["sispann", "kanpe", "anile"],
    opt_out_anywhere: NONE,
    revocations: &[
        "move nimewo",
        "pa bon nimewo",
        "kite m anpè",
        "kite mwen anpè",
        "kite m trankil",
    ],
    opt_in_alone: NONE,
    help_alone: NONE,
    courtesy: &["souple", "mèsi"],
};

const PORTUGUESE: Language = Language {
    opt_out_alone: &["pare", "parar", "parem", "sair", "chega", "cancelar"],
    opt_out_anywhere: &[
        "descadastrar",
        "descadastre",
        "descadastrem",
        "cancelar inscrição",
        "cancelar assinatura",
    ],
    revocations: &[
        "me tire da lista",
        "me tirem da lista",
        "remova meu número",
        "removam meu número",
        "apague meu número",
        "me deixe em paz",
        "me deixem em paz",
    ],
    opt_in_alone: NONE,
    help_alone: &["ajuda"],
    courtesy: &["obrigado", "obrigada"],
};

const GERMAN: Language = Language {
    opt_out_alone: &["stopp", "aufhören", "abmelden"],
    opt_out_anywhere: &["stopp", "abmelden", "abbestellen", "abmeldung"],
    revocations: &[
        "falsche nummer",
        "falsche person",
        "lassen sie mich in ruhe",
        "lass mich in ruhe",
    ],
    opt_in_alone: NONE,
    help_alone: &["hilfe"],
    courtesy: &["bitte", "danke"],
};

const ITALIAN: Language = Language {
    opt_out_alone: NONE,
    opt_out_anywhere: &[
        "disiscrivimi",
        "disiscrivetemi",
        "cancellami",
        "cancellatemi",
        "smettetela",
        "smettila",
    ],
    revocations: &[
        "numero sbagliato",
        "persona sbagliata",
        "lasciatemi in pace",
        "lasciami in pace",
    ],
    opt_in_alone: NONE,
    help_alone: &["aiuto"],
    courtesy: &["grazie", "per favore"],
};

const POLISH: Language = Language {
    opt_out_alone: &["koniec", "pomyłka"],
    opt_out_anywhere: &["wypisz", "wypiszcie", "rezygnuję"],
    revocations: &["zły numer", "dajcie mi spokój", "daj mi spokój"],
    opt_in_alone: NONE,
    help_alone: &["pomoc"],
    courtesy: &["proszę", "dziękuję"],
};

/// Written without spaces: entries are found inside a longer message (see `reading`).
const JAPANESE: Language = Language {
    opt_out_alone: &["停止", "解除", "中止", "やめて"],
    opt_out_anywhere: &["配信停止", "配信解除", "登録解除", "受信拒否"],
    revocations: &[
        "送らないで",
        "送信しないで",
        "連絡しないで",
        "メッセージ不要",
        "メール不要",
        "番号違い",
        "番号間違い",
        "宛先間違い",
    ],
    opt_in_alone: NONE,
    help_alone: &["ヘルプ"],
    courtesy: &["ください", "下さい", "お願いします"],
};

/// Devanagari, and Hindi as often typed in Latin letters.
const HINDI: Language = Language {
    opt_out_alone: &["बंद", "रोको", "रोकें"],
    opt_out_anywhere: NONE,
    revocations: &[
        "बंद करो",
        "बंद करें",
        "बंद कीजिए",
        "बंद कर दो",
        "बंद कर दीजिए",
        "मत भेजो",
        "मत भेजें",
        "मत भेजिए",
        "मत भेजना",
        "गलत नंबर",
        "band karo",
        "band kar do",
        "band kijiye",
        "mat bhejo",
        "mat bhejiye",
        "mat bhejna",
        "galat number",
    ],
    opt_in_alone: NONE,
    help_alone: &["मदद"],
    courtesy: &["कृपया", "धन्यवाद"],
};
