//! Steady load from both sides: single-row UPDATEs of `qty` committed
//! from the database, and people typing into `note` in the sheet, each
//! edit posted to the webhook as the Apps Script posts it. The two sides
//! write different columns, so the expected end state is well defined.

use std::time::Duration;

use serde_json::{Value as Json, json};
use sheetsync_sheets_emulator::{Cell, Emulator};
use sheetsync_webhook::signature::sign;
use sheetsync_webhook::{Secret, Webhook, WebhookRequest, spreadsheet_key};
use tokio::time::{Instant, MissedTickBehavior};
use tokio_postgres::Client;

use super::fleet::{Bound, HEADER};

/// A deterministic stream of choices (no rand crate in the bench).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

fn ticker(per_second: f64) -> tokio::time::Interval {
    let mut t = tokio::time::interval(Duration::from_secs_f64(1.0 / per_second.max(0.001)));
    // A late tick is made up at once, so the rate over the run holds.
    t.set_missed_tick_behavior(MissedTickBehavior::Burst);
    t
}

/// Commits `per_second` single-row updates until `until`; answers how many.
pub async fn database(
    sql: Client,
    fleet: Vec<Bound>,
    per_second: f64,
    until: Instant,
) -> Result<u64, String> {
    let mut rng = Rng::new(0x5eed_0001);
    let mut tick = ticker(per_second);
    let mut committed = 0u64;
    while Instant::now() < until {
        tick.tick().await;
        let b = &fleet[rng.below(fleet.len() as u64) as usize];
        let id = 1 + rng.below(b.rows as u64) as i64;
        committed += 1;
        let qty = committed as i32;
        sql.execute(
            &format!("UPDATE {} SET qty = $1 WHERE id = $2", b.table),
            &[&qty, &id],
        )
        .await
        .map_err(|e| format!("update {}: {e}", b.table))?;
    }
    Ok(committed)
}

/// What the sheet side did.
#[derive(Debug, Default, Clone, Copy)]
pub struct SheetLoad {
    pub edits: u64,
    /// Edits the webhook did not answer `updated`.
    pub refused: u64,
}

/// Types `per_second` notes into the tabs until `until`, posting each.
pub async fn sheet(
    webhook: &Webhook,
    emu: &Emulator,
    master: &Secret,
    fleet: &[Bound],
    per_second: f64,
    until: Instant,
) -> SheetLoad {
    let mut rng = Rng::new(0x5eed_0002);
    let mut tick = ticker(per_second);
    let mut load = SheetLoad::default();
    while Instant::now() < until {
        tick.tick().await;
        let b = &fleet[rng.below(fleet.len() as u64) as usize];
        let id = 1 + rng.below(b.rows as u64) as usize;
        load.edits += 1;
        let note = format!("sheet {}", load.edits);
        // Rows never move in this run: key `id` is on grid row `id`.
        let typed = emu.edit_rows(&b.spreadsheet_id, &b.tab, |rows| {
            let row = rows.get_mut(id)?;
            row.resize(HEADER.len(), Cell::default());
            let old = row[3].unformatted_json(true);
            row[3] = Cell::text(note.clone());
            let values: Vec<Json> = row.iter().map(|c| c.unformatted_json(true)).collect();
            Some((old, values))
        });
        let Some((old, values)) = typed else {
            load.refused += 1;
            continue;
        };
        let mut sent = json!({"row": id + 1, "values": values});
        if old == json!("") || old.is_null() {
            sent["edited"] = json!(["note"]);
        } else {
            sent["old"] = json!({"note": old});
        }
        let mut body = json!({
            "v": 1,
            "event_id": format!("bench-{}-{}", std::process::id(), load.edits),
            "spreadsheet_id": b.spreadsheet_id,
            "sheet": b.tab,
            "kind": "edit",
            "edited_at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "header": HEADER,
            "rows": [sent],
        });
        if let Some(w) = emu
            .developer_metadata(&b.spreadsheet_id, &b.tab, "sheetsync.watermark")
            .and_then(|w| w.parse::<i64>().ok())
        {
            body["watermark"] = json!(w);
        }
        let answer = webhook
            .handle(signed(master, &b.spreadsheet_id, &body.to_string()))
            .await;
        let updated =
            answer.status == 200 && answer.body()["rows"][0]["status"].as_str() == Some("updated");
        if !updated {
            load.refused += 1;
            eprintln!(
                "bench: sheet edit of {} row {id} answered {}: {}",
                b.name,
                answer.status,
                answer.body()
            );
        }
    }
    load
}

/// A `POST /sync_postgres` signed now with the spreadsheet's key.
fn signed(master: &Secret, spreadsheet_id: &str, body: &str) -> WebhookRequest {
    let key = spreadsheet_key(master, spreadsheet_id).signing_secret();
    let at = chrono::Utc::now().timestamp().to_string();
    WebhookRequest {
        method: "POST".into(),
        path: "/sync_postgres".into(),
        headers: vec![
            ("Content-Type".into(), "application/json".into()),
            ("X-Sheetsync-Timestamp".into(), at.clone()),
            (
                "X-Sheetsync-Signature".into(),
                sign(&key, &at, body.as_bytes()),
            ),
        ],
        body: body.as_bytes().to_vec(),
    }
}
