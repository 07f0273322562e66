//! A small grammar for phrases: a rule is a sequence of slots, each a set of interchangeable
//! words or phrases, matched word by word at every position of a message.
//!
//! Work stays linear in the message: rules are indexed by the words they can begin with, so each
//! word of a message costs one look-up, and a rule tries a bounded number of alternatives.
//!
//! A word matches a lexicon entry when it is spelled the same, or when it was typed without any
//! accent and is the entry without its accents ("numero" for "número"): people drop accents, but
//! an accent they did type is meant ("arrêté", arrested, is not "arrête", stop). An entry
//! written with a leading `=` demands its exact spelling (Vietnamese "dừng", stop, whose bare
//! spelling "dung" is also "đúng", right).

use std::collections::HashMap;

use super::reading::{Word, words};

/// Interchangeable words or phrases ("don't", "dont", "do not").
pub(super) type Words = &'static [&'static str];

/// A pattern: slots matched one after another.
pub(super) type Rule = &'static [Slot];

/// One step of a rule.
#[derive(Debug, Clone, Copy)]
pub(super) enum Slot {
    /// One word or phrase of these sets.
    One(&'static [Words]),
    /// One of them, or nothing.
    Maybe(&'static [Words]),
    /// Here a clause begins (the message's start, or after . ! ?), perhaps after an opener
    /// ("please", "so", ...).
    Start,
    /// Here a clause ends, perhaps after closing courtesy ("please", "thanks", "now", ...).
    End,
    /// The word before is none of these single words ("I don't text much" speaks of the sender).
    NotAfter(Words),
    /// What follows matches these slots, or the clause ends; either way it is not part of the
    /// match ("don't text" then "me", "this number", ...).
    Then(Rule),
    /// What follows does not match these slots (nothing is consumed).
    Unless(Rule),
    /// None of the next words, up to the clause's end or `LOOKAHEAD_WORDS`, is one of these
    /// (nothing is consumed).
    NoneOf(Words),
}

/// How far `NoneOf` looks: the few words that name a thing ("the annoying texts"), not the
/// rest of the sentence ("a stop sign when he hit me"). Bounded, so work stays linear.
const LOOKAHEAD_WORDS: usize = 3;

/// One word of a lexicon entry, read like a message's word.
#[derive(Debug)]
struct Pattern {
    text: String,
    bare: String,
    /// The entry asked for its exact spelling.
    exact: bool,
}

impl Pattern {
    fn matches(&self, word: &Word) -> bool {
        word.text == self.text || (!self.exact && word.is_bare() && word.bare == self.bare)
    }
}

/// A lexicon entry read as words.
#[derive(Debug)]
pub(super) struct Phrase {
    words: Vec<Pattern>,
}

impl Phrase {
    /// Reads an entry; a leading `=` asks for its exact spelling.
    pub fn read(entry: &str) -> Self {
        let (exact, entry) = match entry.strip_prefix('=') {
            Some(rest) => (true, rest),
            None => (false, entry),
        };
        Self {
            words: words(entry)
                .into_iter()
                .map(|w| Pattern {
                    text: w.text,
                    bare: w.bare,
                    exact,
                })
                .collect(),
        }
    }

    /// Reads every entry of some sets.
    pub fn read_all(sets: &[Words]) -> Vec<Self> {
        let mut phrases: Vec<Self> = sets
            .iter()
            .flat_map(|set| set.iter())
            .map(|entry| Self::read(entry))
            .filter(|p| !p.words.is_empty())
            .collect();
        // The longest alternative first, so a match reports all the words it consumed.
        phrases.sort_by_key(|p| std::cmp::Reverse(p.words.len()));
        phrases
    }

    /// Whether these words are exactly the phrase.
    pub fn is<'w>(&self, words: impl ExactSizeIterator<Item = &'w Word>) -> bool {
        words.len() == self.words.len() && words.zip(&self.words).all(|(w, p)| p.matches(w))
    }

    /// Where the phrase ends, when it is found at `at`.
    pub fn end_at(&self, words: &[Word], at: usize) -> Option<usize> {
        let end = at + self.words.len();
        let found = words.get(at..end)?;
        found
            .iter()
            .zip(&self.words)
            .all(|(w, p)| p.matches(w))
            .then_some(end)
    }

    fn first(&self) -> Option<&str> {
        self.words.first().map(|p| p.bare.as_str())
    }
}

#[derive(Debug)]
enum Compiled {
    One(Vec<Phrase>),
    Maybe(Vec<Phrase>),
    Start,
    End,
    NotAfter(Vec<Phrase>),
    Then(Vec<Compiled>),
    Unless(Vec<Compiled>),
    NoneOf(Vec<Phrase>),
}

fn compile(rule: &[Slot]) -> Vec<Compiled> {
    rule.iter()
        .map(|slot| match slot {
            Slot::One(sets) => Compiled::One(Phrase::read_all(sets)),
            Slot::Maybe(sets) => Compiled::Maybe(Phrase::read_all(sets)),
            Slot::Start => Compiled::Start,
            Slot::End => Compiled::End,
            Slot::NotAfter(set) => Compiled::NotAfter(Phrase::read_all(&[set])),
            Slot::Then(rule) => Compiled::Then(compile(rule)),
            Slot::Unless(rule) => Compiled::Unless(compile(rule)),
            Slot::NoneOf(set) => Compiled::NoneOf(Phrase::read_all(&[set])),
        })
        .collect()
}

/// The bare first words a rule can begin with, or `None` if it could match no word at all.
fn first_words(slots: &[Compiled]) -> Option<Vec<&str>> {
    let mut out = Vec::new();
    for slot in slots {
        match slot {
            Compiled::One(phrases) => {
                out.extend(phrases.iter().filter_map(Phrase::first));
                return Some(out);
            }
            Compiled::Maybe(phrases) => out.extend(phrases.iter().filter_map(Phrase::first)),
            Compiled::Start
            | Compiled::End
            | Compiled::NotAfter(_)
            | Compiled::Then(_)
            | Compiled::Unless(_)
            | Compiled::NoneOf(_) => {}
        }
    }
    None
}

/// Words around a phrase that neither make nor spoil it: openers (single words) before a
/// clause's first word, and closers after its last.
pub(super) struct Margins {
    pub openers: Vec<Phrase>,
    pub closers: Vec<Phrase>,
}

/// How many openers or closers are looked past: enough for "ok so please", and bounded.
const MARGIN_WORDS: usize = 4;

impl Margins {
    fn starts_clause(&self, words: &[Word], mut at: usize) -> bool {
        for _ in 0..=MARGIN_WORDS {
            match words.get(at) {
                Some(w) if !w.starts_clause => {}
                _ => return true,
            }
            let Some(before) = at.checked_sub(1) else {
                return true;
            };
            if !self
                .openers
                .iter()
                .any(|p| p.end_at(words, before) == Some(at))
            {
                return false;
            }
            at = before;
        }
        false
    }

