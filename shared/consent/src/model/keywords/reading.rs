//! How a message is read: as lower-case words, with where its clauses end, from a bounded part
//! of it.
//!
//! Letters and digits make words, with apostrophes kept inside a word ("don't"). Everything else
//! (spaces, punctuation, emoji) only separates words, which is why "STOP!!!", " stop " and
//! "🛑 Stop" read the same; "Stopped" is a different word from "stop". Scripts written without
//! spaces (Chinese, Japanese, Korean, Thai, ...) are read one character at a time, so that a
//! phrase ("停止", "수신거부") is found inside a longer run of text. Lexicon entries are read by
//! the same rules, so both sides always agree.

/// Characters inspected at each end of a long message, so that any input costs bounded work.
/// Real replies are far shorter; a leading or trailing STOP is always seen.
pub(super) const WINDOW_CHARS: usize = 4096;

/// One word of a message, as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Word {
    /// Lower-cased as typed: accents kept, decomposed accents and Arabic vowel marks dropped.
    pub text: String,
    /// The same without Latin accents ("número" → "numero"); equal to `text` if typed bare.
    pub bare: String,
    /// The message's first word, or the first after a sentence end (. ! ? ; or a line break).
    pub starts_clause: bool,
    /// A comma, colon, dash or bracket stands right before it.
    pub after_pause: bool,
    /// A character of a script written without spaces, read as a word of its own.
    pub unspaced: bool,
    /// A sign read as a word ("#" in "wrong #") that whole-message keywords look past.
    pub sign: bool,
}

impl Word {
    /// Whether the word was typed without any Latin accent.
    pub fn is_bare(&self) -> bool {
        self.text == self.bare
    }
}

/// Splits a text into words (see the module comment).
pub(super) fn words(text: &str) -> Vec<Word> {
    let mut reader = Reader::default();
    for c in text.chars().map(fold_width) {
        if is_ignored_mark(c) {
            // Decomposed accents ("ma\u{301}s"): dropped, so the unaccented spelling matches.
            continue;
        }
        if is_apostrophe(c) {
            reader.current.push('\'');
        } else if is_unspaced(c) {
            reader.end_word();
            reader.current.extend(c.to_lowercase());
            reader.end_word();
            if let Some(last) = reader.out.last_mut() {
                last.unspaced = true;
            }
        } else if c.is_alphanumeric() || is_indic_sign(c) {
            reader.current.extend(
                c.to_lowercase()
                    .filter(|l| !is_ignored_mark(*l))
                    .map(unify_letter),
            );
        } else {
            reader.end_word();
            if c == '#' {
                reader.current.push('#');
                reader.end_word();
                if let Some(last) = reader.out.last_mut() {
                    last.sign = true;
                }
            } else if is_clause_end(c) {
                reader.clause_ended = true;
            } else if is_pause(c) {
                reader.paused = true;
            }
        }
    }
    reader.end_word();
    reader.out
}

/// The words of a message read so far, and what stands between the last one and the next.
#[derive(Default)]
struct Reader {
    out: Vec<Word>,
    current: String,
    clause_ended: bool,
    paused: bool,
}

impl Reader {
    fn end_word(&mut self) {
        // Apostrophes used as quotes ('stop') are not part of the word.
        let text = self.current.trim_matches('\'');
        if !text.is_empty() {
            self.out.push(Word {
                text: text.to_owned(),
                bare: text.chars().map(bare_letter).collect(),
                starts_clause: self.out.is_empty() || self.clause_ended,
                after_pause: self.paused,
                unspaced: false,
                sign: false,
            });
            self.clause_ended = false;
            self.paused = false;
        }
        self.current.clear();
    }
}

/// Writes matched words back as text: spaced, except between characters of unspaced scripts.
pub(super) fn spell<'w>(words: impl IntoIterator<Item = &'w Word>) -> String {
    let mut out = String::new();
    let mut previous_unspaced = false;
    for word in words {
        let joined = previous_unspaced && word.unspaced;
        if !out.is_empty() && !joined {
            out.push(' ');
        }
        out.push_str(&word.text);
        previous_unspaced = word.unspaced;
    }
    out
}

