//! What a relay invocation asks for, and what it answers: shared by the
//! Lambda entry point (EventBridge schedule, direct invoke, RDS
//! `aws_lambda.invoke`) and anything else that triggers one drain.

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::drain::{BindingOutcome, DrainReport, Scope};

/// Reads an invocation payload: `{"binding": "orders"}` or
/// `{"bindings": ["a", "b"]}` drains those; anything else (`{}`, `null`, an
/// EventBridge scheduled event) drains every binding.
pub fn scope_of(payload: &Json) -> Scope {
    #[derive(Deserialize)]
    struct Ask {
        binding: Option<String>,
        bindings: Option<Vec<String>>,
    }
    let ask: Option<Ask> = serde_json::from_value(payload.clone()).ok();
    match ask {
        Some(Ask {
            binding: Some(b), ..
        }) => Scope::Bindings(vec![b]),
        Some(Ask {
            bindings: Some(list),
            ..
        }) if !list.is_empty() => Scope::Bindings(list),
        _ => Scope::All,
    }
}

/// The invocation's answer: counts per binding, errors as text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub rows_sent: u64,
    pub messages: u64,
    pub bindings: Vec<BindingSummary>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BindingSummary {
    pub binding: String,
    pub rows_sent: u64,
    pub messages: u64,
    /// `drained`, `other_relay`, `writers_busy`, `deadline` or `failed`.
    pub outcome: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Summary {
    /// Folds the rounds of a drain into one line per binding (the last
    /// outcome of each binding wins; counts add up).
    pub fn of(report: &DrainReport) -> Summary {
        let mut bindings: Vec<BindingSummary> = Vec::new();
        for b in &report.bindings {
            let (outcome, error) = match &b.outcome {
                BindingOutcome::Drained => ("drained", None),
                BindingOutcome::OtherRelay => ("other_relay", None),
                BindingOutcome::WritersBusy => ("writers_busy", None),
                BindingOutcome::Deadline => ("deadline", None),
                BindingOutcome::Failed(e) => ("failed", Some(e.to_string())),
            };
            match bindings.iter_mut().find(|s| s.binding == b.binding) {
                Some(s) => {
                    s.rows_sent += b.rows_sent;
                    s.messages += b.messages;
                    s.outcome = outcome.to_owned();
                    s.error = error;
                }
                None => bindings.push(BindingSummary {
                    binding: b.binding.clone(),
                    rows_sent: b.rows_sent,
                    messages: b.messages,
                    outcome: outcome.to_owned(),
                    error,
                }),
            }
        }
        Summary {
            rows_sent: report.rows_sent(),
            messages: report.messages(),
            bindings,
        }
    }

    pub fn failed(&self) -> impl Iterator<Item = &BindingSummary> {
        self.bindings.iter().filter(|b| b.error.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(name: &str) -> Json {
        let path = format!("{}/../../tests/events/{name}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        serde_json::from_str(&text).unwrap()
    }

    #[test]
    fn a_scheduled_event_drains_every_binding() {
        assert_eq!(scope_of(&event("relay-schedule.json")), Scope::All);
    }

    #[test]
    fn an_empty_invoke_drains_every_binding() {
        assert_eq!(scope_of(&event("relay-invoke-all.json")), Scope::All);
        assert_eq!(scope_of(&Json::Null), Scope::All);
        assert_eq!(scope_of(&json!({"bindings": []})), Scope::All);
    }

    #[test]
    fn a_named_binding_drains_only_it() {
        assert_eq!(
            scope_of(&event("relay-invoke-binding.json")),
            Scope::Bindings(vec!["orders".into()])
        );
        assert_eq!(
            scope_of(&json!({"bindings": ["a", "b"]})),
            Scope::Bindings(vec!["a".into(), "b".into()])
        );
    }
}
