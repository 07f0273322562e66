//! The template syntax a firm may use: an allow-list, so that no value a template builds can
//! outgrow its source and variables. Fuel bounds the work and the output cap bounds what is
//! printed, but neither bounds what a render allocates: `'x' * 100000000`, doubling with
//! `set`, or amplifying filters (`center`, `replace`, `join`) can. So a template may use only
//! `if`/`elif`/`else` and `for` (not `recursive`), the variables, comparisons, and the
//! non-amplifying filters and tests below; no assignment, macro, call, filter block, string
//! operator or arithmetic.
//!
//! The sandbox environment holds only these filters, tests and functions too (see
//! `templates::environment`), so a name that slips past this scan (a loop variable named like
//! a filter) still finds nothing to call.

use std::collections::BTreeSet;

/// Block tags a template may use.
pub const ALLOWED_TAGS: &[&str] = &["if", "elif", "else", "endif", "for", "endfor"];

/// Filters a template may use: none makes a value longer than a few times its input.
pub const ALLOWED_FILTERS: &[&str] = &[
    "upper",
    "lower",
    "title",
    "capitalize",
    "trim",
    "default",
    "length",
    "first",
    "last",
];

/// Tests a template may use (`x is defined`).
pub const ALLOWED_TESTS: &[&str] = &[
    "defined",
    "undefined",
    "none",
    "eq",
    "ne",
    "in",
    "startingwith",
    "endingwith",
];

/// Functions a template may call; `range` is lazy and minijinja caps it at 100,000 items.
pub const ALLOWED_FUNCTIONS: &[&str] = &["range"];

/// Keywords of expressions and `for` loops.
const KEYWORDS: &[&str] = &[
    "in", "not", "and", "or", "is", "if", "else", "true", "false", "none", "True", "False", "None",
    "loop",
];

/// Attributes of `loop` a template may read.
const LOOP_ATTRIBUTES: &[&str] = &[
    "index",
    "index0",
    "revindex",
    "revindex0",
    "first",
    "last",
    "length",
];

/// Operators outside the allow-list, longest first so `**` is reported as itself.
const OPERATORS_ALLOWED: &[&str] = &[
    "==", "!=", "<=", ">=", "<", ">", "(", ")", "[", "]", ",", ".", "|", ":", "-",
];

/// A construct outside the allow-list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disallowed {
    /// A block tag (`set`, `macro`, `autoescape` ...).
    Tag(String),
    /// An operator (`*`, `~`, `+` ...) or brace.
    Operator(String),
    /// A name that is no variable, allowed filter, test, function or keyword.
    Name(String),
}

impl Disallowed {
    /// Whether minijinja may evaluate it while compiling: it folds constant operators
    /// (`'x' * 100000000` allocates at compile time), so tags and operators must be refused
    /// before the source is compiled; names are only looked up when a render runs.
    pub fn acts_at_compile_time(&self) -> bool {
        !matches!(self, Self::Name(_))
    }
}

impl std::fmt::Display for Disallowed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Tag(tag) => write!(f, "{{% {tag} %}}"),
            Self::Operator(op) => write!(f, "`{op}`"),
            Self::Name(name) => write!(f, "`{name}`"),
        }
    }
}

