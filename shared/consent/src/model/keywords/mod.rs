//! Inbound keyword rules: how a reply is read (opt-in, opt-out, help, other).
//!
//! Liberal opt-out, strict opt-in (docs/architecture.md §5.2): the FCC counts any reasonable way of
//! saying no as a revocation, while consent must be unambiguous. So opt-out is checked first and
//! looks anywhere in the message; opt-in and help must be the whole message.
//!
//! A reply is read as words (`reading`), against each language's keywords (`lexicon`) and a
//! small grammar of plain-language revocations (`grammar`, `phrases`). An opt-out is found, in
//! this order, as a keyword that is the whole message ("STOP", "BAJA"), a word that revokes
//! wherever it stands ("unsubscribe", "退订"), or a phrase ("don't text me", "no más mensajes").

mod grammar;
mod lexicon;
mod phrases;
mod reading;

use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use crate::model::language::Language;
use grammar::{Grammar, Margins, Phrase, Slot};
use lexicon::{LANGUAGES, WRITTEN};
#[cfg(test)]
use reading::WINDOW_CHARS;
use reading::{Reading, Word, spell};

/// A question is not an answer: "Yes?" or "Y?" (why?) is not unambiguous consent.
const QUESTION_MARKS: &[char] = &['?', '¿', '？', '؟'];

/// The most words a whole-message keyword has once courtesy words are set aside ("opt out",
/// "dừng lại", "停止" read per character): a longer message is no keyword.
const MAX_KEYWORD_WORDS: usize = 8;

/// How an inbound text is read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Classification {
    /// An unambiguous opt-in word (YES, START, ...).
    OptIn {
        /// The word, upper-cased.
        word: String,
    },
    /// A revocation: a keyword or any reasonable plain-language way of saying no.
    OptOut {
        /// The keyword (upper-cased) or the phrase (as typed, lower-cased) that matched.
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
    let lexicon = &*LEXICON;
    let reading = Reading::new(text);
    if let Some(matched) = lexicon.opt_out(&reading) {
        return Classification::OptOut { matched };
    }
    // Consent and help need the whole message: if part of it went unread, a person reads it.
    let Some(keyword) = reading
        .whole()
        .and_then(|words| lexicon.keyword_words(words))
    else {
        return Classification::Other;
    };
    if !text.contains(QUESTION_MARKS)
        && let Some(word) = sole(&keyword, &lexicon.opt_in_alone)
    {
        return Classification::OptIn { word };
    }
    if let Some(word) = sole(&keyword, &lexicon.help_alone) {
        return Classification::Help { word };
    }
    Classification::Other
}

/// The language, of those the service writes in, of a reply that is one keyword alone (HELP,
/// AYUDA, SI, ALTO, with courtesy words around): a HELP from a number with no record is answered
/// in it. `None` for anything else, or a keyword of another language.
pub fn keyword_language(text: &str) -> Option<Language> {
    let lexicon = &*LEXICON;
    let reading = Reading::new(text);
    let keyword = lexicon.keyword_words(reading.whole()?)?;
    lexicon
        .written
        .iter()
        .find(|(_, keywords)| sole(&keyword, keywords).is_some())
        .map(|(language, _)| *language)
}

/// Every language's keywords and grammar, read once.
static LEXICON: LazyLock<Lexicon> = LazyLock::new(Lexicon::new);

struct Lexicon {
    opt_out_alone: Vec<Phrase>,
    opt_in_alone: Vec<Phrase>,
    help_alone: Vec<Phrase>,
    courtesy: Vec<Phrase>,
    /// Words that revoke wherever they stand.
    anywhere: Grammar,
    /// Fixed revocation phrases and the grammar of revocations.
    phrases: Grammar,
    /// The whole-message keywords of each language the service writes in.
    written: Vec<(Language, Vec<Phrase>)>,
}