    fn ends_clause(&self, words: &[Word], mut at: usize) -> bool {
        for _ in 0..=MARGIN_WORDS {
            match words.get(at) {
                None => return true,
                Some(w) if w.starts_clause || w.after_pause => return true,
                Some(_) => {}
            }
            let Some(end) = self.closers.iter().find_map(|p| p.end_at(words, at)) else {
                return false;
            };
            at = end;
        }
        false
    }
}

/// Rules, compiled and indexed by the bare words they can begin with.
pub(super) struct Grammar {
    rules: Vec<Vec<Compiled>>,
    by_first_word: HashMap<String, Vec<usize>>,
    margins: Margins,
}

impl Grammar {
    /// Compiles rules; earlier rules are tried first at a given word.
    pub fn new(rules: &[&[Slot]], margins: Margins) -> Self {
        let rules: Vec<Vec<Compiled>> = rules.iter().map(|r| compile(r)).collect();
        let mut by_first_word: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, rule) in rules.iter().enumerate() {
            for first in first_words(rule).unwrap_or_default() {
                let ids = by_first_word.entry(first.to_owned()).or_default();
                if ids.last() != Some(&i) {
                    ids.push(i);
                }
            }
        }
        Self {
            rules,
            by_first_word,
            margins,
        }
    }