/// Every construct in `source` outside the allow-list, each once, in order of appearance,
/// given the variables the template may read. A source minijinja cannot parse is left to its
/// parser: the scan stops where the syntax breaks.
pub fn disallowed_syntax(source: &str, variables: &[&str]) -> Vec<Disallowed> {
    let mut found: Vec<Disallowed> = Vec::new();
    let mut report = |what: Disallowed| {
        if !found.contains(&what) {
            found.push(what);
        }
    };
    let mut loop_names: BTreeSet<String> = BTreeSet::new();
    let mut rest = source;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        let (closer, statement) = match after.chars().next() {
            Some('{') => ("}}", false),
            Some('%') => ("%}", true),
            Some('#') => {
                // A comment: skip to its end.
                match after[1..].find("#}") {
                    Some(end) => {
                        rest = &after[1 + end + 2..];
                        continue;
                    }
                    None => break,
                }
            }
            _ => {
                rest = after;
                continue;
            }
        };
        let block = after[1..].trim_start_matches(['-', '+']);
        let Some((tokens, consumed)) = tokenize(block, closer) else {
            break;
        };
        rest = &block[consumed..];
        let mut tokens = tokens.into_iter().peekable();
        if statement {
            match tokens.next() {
                Some(Token::Name("for")) => {
                    // The loop's own names, up to `in`.
                    while let Some(token) = tokens.next_if(|t| *t != Token::Name("in")) {
                        if let Token::Name(name) = token {
                            loop_names.insert(name.to_string());
                        }
                    }
                }
                Some(Token::Name(tag)) if ALLOWED_TAGS.contains(&tag) => {}
                // The tag is the problem; what follows it means nothing on its own.
                Some(Token::Name(tag)) => {
                    report(Disallowed::Tag(tag.to_string()));
                    continue;
                }
                Some(Token::Symbol(symbol)) => report(Disallowed::Operator(symbol.to_string())),
                None => {}
            }
        }
        for token in tokens {
            match token {
                Token::Name(name) => {
                    let allowed = KEYWORDS.contains(&name)
                        || variables.contains(&name)
                        || ALLOWED_FILTERS.contains(&name)
                        || ALLOWED_TESTS.contains(&name)
                        || ALLOWED_FUNCTIONS.contains(&name)
                        || LOOP_ATTRIBUTES.contains(&name)
                        || loop_names.contains(name);
                    if !allowed {
                        report(Disallowed::Name(name.to_string()));
                    }
                }
                Token::Symbol(symbol) => report(Disallowed::Operator(symbol.to_string())),
            }
        }
    }
    found
}

/// A word or an operator outside the allow-list; strings and numbers are not kept.
#[derive(Debug, PartialEq, Eq)]
enum Token<'a> {
    Name(&'a str),
    Symbol(&'a str),
}

/// Tokens of one block up to its `closer`, and the bytes consumed (closer included); `None` if
/// the block never closes (a syntax error the parser reports).
fn tokenize<'a>(block: &'a str, closer: &str) -> Option<(Vec<Token<'a>>, usize)> {
    let bytes = block.as_bytes();
    let mut tokens = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let rest = &block[at..];
        // Whitespace control before the closer (`-%}`, `+%}`) is part of it.
        for marker in ["", "-", "+"] {
            if rest.starts_with(marker) && rest[marker.len()..].starts_with(closer) {
                return Some((tokens, at + marker.len() + closer.len()));
            }
        }
        let c = bytes[at];
        if c.is_ascii_whitespace() {
            at += 1;
        } else if c == b'\'' || c == b'"' {
            at += string_length(rest)?;
        } else if c.is_ascii_digit() {
            at += rest
                .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_' || ch == '.'))
                .unwrap_or(rest.len());
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let end = rest
                .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_'))
                .unwrap_or(rest.len());
            tokens.push(Token::Name(&rest[..end]));
            at += end;
        } else if let Some(op) = OPERATORS_ALLOWED.iter().find(|op| rest.starts_with(**op)) {
            at += op.len();
        } else {
            let len = rest.chars().next().map_or(1, char::len_utf8);
            let len = if rest.starts_with("**") || rest.starts_with("//") {
                2
            } else {
                len
            };
            tokens.push(Token::Symbol(&rest[..len]));
            at += len;
        }
    }
    None
}