impl Lexicon {
    fn new() -> Self {
        let all = |list: fn(&'static lexicon::Language) -> grammar::Words| {
            let lists: Vec<grammar::Words> = LANGUAGES.iter().map(list).collect();
            Phrase::read_all(&lists)
        };
        let anywhere: Vec<[Slot; 1]> = LANGUAGES
            .iter()
            .map(|l| [Slot::One(std::slice::from_ref(&l.opt_out_anywhere))])
            .collect();
        let fixed: Vec<[Slot; 1]> = LANGUAGES
            .iter()
            .map(|l| [Slot::One(std::slice::from_ref(&l.revocations))])
            .collect();
        let grammar: Vec<&[Slot]> = fixed
            .iter()
            .map(|r| r.as_slice())
            .chain(
                phrases::RULES
                    .iter()
                    .flat_map(|rules| rules.iter().copied()),
            )
            .collect();
        let anywhere: Vec<&[Slot]> = anywhere
            .iter()
            .map(|r| r.as_slice())
            .chain(phrases::ANYWHERE.iter().copied())
            .collect();
        Self {
            opt_out_alone: all(|l| l.opt_out_alone),
            opt_in_alone: all(|l| l.opt_in_alone),
            help_alone: all(|l| l.help_alone),
            courtesy: all(|l| l.courtesy),
            anywhere: Grammar::new(&anywhere, Self::margins()),
            phrases: Grammar::new(&grammar, Self::margins()),
            written: WRITTEN
                .iter()
                .map(|(language, words)| {
                    let lists = [words.opt_out_alone, words.opt_in_alone, words.help_alone];
                    (*language, Phrase::read_all(&lists))
                })
                .collect(),
        }
    }

    fn margins() -> Margins {
        let closers: Vec<grammar::Words> = LANGUAGES
            .iter()
            .map(|l| l.courtesy)
            .chain([phrases::CLOSERS])
            .collect();
        Margins {
            openers: Phrase::read_all(&[phrases::OPENERS]),
            closers: Phrase::read_all(&closers),
        }
    }

    /// The revocation in a message, if any: a keyword upper-cased, or a phrase as typed.
    fn opt_out(&self, reading: &Reading) -> Option<String> {
        if let Some(words) = reading.whole()
            && let Some(keyword) = self
                .keyword_words(words)
                .and_then(|k| sole(&k, &self.opt_out_alone))
        {
            return Some(keyword);
        }
        if let Some(found) = reading.parts.iter().find_map(|p| self.anywhere.find(p)) {
            return Some(spell(found).to_uppercase());
        }
        reading
            .parts
            .iter()
            .find_map(|p| self.phrases.find(p))
            .map(spell)
    }

    /// The words a whole-message keyword would be made of: the message without its courtesy
    /// words and signs, or `None` when too many are left for any keyword.
    fn keyword_words<'w>(&self, words: &'w [Word]) -> Option<Vec<&'w Word>> {
        let mut rest = Vec::new();
        let mut at = 0;
        while let Some(word) = words.get(at) {
            if word.sign {
                at += 1;
            } else if let Some(end) = self.courtesy.iter().find_map(|p| p.end_at(words, at)) {
                at = end;
            } else {
                rest.push(word);
                if rest.len() > MAX_KEYWORD_WORDS {
                    return None;
                }
                at += 1;
            }
        }
        Some(rest)
    }
}

