//! `POST /sync_postgres`: one transaction per request, under
//! `SET LOCAL sheetsync.origin = 'sheet'` (the capture trigger queues
//! nothing; this module records the rows' sync state itself).
//!
//! Round trips: (1) BEGIN, the binding's writer lock (shared: see
//! [`sql::writers_lock_sql`]), the event id looked up, the rows locked and
//! read (for a snapshot or `keys` request, what it judges by: `Reach`),
//! their sync state — pipelined; (2) the writes, one statement per
//! group of like rows (in a savepoint unless it is the request's only one);
//! (3) sync state, conflicts, rejects, repairs, the answer and COMMIT —
//! pipelined.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use serde_json::Value as Json;
use sheetsync_reconcile::Key;
use sheetsync_store::{Binding, COLUMNS_VERSION_SQL};
use tokio_postgres::error::DbError;

use crate::contract::{RowOutcome, RowStatus, SyncRequest, SyncResponse, check_envelope};
use crate::db::{Conn, Lease, TxError};
use crate::edit::{conflict_detail, plan_edit};
use crate::effects::Effects;
use crate::errors::WebhookError;
use crate::idempotency::{STORED_SQL, stored_response};
use crate::incoming::{Incoming, Rejection};
use crate::plan::{Plan, WriteKind};
use crate::repair::repair_columns;
use crate::request::{Prepared, Work, prepare};
use crate::rows::{self, table_rows};
use crate::snapshot::{Image, SnapshotKind, plan_keys, plan_snapshot};
use crate::sql::{self, as_params, key_params};
use crate::table::{RowState, TableRow};
use crate::{AnswerCounts, Webhook};

/// Records the header a request showed (its names that are no column, the
/// columns it lacks), when it differs from the one recorded.
const SHEET_HEADER_SQL: &str = "INSERT INTO sheetsync.sheet_header AS h (binding, ignored, missing)
     VALUES ($1, $2, $3)
     ON CONFLICT (binding) DO UPDATE
        SET ignored = excluded.ignored, missing = excluded.missing, seen_at = now()
      WHERE h.ignored IS DISTINCT FROM excluded.ignored
         OR h.missing IS DISTINCT FROM excluded.missing";

/// Deadlocks and serialization failures are retried this often.
const ATTEMPTS: usize = 3;

pub async fn sync_postgres(
    webhook: &Webhook,
    req: SyncRequest,
) -> Result<SyncResponse, WebhookError> {
    check_envelope(req.v, &req.event_id).map_err(WebhookError::Malformed)?;
    // A kept connection can have died while idle (a proxy's or NAT's
    // timeout): nothing was written on it, so the request runs again on a
    // new one.
    let mut tries = 0;
    loop {
        tries += 1;
        match on_a_connection(webhook, &req).await {
            Err((WebhookError::Unavailable(reason), true)) if tries < ATTEMPTS => {
                tracing::info!(%reason, "kept database connection was lost; connecting again");
            }
            other => return other.map_err(|(e, _)| e),
        }
    }
}

/// The request on one connection; the error says whether that connection
/// had been kept from an earlier request.
async fn on_a_connection(
    webhook: &Webhook,
    req: &SyncRequest,
) -> Result<SyncResponse, (WebhookError, bool)> {
    let lease = webhook.db().lease().await.map_err(|e| (e, false))?;
    let reused = lease.reused;
    with_lease(webhook, req, lease)
        .await
        .map_err(|e| (e, reused))
}

