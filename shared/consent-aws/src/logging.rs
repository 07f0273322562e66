//! The functions' log lines, as Lambda's advanced logging controls ask for them: JSON when
//! `AWS_LAMBDA_LOG_FORMAT` says so (`infra/template.yaml`: `LogFormat: JSON`), at the level of
//! `AWS_LAMBDA_LOG_LEVEL`, else of `RUST_LOG`, else INFO.
//!
//! The same contract as `lambda_runtime`'s `init_default_subscriber`, filtered by a
//! [`Targets`] list instead of an `EnvFilter`: `RUST_LOG`'s usual forms (`debug`,
//! `consent=debug,info`) still work, span-field and regex directives do not, and `regex` stays
//! out of the functions that need it for nothing else (`docs/performance.md`, the init
//! section's fourth change).

use std::str::FromStr;

use tracing::Subscriber;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt as _;

/// The level when neither variable sets one.
pub const DEFAULT_LEVEL: LevelFilter = LevelFilter::INFO;

/// Installs the process's subscriber ([`lambda_subscriber`] on stdout). A level that does not
/// parse is logged and INFO used.
pub fn init_lambda_logging() {
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let lambda_level = std::env::var("AWS_LAMBDA_LOG_LEVEL").ok();
    let rust_log = std::env::var("RUST_LOG").ok();
    let (filter, refused) = match log_filter(lambda_level.as_deref(), rust_log.as_deref()) {
        Ok(filter) => (filter, None),
        Err(refused) => (Targets::new().with_default(DEFAULT_LEVEL), Some(refused)),
    };
    let subscriber = lambda_subscriber(json, filter, std::io::stdout);
    if tracing::subscriber::set_global_default(subscriber).is_err() {
        // A test harness or an earlier call set one; its lines still go somewhere.
        return;
    }
    if let Some(refused) = refused {
        tracing::warn!(value = %refused.value, "log level not understood; logging at INFO");
    }
}

/// One line per event (a JSON object when `json`) to `writer`, filtered by `filter`: no
/// colour, no target, no timestamp (CloudWatch stamps each line).
pub fn lambda_subscriber<W>(
    json: bool,
    filter: Targets,
    writer: W,
) -> Box<dyn Subscriber + Send + Sync>
where
    W: for<'writer> MakeWriter<'writer> + Send + Sync + 'static,
{
    let lines = tracing_subscriber::fmt::layer()
        .with_target(false)
        .without_time()
        .with_ansi(false)
        .with_writer(writer);
    let registry = tracing_subscriber::registry().with(filter);
    if json {
        Box::new(registry.with(lines.json()))
    } else {
        Box::new(registry.with(lines))
    }
}

/// A log level setting that does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedLevel {
    /// The setting as given.
    pub value: String,
}

/// The filter for Lambda's `AWS_LAMBDA_LOG_LEVEL` (a level; Lambda's FATAL logs errors) or,
/// when that is unset or blank, `RUST_LOG` (`target=level` directives); INFO when both are.
pub fn log_filter(
    lambda_level: Option<&str>,
    rust_log: Option<&str>,
) -> Result<Targets, RefusedLevel> {
    let refused = |value: &str| RefusedLevel {
        value: value.to_string(),
    };
    if let Some(level) = lambda_level.map(str::trim).filter(|l| !l.is_empty()) {
        let level = if level.eq_ignore_ascii_case("fatal") {
            LevelFilter::ERROR
        } else {
            LevelFilter::from_str(level).map_err(|_| refused(level))?
        };
        return Ok(Targets::new().with_default(level));
    }
    match rust_log.map(str::trim).filter(|d| !d.is_empty()) {
        None => Ok(Targets::new().with_default(DEFAULT_LEVEL)),
        Some(directives) => {
            let targets = Targets::from_str(directives).map_err(|_| refused(directives))?;
            // A list naming only targets leaves everything else at the default, not off.
            Ok(match targets.default_level() {
                Some(_) => targets,
                None => targets.with_default(DEFAULT_LEVEL),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use tracing::Level;

    fn enabled(filter: &Targets, target: &str, level: Level) -> bool {
        filter.would_enable(target, &level)
    }

    #[test]
    fn with_neither_variable_set_info_and_above_are_logged() {
        let filter = log_filter(None, None).unwrap();
        assert!(enabled(&filter, "consent", Level::INFO));
        assert!(!enabled(&filter, "consent", Level::DEBUG));
        assert_eq!(
            log_filter(Some(" "), Some("")).unwrap().default_level(),
            filter.default_level()
        );
    }

    #[test]
    fn lambdas_level_wins_over_rust_log_and_fatal_logs_errors() {
        let filter = log_filter(Some("DEBUG"), Some("error")).unwrap();
        assert!(enabled(&filter, "consent", Level::DEBUG));
        let fatal = log_filter(Some("FATAL"), None).unwrap();
        assert!(enabled(&fatal, "consent", Level::ERROR));
        assert!(!enabled(&fatal, "consent", Level::WARN));
    }

    #[test]
    fn rust_log_directives_set_levels_per_target() {
        let filter = log_filter(None, Some("consent_aws=debug,warn")).unwrap();
        assert!(enabled(&filter, "consent_aws::store", Level::DEBUG));
        assert!(!enabled(&filter, "aws_smithy_runtime", Level::INFO));
        assert!(enabled(&filter, "aws_smithy_runtime", Level::WARN));
        let only_target = log_filter(None, Some("consent=trace")).unwrap();
        assert!(enabled(&only_target, "consent", Level::TRACE));
        assert!(enabled(&only_target, "hyper", Level::INFO));
        assert!(!enabled(&only_target, "hyper", Level::DEBUG));
    }

    /// The lines `subscriber` writes while `f` runs.
    fn lines_of(json: bool, filter: Targets, f: impl FnOnce()) -> String {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&buffer);
        let writer = move || Sink(Arc::clone(&sink));
        tracing::subscriber::with_default(lambda_subscriber(json, filter, writer), f);
        let bytes = buffer.lock().map(|b| b.clone()).unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if let Ok(mut bytes) = self.0.lock() {
                bytes.extend_from_slice(buf);
            }
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn in_json_each_event_is_one_object_and_filtered_levels_write_nothing() {
        let filter = log_filter(Some("INFO"), None).unwrap();
        let text = lines_of(true, filter, || {
            tracing::debug!("not written");
            tracing::warn!(number = "+15555550100", "throttled");
        });
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1, "{text}");
        let line: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
        assert_eq!(line["level"], "WARN");
        assert_eq!(line["fields"]["message"], "throttled");
        assert_eq!(line["fields"]["number"], "+15555550100");
        assert!(line.get("timestamp").is_none(), "{line}");
    }

    #[test]
    fn in_plain_text_lines_carry_no_colour_codes() {
        let text = lines_of(false, log_filter(None, None).unwrap(), || {
            tracing::error!("refused");
        });
        assert!(text.contains("ERROR") && text.contains("refused"), "{text}");
        assert!(!text.contains('\u{1b}'), "{text:?}");
    }

    #[test]
    fn a_level_that_does_not_parse_is_refused_with_what_was_given() {
        assert_eq!(
            log_filter(Some("LOUD"), None).unwrap_err(),
            RefusedLevel {
                value: "LOUD".to_string()
            }
        );
        assert_eq!(
            log_filter(None, Some("consent=loud")).unwrap_err().value,
            "consent=loud"
        );
    }
}