/// The keyword these words are, upper-cased as typed.
fn sole(words: &[&Word], keywords: &[Phrase]) -> Option<String> {
    keywords
        .iter()
        .any(|k| k.is(words.iter().copied()))
        .then(|| spell(words.iter().copied()).to_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn opt_in(word: &str) -> Classification {
        Classification::OptIn {
            word: word.to_owned(),
        }
    }

    fn opt_out(matched: &str) -> Classification {
        Classification::OptOut {
            matched: matched.to_owned(),
        }
    }

    fn help(word: &str) -> Classification {
        Classification::Help {
            word: word.to_owned(),
        }
    }

    const OTHER: Classification = Classification::Other;

    fn cases() -> Vec<(&'static str, Classification)> {
        vec![
            // Replies that must not change consent.
            ("Who is this?", OTHER),
            ("Yes I'll call you tomorrow", OTHER),
            ("ok", OTHER),
            ("sure", OTHER),
            ("yeah", OTHER),
            ("Yep", OTHER),
            ("what?", OTHER),
            ("call me", OTHER),
            ("Yes, what time is the hearing?", OTHER),
            ("Is this about my case?", OTHER),
            // "stopped" is not the word "stop": the message does not begin with STOP.
            ("stopped by your office yesterday", OTHER),
            ("Thanks", OTHER),
            ("thank you!", OTHER),
            ("ok thanks", OTHER),
            ("👍", OTHER),
            ("", OTHER),
            ("   ", OTHER),
            ("...", OTHER),
            // A bare "no" usually answers the firm's question, not the texts: a person reads it.
            ("No", OTHER),
            ("Sounds good, see you then", OTHER),
            ("Can I come in Tuesday?", OTHER),
            // Whole-message-only keywords inside a sentence mean something else.
            ("I need to cancel my appointment", OTHER),
            ("The lease is at an end", OTHER),
            ("I quit my job last week", OTHER),
            ("Remove the old address from my file", OTHER),
            ("TD Bank sent me a letter", OTHER),
            ("What info do you need?", OTHER),
            ("Starting tomorrow I'm available", OTHER),
            ("unstoppable", OTHER),
            ("nonstop calls from the insurer", OTHER),
            // Opt-in is strict.
            ("yes, I consent", OTHER),
            ("yes yes", OTHER),
            ("Yes sir", OTHER),
            ("Yes?", OTHER),
            ("Y?", OTHER),
            // Help is the whole message only: "help me" may be a plea for legal help.
            ("HELP ME", OTHER),
            ("help me with my case", OTHER),
            // Opt-in.
            ("YES", opt_in("YES")),
            ("yes", opt_in("YES")),
            ("yES", opt_in("YES")),
            ("Yes!", opt_in("YES")),
            ("YES!!!", opt_in("YES")),
            ("Yes.", opt_in("YES")),
            ("  yes  ", opt_in("YES")),
            ("\"Yes\"", opt_in("YES")),
            ("yes please", opt_in("YES")),
            ("YES thanks", opt_in("YES")),
            ("yes, thank you", opt_in("YES")),
            ("Yes thank u", opt_in("YES")),
            ("Yes pls", opt_in("YES")),
            ("ok yes", opt_in("YES")),
            ("Yes – thanks", opt_in("YES")),
            ("Yes 👍", opt_in("YES")),
            ("👍 yes 👍", opt_in("YES")),
            ("Yes 🙏🏽", opt_in("YES")),
            ("Y", opt_in("Y")),
            ("y.", opt_in("Y")),
            ("START", opt_in("START")),
            ("start please", opt_in("START")),
            ("unstop", opt_in("UNSTOP")),
            ("UNSTOP!", opt_in("UNSTOP")),
            ("Subscribe", opt_in("SUBSCRIBE")),
            ("ＹＥＳ", opt_in("YES")),
            ("Si", opt_in("SI")),
            // Help.
            ("HELP", help("HELP")),
            ("Help?", help("HELP")),
            ("Help!", help("HELP")),
            ("help please", help("HELP")),
            ("help 🙏", help("HELP")),
            ("info", help("INFO")),
            ("INFO.", help("INFO")),
            ("Info pls", help("INFO")),
            // Opt-out keywords, whole message.
            ("STOP", opt_out("STOP")),
            ("stop", opt_out("STOP")),
            ("StOp", opt_out("STOP")),
            (" stop ", opt_out("STOP")),
            ("\tSTOP\n", opt_out("STOP")),
            ("Stop.", opt_out("STOP")),
            ("STOP!!!", opt_out("STOP")),
            ("'stop'", opt_out("STOP")),
            ("Stop 🛑", opt_out("STOP")),
            ("🛑STOP🛑", opt_out("STOP")),
            ("ＳＴＯＰ", opt_out("STOP")),
            ("STOPALL", opt_out("STOPALL")),
            ("UNSUBSCRIBE", opt_out("UNSUBSCRIBE")),
            ("CANCEL", opt_out("CANCEL")),
            ("cancel", opt_out("CANCEL")),
            ("cancel please", opt_out("CANCEL")),
            ("END", opt_out("END")),
            ("end", opt_out("END")),
            ("End.", opt_out("END")),
            ("QUIT", opt_out("QUIT")),
            ("quit.", opt_out("QUIT")),
            ("REVOKE", opt_out("REVOKE")),
            ("OPTOUT", opt_out("OPTOUT")),
            ("opt out", opt_out("OPT OUT")),
            ("opt-out", opt_out("OPT OUT")),
            ("Opt Out!", opt_out("OPT OUT")),
            ("REMOVE", opt_out("REMOVE")),
            ("please remove", opt_out("REMOVE")),
            ("TD", opt_out("TD")),
            ("td.", opt_out("TD")),
            ("ARRET", opt_out("ARRET")),
            ("arret", opt_out("ARRET")),
            ("Arrêt", opt_out("ARRÊT")),
            ("Para", opt_out("PARA")),
            // STOP as a word anywhere, including at the start; opt-out wins over opt-in and help.
            ("stop it", opt_out("STOP")),
            ("STOP texting", opt_out("STOP")),
            ("Stop texting me please", opt_out("STOP")),
            ("please STOP", opt_out("STOP")),
            ("please stop texting me", opt_out("STOP")),
            ("stop messaging", opt_out("STOP")),
            ("stop all", opt_out("STOP")),
            ("yes stop", opt_out("STOP")),
            ("Yes. Stop.", opt_out("STOP")),
            ("Y STOP", opt_out("STOP")),
            ("start stop", opt_out("STOP")),
            ("HELP STOP", opt_out("STOP")),
            ("Who is this? Stop", opt_out("STOP")),
            // Erring toward opt-out: a visit reads as a revocation; START undoes it.
            ("Stop by tomorrow?", opt_out("STOP")),
            ("I'll stop by tomorrow", opt_out("STOP")),
            ("unsubscribe me", opt_out("UNSUBSCRIBE")),
            ("Please unsubscribe me from this", opt_out("UNSUBSCRIBE")),
            // Plain-language revocations.
            ("I want to opt out", opt_out("opt out")),
            ("opt me out", opt_out("opt me out")),
            ("Remove me from your list", opt_out("remove me")),
            ("Yes, please remove me", opt_out("remove me")),
            ("take me off your list", opt_out("take me off")),
            ("wrong number", opt_out("wrong number")),
            ("Wrong number!", opt_out("wrong number")),
            ("Not me, you have the wrong number", opt_out("wrong number")),
            ("don't text me", opt_out("don't text")),
            ("don’t text me again", opt_out("don't text")),
            ("Dont text me", opt_out("dont text")),
            ("DO NOT TEXT THIS NUMBER", opt_out("do not text")),
            ("do not contact me", opt_out("do not contact me")),
            ("no more texts please", opt_out("no more texts")),
            ("leave me alone", opt_out("leave me alone")),
            ("quit texting me", opt_out("quit texting")),
            ("Quit it", opt_out("quit it")),
            ("I revoke my consent", opt_out("revoke my consent")),
            ("no más", opt_out("no más")),
            ("No mas", opt_out("no mas")),
            ("no ma\u{301}s", opt_out("no mas")),
            ("No más mensajes por favor", opt_out("no más")),
            ("Basta", opt_out("basta")),
            ("basta ya!", opt_out("basta")),
            ("para de escribirme", opt_out("para de")),
            ("No me escribas", opt_out("no me escribas")),
            ("número equivocado", opt_out("número equivocado")),
            ("Arrête!", opt_out("arrête")),
            ("ARRÊTEZ svp", opt_out("arrêtez")),
            ("arrêt svp", opt_out("ARRÊT")),
        ]
    }

    #[test]
    fn real_world_replies() {
        let cases = cases();
        assert!(cases.len() >= 90, "only {} cases", cases.len());
        let failures: Vec<String> = cases
            .iter()
            .filter_map(|(text, expected)| {
                let got = classify(text);
                (got != *expected).then(|| format!("{text:?}: expected {expected:?}, got {got:?}"))
            })
            .collect();
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn long_messages_are_read_at_both_ends() {
        let filler = "a".repeat(1_000_000);
        assert_eq!(classify(&format!("STOP {filler}")), opt_out("STOP"));
        assert_eq!(classify(&format!("{filler} stop")), opt_out("STOP"));
        assert_eq!(
            classify(&format!("{filler} wrong number")),
            opt_out("wrong number")
        );
        // A word cut by the window is not read as a fragment of itself.
        let spaced = " ".repeat(WINDOW_CHARS - 4);
        assert_eq!(classify(&format!("{spaced}stopped{filler}")), OTHER);
        // A long message is never consent: part of it went unread.
        assert_eq!(classify(&format!("yes{}", " ".repeat(20_000))), OTHER);
        // Just over the window is still read whole.
        assert_eq!(
            classify(&format!("yes{}", " ".repeat(WINDOW_CHARS))),
            opt_in("YES")
        );
    }

    #[test]
    fn serializes_with_kind_tag() {
        let json = serde_json::to_value(opt_out("STOP")).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"kind": "opt_out", "matched": "STOP"})
        );
        let json = serde_json::to_value(OTHER).unwrap();
        assert_eq!(json, serde_json::json!({"kind": "other"}));
    }

    /// Checks each (text, expected) pair and reports every mismatch at once.
    fn check(cases: &[(&str, Classification)]) {
        let failures: Vec<String> = cases
            .iter()
            .filter_map(|(text, expected)| {
                let got = classify(text);
                (got != *expected).then(|| format!("{text:?}: expected {expected:?}, got {got:?}"))
            })
            .collect();
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn english_revocations_the_fixed_list_missed_are_honoured() {
        check(&[
            (
                "I don't want these texts anymore",
                opt_out("don't want these texts"),
            ),
            (
                "i dont want to be texted",
                opt_out("dont want to be texted"),
            ),
            (
                "I no longer wish to receive messages from you",
                opt_out("no longer wish to receive messages"),
            ),
            ("never text me again", opt_out("never text me again")),
            (
                "Never message this number",
                opt_out("never message this number"),
            ),
            ("I told you not to text me", opt_out("not to text me")),
            ("cancel texts", opt_out("cancel texts")),
            ("End these messages", opt_out("end these messages")),
            (
                "please cease all communication",
                opt_out("cease all communication"),
            ),
            ("Stp texting me", opt_out("stp texting")),
            (
                "please don't send me any more texts",
                opt_out("don't send me any more texts"),
            ),
            (
                "I never signed up for this",
                opt_out("never signed up for this"),
            ),
            (
                "I'd like to be removed from your list",
                opt_out("be removed"),
            ),
            (
                "I'm going to block this number",
                opt_out("block this number"),
            ),
            ("not my number, remove it", opt_out("not my number")),
        ]);
    }

    #[test]
    fn wrong_hash_and_abbreviated_numbers_are_a_wrong_number() {
        check(&[
            ("Wrong #", opt_out("wrong #")),
            ("wrong # sorry", opt_out("wrong #")),
            ("wrong num", opt_out("wrong num")),
            ("Wrong no.", opt_out("wrong no")),
            // "no" is an answer here, not an abbreviation.
            ("Is that wrong? no", OTHER),
            ("wrong no I paid it", OTHER),
            ("Wrong date on the letter", OTHER),
        ]);
    }

    #[test]
    fn the_same_words_about_something_else_are_not_revocations() {
        check(&[
            ("don't text my husband about this please", OTHER),
            ("I don't text much, can you call", OTHER),
            ("Do not contact my employer", OTHER),
            ("Don't email me the bill, mail it", OTHER),
            ("Don't send anything until I talk to my wife", OTHER),
            ("I don't want the text to go to my work phone", OTHER),
            ("I don't want to be contacted by the other lawyer", OTHER),
            ("can you end the call early", OTHER),
            ("no more questions, thanks", OTHER),
            ("Please take me off the lease if possible", OTHER),
            ("remove me from the case", OTHER),
            ("I want to opt out of the class action", OTHER),
            ("I never signed up for the payment plan", OTHER),
            ("You never text me back", OTHER),
            ("I'm tired of the messages from the collector", OTHER),
        ]);
    }

    #[test]
    fn stop_revokes_unless_the_next_words_name_something_else() {
        check(&[
            ("Should I stop paying the credit card?", OTHER),
            ("Can we stop the wage garnishment?", OTHER),
            ("Please stop payment on the check", OTHER),
            ("I was at a stop sign when he hit me", OTHER),
            ("The lawyer said to stop contacting him", OTHER),
            ("Please stop the texts", opt_out("STOP")),
            ("stop blowing up my phone", opt_out("STOP")),
            ("stop paying attention to me", opt_out("STOP")),
            // Erring toward opt-out, as before: a visit and a third party's calls revoke.
            ("stop by the office tomorrow?", opt_out("STOP")),
            ("He won't stop calling me", opt_out("STOP")),
        ]);
    }

    #[test]
    fn spanish_keywords_opt_in_and_help_follow_the_design() {
        check(&[
            ("ALTO", opt_out("ALTO")),
            ("Baja por favor", opt_out("BAJA")),
            ("El precio es muy alto", OTHER),
            (
                "Ya no quiero recibir mensajes",
                opt_out("no quiero recibir mensajes"),
            ),
            ("No me manden más mensajes", opt_out("no me manden")),
            ("Se equivocó de número", opt_out("equivocó de número")),
            ("Denme de baja", opt_out("denme de baja")),
            ("Quítenme de la lista", opt_out("quítenme de la lista")),
            // Mexican "no más" is "just": "I just wanted to know".
            ("No más quería saber si ya hay fecha", OTHER),
            ("No me mande la factura por correo", OTHER),
            ("Sí", opt_in("SÍ")),
            ("si por favor", opt_in("SI")),
            ("Sí?", OTHER),
            ("Si, mañana a las 3", OTHER),
            ("AYUDA", help("AYUDA")),
            ("Ayuda por favor", help("AYUDA")),
            ("Ayúdeme con mi caso", OTHER),
        ]);
    }

    #[test]
    fn unspaced_scripts_are_matched_inside_a_longer_message() {
        check(&[
            ("停止", opt_out("停止")),
            ("请停止", opt_out("停止")),
            ("请不要再发短信给我了", opt_out("不要再发")),
            ("我要退订", opt_out("退订")),
            ("我需要取消预约", OTHER),
            ("수신 거부합니다", opt_out("수신거부")),
            ("문자 그만 보내세요", opt_out("문자그만")),
            ("그만큼 돈이 없어요", OTHER),
            ("配信停止してください", opt_out("配信停止")),
            ("予約をキャンセルしたいです", OTHER),
            ("帮助", help("帮助")),
        ]);
    }

    #[test]
    fn vietnamese_is_read_with_or_without_tone_marks() {
        check(&[
            ("Dừng", opt_out("DỪNG")),
            ("DUNG LAI", opt_out("DUNG LAI")),
            ("dung nhan tin nua", opt_out("dung nhan tin")),
            ("đừng nhắn tin cho tôi nữa", opt_out("đừng nhắn tin")),
            ("huy dang ky", opt_out("HUY DANG KY")),
            // "dung" bare is also "đúng" (right): alone it is no keyword.
            ("Đúng", OTHER),
            ("dung roi", OTHER),
            ("Tôi dừng lại ở đèn đỏ thì bị xe tông", OTHER),
        ]);
    }

    #[test]
    fn the_other_languages_most_spoken_in_the_us_revoke() {
        check(&[
            ("Не пишите мне больше", opt_out("не пишите")),
            ("стоп", opt_out("СТОП")),
            (
                "Huwag niyo na akong i-text",
                opt_out("huwag niyo na akong i text"),
            ),
            ("لا ترسل لي رسائل", opt_out("لا ترسل")),
            // Reported in the one spelling Arabic letters are read as (alef without hamza).
            ("إلغاء", opt_out("الغاء")),
            (
                "Ne m'envoyez plus de messages",
                opt_out("ne m'envoyez plus"),
            ),
            ("Pa voye m mesaj ankò", opt_out("pa voye m mesaj ankò")),
            (
                "Não quero mais receber mensagens",
                opt_out("não quero mais receber mensagens"),
            ),
            ("Keine SMS mehr", opt_out("keine sms")),
            ("Non scrivetemi più", opt_out("non scrivetemi più")),
            ("Nie piszcie do mnie więcej", opt_out("nie piszcie")),
            ("मैसेज मत भेजो", opt_out("मत भेजो")),
            ("Mon fils a été arrêté", OTHER),
            ("mon fils a ete arrete hier", OTHER),
        ]);
    }

    #[test]
    fn every_rule_can_begin_at_some_word() {
        assert!(LEXICON.phrases.every_rule_is_indexed());
        assert!(LEXICON.anywhere.every_rule_is_indexed());
    }

    #[test]
    fn no_whole_message_keyword_is_longer_than_the_words_looked_at() {
        let keywords = LANGUAGES.iter().flat_map(|l| {
            [l.opt_out_alone, l.opt_in_alone, l.help_alone]
                .into_iter()
                .flatten()
        });
        for keyword in keywords {
            let n = reading::words(keyword.trim_start_matches('=')).len();
            assert!((1..=MAX_KEYWORD_WORDS).contains(&n), "{keyword:?}");
        }
    }

    #[test]
    fn a_keyword_alone_tells_its_language() {
        for (text, language) in [
            ("AYUDA", Some(Language::Es)),
            ("ayuda por favor", Some(Language::Es)),
            ("Sí", Some(Language::Es)),
            ("alto", Some(Language::Es)),
            ("HELP", Some(Language::En)),
            ("info", Some(Language::En)),
            ("Stop!", Some(Language::En)),
            ("aide", None),
            ("necesito ayuda con mi caso", None),
            ("", None),
        ] {
            assert_eq!(keyword_language(text), language, "{text:?}");
        }
    }

    proptest! {
        #[test]
        fn never_panics(text in any::<String>()) {
            let _ = classify(&text);
        }

        #[test]
        fn trailing_stop_always_revokes(text in any::<String>()) {
            let got = classify(&format!("{text} stop"));
            prop_assert!(matches!(got, Classification::OptOut { .. }), "{got:?}");
        }

        #[test]
        fn punctuation_and_emoji_around_a_keyword_are_ignored(
            before in "[ .!,\"'()\t\n👍🙏🏽😀-]{0,4}",
            after in "[ .!,\"'()\t\n👍🙏🏽😀-]{0,4}",
        ) {
            prop_assert_eq!(classify(&format!("{before}yes{after}")), opt_in("YES"));
            prop_assert_eq!(classify(&format!("{before}STOP{after}")), opt_out("STOP"));
            prop_assert_eq!(classify(&format!("{before}Help{after}")), help("HELP"));
        }
    }
}
