//! Everything a request records besides the table rows: sync state,
//! conflicts, rejects, repairs for the sheet and the stored answer, sent
//! as one pipelined flight ending in COMMIT.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value as Json;
use serde_json::value::RawValue;
use sheetsync_store::Binding;

use crate::contract::SyncRequest;
use crate::db::{Conn, TxError};
use crate::edit::EventTime;
use crate::idempotency::ANSWER_SQL;
use crate::incoming::Rejection;
use crate::plan::Conflict;
use crate::table::TableRow;

/// Rows the sheet wrote (cells it wrote, whether it reported the key, and
/// for a row inserted from a keyless sheet row when it was typed), one
/// statement per distinct (times, held, inserted): a 10,000-row snapshot's
/// rows share one. A row state left by a deleted row (tombstone) starts
/// over. The written cells keep their `cell_seq`: a change still on its way
/// to the sheet may show it an older value until the repair queued after it
/// lands, and until then the sheet is not showing the table's value.
const HOLD_SQL: &str = "INSERT INTO sheetsync.row_state AS s (binding, key, cell_changed_at, sheet_held, sheet_inserted_at) \
     SELECT $1, k::jsonb, $3::text::jsonb, $4, $5::text::timestamptz FROM unnest($2::text[]) AS k \
     ON CONFLICT (binding, key) DO UPDATE SET \
     cell_changed_at = CASE WHEN s.tombstone_seq IS NULL THEN s.cell_changed_at || EXCLUDED.cell_changed_at \
     ELSE EXCLUDED.cell_changed_at END, \
     cell_seq = CASE WHEN s.tombstone_seq IS NULL THEN s.cell_seq ELSE '{}'::jsonb END, \
     sheet_held = CASE WHEN s.tombstone_seq IS NULL THEN s.sheet_held OR EXCLUDED.sheet_held \
     ELSE EXCLUDED.sheet_held END, \
     sheet_inserted_at = CASE WHEN s.tombstone_seq IS NULL \
     THEN coalesce(s.sheet_inserted_at, EXCLUDED.sheet_inserted_at) ELSE EXCLUDED.sheet_inserted_at END, \
     tombstone_seq = NULL";

/// Rows the sheet deleted: the sheet holds them no more, and their cells
/// nothing. Their last queued change is kept: changes of the key still on
/// their way to the sheet would overwrite the row if the sheet brings the
/// key back (a snapshot read before the delete, a re-typed key), so values
/// written into it then are queued after them (DESIGN.md, Repairs).
const FORGET_SQL: &str = "UPDATE sheetsync.row_state SET sheet_held = false, sheet_inserted_at = NULL, \
     cell_seq = '{}'::jsonb WHERE binding = $1 \
     AND key IN (SELECT jsonb_array_elements($2::text::jsonb))";

const CONFLICTS_SQL: &str = "INSERT INTO sheetsync.conflicts \
     (binding, key, column_name, sheet_value, db_value, winner, policy, event_id, sheet_edited_at, db_changed_at) \
     SELECT $1, x.key, x.column_name, x.sheet_value, x.db_value, x.winner, $2, $3, $4::text::timestamptz, x.db_changed_at \
     FROM jsonb_to_recordset($5::text::jsonb) AS x(key jsonb, column_name text, sheet_value jsonb, db_value jsonb, winner text, db_changed_at timestamptz)";

const REJECTS_SQL: &str = "INSERT INTO sheetsync.rejects (binding, event_id, sheet_row, key, column_name, value, reason) \
     SELECT $1, $2, x.sheet_row, x.key, x.column_name, x.value, x.reason \
     FROM jsonb_to_recordset($3::text::jsonb) AS x(sheet_row integer, key jsonb, column_name text, value jsonb, reason text)";

