//! The reply classifier against a labelled corpus of replies as clients write them
//! (`tests/data/replies.tsv`): every reply is classified, a table of class × language is printed,
//! and the policy of docs/architecture.md §5.2 is held to figures:
//!
//! - revocations honoured: at least 97% of the replies labelled `opt_out` read as an opt-out;
//! - false revocations: at most 1% of the other replies (`other`, `help`, `opt_in`) read as one;
//! - opt-in is never inferred: no reply labelled anything but `opt_in` reads as an opt-in.
//!
//! The figures come from the data file, so adding a reply the classifier misreads can fail this
//! test. Reproduce with `cargo test -p consent --test keyword_corpus -- --nocapture`.

use std::collections::BTreeMap;
use std::fmt;

use consent::model::keywords::{Classification, classify};

const CORPUS: &str = include_str!("data/replies.tsv");

/// Revocations that must be honoured, in percent.
const MIN_REVOCATIONS_HONOURED: f64 = 97.0;
/// Ordinary replies that may be taken as a revocation, in percent.
const MAX_FALSE_REVOCATIONS: f64 = 1.0;
/// The corpus is meant to be broad; a truncated file should not pass quietly.
const MIN_REPLIES: usize = 400;

/// The four ways a reply is read, as labelled in the corpus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Class {
    OptOut,
    OptIn,
    Help,
    Other,
}

impl Class {
    const ALL: [Class; 4] = [Class::OptOut, Class::OptIn, Class::Help, Class::Other];

    fn parse(label: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.label() == label)
    }

    fn label(self) -> &'static str {
        match self {
            Class::OptOut => "opt_out",
            Class::OptIn => "opt_in",
            Class::Help => "help",
            Class::Other => "other",
        }
    }

    fn of(classification: &Classification) -> Self {
        match classification {
            Classification::OptOut { .. } => Class::OptOut,
            Classification::OptIn { .. } => Class::OptIn,
            Classification::Help { .. } => Class::Help,
            Classification::Other => Class::Other,
        }
    }
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.label())
    }
}

/// One labelled reply of the corpus.
struct Reply {
    line: usize,
    expected: Class,
    language: String,
    text: String,
}

/// Reads the corpus: comments, blank lines and the header are skipped; a malformed line is an
/// error, so that a typo in a label cannot drop a reply from the figures.
fn replies(corpus: &str) -> Result<Vec<Reply>, String> {
    let mut out = Vec::new();
    for (i, raw) in corpus.lines().enumerate() {
        let line = i + 1;
        let row = raw.trim_end_matches('\r');
        if row.trim().is_empty() || row.starts_with('#') || row == "class\tlang\ttext" {
            continue;
        }
        let mut columns = row.splitn(3, '\t');
        let (Some(label), Some(language), Some(text)) =
            (columns.next(), columns.next(), columns.next())
        else {
            return Err(format!(
                "line {line}: expected three tab-separated columns: {row:?}"
            ));
        };
        let expected =
            Class::parse(label).ok_or_else(|| format!("line {line}: unknown class {label:?}"))?;
        if language.len() != 2 || !language.chars().all(|c| c.is_ascii_lowercase()) {
            return Err(format!(
                "line {line}: language {language:?} is not a two-letter code"
            ));
        }
        out.push(Reply {
            line,
            expected,
            language: language.to_owned(),
            text: text.replace("\\n", "\n"),
        });
    }
    Ok(out)
}

/// How the replies of one class and language were read.
#[derive(Default)]
struct Row {
    total: usize,
    correct: usize,
    misread: BTreeMap<Class, usize>,
}

fn percent(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        return 100.0;
    }
    // Counts are far below 2^52: the conversion is exact.
    100.0 * part as f64 / whole as f64
}

#[test]
fn the_corpus_is_read_as_the_policy_says() {
    let replies = replies(CORPUS).unwrap_or_else(|e| panic!("tests/data/replies.tsv: {e}"));
    assert!(
        replies.len() >= MIN_REPLIES,
        "only {} replies in the corpus",
        replies.len()
    );

    let mut table: BTreeMap<(Class, &str), Row> = BTreeMap::new();
    let mut misreads = Vec::new();
    let (mut revocations, mut honoured) = (0, 0);
    let (mut ordinary, mut false_revocations) = (0, 0);
    let mut inferred_opt_ins = Vec::new();
    for reply in &replies {
        let classification = classify(&reply.text);
        let got = Class::of(&classification);
        let row = table
            .entry((reply.expected, reply.language.as_str()))
            .or_default();
        row.total += 1;
        if got == reply.expected {
            row.correct += 1;
        } else {
            *row.misread.entry(got).or_default() += 1;
            misreads.push(format!(
                "  line {:>4} [{}] {} read as {:?}: {:?}",
                reply.line, reply.language, reply.expected, classification, reply.text
            ));
        }
        if reply.expected == Class::OptOut {
            revocations += 1;
            honoured += usize::from(got == Class::OptOut);
        } else {
            ordinary += 1;
            false_revocations += usize::from(got == Class::OptOut);
            if got == Class::OptIn && reply.expected != Class::OptIn {
                inferred_opt_ins.push(format!("line {}: {:?}", reply.line, reply.text));
            }
        }
    }

    println!(
        "\n{:<8} {:<4} {:>6} {:>8}  misread as",
        "class", "lang", "total", "correct"
    );
    for ((class, language), row) in &table {
        let misread: Vec<String> = row
            .misread
            .iter()
            .map(|(got, n)| format!("{got} {n}"))
            .collect();
        println!(
            "{class:<8} {language:<4} {:>6} {:>8}  {}",
            row.total,
            row.correct,
            misread.join(", ")
        );
    }
    let honoured_pct = percent(honoured, revocations);
    let false_pct = percent(false_revocations, ordinary);
    println!(
        "\n{} replies. Revocations honoured: {honoured}/{revocations} ({honoured_pct:.1}%). \
         Ordinary replies taken as revocations: {false_revocations}/{ordinary} ({false_pct:.1}%). \
         Opt-ins inferred from anything else: {}.",
        replies.len(),
        inferred_opt_ins.len()
    );
    if !misreads.is_empty() {
        println!("Misread:\n{}", misreads.join("\n"));
    }

    assert!(
        inferred_opt_ins.is_empty(),
        "opt-in inferred from a reply that is not one: {inferred_opt_ins:?}"
    );
    assert!(
        honoured_pct >= MIN_REVOCATIONS_HONOURED,
        "revocations honoured {honoured_pct:.1}% < {MIN_REVOCATIONS_HONOURED}%"
    );
    assert!(
        false_pct <= MAX_FALSE_REVOCATIONS,
        "ordinary replies taken as revocations {false_pct:.1}% > {MAX_FALSE_REVOCATIONS}%"
    );
}

#[test]
fn a_malformed_corpus_line_is_an_error_not_a_skipped_reply() {
    assert!(replies("opt-out\ten\tSTOP").is_err(), "unknown class");
    assert!(replies("opt_out\tSTOP").is_err(), "missing column");
    assert!(replies("opt_out\tenglish\tSTOP").is_err(), "language code");
    let read = replies("# comment\nclass\tlang\ttext\n\nopt_out\ten\tStop\\nthanks\n");
    assert!(matches!(read.as_deref(), Ok([r]) if r.text == "Stop\nthanks" && r.line == 4));
}