async fn with_lease(
    webhook: &Webhook,
    req: &SyncRequest,
    mut lease: Lease<'_>,
) -> Result<SyncResponse, WebhookError> {
    // A closed connection (the only cause of `unavailable` here) is not
    // returned to the pool when the lease drops.
    let mut binding = webhook
        .bindings()
        .get(&lease.conn().client, &req.spreadsheet_id, &req.sheet)
        .await?;
    let mut prepared = match prepare(&binding, req) {
        Err(WebhookError::UnknownKeyColumn(_)) => {
            // The cached binding may be older than a renamed key column.
            binding = webhook
                .bindings()
                .reload(&lease.conn().client, &req.spreadsheet_id, &req.sheet)
                .await?;
            prepare(&binding, req)?
        }
        prepared => prepared?,
    };
    let span = tracing::info_span!("sync_postgres", event_id = %req.event_id, binding = %binding.name, kind = req.kind.as_str());
    let _enter = span.enter();
    let mut attempt = 0;
    let mut reloads = 0;
    let mut refused: HashMap<usize, Box<DbError>> = HashMap::new();
    loop {
        attempt += 1;
        let result = transact(lease.conn(), &binding, req, &prepared, &refused).await;
        match result {
            Ok(response) => return Ok(response),
            Err(e) => {
                let rolled_back = lease.conn().client.batch_execute("ROLLBACK").await.is_ok();
                match e {
                    TxError::Refused { index, db }
                        if rolled_back && !refused.contains_key(&index) =>
                    {
                        refused.insert(index, db);
                        attempt -= 1;
                        continue;
                    }
                    TxError::SchemaChanged if rolled_back && reloads < ATTEMPTS => {
                        // The table changed under the cached binding: the
                        // header is mapped again to the columns it has now.
                        reloads += 1;
                        tracing::info!(
                            binding = %binding.name,
                            "table columns changed since the binding was read; reading it again"
                        );
                        binding = webhook
                            .bindings()
                            .reload(&lease.conn().client, &req.spreadsheet_id, &req.sheet)
                            .await?;
                        prepared = prepare(&binding, req)?;
                        refused.clear();
                        continue;
                    }
                    TxError::Replayed if rolled_back => {
                        tracing::info!(
                            "another delivery of this event committed first; answering its response"
                        );
                        return match stored_response(lease.conn(), &req.event_id).await {
                            Ok(Some(response)) => Ok(response),
                            Ok(None) => {
                                Err(WebhookError::Internal("the event's answer vanished".into()))
                            }
                            Err(e) => Err(e.into_webhook()),
                        };
                    }
                    _ => {}
                }
                if e.retryable() && rolled_back && attempt < ATTEMPTS {
                    tracing::info!(attempt, "transaction conflicted with another; retrying");
                    continue;
                }
                let err = e.into_webhook();
                if matches!(err, WebhookError::Internal(_)) {
                    // The table may have changed under the cached binding
                    // and the connection's prepared statements: both are
                    // made again.
                    webhook.bindings().forget(&req.spreadsheet_id, &req.sheet);
                    lease.discard();
                } else if !rolled_back || matches!(err, WebhookError::Unavailable(_)) {
                    lease.discard();
                }
                return Err(err);
            }
        }
    }
}

