//! CloudWatch Embedded Metric Format (EMF) lines for the sheetsync functions.
//!
//! Lambda sends every stdout line to CloudWatch Logs, and CloudWatch Logs
//! turns lines in this format into metrics: the functions need no agent, no
//! `cloudwatch:PutMetricData` permission and no request on their hot path.
//! template.yaml's lag alarm reads `CommitToSheetLagMs` from here.
//!
//! ```
//! use sheetsync_metrics::{Metrics, names};
//!
//! let mut m = Metrics::with_namespace("sheetsync", "sheet-writer");
//! m.set_binding("orders");
//! m.count(names::ROWS_APPLIED, 3);
//! m.millis(names::COMMIT_TO_SHEET_LAG_MS, 840.0);
//! let lines = m.to_lines(1_700_000_000_000);
//! assert_eq!(lines.len(), 1);
//! assert!(lines[0].starts_with(r#"{"_aws":{"Timestamp":1700000000000,"#));
//! // In a handler: m.emit() prints the line(s) and clears the values.
//! ```

mod line;
pub mod names;

use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use line::Line;

/// Used when `SHEETSYNC_METRICS_NAMESPACE` is unset (template.yaml sets it
/// from its `MetricsNamespace` parameter).
pub const DEFAULT_NAMESPACE: &str = "sheetsync";
pub const NAMESPACE_ENV: &str = "SHEETSYNC_METRICS_NAMESPACE";

/// EMF allows at most 100 values per metric and 100 metrics per line; more
/// go into further lines.
const MAX_PER_LINE: usize = 100;

/// CloudWatch's standard units (the subset sheetsync uses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Count,
    Milliseconds,
    Seconds,
    Bytes,
    Percent,
    None,
}

impl Unit {
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Milliseconds => "Milliseconds",
            Unit::Seconds => "Seconds",
            Unit::Bytes => "Bytes",
            Unit::Percent => "Percent",
            Unit::None => "None",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
struct Metric {
    name: String,
    unit: Unit,
    values: Vec<f64>,
}

/// The metrics of one unit of work (an invocation, a batch), for one
/// function and optionally one binding.
///
/// Dimensions: always `[function]` (what the alarms use), plus
/// `[function, binding]` when a binding is set.
#[derive(Debug, Clone, PartialEq)]
pub struct Metrics {
    namespace: String,
    function: String,
    binding: Option<String>,
    metrics: Vec<Metric>,
    properties: Vec<(String, serde_json::Value)>,
}

impl Metrics {
    /// The namespace comes from `SHEETSYNC_METRICS_NAMESPACE`, else
    /// [`DEFAULT_NAMESPACE`]. `function` is the stable name
    /// (`sheet-webhook`, `outbox-relay`, `sheet-writer`), not the deployed
    /// function's generated name, so alarms need not know the stack.
    pub fn new(function: &str) -> Metrics {
        let namespace = std::env::var(NAMESPACE_ENV)
            .ok()
            .filter(|ns| !ns.is_empty())
            .unwrap_or_else(|| DEFAULT_NAMESPACE.to_owned());
        Metrics::with_namespace(&namespace, function)
    }

    pub fn with_namespace(namespace: &str, function: &str) -> Metrics {
        Metrics {
            namespace: namespace.to_owned(),
            function: function.to_owned(),
            binding: None,
            metrics: Vec::new(),
            properties: Vec::new(),
        }
    }

    pub fn set_binding(&mut self, binding: &str) -> &mut Self {
        self.binding = Some(binding.to_owned());
        self
    }

    pub fn clear_binding(&mut self) -> &mut Self {
        self.binding = None;
        self
    }

    /// Records a value. Recording the same name again adds a value (EMF
    /// carries them as an array, so percentiles stay exact); the unit of the
    /// first recording holds for the name. Non-finite values are dropped:
    /// CloudWatch rejects the whole line for one of them.
    pub fn put(&mut self, name: &str, value: f64, unit: Unit) -> &mut Self {
        if !value.is_finite() {
            return self;
        }
        match self.metrics.iter_mut().find(|m| m.name == name) {
            Some(m) => m.values.push(value),
            None => self.metrics.push(Metric {
                name: name.to_owned(),
                unit,
                values: vec![value],
            }),
        }
        self
    }

    pub fn count(&mut self, name: &str, n: u64) -> &mut Self {
        self.put(name, n as f64, Unit::Count)
    }

    pub fn millis(&mut self, name: &str, ms: f64) -> &mut Self {
        self.put(name, ms, Unit::Milliseconds)
    }

    /// A searchable field of the log line that is not a metric (request id,
    /// message id). Keys that name a dimension, a metric or `_aws` are
    /// ignored: they would change what the line means.
    pub fn property(&mut self, key: &str, value: impl Into<serde_json::Value>) -> &mut Self {
        if !matches!(key, "_aws" | "function" | "binding") {
            let value = value.into();
            match self.properties.iter_mut().find(|(k, _)| k == key) {
                Some(slot) => slot.1 = value,
                None => self.properties.push((key.to_owned(), value)),
            }
        }
        self
    }

    pub fn is_empty(&self) -> bool {
        self.metrics.is_empty()
    }

    /// The EMF lines for these metrics at `timestamp_ms` (milliseconds since
    /// the Unix epoch): none when nothing was recorded, usually one.
    pub fn to_lines(&self, timestamp_ms: u64) -> Vec<String> {
        let chunked: Vec<(&Metric, Vec<&[f64]>)> = self
            .metrics
            .iter()
            .map(|m| (m, m.values.chunks(MAX_PER_LINE).collect()))
            .collect();
        let rounds = chunked.iter().map(|(_, c)| c.len()).max().unwrap_or(0);
        let mut lines = Vec::new();
        for round in 0..rounds {
            let in_round: Vec<(&str, Unit, &[f64])> = chunked
                .iter()
                .filter_map(|(m, chunks)| chunks.get(round).map(|c| (m.name.as_str(), m.unit, *c)))
                .collect();
            for group in in_round.chunks(MAX_PER_LINE) {
                let line = Line {
                    namespace: &self.namespace,
                    timestamp_ms,
                    function: &self.function,
                    binding: self.binding.as_deref(),
                    metrics: group,
                    properties: &self.properties,
                };
                lines.push(line.to_json());
            }
        }
        lines
    }

    /// Writes the lines to `out` and clears the recorded values and
    /// properties (function and binding stay), ready for the next unit of work.
    pub fn emit_to(&mut self, out: &mut impl Write, timestamp_ms: u64) -> std::io::Result<()> {
        for line in self.to_lines(timestamp_ms) {
            writeln!(out, "{line}")?;
        }
        out.flush()?;
        self.metrics.clear();
        self.properties.clear();
        Ok(())
    }

    /// Prints the lines to stdout, now. A failed write is ignored: losing a
    /// metric must not fail the invocation that produced it.
    pub fn emit(&mut self) {
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        let _ = self.emit_to(&mut out, now_ms());
        self.metrics.clear();
        self.properties.clear();
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests;
