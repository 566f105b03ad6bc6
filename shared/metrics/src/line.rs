//! One EMF JSON object. Serialised by hand through `serialize_map` so the
//! key order is fixed whatever `serde_json` features other crates enable.

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use crate::Unit;

pub(crate) struct Line<'a> {
    pub namespace: &'a str,
    pub timestamp_ms: u64,
    pub function: &'a str,
    pub binding: Option<&'a str>,
    pub metrics: &'a [(&'a str, Unit, &'a [f64])],
    pub properties: &'a [(String, serde_json::Value)],
}

impl Line<'_> {
    pub fn to_json(&self) -> String {
        // Serialising strings, numbers and JSON values into a String cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

impl Serialize for Line<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("_aws", &Aws(self))?;
        map.serialize_entry("function", self.function)?;
        if let Some(binding) = self.binding {
            map.serialize_entry("binding", binding)?;
        }
        for (name, _, values) in self.metrics {
            match values {
                [one] => map.serialize_entry(name, &Number(*one))?,
                many => map.serialize_entry(name, &Numbers(many))?,
            }
        }
        for (key, value) in self.properties {
            if !self.metrics.iter().any(|(name, _, _)| name == key) {
                map.serialize_entry(key, value)?;
            }
        }
        map.end()
    }
}

struct Aws<'a>(&'a Line<'a>);

impl Serialize for Aws<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("Timestamp", &self.0.timestamp_ms)?;
        map.serialize_entry("CloudWatchMetrics", &[Directive(self.0)])?;
        map.end()
    }
}

struct Directive<'a>(&'a Line<'a>);

impl Serialize for Directive<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let line = self.0;
        let dimensions: Vec<Vec<&str>> = match line.binding {
            Some(_) => vec![vec!["function"], vec!["function", "binding"]],
            None => vec![vec!["function"]],
        };
        let metrics: Vec<MetricDef> = line
            .metrics
            .iter()
            .map(|(name, unit, _)| MetricDef { name, unit: *unit })
            .collect();
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("Namespace", line.namespace)?;
        map.serialize_entry("Dimensions", &dimensions)?;
        map.serialize_entry("Metrics", &metrics)?;
        map.end()
    }
}

struct MetricDef<'a> {
    name: &'a str,
    unit: Unit,
}

impl Serialize for MetricDef<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("Name", self.name)?;
        map.serialize_entry("Unit", self.unit.as_str())?;
        map.end()
    }
}

/// Whole numbers print without a fraction (`3`, not `3.0`).
struct Number(f64);

impl Serialize for Number {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
        if self.0.fract() == 0.0 && self.0.abs() < EXACT {
            serializer.serialize_i64(self.0 as i64)
        } else {
            serializer.serialize_f64(self.0)
        }
    }
}

struct Numbers<'a>(&'a [f64]);

impl Serialize for Numbers<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(|v| Number(*v)))
    }
}