/// How much of the table a request reads before it is planned, and how
/// it holds off the table's other writers.
enum Reach<'w> {
    /// An edit: the rows of its keys, each locked.
    LockedRows(Vec<&'w Key>),
    /// A partial snapshot whose rows all carry a key: the rows of those
    /// keys, under the table lock. A partial snapshot only upserts, and
    /// what else the table holds matters only to keyless rows (a row the
    /// sheet inserted whose key the tab does not show yet), so a 100,000-row
    /// tab's parts each read their own rows, not the whole table; and of
    /// those, whole only the ones whose cells differ from the part's
    /// ([`sql::read_compared_sql`]).
    Rows(Vec<&'w Key>),
    /// A `keys` request: under the table lock, the key and sync state of
    /// the rows it lacks and of the listed rows not known to be held
    /// ([`sql::read_keys_request_sql`]). It deletes, marks keys held and
    /// defers, judging by nothing else; a row whose delete the database
    /// refuses is read whole before it is sent to the sheet again.
    TableKeys,
    /// Full snapshots and partial snapshots with a keyless row: the whole
    /// table, under the table lock.
    Table,
}

impl<'w> Reach<'w> {
    fn of(work: &'w Work) -> Reach<'w> {
        let keyed = |rows: &'w [Result<Incoming, Rejection>]| -> Vec<&'w Key> {
            rows.iter()
                .filter_map(|r| r.as_ref().ok()?.key.as_ref())
                .collect()
        };
        match work {
            Work::Edit(rows) => Reach::LockedRows(keyed(rows)),
            Work::Snapshot {
                rows,
                partial: true,
            } if rows.iter().flatten().all(|r| r.key.is_some()) => Reach::Rows(keyed(rows)),
            Work::Keys(_) => Reach::TableKeys,
            Work::Snapshot { .. } => Reach::Table,
        }
    }
}

async fn transact(
    conn: &mut Conn,
    binding: &Binding,
    req: &SyncRequest,
    prepared: &Prepared,
    refused: &HashMap<usize, Box<DbError>>,
) -> Result<SyncResponse, TxError> {
    let begun_at = std::time::Instant::now();
    let reach = Reach::of(&prepared.work);
    let whole_table = matches!(reach, Reach::Table | Reach::TableKeys);
    let keys: &[&Key] = match &reach {
        Reach::LockedRows(keys) | Reach::Rows(keys) => keys,
        Reach::Table | Reach::TableKeys => &[],
    };
    // Keyed parts and `keys` requests read rows and state in one
    // statement that leaves out what they cannot need (see `Combined`).
    let combined = match (&reach, &prepared.work) {
        (Reach::Rows(_), Work::Snapshot { rows, .. }) => {
            Some(Combined::part(binding, rows, &prepared.held_columns))
        }
        (Reach::TableKeys, Work::Keys(listed)) => Some(Combined::keys(binding, listed)),
        _ => None,
    };
    let (lock_sql, states_sql) = match reach {
        Reach::Table => (sql::read_all_sql(binding), Some(sql::states_all_sql())),
        Reach::TableKeys => (sql::read_keys_request_sql(binding), None),
        Reach::LockedRows(_) => (
            sql::lock_keys_sql(binding),
            Some(sql::states_for_keys_sql(binding)),
        ),
        Reach::Rows(_) => (
            sql::read_compared_sql(binding, combined.as_ref().map_or(&[][..], |c| &c.compared)),
            None,
        ),
    };
    let answered = conn.prepare(STORED_SQL).await?;
    let version = conn.prepare(COLUMNS_VERSION_SQL).await?;
    let header = conn.prepare(SHEET_HEADER_SQL).await?;
    let lock = conn.prepare(&lock_sql).await?;
    let states = match &states_sql {
        Some(sql) => Some(conn.prepare(sql).await?),
        None => None,
    };

    let key_columns = key_params(binding, keys.iter().copied());
    let mut lock_params = if whole_table {
        Vec::new()
    } else {
        as_params(&key_columns)
    };
    if let Some(combined) = &combined {
        lock_params = vec![&binding.name];
        lock_params.extend(as_params(&combined.keys));
        lock_params.extend(as_params(&combined.values));
        if matches!(reach, Reach::Rows(_)) {
            lock_params.push(&combined.compared_rows);
        }
    }
    let mut state_params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = vec![&binding.name];
    if !whole_table {
        state_params.extend(as_params(&key_columns));
    }
    let read = whole_table || !keys.is_empty();
    let event_param: [&(dyn tokio_postgres::types::ToSql + Sync); 1] = [&req.event_id];
    let begin = if !matches!(reach, Reach::LockedRows(_)) {
        format!(
            "BEGIN; SET LOCAL sheetsync.origin = 'sheet'; {}; {}",
            sql::writers_lock_sql(binding),
            sql::lock_table_sql(binding)
        )
    } else {
        format!(
            "BEGIN; SET LOCAL sheetsync.origin = 'sheet'; {}",
            sql::writers_lock_sql(binding)
        )
    };
    let client = &conn.client;
    let oid_param: [&(dyn tokio_postgres::types::ToSql + Sync); 1] = [&binding.table_oid];
    let (begun, stored, columns_now, _, locked, state_rows) = tokio::join!(
        client.batch_execute(&begin),
        client.query_opt(&answered, &event_param),
        // The columns as the catalog has them now (DDL waits for this
        // transaction's table lock, so they hold until it ends).
        client.query_one(&version, &oid_param),
        async {
            // The header the sheet showed, for `sheetsync status` (written
            // only when it differs from the last one recorded).
            if prepared.has_header() {
                client
                    .execute(
                        &header,
                        &[&binding.name, &prepared.ignored, &prepared.missing],
                    )
                    .await
            } else {
                Ok(0)
            }
        },
        async {
            if read {
                client.query(&lock, &lock_params).await
            } else {
                Ok(Vec::new())
            }
        },
        async {
            match &states {
                Some(states) if read => client.query(states, &state_params).await,
                _ => Ok(Vec::new()),
            }
        },
    );
    begun?;
    let columns_now: String = columns_now?.try_get(0)?;
    if columns_now != binding.columns_version {
        return Err(TxError::SchemaChanged);
    }
    if let Some(row) = stored? {
        client.batch_execute("ROLLBACK").await?;
        tracing::info!("event already processed; answering its first response");
        let text: String = row.try_get(0)?;
        return serde_json::from_str(&text)
            .map_err(|e| WebhookError::Internal(format!("stored answer: {e}")).into());
    }
    let (table, states_by_key) = match &combined {
        Some(combined) => combined.read(binding, &locked?)?,
        None => {
            let table: HashMap<Key, TableRow> = table_rows(binding, &locked?)?
                .into_iter()
                .map(|row| (row.key.clone(), row))
                .collect();
            let mut states_by_key = HashMap::new();
            for row in state_rows? {
                if let Some(state) = row_state(&row, 0)?
                    && let Some(key) = state.key(binding)
                {
                    states_by_key.insert(key, state);
                }
            }
            (table, states_by_key)
        }
    };

    let read_at = std::time::Instant::now();
    let mut plan = match &prepared.work {
        Work::Edit(rows) => plan_edit(
            binding,
            rows,
            &table,
            &states_by_key,
            prepared.at,
            req.unsettled,
        ),
        Work::Snapshot { rows, partial } => {
            let sheet_columns: Vec<bool> = (0..binding.columns.len())
                .map(|c| prepared.held_columns.contains(&c))
                .collect();
            let image = Image::new(binding, &table, &states_by_key);
            let kind = SnapshotKind {
                partial: *partial,
                unsettled: req.unsettled,
            };
            plan_snapshot(binding, rows, &image, &sheet_columns, prepared.at, kind)
        }
        Work::Keys(present) => {
            let image = Image::new(binding, &table, &states_by_key);
            plan_keys(&image, binding, present, prepared.at, req.unsettled)
        }
    };
    // Rows the database refused in an earlier try of this request.
    let (kept, refused_writes): (Vec<_>, Vec<_>) = plan
        .writes
        .into_iter()
        .partition(|w| !refused.contains_key(&w.index));
    plan.writes = kept;
    for write in refused_writes {
        if let Some(db) = refused.get(&write.index) {
            plan.rejects.push(rows::db_rejection(binding, &write, db));
        }
    }
    tracing::debug!(
        rows = table.len(),
        read_ms = (read_at - begun_at).as_secs_f64() * 1000.0,
        plan_ms = read_at.elapsed().as_secs_f64() * 1000.0,
        "planned"
    );
    let keys_only = matches!(reach, Reach::TableKeys);
    let response = execute(conn, binding, req, prepared, plan, keys_only).await?;
    Ok(response)
}

async fn execute(
    conn: &mut Conn,
    binding: &Binding,
    req: &SyncRequest,
    prepared: &Prepared,
    mut plan: Plan,
    keys_only: bool,
) -> Result<SyncResponse, TxError> {
    let started = std::time::Instant::now();
    let written = rows::apply_writes(conn, binding, &plan.writes).await?;
    let (deleted, mut kept) = rows::delete_rows(conn, binding, &plan.deletes).await?;
    if keys_only && !kept.is_empty() {
        // Read as keys only: sent to the sheet again, they need their cells.
        kept = rows::read_rows(conn, binding, kept.iter().map(|r| &r.key)).await?;
    }
    let kept_keys: HashSet<&Key> = kept.iter().map(|r| &r.key).collect();
    let deleted_rows: Vec<&TableRow> = plan
        .deletes
        .iter()
        .filter(|r| !kept_keys.contains(&r.key))
        .collect();
    if !deleted_rows.is_empty() {
        // Keys only: which rows the request removed from the table.
        tracing::debug!(
            keys = ?deleted_rows.iter().map(|r| r.key.to_string()).collect::<Vec<_>>(),
            "table rows deleted"
        );
    }

    let mut effects = Effects::new(binding, req, prepared.at);
    let mut outcomes: Vec<(usize, RowOutcome)> = Vec::new();
    for (write, result) in plan.writes.iter().zip(written) {
        let stored = match result {
            None => match &write.before {
                Some(before) => before.clone(),
                None => continue,
            },
            Some(Ok(row)) => row,
            Some(Err(rejection)) => {
                outcomes.push((rejection.index, rejected_outcome(binding, &rejection)));
                effects.reject(&rejection);
                continue;
            }
        };
        let written_columns: Vec<usize> = write.cells.iter().map(|(c, _)| *c).collect();
        if !written_columns.is_empty() || !write.already_held {
            let keyless_insert = write.kind == WriteKind::Insert && write.key.is_none();
            effects.hold(
                &stored.key_json,
                &written_columns,
                write.reports_key,
                keyless_insert,
            );
        }
        for conflict in &write.conflicts {
            effects.conflict(&stored.key_json, conflict);
        }
        let repair = repair_columns(
            binding,
            &prepared.held_columns,
            write,
            &stored,
            prepared.at.zone,
        );
        if !repair.is_empty() {
            effects.repair_update(&stored, &repair);
        }
        let status = write.status();
        outcomes.push((
            write.index,
            RowOutcome {
                row: write.sheet_row,
                key: Some(stored.key_object(binding)),
                status,
                detail: if status == RowStatus::Conflict {
                    Some(conflict_detail(binding, &write.conflicts))
                } else {
                    write.note.clone()
                },
                reason: None,
                column: None,
            },
        ));
    }
    for skip in &plan.skips {
        if let Some(key_json) = &skip.key_json {
            for conflict in &skip.conflicts {
                effects.conflict(key_json, conflict);
            }
        }
        outcomes.push((
            skip.index,
            RowOutcome {
                row: skip.sheet_row,
                key: (!skip.key_object.is_empty()).then(|| skip.key_object.clone()),
                status: skip.status,
                detail: skip.detail.clone(),
                reason: None,
                column: None,
            },
        ));
    }
    for rejection in &plan.rejects {
        outcomes.push((rejection.index, rejected_outcome(binding, rejection)));
        effects.reject(rejection);
    }
    for key_json in &plan.held {
        effects.hold(key_json, &[], true, false);
    }
    for row in &deleted_rows {
        effects.forget(&row.key_json);
        if plan.queued_deletes.contains(&row.key) {
            effects.queue_delete(row);
        }
    }
    plan.resends.extend(kept);
    for row in &plan.resends {
        effects.resend(row);
    }
    outcomes.sort_by_key(|(i, _)| *i);

    let response = SyncResponse {
        event_id: req.event_id.clone(),
        rows: outcomes.into_iter().map(|(_, o)| o).collect(),
        deleted,
        resent: plan.resends.len() as u64,
        ignored_columns: prepared.ignored.clone(),
        missing_columns: prepared.missing.clone(),
        deferred: plan.deferred || plan.skips.iter().any(|s| s.status == RowStatus::Deferred),
    };
    let body =
        serde_json::to_value(&response).map_err(|e| WebhookError::Internal(e.to_string()))?;
    let written_at = started.elapsed();
    effects.commit(conn, &body).await?;
    let counts = AnswerCounts::of_sync(&response);
    tracing::info!(
        rows = counts.rows,
        inserted = counts.inserted,
        updated = counts.updated,
        conflicts = counts.conflicts,
        rejected = counts.rejected,
        deferred_rows = counts.deferred,
        deferred = response.deferred,
        unsettled = req.unsettled,
        deleted = counts.deleted,
        resent = counts.queued,
        ignored_columns = response.ignored_columns.len(),
        write_ms = written_at.as_secs_f64() * 1000.0,
        commit_ms = (started.elapsed() - written_at).as_secs_f64() * 1000.0,
        "request applied"
    );
    Ok(response)
}

fn rejected_outcome(binding: &Binding, rejection: &Rejection) -> RowOutcome {
    RowOutcome {
        row: rejection.sheet_row,
        key: rejection.key.as_ref().map(|k| key_object_of(binding, k)),
        status: RowStatus::Rejected,
        detail: None,
        reason: Some(rejection.reason.clone()),
        column: rejection.column.clone(),
    }
}

/// A canonical key by column name: whole numbers as numbers, else text.
pub fn key_object_of(binding: &Binding, key: &Key) -> serde_json::Map<String, Json> {
    binding
        .key_columns
        .iter()
        .zip(key.parts())
        .map(|(name, part)| {
            (
                name.clone(),
                serde_json::to_value(part).unwrap_or(Json::Null),
            )
        })
        .collect()
}

/// A `sheetsync.row_state` row as [`sql::states_all_sql`] selects it,
/// from column `at` on; `None` where the key has none recorded.
fn row_state(row: &tokio_postgres::Row, at: usize) -> Result<Option<RowState>, WebhookError> {
    let get = |e: tokio_postgres::Error| WebhookError::Internal(e.to_string());
    let Some(key_json) = row.try_get::<_, Option<String>>(at).map_err(get)? else {
        return Ok(None);
    };
    let times: String = row.try_get(at + 2).map_err(get)?;
    // Times the trigger or this webhook wrote; an unreadable one counts
    // as unknown (the sheet then wins that cell by time).
    let raw: HashMap<String, String> = serde_json::from_str(&times).unwrap_or_default();
    let cell_changed_at = raw
        .into_iter()
        .filter_map(|(c, t)| {
            DateTime::parse_from_rfc3339(&t)
                .ok()
                .map(|t| (c, t.with_timezone(&Utc)))
        })
        .collect();
    let seqs: String = row.try_get(at + 5).map_err(get)?;
    // Sequences the trigger or this webhook wrote; an unreadable one
    // counts as none recorded.
    let cell_seq: HashMap<String, i64> = serde_json::from_str(&seqs).unwrap_or_default();
    Ok(Some(RowState {
        key_json,
        last_db_seq: row.try_get(at + 1).map_err(get)?,
        cell_changed_at,
        sheet_held: row.try_get(at + 3).map_err(get)?,
        tombstone_seq: row.try_get(at + 4).map_err(get)?,
        cell_seq,
        sheet_inserted_at: row
            .try_get::<_, Option<String>>(at + 6)
            .map_err(get)?
            .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
            .map(|t| t.with_timezone(&Utc)),
    }))
}

/// The parameters of a one-statement read ([`sql::read_compared_sql`],
/// [`sql::read_keys_request_sql`]) and how its rows are read back.
struct Combined<'w> {
    /// Key arrays: a part's keys (each once, as the planner takes the
    /// first row of a key), or a `keys` request's list.
    keys: Vec<Vec<Option<String>>>,
    /// Columns compared in SQL, and per column the sheet's values.
    compared: Vec<usize>,
    values: Vec<Vec<Option<String>>>,
    /// Per key: every compared cell was read (else the row comes whole).
    compared_rows: Vec<bool>,
    /// Per key of a part, the row the sheet sent.
    incoming: HashMap<&'w Key, &'w Incoming>,
}

impl<'w> Combined<'w> {
    fn part(
        binding: &Binding,
        rows: &'w [Result<Incoming, Rejection>],
        held: &HashSet<usize>,
    ) -> Combined<'w> {
        // What a snapshot may write into an existing row: all of it is
        // compared, or nothing is (then every row comes back whole).
        let writable: Vec<usize> = (0..binding.columns.len())
            .filter(|c| {
                let column = &binding.columns[*c];
                held.contains(c) && !column.generated && column.key_position.is_none()
            })
            .collect();
        let compared = if writable
            .iter()
            .all(|&c| sql::compared_cast(&binding.columns[c]).is_some())
        {
            writable
        } else {
            Vec::new()
        };
        let mut incoming: HashMap<&Key, &Incoming> = HashMap::new();
        let mut order = Vec::new();
        for row in rows.iter().flatten() {
            if let Some(key) = &row.key
                && !incoming.contains_key(key)
            {
                incoming.insert(key, row);
                order.push(row);
            }
        }
        let mut values = vec![Vec::with_capacity(order.len()); compared.len()];
        let mut compared_rows = Vec::with_capacity(order.len());
        for row in &order {
            let mut whole = true;
            for (i, &c) in compared.iter().enumerate() {
                let text = match row.cells[c].as_ref().map(|cell| &cell.value) {
                    Some(Ok(value)) => value.to_pg_text(),
                    _ => {
                        whole = false;
                        None
                    }
                };
                values[i].push(text);
            }
            compared_rows.push(whole);
        }
        Combined {
            keys: key_params(binding, order.iter().filter_map(|r| r.key.as_ref())),
            compared,
            values,
            compared_rows,
            incoming,
        }
    }

    fn keys(binding: &Binding, listed: &HashSet<Key>) -> Combined<'w> {
        Combined {
            keys: key_params(binding, listed),
            compared: Vec::new(),
            values: Vec::new(),
            compared_rows: Vec::new(),
            incoming: HashMap::new(),
        }
    }

    /// The table rows and their states. A row SQL found equal to the
    /// sheet's comes as its key columns; it takes the sheet's values of
    /// the compared columns (equal to the table's), so the planner judges
    /// it as it would the whole row.
    #[allow(clippy::type_complexity)]
    fn read(
        &self,
        binding: &Binding,
        rows: &[tokio_postgres::Row],
    ) -> Result<(HashMap<Key, TableRow>, HashMap<Key, RowState>), WebhookError> {
        let get = |e: tokio_postgres::Error| WebhookError::Internal(e.to_string());
        let mut table = HashMap::with_capacity(rows.len());
        let mut states = HashMap::with_capacity(rows.len());
        for row in rows {
            if let Some(key_json) = row.try_get::<_, Option<String>>(0).map_err(get)? {
                let image: String = row.try_get(1).map_err(get)?;
                let same: bool = row.try_get(2).map_err(get)?;
                let mut parsed = TableRow::parse(binding, key_json, &image)?;
                if same && let Some(sent) = self.incoming.get(&parsed.key) {
                    for &c in &self.compared {
                        if let Some(Ok(value)) = sent.cells[c].as_ref().map(|cell| &cell.value) {
                            parsed.values[c] = value.clone();
                        }
                    }
                }
                table.insert(parsed.key.clone(), parsed);
            }
            if let Some(state) = row_state(row, sql::COMPARED_STATE_AT)?
                && let Some(key) = state.key(binding)
            {
                states.insert(key, state);
            }
        }
        Ok((table, states))
    }
}
