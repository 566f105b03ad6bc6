//! Splitting an SQS batch into units of work: consecutive messages of one
//! message group (a spreadsheet) are applied together, every tab's share in
//! order, with one read and one write for all of them; a message that
//! cannot be decoded is a poison step of its own.

use std::collections::HashMap;

use sheetsync_queue::{ChangeBatch, DecodeError, decode_batches};

use crate::Message;

/// Where a batch's changes go; messages for different tabs never share a unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    pub binding: String,
    pub spreadsheet_id: String,
    pub sheet: String,
    pub key_columns: Vec<String>,
}

impl Target {
    fn of(batch: &ChangeBatch) -> Target {
        Target {
            binding: batch.binding.clone(),
            spreadsheet_id: batch.spreadsheet_id.clone(),
            sheet: batch.sheet.clone(),
            key_columns: batch.key_columns.clone(),
        }
    }
}

/// (position in the SQS batch, message id, decoded body).
pub(crate) type Queued = (usize, String, ChangeBatch);

/// One tab's consecutive messages within a unit.
#[derive(Debug)]
pub(crate) struct TabWork {
    pub target: Target,
    pub messages: Vec<Queued>,
}

#[derive(Debug)]
pub(crate) enum Step {
    Unit {
        group: String,
        /// In the order of each tab's first message.
        tabs: Vec<TabWork>,
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
            Step::Unit { tabs, .. } => tabs
                .iter()
                .filter_map(|t| t.messages.first())
                .map(|m| m.0)
                .min()
                .unwrap_or(0),
            Step::Poison { position, .. } => *position,
        }
    }
}

/// Steps in the order of their first message.
pub(crate) fn split(messages: &[Message]) -> Vec<Step> {
    let mut steps: Vec<Step> = Vec::new();
    // Open unit per group: more messages for its spreadsheet join it.
    let mut open: HashMap<String, usize> = HashMap::new();
    for (position, message) in messages.iter().enumerate() {
        match decode_batches(&message.body) {
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
            Ok(batches) => {
                for batch in batches {
                    let group = message
                        .group_id
                        .clone()
                        .unwrap_or_else(|| batch.spreadsheet_id.clone());
                    join(
                        &mut steps,
                        &mut open,
                        group,
                        (position, message.message_id.clone(), batch),
                    );
                }
            }
        }
    }
    steps
}

/// Adds one batch to its group's open unit, or opens a new one.
fn join(steps: &mut Vec<Step>, open: &mut HashMap<String, usize>, group: String, queued: Queued) {
    let target = Target::of(&queued.2);
    if let Some(&i) = open.get(&group)
        && let Step::Unit { tabs, .. } = &mut steps[i]
    {
        match tabs.iter().position(|t| t.target.sheet == target.sheet) {
            Some(t) if tabs[t].target == target => {
                tabs[t].messages.push(queued);
                return;
            }
            None if tabs[0].target.spreadsheet_id == target.spreadsheet_id => {
                tabs.push(TabWork {
                    target,
                    messages: vec![queued],
                });
                return;
            }
            // The tab's key columns changed: planned anew, after.
            _ => {}
        }
    }
    open.insert(group.clone(), steps.len());
    steps.push(Step::Unit {
        group,
        tabs: vec![TabWork {
            target,
            messages: vec![queued],
        }],
    });
}