/// The words of a message, read from a bounded part of it.
pub(super) struct Reading {
    /// The head, and for a long message the tail, read separately so no phrase spans the gap.
    pub parts: Vec<Vec<Word>>,
    /// Whether every character was read.
    complete: bool,
}

impl Reading {
    /// Reads a message, or both ends of it when it is longer than twice the window.
    pub fn new(text: &str) -> Self {
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
            head = &head[..head.rfind(|c| !joins_word(c)).unwrap_or(0)];
        }
        if ends_in_word(skipped) && starts_with_word(tail) {
            tail = &tail[tail.find(|c| !joins_word(c)).unwrap_or(tail.len())..];
        }
        Self {
            parts: vec![words(head), words(tail)],
            complete: false,
        }
    }

    /// All the words, when the whole message was read.
    pub fn whole(&self) -> Option<&[Word]> {
        match self.parts.as_slice() {
            [all] if self.complete => Some(all),
            _ => None,
        }
    }
}

fn ends_in_word(s: &str) -> bool {
    s.chars().next_back().is_some_and(joins_word)
}

fn starts_with_word(s: &str) -> bool {
    s.chars().next().is_some_and(joins_word)
}

/// Whether a character continues the word before it (a character of an unspaced script is a
/// word by itself, so a cut next to one makes no fragment).
fn joins_word(c: char) -> bool {
    let c = fold_width(c);
    ((c.is_alphanumeric() || is_indic_sign(c)) && !is_unspaced(c))
        || is_apostrophe(c)
        || is_ignored_mark(c)
}

/// Curly and look-alike apostrophes, as phones type them ("don’t").
fn is_apostrophe(c: char) -> bool {
    matches!(
        c,
        '\'' | '\u{2018}' | '\u{2019}' | '\u{02BC}' | '\u{2032}' | '`' | '\u{00B4}'
    )
}

/// Marks that ride on a letter without changing the word for our purpose: decomposed Latin
/// accents, Arabic short vowels and the tatweel, and the zero-width joiners of Indic scripts.
fn is_ignored_mark(c: char) -> bool {
    matches!(
        c,
        '\u{0300}'..='\u{036F}'
            | '\u{064B}'..='\u{065F}'
            | '\u{0670}'
            | '\u{0640}'
            | '\u{200C}'
            | '\u{200D}'
    )
}

/// Vowel signs and viramas of Indic scripts (Devanagari, ...): part of a word, though not all
/// of them count as letters. The dandas end a sentence instead.
fn is_indic_sign(c: char) -> bool {
    ('\u{0900}'..='\u{0DFF}').contains(&c) && !matches!(c, '\u{0964}' | '\u{0965}')
}

/// Letters of scripts written without spaces between words.
fn is_unspaced(c: char) -> bool {
    matches!(
        c,
        '\u{0E00}'..='\u{0EFF}'     // Thai, Lao
            | '\u{1000}'..='\u{109F}' // Myanmar
            | '\u{1100}'..='\u{11FF}' // Hangul Jamo
            | '\u{1780}'..='\u{17FF}' // Khmer
            | '\u{3040}'..='\u{30FF}' // Hiragana, Katakana
            | '\u{3130}'..='\u{318F}' // Hangul compatibility Jamo
            | '\u{3400}'..='\u{4DBF}' // Han extension A
            | '\u{4E00}'..='\u{9FFF}' // Han
            | '\u{AC00}'..='\u{D7AF}' // Hangul syllables
            | '\u{F900}'..='\u{FAFF}' // Han compatibility
            | '\u{FF66}'..='\u{FF9F}' // half-width Katakana
            | '\u{20000}'..='\u{2FFFF}' // Han extensions
    ) && c.is_alphanumeric()
}

fn is_clause_end(c: char) -> bool {
    matches!(
        c,
        '.' | '!'
            | '?'
            | ';'
            | '…'
            | '\n'
            | '\r'
            | '¿'
            | '¡'
            | '。'
            | '؟'
            | '\u{0964}'
            | '\u{0965}'
    )
}

