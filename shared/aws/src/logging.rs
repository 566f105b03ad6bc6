//! A function's logs on Lambda: one event per line, at the level and in the
//! format the deployment asks for, as the Lambda runtime passes them
//! (`AWS_LAMBDA_LOG_LEVEL` and `AWS_LAMBDA_LOG_FORMAT`, set from the
//! template's `LoggingConfig`), refined by `RUST_LOG`.

use tracing::Subscriber;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// The filter. Lambda's level, when set, is the default level (its `FATAL`
/// is `error`), and `RUST_LOG`'s per-target directives
/// (`sheetsync_writer=debug`) refine it; without it, `RUST_LOG` whole; else
/// `info`.
pub fn filter_directive(rust_log: Option<&str>, lambda_level: Option<&str>) -> String {
    let rust_log = rust_log.map(str::trim).filter(|d| !d.is_empty());
    let level = lambda_level.map(|l| l.trim().to_ascii_lowercase());
    let level = match level.as_deref() {
        Some(l @ ("trace" | "debug" | "info" | "warn" | "error")) => Some(l.to_owned()),
        Some("fatal") => Some("error".to_owned()),
        _ => None,
    };
    match (level, rust_log) {
        (Some(level), Some(rust_log)) => std::iter::once(level.as_str())
            .chain(rust_log.split(',').filter(|d| d.contains('=')))
            .collect::<Vec<_>>()
            .join(","),
        (Some(level), None) => level,
        (None, Some(rust_log)) => rust_log.to_owned(),
        (None, None) => "info".to_owned(),
    }
}

/// JSON unless the deployment asks for `Text`.
pub fn json_format(lambda_format: Option<&str>) -> bool {
    !lambda_format.is_some_and(|f| f.trim().eq_ignore_ascii_case("text"))
}

/// The subscriber for these settings, writing to `writer`.
pub fn subscriber<W>(directive: &str, json: bool, writer: W) -> Box<dyn Subscriber + Send + Sync>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_new(directive).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(writer);
    if json {
        Box::new(builder.json().with_current_span(false).finish())
    } else {
        Box::new(builder.finish())
    }
}

/// Installs the subscriber from the environment; call once, first thing in
/// `main`.
pub fn init() {
    let var = |name: &str| std::env::var(name).ok();
    let directive = filter_directive(
        var("RUST_LOG").as_deref(),
        var("AWS_LAMBDA_LOG_LEVEL").as_deref(),
    );
    let json = json_format(var("AWS_LAMBDA_LOG_FORMAT").as_deref());
    // Fails only when a subscriber is already installed: that one stays.
    let _ = tracing::subscriber::set_global_default(subscriber(&directive, json, std::io::stdout));
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[test]
    fn lambda_level_then_rust_log_then_info() {
        assert_eq!(filter_directive(None, Some("DEBUG")), "debug");
        assert_eq!(filter_directive(Some("warn"), Some("DEBUG")), "debug");
        assert_eq!(
            filter_directive(Some("warn,sheetsync_writer=trace"), Some("ERROR")),
            "error,sheetsync_writer=trace"
        );
        assert_eq!(
            filter_directive(Some("sheetsync=trace"), None),
            "sheetsync=trace"
        );
        assert_eq!(filter_directive(Some(" "), Some("WARN")), "warn");
        assert_eq!(filter_directive(None, Some("FATAL")), "error");
        assert_eq!(filter_directive(None, Some("LOUD")), "info");
        assert_eq!(filter_directive(None, None), "info");
    }

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// What one debug and one info event print under these settings.
    fn logged(lambda_level: Option<&str>, lambda_format: Option<&str>) -> String {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = subscriber(
            &filter_directive(None, lambda_level),
            json_format(lambda_format),
            move || writer.clone(),
        );
        tracing::subscriber::with_default(subscriber, || {
            tracing::debug!(binding = "orders", "debug event");
            tracing::info!(binding = "orders", "info event");
        });
        String::from_utf8(captured.0.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn lambda_log_level_debug_yields_debug_events() {
        let lines = logged(Some("DEBUG"), Some("JSON"));
        let events: Vec<serde_json::Value> = lines
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let levels: Vec<&str> = events
            .iter()
            .map(|e| e["level"].as_str().unwrap())
            .collect();
        assert_eq!(levels, ["DEBUG", "INFO"]);
        assert_eq!(events[0]["fields"]["message"], "debug event");
        assert_eq!(events[0]["fields"]["binding"], "orders");

        let info_only = logged(Some("INFO"), None);
        assert_eq!(info_only.lines().count(), 1, "{info_only}");
        assert!(info_only.contains("\"info event\""), "{info_only}");
    }

    #[test]
    fn text_format_when_the_deployment_asks() {
        let text = logged(None, Some("Text"));
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(text.contains(" INFO "), "{text}");
        assert!(text.contains("info event binding=\"orders\""), "{text}");
        assert!(serde_json::from_str::<serde_json::Value>(text.trim()).is_err());
    }
}