/// Changes queued for the sheet. The row's last change not from the sheet
/// is now this one: a snapshot read before it reaches the sheet cannot undo
/// it. Every column the change carries takes its sequence in `cell_seq`
/// (`unseen`): the sheet shows the table's value of those cells once the
/// watermark passes it (before, an older change may be showing there).
/// A queued delete leaves a tombstone: a snapshot read before it reaches
/// the sheet, still showing the row, does not insert it again. A re-send
/// (`insert`) is no change of the row: it leaves `last_db_seq` where the
/// row's last change put it, so once the sheet has received that change, a
/// settled read without the row means a person deleted it (a re-send moving
/// `last_db_seq` past every watermark kept a deleted row coming back).
const ENQUEUE_SQL: &str = "WITH q AS (SELECT x.key, x.op, x.unseen, sheetsync.enqueue($1, x.op, x.key, x.image, 'repair') AS seq \
     FROM jsonb_to_recordset($2::text::jsonb) AS x(op text, key jsonb, image jsonb, unseen jsonb)) \
     INSERT INTO sheetsync.row_state AS s (binding, key, last_db_seq, cell_seq, tombstone_seq) \
     SELECT $1, q.key, q.seq, (SELECT coalesce(jsonb_object_agg(u, q.seq), '{}'::jsonb) \
     FROM jsonb_array_elements_text(q.unseen) AS u), CASE WHEN q.op = 'delete' THEN q.seq END FROM q \
     ON CONFLICT (binding, key) DO UPDATE SET last_db_seq = CASE \
     WHEN EXISTS (SELECT 1 FROM q WHERE q.key = EXCLUDED.key AND q.op = 'insert') \
     THEN coalesce(s.last_db_seq, EXCLUDED.last_db_seq) ELSE EXCLUDED.last_db_seq END, \
     cell_seq = s.cell_seq || EXCLUDED.cell_seq, \
     tombstone_seq = coalesce(EXCLUDED.tombstone_seq, s.tombstone_seq)";

const NOTIFY_SQL: &str = "SELECT pg_notify('sheetsync_outbox', $1)";

#[derive(Serialize)]
struct ConflictRecord {
    key: Box<RawValue>,
    column_name: String,
    sheet_value: Json,
    db_value: Option<Box<RawValue>>,
    winner: &'static str,
    db_changed_at: Option<String>,
}

#[derive(Serialize)]
struct RejectRecord {
    sheet_row: Option<u32>,
    key: Option<Json>,
    column_name: Option<String>,
    value: Option<Json>,
    reason: String,
}

#[derive(Serialize)]
struct Enqueue {
    op: &'static str,
    key: Box<RawValue>,
    image: Box<RawValue>,
    /// Columns the change carries.
    unseen: Vec<String>,
}

/// What [`Effects::hold`] records for one row.
#[derive(Default)]
struct Hold {
    times: BTreeMap<String, String>,
    reported: bool,
    /// Inserted from a keyless sheet row: typed at the event's time.
    inserted: bool,
}

pub struct Effects<'a> {
    binding: &'a Binding,
    event_id: &'a str,
    edited_at: String,
    holds: BTreeMap<String, Hold>,
    forgotten: Vec<Box<RawValue>>,
    conflicts: Vec<ConflictRecord>,
    rejects: Vec<(usize, RejectRecord)>,
    enqueues: Vec<Enqueue>,
}

fn raw(text: &str) -> Box<RawValue> {
    RawValue::from_string(text.to_string())
        .unwrap_or_else(|_| RawValue::from_string("null".into()).unwrap_or_default())
}