fn is_pause(c: char) -> bool {
    matches!(
        c,
        ',' | ':' | '、' | '،' | '–' | '—' | '(' | ')' | '[' | ']'
    )
}

/// Full-width Latin ("ＳＴＯＰ", from some Asian keyboards) read as ASCII.
fn fold_width(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        _ => c,
    }
}

/// Arabic letters written several ways (hamza on alef, final ta marbuta and alef maqsura) read
/// as one, as Arabic keyboards and writers mix them freely.
fn unify_letter(c: char) -> char {
    match c {
        'أ' | 'إ' | 'آ' | 'ٱ' => 'ا',
        'ة' => 'ه',
        'ى' | 'ی' => 'ي',
        _ => c,
    }
}

/// A lower-case letter without its Latin accent (Spanish, French, Portuguese, Polish,
/// Vietnamese, ...), or the letter itself.
fn bare_letter(c: char) -> char {
    match c {
        'à'..='å' | 'ā' | 'ă' | 'ą' | 'ǎ' => 'a',
        'ç' | 'ć' | 'ĉ' | 'ċ' | 'č' => 'c',
        'ď' | 'đ' => 'd',
        'è'..='ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' => 'e',
        'ì'..='ï' | 'ĩ' | 'ī' | 'ĭ' | 'į' | 'ı' => 'i',
        'ł' => 'l',
        'ñ' | 'ń' | 'ņ' | 'ň' => 'n',
        'ò'..='ö' | 'ø' | 'ō' | 'ŏ' | 'ő' | 'ơ' => 'o',
        'ś' | 'ş' | 'š' => 's',
        'ù'..='ü' | 'ũ' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' | 'ư' => 'u',
        'ý' | 'ÿ' => 'y',
        'ź' | 'ż' | 'ž' => 'z',
        'ё' => 'е',
        // Vietnamese letters with tone marks, in the order of the Unicode block.
        '\u{1EA0}'..='\u{1EB7}' => 'a',
        '\u{1EB8}'..='\u{1EC7}' => 'e',
        '\u{1EC8}'..='\u{1ECB}' => 'i',
        '\u{1ECC}'..='\u{1EE3}' => 'o',
        '\u{1EE4}'..='\u{1EF1}' => 'u',
        '\u{1EF2}'..='\u{1EF9}' => 'y',
        _ => c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(text: &str) -> Vec<String> {
        words(text).into_iter().map(|w| w.text).collect()
    }

    #[test]
    fn punctuation_and_emoji_only_separate_words() {
        assert_eq!(
            texts("🛑STOP!!! don’t 'txt' me"),
            ["stop", "don't", "txt", "me"]
        );
    }

    #[test]
    fn unspaced_scripts_are_read_one_character_at_a_time() {
        assert_eq!(texts("请停止"), ["请", "停", "止"]);
        assert_eq!(texts("수신 거부"), texts("수신거부"));
        assert_eq!(spell(&words("TD 退订")), "td 退订");
    }

    #[test]
    fn accents_are_kept_and_a_bare_spelling_is_derived() {
        let read = words("Número ĐỪNG");
        assert_eq!(read[0].text, "número");
        assert_eq!(read[0].bare, "numero");
        assert_eq!(read[1].bare, "dung");
        assert!(words("numero")[0].is_bare());
    }

    #[test]
    fn arabic_spellings_of_one_letter_read_the_same() {
        assert_eq!(texts("إلغاء"), texts("الغاء"));
        assert_eq!(texts("مَرَّة"), texts("مره"));
    }

    #[test]
    fn clause_ends_and_pauses_are_remembered() {
        let read = words("Is that wrong? no, thanks");
        assert!(read[0].starts_clause);
        assert!(!read[2].starts_clause);
        assert!(read[3].starts_clause);
        assert!(read[4].after_pause);
    }

    #[test]
    fn a_hash_sign_is_a_word_of_its_own() {
        let read = words("wrong#");
        assert_eq!(read.len(), 2);
        assert!(read[1].sign && read[1].text == "#");
    }
}