    /// Whether every rule can begin somewhere (a rule of only optional slots never would).
    #[cfg(test)]
    pub fn every_rule_is_indexed(&self) -> bool {
        self.rules.iter().all(|r| first_words(r).is_some())
    }

    /// The leftmost match in the words, as the words it consumed.
    pub fn find<'w>(&self, words: &'w [Word]) -> Option<&'w [Word]> {
        (0..words.len()).find_map(|at| {
            let candidates = self.by_first_word.get(&words[at].bare)?;
            candidates.iter().find_map(|&i| {
                let end = Match {
                    words,
                    start: at,
                    margins: &self.margins,
                }
                .slots(&self.rules[i], at)?;
                words.get(at..end)
            })
        })
    }
}

/// A match being tried from `start`.
struct Match<'a> {
    words: &'a [Word],
    start: usize,
    margins: &'a Margins,
}

impl Match<'_> {
    /// Where the slots end when matched from `at`: the first way that works, trying longer
    /// alternatives first and taking an optional slot before skipping it.
    fn slots(&self, slots: &[Compiled], at: usize) -> Option<usize> {
        let Some((slot, rest)) = slots.split_first() else {
            return Some(at);
        };
        match slot {
            Compiled::One(phrases) => self
                .phrase_ends(phrases, at)
                .find_map(|end| self.slots(rest, end)),
            Compiled::Maybe(phrases) => self
                .phrase_ends(phrases, at)
                .find_map(|end| self.slots(rest, end))
                .or_else(|| self.slots(rest, at)),
            Compiled::Start => self
                .margins
                .starts_clause(self.words, at)
                .then(|| self.slots(rest, at))
                .flatten(),
            Compiled::End => self
                .margins
                .ends_clause(self.words, at)
                .then(|| self.slots(rest, at))
                .flatten(),
            Compiled::NotAfter(phrases) => {
                let new_clause = self.words.get(at).is_some_and(|w| w.starts_clause);
                let after_one = !new_clause
                    && at.checked_sub(1).is_some_and(|before| {
                        phrases
                            .iter()
                            .any(|p| p.end_at(self.words, before) == Some(at))
                    });
                (!after_one).then(|| self.slots(rest, at)).flatten()
            }
            Compiled::Then(ahead) => {
                let followed =
                    self.margins.ends_clause(self.words, at) || self.slots(ahead, at).is_some();
                followed.then(|| self.slots(rest, at)).flatten()
            }
            Compiled::Unless(ahead) => self
                .slots(ahead, at)
                .is_none()
                .then(|| self.slots(rest, at))
                .flatten(),
            Compiled::NoneOf(phrases) => {
                let clause = self
                    .words
                    .iter()
                    .enumerate()
                    .skip(at)
                    .take(LOOKAHEAD_WORDS)
                    .take_while(|(i, w)| *i == self.start || !w.starts_clause);
                let found = clause
                    .map(|(i, _)| i)
                    .any(|i| phrases.iter().any(|p| p.end_at(self.words, i).is_some()));
                (!found).then(|| self.slots(rest, at)).flatten()
            }
        }
    }

    /// Where each phrase found at `at` ends, never crossing into a new clause.
    fn phrase_ends<'p>(
        &'p self,
        phrases: &'p [Phrase],
        at: usize,
    ) -> impl Iterator<Item = usize> + 'p {
        phrases
            .iter()
            .filter_map(move |p| p.end_at(self.words, at))
            .filter(move |&end| (at..end).all(|i| i == self.start || !self.words[i].starts_clause))
    }
}

#[cfg(test)]
mod tests {
    use super::super::reading::spell;
    use super::Slot::*;
    use super::*;

    /// A grammar of one rule, with "please" as opener and closer.
    fn grammar(rule: Rule) -> Grammar {
        Grammar::new(
            &[rule],
            Margins {
                openers: Phrase::read_all(&[&["please"]]),
                closers: Phrase::read_all(&[&["please"]]),
            },
        )
    }