impl<'a> Effects<'a> {
    pub fn new(binding: &'a Binding, req: &'a SyncRequest, at: EventTime) -> Effects<'a> {
        Effects {
            binding,
            event_id: &req.event_id,
            edited_at: at
                .edited_at
                .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            holds: BTreeMap::new(),
            forgotten: Vec::new(),
            conflicts: Vec::new(),
            rejects: Vec::new(),
            enqueues: Vec::new(),
        }
    }

    /// The sheet wrote `written` cells of this row (they take the event's
    /// time); `reported`: the sheet sent the row's key, so it is known to
    /// hold it. A row inserted from a keyless sheet row is not: its key
    /// reaches the sheet only when the script writes it back, and a
    /// snapshot read before that must not delete it; `inserted` says so
    /// (the row's `sheet_inserted_at` becomes the event's time).
    pub fn hold(&mut self, key_json: &str, written: &[usize], reported: bool, inserted: bool) {
        let hold = self.holds.entry(key_json.to_string()).or_default();
        hold.reported |= reported;
        hold.inserted |= inserted;
        for &c in written {
            hold.times
                .insert(self.binding.columns[c].name.clone(), self.edited_at.clone());
        }
    }

    pub fn forget(&mut self, key_json: &str) {
        self.forgotten.push(raw(key_json));
    }

    pub fn conflict(&mut self, key_json: &str, conflict: &Conflict) {
        self.conflicts.push(ConflictRecord {
            key: raw(key_json),
            column_name: self.binding.columns[conflict.column].name.clone(),
            sheet_value: conflict.sheet_value.clone(),
            db_value: conflict.db_value.as_deref().map(raw),
            winner: conflict.winner.as_str(),
            db_changed_at: conflict
                .db_changed_at
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)),
        });
    }

    pub fn reject(&mut self, rejection: &Rejection) {
        self.rejects.push((
            rejection.index,
            RejectRecord {
                sheet_row: rejection.sheet_row,
                key: rejection
                    .key
                    .as_ref()
                    .and_then(|k| serde_json::to_value(k).ok()),
                column_name: rejection.column.clone(),
                value: rejection.value.clone(),
                reason: rejection.reason.clone(),
            },
        ));
    }

    /// Queues `columns` of the stored row (with the key) for the sheet.
    pub fn repair_update(
        &mut self,
        stored: &TableRow,
        columns: &std::collections::BTreeSet<usize>,
    ) {
        let mut image: BTreeMap<&str, &RawValue> = BTreeMap::new();
        for c in self
            .binding
            .key_indices()
            .into_iter()
            .chain(columns.iter().copied())
        {
            image.insert(&self.binding.columns[c].name, raw_ref(stored, c));
        }
        let unseen = columns
            .iter()
            .map(|&c| self.binding.columns[c].name.clone())
            .collect();
        self.push_enqueue("update", stored, &image, unseen);
    }

    /// Queues the whole row for the sheet (it never received it).
    ///
    /// The key's `cell_seq` stays the row's first whole-row change: once the
    /// sheet has received that, a settled read without the row means a
    /// person deleted it, whatever re-send is still on its way.
    pub fn resend(&mut self, row: &TableRow) {
        let image: BTreeMap<&str, &RawValue> = (0..self.binding.columns.len())
            .map(|c| (self.binding.columns[c].name.as_str(), raw_ref(row, c)))
            .collect();
        let unseen = self
            .binding
            .columns
            .iter()
            .filter(|c| c.key_position.is_none())
            .map(|c| c.name.clone())
            .collect();
        self.push_enqueue("insert", row, &image, unseen);
    }

    /// Queues the delete of a row the sheet deleted, for a change of it
    /// still on its way to the sheet that would put it back.
    pub fn queue_delete(&mut self, row: &TableRow) {
        self.enqueues.push(Enqueue {
            op: "delete",
            key: raw(&row.key_json),
            image: raw("null"),
            unseen: Vec::new(),
        });
    }

    fn push_enqueue(
        &mut self,
        op: &'static str,
        row: &TableRow,
        image: &BTreeMap<&str, &RawValue>,
        unseen: Vec<String>,
    ) {
        let text = serde_json::to_string(image).unwrap_or_else(|_| "{}".into());
        self.enqueues.push(Enqueue {
            op,
            key: raw(&row.key_json),
            image: raw(&text),
            unseen,
        });
    }

    /// Writes everything, stores the answer and commits, in one flight.
    pub async fn commit(self, conn: &mut Conn, response: &Json) -> Result<(), TxError> {
        // In sheet order, whichever step refused the row.
        let mut rejects = self.rejects;
        rejects.sort_by_key(|(index, _)| *index);
        let reject_records: Vec<&RejectRecord> = rejects.iter().map(|(_, r)| r).collect();
        // Keys by what is recorded for them.
        let mut hold_groups: BTreeMap<HoldGroup, Vec<String>> = BTreeMap::new();
        for (key, hold) in self.holds {
            let inserted_at = hold.inserted.then(|| self.edited_at.clone());
            hold_groups
                .entry((to_text(&hold.times), hold.reported, inserted_at))
                .or_default()
                .push(key);
        }
        let mut hold_groups: Vec<(HoldGroup, Vec<String>)> = hold_groups.into_iter().collect();
        let last_hold = hold_groups.pop();
        let forget_text = to_text(&self.forgotten);
        let conflicts_text = to_text(&self.conflicts);
        let rejects_text = to_text(&reject_records);
        let enqueue_text = to_text(&self.enqueues);
        let response_text = response.to_string();

        let hold = conn.prepare(HOLD_SQL).await?;
        let forget = conn.prepare(FORGET_SQL).await?;
        let conflicts = conn.prepare(CONFLICTS_SQL).await?;
        let reject_stmt = conn.prepare(REJECTS_SQL).await?;
        let enqueue = conn.prepare(ENQUEUE_SQL).await?;
        let notify = conn.prepare(NOTIFY_SQL).await?;
        let save = conn.prepare(ANSWER_SQL).await?;
        let client = &conn.client;
        let binding = &self.binding.name;
        // Several groups (rare): all but the last go first, so that every
        // statement still precedes COMMIT.
        for ((times, held, inserted_at), keys) in &hold_groups {
            client
                .execute(&hold, &[binding, keys, times, held, inserted_at])
                .await?;
        }
        let policy = self.binding.policy.as_str();
        let skip = || async { Ok::<u64, tokio_postgres::Error>(0) };
        let (a, b, c, d, e, f, g, commit) = tokio::join!(
            async {
                match &last_hold {
                    None => skip().await,
                    Some(((times, held, inserted_at), keys)) => {
                        client
                            .execute(&hold, &[binding, keys, times, held, inserted_at])
                            .await
                    }
                }
            },
            async {
                if self.forgotten.is_empty() {
                    skip().await
                } else {
                    client.execute(&forget, &[binding, &forget_text]).await
                }
            },
            async {
                if self.conflicts.is_empty() {
                    skip().await
                } else {
                    client
                        .execute(
                            &conflicts,
                            &[
                                binding,
                                &policy,
                                &self.event_id,
                                &self.edited_at,
                                &conflicts_text,
                            ],
                        )
                        .await
                }
            },
            async {
                if reject_records.is_empty() {
                    skip().await
                } else {
                    client
                        .execute(&reject_stmt, &[binding, &self.event_id, &rejects_text])
                        .await
                }
            },
            async {
                if self.enqueues.is_empty() {
                    skip().await
                } else {
                    client.execute(&enqueue, &[binding, &enqueue_text]).await
                }
            },
            async {
                if self.enqueues.is_empty() {
                    skip().await
                } else {
                    client
                        .query(&notify, &[binding])
                        .await
                        .map(|r| r.len() as u64)
                }
            },
            async {
                client
                    .execute(&save, &[&self.event_id, binding, &response_text])
                    .await
            },
            client.batch_execute("COMMIT"),
        );
        // Another delivery of this event committed first: the COMMIT above
        // rolled this one back.
        if let Err(e) = &g
            && e.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION)
        {
            return Err(TxError::Replayed);
        }
        for step in [a, b, c, d, e, f, g] {
            step?;
        }
        commit?;
        Ok(())
    }
}

/// Cell times (JSON text), reported, inserted at.
type HoldGroup = (String, bool, Option<String>);

fn raw_ref(row: &TableRow, c: usize) -> &RawValue {
    match &row.raw[c] {
        Some(v) => v,
        None => null_raw(),
    }
}

fn null_raw() -> &'static RawValue {
    static NULL: std::sync::OnceLock<Box<RawValue>> = std::sync::OnceLock::new();
    NULL.get_or_init(|| raw("null"))
}

/// Record lists as JSON text (plain data: serialising cannot fail).
fn to_text<T: Serialize>(records: &T) -> String {
    serde_json::to_string(records).unwrap_or_else(|_| "[]".into())
}
