//! Inbound keyword rules: how a reply is read (opt-in, opt-out, help, other).
//!
//! Liberal opt-out, strict opt-in (docs/architecture.md §5.2): the FCC counts any reasonable way of
//! saying no as a revocation, while consent must be unambiguous. So opt-out is checked first and
//! looks anywhere in the message; opt-in and help must be the whole message.
//!
//! A message is read as lower-case words: letters and digits, with apostrophes kept inside a word
//! ("don't"). Everything else (spaces, punctuation, emoji) only separates words, which is why
//! "STOP!!!", " stop " and "🛑 Stop" read the same. "Stopped" is a different word from "stop".

use serde::{Deserialize, Serialize};

/// Whole-message opt-out keywords: the carriers' (CTIA) list plus the FCC's examples. Alone they
/// revoke; inside a sentence "cancel", "end", "quit", "remove" and "TD" usually mean something
/// else ("cancel my appointment"), so they only count as the whole message. Spanish "para" and
/// "cancelar" are the same words a Spanish speaker sends alone.
const OPT_OUT_KEYWORDS: &[&str] = &[
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
    "arret",
    "arrêt",
    "td",
    "para",
    "cancelar",
];

/// Keywords that revoke wherever they stand as a word: nobody writes them for another reason,
/// and a message that begins with STOP ("stop it", "STOP texting") is caught here too.
const OPT_OUT_ANYWHERE_KEYWORDS: &[&str] = &["stop", "stopall", "unsubscribe", "optout"];

/// Plain-language revocations, matched as whole words anywhere in the message. Accented and
/// unaccented spellings are both listed because phones and people drop accents.
const OPT_OUT_PHRASES: &[&str] = &[
    // English
    "opt out",
    "opt me out",
    "remove me",
    "remove us",
    "remove my number",
    "remove my name",
    "remove this number",
    "take me off",
    "take us off",
    "take my number off",
    "don't text",
    "dont text",
    "do not text",
    "don't txt",
    "dont txt",
    "do not txt",
    "don't message",
    "dont message",
    "do not message",
    "don't contact me",
    "dont contact me",
    "do not contact me",
    "no more texts",
    "no more text",
    "no more texting",
    "no more messages",
    "no more msgs",
    "quit texting",
    "quit messaging",
    "quit sending",
    "quit it",
    "wrong number",
    "wrong person",
    "leave me alone",
    "revoke consent",
    "revoke my consent",
    "delete my number",
    "lose my number",
    "unsub",
    // Spanish
    "no más",
    "no mas",
    "basta",
    "para de",
    "no me escribas",
    "no me escriban",
    "no me escriba",
    "no me envíes",
    "no me envies",
    "no me mandes",
    "no me manden",
    "no me contacten",
    "número equivocado",
    "numero equivocado",
    // French
    "arrêt",
    "arret",
    "arrête",
    "arrete",
    "arrêtez",
    "arretez",
    "mauvais numéro",
    "mauvais numero",
];

/// Opt-in words, accepted only as the whole message: "Yes I'll call you tomorrow" is not consent.
const OPT_IN_KEYWORDS: &[&str] = &["yes", "y", "start", "unstop", "subscribe"];

/// Help words, accepted only as the whole message: "help me" may be a plea for legal help, which
/// a person should read rather than an automatic reply answer.
const HELP_KEYWORDS: &[&str] = &["help", "info"];

/// Courtesy words allowed around a whole-message keyword ("yes please", "STOP thanks"): they add
/// nothing, so they neither make nor spoil a keyword. Alone they are not a keyword ("ok" is Other).
const COURTESY: &[&str] = &[
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
    "por favor",
    "gracias",
    "merci",
    "svp",
];

/// A question is not an answer: "Yes?" or "Y?" (why?) is not unambiguous consent.
const QUESTION_MARKS: &[char] = &['?', '¿', '？'];

/// Characters inspected at each end of a long message, so that any input costs bounded work.
/// Real replies are far shorter; a leading or trailing STOP is always seen.
const WINDOW_CHARS: usize = 4096;

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
    let inspected = Inspected::new(text);
    if let Some(matched) = opt_out(&inspected) {
        return Classification::OptOut { matched };
    }
    // Consent and help need the whole message: if part of it went unread, a person reads it.
    let Some(words) = inspected.whole() else {
        return Classification::Other;
    };
    if !text.contains(QUESTION_MARKS)
        && let Some(word) = sole_keyword(words, OPT_IN_KEYWORDS)
    {
        return Classification::OptIn {
            word: word.to_uppercase(),
        };
    }
    if let Some(word) = sole_keyword(words, HELP_KEYWORDS) {
        return Classification::Help {
            word: word.to_uppercase(),
        };
    }
    Classification::Other
}

