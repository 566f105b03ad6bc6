//! Splitting an SQS batch into units of work: consecutive messages of one
//! message group bound for one tab are applied together (one read, one
//! write); a message that cannot be decoded is a poison step of its own.

use std::collections::HashMap;

use sheetsync_queue::{ChangeBatch, DecodeError};

use crate::Message;

/// Where a batch's changes go; messages for different tabs never share a unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    pub spreadsheet_id: String,
    pub sheet: String,
    pub key_columns: Vec<String>,
}

impl Target {
    fn of(batch: &ChangeBatch) -> Target {
        Target {
            spreadsheet_id: batch.spreadsheet_id.clone(),
            sheet: batch.sheet.clone(),
            key_columns: batch.key_columns.clone(),
        }
    }
}

#[derive(Debug)]
pub(crate) enum Step {
    Unit {
        group: String,
        target: Target,
        /// (position in the SQS batch, message id, decoded body).
        messages: Vec<(usize, String, ChangeBatch)>,
    },
    Poison {
        /// `None` when neither the SQS attributes nor the body name a group:
        /// every later message of the batch is then held back (no unit spans
        /// such a message: `split` closes every open unit at it).
        group: Option<String>,
        position: usize,
        message_id: String,
        error: DecodeError,
    },
}

impl Step {
    /// The message group; `None` for a poison message naming none.
    pub fn group(&self) -> Option<&str> {
        match self {
            Step::Unit { group, .. } => Some(group),
            Step::Poison { group, .. } => group.as_deref(),
        }
    }

    pub fn first_position(&self) -> usize {
        match self {
            Step::Unit { messages, .. } => messages.first().map_or(0, |m| m.0),
            Step::Poison { position, .. } => *position,
        }
    }
}

/// Steps in the order of their first message.
pub(crate) fn split(messages: &[Message]) -> Vec<Step> {
    let mut steps: Vec<Step> = Vec::new();
    // Open unit per group: more messages for the same tab join it.
    let mut open: HashMap<String, usize> = HashMap::new();
    for (position, message) in messages.iter().enumerate() {
        match ChangeBatch::decode(&message.body) {
            Err(error) => {
                let group = message.group_id.clone();
                match &group {
                    Some(g) => {
                        open.remove(g);
                    }
                    None => open.clear(),
                }
                steps.push(Step::Poison {
                    group,
                    position,
                    message_id: message.message_id.clone(),
                    error,
                });
            }
            Ok(batch) => {
                let group = message
                    .group_id
                    .clone()
                    .unwrap_or_else(|| batch.binding.clone());
                let target = Target::of(&batch);
                if let Some(&i) = open.get(&group)
                    && let Step::Unit {
                        target: t,
                        messages,
                        ..
                    } = &mut steps[i]
                    && *t == target
                {
                    messages.push((position, message.message_id.clone(), batch));
                    continue;
                }
                open.insert(group.clone(), steps.len());
                steps.push(Step::Unit {
                    group,
                    target,
                    messages: vec![(position, message.message_id.clone(), batch)],
                });
            }
        }
    }
    steps
}