/// The length in bytes of the string literal `rest` starts with, quotes included.
fn string_length(rest: &str) -> Option<usize> {
    let quote = rest.as_bytes()[0];
    let mut escaped = false;
    for (i, &b) in rest.as_bytes().iter().enumerate().skip(1) {
        if escaped {
            escaped = false;
        } else if b == b'\\' {
            escaped = true;
        } else if b == quote {
            return Some(i + 1);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const VARS: &[&str] = &["firm_name", "first_name"];

    fn scan(source: &str) -> Vec<String> {
        disallowed_syntax(source, VARS)
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn ordinary_templates_pass() {
        for source in [
            "Hi {{ first_name }}, {{ firm_name|upper }} here. Reply STOP to opt out.",
            "{% if first_name %}Hi {{ first_name|title }}{% else %}Hello{% endif %}",
            "{%- if first_name is defined and first_name != '' -%}x{%- endif %}",
            "{% for c in first_name %}{{ loop.index }}{{ c }}{% endfor %}",
            "{% for i in range(3) if i > 0 %}{{ i }}{% endfor %}",
            "{{ first_name|default('there') }} {{ 'a * b ~ c' }} {# {% set x = 1 %} #}",
            "{{ first_name[0:3] }} {{ -1 }} {{ firm_name|trim|length >= 2 }}",
            "No template syntax at all, {not even} this { .",
        ] {
            assert_eq!(scan(source), Vec::<String>::new(), "{source}");
        }
    }

    #[test]
    fn growth_is_refused() {
        for (source, what) in [
            ("{{ 'x' * 100000000 }}", "`*`"),
            ("{{ firm_name ** 2 }}", "`**`"),
            ("{{ firm_name ~ firm_name }}", "`~`"),
            ("{{ firm_name + firm_name }}", "`+`"),
            ("{{ 10 // 3 }}", "`//`"),
            ("{{ {'a': 1} }}", "`{`"),
            ("{% set x = firm_name %}", "{% set %}"),
            ("{% with x = 1 %}{% endwith %}", "{% with %}"),
            ("{% macro m() %}{% endmacro %}", "{% macro %}"),
            ("{% filter upper %}x{% endfilter %}", "{% filter %}"),
            (
                "{% autoescape false %}{% endautoescape %}",
                "{% autoescape %}",
            ),
            ("{% raw %}x{% endraw %}", "{% raw %}"),
            ("{% include 'x' %}", "{% include %}"),
            ("{% for x in [1] recursive %}{% endfor %}", "`recursive`"),
            ("{{ ''|center(300000000) }}", "`center`"),
            ("{{ firm_name|replace('a', firm_name) }}", "`replace`"),
            ("{{ [firm_name]|join(firm_name) }}", "`join`"),
            ("{{ namespace() }}", "`namespace`"),
            ("{{ loop.cycle(1, 2) }}", "`cycle`"),
            ("{{ firm_name|safe }}", "`safe`"),
        ] {
            let found = scan(source);
            assert!(found.contains(&what.to_string()), "{source}: {found:?}");
        }
    }

    #[test]
    fn strings_hide_nothing_and_show_nothing() {
        // Quotes inside strings, escaped quotes, and closers inside strings.
        assert_eq!(scan(r#"{{ "a }} \" * b" }}"#), Vec::<String>::new());
        assert_eq!(scan(r#"{{ 'it\'s' }}{{ 'x' * 2 }}"#), vec!["`*`"]);
        assert_eq!(scan("{{ '%}' }}{% set x = 1 %}"), vec!["{% set %}"]);
    }

    #[test]
    fn each_problem_is_listed_once() {
        assert_eq!(
            scan("{% set a = 1 %}{% set b = 2 %}{{ firm_name * first_name * 3 }}"),
            vec!["{% set %}", "`*`"]
        );
    }

    #[test]
    fn only_tags_and_operators_act_at_compile_time() {
        let found = disallowed_syntax("{% set x = 1 %}{{ 2 * 3 }}{{ x|center(9) }}", VARS);
        let early: Vec<bool> = found.iter().map(Disallowed::acts_at_compile_time).collect();
        assert_eq!(found.len(), 4, "{found:?}");
        assert_eq!(early, vec![true, true, false, false], "{found:?}");
    }

    #[test]
    fn unclosed_blocks_are_left_to_the_parser() {
        assert_eq!(scan("{{ oops"), Vec::<String>::new());
        assert_eq!(scan("{# never closed"), Vec::<String>::new());
    }
}