    fn found(rule: Rule, text: &str) -> Option<String> {
        let read = words(text);
        grammar(rule).find(&read).map(spell)
    }

    #[test]
    fn a_rule_reports_the_words_it_consumed_longest_alternative_first() {
        let rule: Rule = &[
            One(&[&["no", "no more"]]),
            One(&[&["texts", "text messages"]]),
        ];
        assert_eq!(
            found(rule, "no more text messages!"),
            Some("no more text messages".into())
        );
        assert_eq!(found(rule, "ok no texts"), Some("no texts".into()));
    }

    #[test]
    fn an_optional_slot_is_taken_or_skipped() {
        let rule: Rule = &[One(&[&["don't"]]), Maybe(&[&["ever"]]), One(&[&["text"]])];
        assert_eq!(
            found(rule, "don't ever text"),
            Some("don't ever text".into())
        );
        assert_eq!(found(rule, "don't text"), Some("don't text".into()));
        assert_eq!(found(rule, "don't call"), None);
    }

    #[test]
    fn a_match_never_spans_two_sentences() {
        let rule: Rule = &[One(&[&["don't"]]), One(&[&["text"]])];
        assert_eq!(found(rule, "I don't. Text me tomorrow"), None);
        assert_eq!(found(rule, "ok. Don't text"), Some("don't text".into()));
    }

    #[test]
    fn then_looks_ahead_without_consuming_or_accepts_a_clause_end() {
        let rule: Rule = &[One(&[&["don't text"]]), Then(&[One(&[&["me"]])])];
        assert_eq!(found(rule, "don't text me"), Some("don't text".into()));
        assert_eq!(
            found(rule, "please don't text please"),
            Some("don't text".into())
        );
        assert_eq!(found(rule, "don't text, call"), Some("don't text".into()));
        assert_eq!(found(rule, "don't text my husband"), None);
    }

    #[test]
    fn unless_and_none_of_reject_what_follows() {
        let rule: Rule = &[
            One(&[&["stop"]]),
            Unless(&[One(&[&["paying"]]), NoneOf(&["texts"])]),
        ];
        assert_eq!(found(rule, "stop"), Some("stop".into()));
        assert_eq!(found(rule, "should I stop paying the card"), None);
        assert_eq!(
            found(rule, "stop paying for these texts"),
            Some("stop".into())
        );
        // NoneOf looks a few words ahead only.
        assert_eq!(found(rule, "stop paying the card on time or texts"), None);
    }

    #[test]
    fn start_end_and_not_after_place_a_rule_in_its_clause() {
        let start: Rule = &[Start, One(&[&["no texts"]]), End];
        assert_eq!(
            found(start, "please no texts please"),
            Some("no texts".into())
        );
        assert_eq!(found(start, "Yes. No texts."), Some("no texts".into()));
        assert_eq!(found(start, "I got no texts yet"), None);
        let not_after: Rule = &[NotAfter(&["i"]), One(&[&["don't text"]])];
        assert_eq!(found(not_after, "I don't text much"), None);
        assert_eq!(
            found(not_after, "I said don't text"),
            Some("don't text".into())
        );
        assert_eq!(
            found(not_after, "Sorry I. Don't text"),
            Some("don't text".into())
        );
    }

    #[test]
    fn a_bare_word_matches_an_accented_entry_but_a_typed_accent_is_meant() {
        let rule: Rule = &[One(&[&["arrête", "=dừng"]])];
        assert_eq!(found(rule, "ARRETE"), Some("arrete".into()));
        assert_eq!(found(rule, "Arrête"), Some("arrête".into()));
        assert_eq!(found(rule, "arrêté"), None);
        assert_eq!(found(rule, "dừng"), Some("dừng".into()));
        assert_eq!(found(rule, "dung"), None);
    }

    #[test]
    fn a_rule_of_only_optional_slots_is_never_tried() {
        let g = grammar(&[Maybe(&[&["stop"]])]);
        assert!(!g.every_rule_is_indexed());
        assert_eq!(g.find(&words("stop")), None);
    }
}
