//! The sandbox firm templates render in: the allowed syntax only, no loader, strict about
//! undefined names, fuel- and output-limited, so no template can run long or build a value
//! larger than its source and variables.

use std::collections::HashSet;
use std::io;
use std::sync::OnceLock;

use minijinja::{AutoEscape, Environment, ErrorKind, UndefinedBehavior};

use super::TemplateVars;
use crate::messages::syntax;

/// Instructions one render may run: far above what a real template needs, low enough that a
/// loop ends in milliseconds.
pub(super) const FUEL: u64 = 50_000;

/// Nesting depth a render may reach; real templates nest an `if` or two.
pub(super) const RECURSION_LIMIT: usize = 32;

/// The variables a template may use, as `TemplateVars` names them.
pub(super) const KNOWN_VARS: [&str; 6] = [
    "firm_name",
    "first_name",
    "confirm_url",
    "support_phone",
    "support_email",
    "website",
];

/// One template source of a message, with its limits.
#[derive(Debug, Clone, Copy)]
pub(super) struct Part {
    /// The name minijinja reports in errors; "html" alone turns on HTML escaping.
    name: &'static str,
    /// How problems name it.
    label: &'static str,
    /// Longest accepted source, in characters.
    max_source: usize,
    /// Longest accepted output, in characters.
    max_output: usize,
}

pub(super) const BODY: Part = Part {
    name: "body",
    label: "the SMS body",
    max_source: 10_000,
    max_output: crate::limits::MAX_SMS_CHARS,
};
pub(super) const SUBJECT: Part = Part {
    name: "subject",
    label: "the email subject",
    max_source: 1_000,
    max_output: 500,
};
pub(super) const TEXT: Part = Part {
    name: "text",
    label: "the email text",
    max_source: 50_000,
    max_output: 100_000,
};
pub(super) const HTML: Part = Part {
    name: "html",
    label: "the email HTML",
    max_source: 100_000,
    max_output: 200_000,
};

/// The shared sandbox: only the allowed filters, tests and functions
/// (`messages::syntax`), no loader (so no `include`, `import` or `extends` can reach a file),
/// strict about undefined names, fuel-limited.
pub(super) fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        use minijinja::{filters, functions, tests};
        let mut env = Environment::empty();
        env.set_fuel(Some(FUEL));
        env.set_recursion_limit(RECURSION_LIMIT);
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_auto_escape_callback(|name| {
            if name == HTML.name {
                AutoEscape::Html
            } else {
                AutoEscape::None
            }
        });
        // No `safe` (it would print a contact's name unescaped in HTML), and nothing that
        // makes a value much longer than its input (see messages::syntax).
        env.add_filter("upper", filters::upper);
        env.add_filter("lower", filters::lower);
        env.add_filter("title", filters::title);
        env.add_filter("capitalize", filters::capitalize);
        env.add_filter("trim", filters::trim);
        env.add_filter("default", filters::default);
        env.add_filter("length", filters::length);
        env.add_filter("first", filters::first);
        env.add_filter("last", filters::last);
        env.add_test("defined", tests::is_defined);
        env.add_test("undefined", tests::is_undefined);
        env.add_test("none", tests::is_none);
        env.add_test("eq", tests::is_eq);
        env.add_test("ne", tests::is_ne);
        env.add_test("in", tests::is_in);
        env.add_test("startingwith", tests::is_startingwith);
        env.add_test("endingwith", tests::is_endingwith);
        env.add_function("range", functions::range);
        env
    })
}

/// Renders one source in the sandbox, or lists what is wrong with it.
pub(super) fn render_part(
    part: Part,
    source: &str,
    vars: &TemplateVars,
) -> Result<String, Vec<String>> {
    if source.chars().count() > part.max_source {
        return Err(vec![format!(
            "{} is longer than {} characters",
            part.label, part.max_source
        )]);
    }
    // `{% autoescape false %}` would switch HTML escaping off, `'x' * 100000000` would
    // allocate 100 MB (minijinja folds constants while compiling): only the allowed syntax
    // compiles. Names are reported after the variable check, which words a typo better.
    let disallowed = syntax::disallowed_syntax(source, &KNOWN_VARS);
    let refuse = |found: &[syntax::Disallowed]| -> Vec<String> {
        found
            .iter()
            .map(|what| {
                format!(
                    "{} may not use {what} (a template may use {{% if %}}, {{% for %}}, the \
                     variables, comparisons and the filters {})",
                    part.label,
                    syntax::ALLOWED_FILTERS.join(", ")
                )
            })
            .collect()
    };
    if disallowed.iter().any(|d| d.acts_at_compile_time()) {
        return Err(refuse(&disallowed));
    }
    let env = environment();
    let template = env
        .template_from_named_str(part.name, source)
        .map_err(|err| vec![err.to_string()])?;
    let unknown = unknown_variables(env, &template.undeclared_variables(false));
    if !unknown.is_empty() {
        return Err(unknown
            .into_iter()
            .map(|v| {
                format!(
                    "{} uses unknown variable `{v}` (known: {})",
                    part.label,
                    KNOWN_VARS.join(", ")
                )
            })
            .collect());
    }
    if !disallowed.is_empty() {
        return Err(refuse(&disallowed));
    }
    let mut out = CappedWriter {
        buf: Vec::new(),
        // Every char is at most four bytes; the char count is checked below.
        cap_bytes: part.max_output.saturating_mul(4),
        overflowed: false,
    };
    let too_long = || {
        vec![format!(
            "{} renders to more than {} characters",
            part.label, part.max_output
        )]
    };
    if let Err(err) = template.render_captured_to(vars, &mut out) {
        if out.overflowed {
            return Err(too_long());
        }
        let message = if err.kind() == ErrorKind::OutOfFuel {
            format!("{} takes too much work to render ({err})", part.label)
        } else {
            err.to_string()
        };
        return Err(vec![message]);
    }
    let rendered = String::from_utf8(out.buf)
        .map_err(|_| vec![format!("{} renders to invalid UTF-8", part.label)])?;
    if rendered.chars().count() > part.max_output {
        return Err(too_long());
    }
    Ok(rendered)
}

/// Names a template reads that are neither our variables nor sandbox globals, sorted.
pub(super) fn unknown_variables(env: &Environment<'_>, used: &HashSet<String>) -> Vec<String> {
    let mut unknown: Vec<String> = used
        .iter()
        .filter(|v| {
            !KNOWN_VARS.contains(&v.as_str())
                && v.as_str() != "loop"
                && !env.globals().any(|(g, _)| g == v.as_str())
        })
        .cloned()
        .collect();
    unknown.sort();
    unknown
}

/// Collects rendered output and stops the render once it passes a byte cap, so a loop cannot
/// build an unbounded string.
pub(super) struct CappedWriter {
    buf: Vec<u8>,
    cap_bytes: usize,
    overflowed: bool,
}

impl io::Write for CappedWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.buf.len().saturating_add(data.len()) > self.cap_bytes {
            self.overflowed = true;
            return Err(io::Error::other("template output too long"));
        }
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