/// The revocation in a message, if any: a keyword upper-cased, or a phrase as listed.
fn opt_out(inspected: &Inspected) -> Option<String> {
    if let Some(words) = inspected.whole()
        && let Some(keyword) = sole_keyword(words, OPT_OUT_KEYWORDS)
    {
        return Some(keyword.to_uppercase());
    }
    for part in &inspected.parts {
        if let Some(word) = part
            .iter()
            .find(|w| OPT_OUT_ANYWHERE_KEYWORDS.contains(&w.as_str()))
        {
            return Some(word.to_uppercase());
        }
    }
    for part in &inspected.parts {
        if let Some(phrase) = OPT_OUT_PHRASES
            .iter()
            .find(|phrase| contains_phrase(part, phrase))
        {
            return Some((*phrase).to_owned());
        }
    }
    None
}

/// The words of a message, read from a bounded part of it.
struct Inspected {
    /// The head, and for a long message the tail, read separately so no phrase spans the gap.
    parts: Vec<Vec<String>>,
    /// Whether every character was read.
    complete: bool,
}

impl Inspected {
    fn new(text: &str) -> Self {
        let whole = || Self {
            parts: vec![words(text)],
            complete: true,
        };
        let Some((head_end, _)) = text.char_indices().nth(WINDOW_CHARS) else {
            return whole();
        };
        let tail_start = text
            .char_indices()
            .rev()
            .nth(WINDOW_CHARS - 1)
            .map_or(0, |(i, _)| i);
        if tail_start <= head_end {
            // At most twice the window: read it all.
            return whole();
        }
        let (mut head, rest) = text.split_at(head_end);
        let (skipped, mut tail) = rest.split_at(tail_start - head_end);
        // A cut inside a word would make a fragment ("stopped" cut to "stop"): drop it.
        if ends_in_word(head) && starts_with_word(skipped) {
            head = &head[..head.rfind(|c| !is_word_char(c)).unwrap_or(0)];
        }
        if ends_in_word(skipped) && starts_with_word(tail) {
            tail = &tail[tail.find(|c| !is_word_char(c)).unwrap_or(tail.len())..];
        }
        Self {
            parts: vec![words(head), words(tail)],
            complete: false,
        }
    }

    /// All the words, when the whole message was read.
    fn whole(&self) -> Option<&[String]> {
        match self.parts.as_slice() {
            [all] if self.complete => Some(all),
            _ => None,
        }
    }
}

fn ends_in_word(s: &str) -> bool {
    s.chars().next_back().is_some_and(is_word_char)
}

fn starts_with_word(s: &str) -> bool {
    s.chars().next().is_some_and(is_word_char)
}

/// Splits a text into lower-case words (see the module comment).
fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for c in text.chars().map(fold_width) {
        if is_combining_mark(c) {
            // Decomposed accents ("ma\u{301}s"): dropped, so the unaccented spelling matches.
            continue;
        }
        if is_apostrophe(c) {
            current.push('\'');
        } else if c.is_alphanumeric() {
            current.extend(c.to_lowercase());
        } else {
            push_word(&mut out, &mut current);
        }
    }
    push_word(&mut out, &mut current);
    out
}

fn push_word(out: &mut Vec<String>, current: &mut String) {
    // Apostrophes used as quotes ('stop') are not part of the word.
    let word = current.trim_matches('\'');
    if !word.is_empty() {
        out.push(word.to_owned());
    }
    current.clear();
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || is_apostrophe(c) || is_combining_mark(c)
}

/// Curly and look-alike apostrophes, as phones type them ("don’t").
fn is_apostrophe(c: char) -> bool {
    matches!(
        c,
        '\'' | '\u{2018}' | '\u{2019}' | '\u{02BC}' | '\u{2032}' | '`' | '\u{00B4}'
    )
}

fn is_combining_mark(c: char) -> bool {
    ('\u{0300}'..='\u{036F}').contains(&c)
}

/// Full-width Latin ("ＳＴＯＰ", from some Asian keyboards) read as ASCII.
fn fold_width(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        _ => c,
    }
}

/// The keyword a message consists of, once courtesy words are set aside.
fn sole_keyword(words: &[String], keywords: &[&'static str]) -> Option<&'static str> {
    let mut rest: Vec<&str> = Vec::new();
    let mut i = 0;
    'words: while i < words.len() {
        for courtesy in COURTESY {
            let n = courtesy.split(' ').count();
            if words.get(i..i + n).is_some_and(|w| phrase_eq(w, courtesy)) {
                i += n;
                continue 'words;
            }
        }
        rest.push(&words[i]);
        i += 1;
    }
    let joined = rest.join(" ");
    keywords.iter().copied().find(|k| *k == joined)
}

fn contains_phrase(words: &[String], phrase: &str) -> bool {
    let n = phrase.split(' ').count();
    words.windows(n).any(|w| phrase_eq(w, phrase))
}

fn phrase_eq(words: &[String], phrase: &str) -> bool {
    words.iter().map(String::as_str).eq(phrase.split(' '))
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
            ("Si", OTHER),
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
