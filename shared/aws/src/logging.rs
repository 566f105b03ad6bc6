//! A function's logs on Lambda: one JSON line per event, at the level the
//! deployment asks for.

use tracing_subscriber::EnvFilter;

/// The filter: `RUST_LOG` when set, else the log level Lambda passes the
/// function (`AWS_LAMBDA_LOG_LEVEL`, the template's `ApplicationLogLevel`;
/// its `FATAL` is `error`), else `info`.
pub fn filter_directive(rust_log: Option<&str>, lambda_level: Option<&str>) -> String {
    if let Some(directive) = rust_log.filter(|d| !d.trim().is_empty()) {
        return directive.to_owned();
    }
    let level = lambda_level.map(|l| l.trim().to_ascii_lowercase());
    match level.as_deref() {
        Some(l @ ("trace" | "debug" | "info" | "warn" | "error")) => l.to_owned(),
        Some("fatal") => "error".to_owned(),
        _ => "info".to_owned(),
    }
}

/// Installs the subscriber; call once, first thing in `main`.
pub fn init() {
    let directive = filter_directive(
        std::env::var("RUST_LOG").ok().as_deref(),
        std::env::var("AWS_LAMBDA_LOG_LEVEL").ok().as_deref(),
    );
    let filter = EnvFilter::try_new(&directive).unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .with_ansi(false)
        .init();
}

#[cfg(test)]
mod tests {
    use super::filter_directive;

    #[test]
    fn rust_log_then_the_lambda_level_then_info() {
        assert_eq!(
            filter_directive(Some("sheetsync=trace"), Some("ERROR")),
            "sheetsync=trace"
        );
        assert_eq!(filter_directive(None, Some("DEBUG")), "debug");
        assert_eq!(filter_directive(Some(" "), Some("WARN")), "warn");
        assert_eq!(filter_directive(None, Some("FATAL")), "error");
        assert_eq!(filter_directive(None, Some("LOUD")), "info");
        assert_eq!(filter_directive(None, None), "info");
    }
}
