//! What the person at the terminal reads: where to look, what to try, and
//! one line per synced batch. Logs (tracing) go to stderr; this is stdout.

use std::io::Write;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use sheetsync_store::Binding;
use sheetsync_writer::BatchStats;

pub struct Console {
    out: Mutex<Box<dyn Write + Send>>,
}

pub struct Banner<'a> {
    pub url: String,
    pub grid: bool,
    pub database: String,
    pub psql: String,
    pub binding: &'a Binding,
    pub queue: String,
    pub backfilled: u64,
    /// Shown only for a real Google Sheet, whose Apps Script needs it.
    pub key: Option<KeyShown<'a>>,
}

/// The spreadsheet's key of a run against a real sheet (the master it is
/// derived from is never printed).
pub struct KeyShown<'a> {
    pub key: &'a str,
    /// The master came from SHEETSYNC_WEBHOOK_SECRET (else: made for this run).
    pub master_from_env: bool,
}

/// One webhook request, as the sheet → database line shows it.
pub struct SheetBatch<'a> {
    pub kind: &'a str,
    pub rows: usize,
    /// `inserted 1, rejected 1`.
    pub outcome: String,
    pub millis: u128,
}

impl Console {
    pub fn stdout() -> Console {
        Console::to(Box::new(std::io::stdout()))
    }

    pub fn to(out: Box<dyn Write + Send>) -> Console {
        Console {
            out: Mutex::new(out),
        }
    }

    fn line(&self, text: &str) {
        let mut out = self.out.lock().unwrap_or_else(|p| p.into_inner());
        // A closed stdout must not stop the stack.
        let _ = writeln!(out, "{text}");
        let _ = out.flush();
    }

    pub fn step(&self, what: &str) {
        self.line(&format!("· {what}"));
    }

    pub fn banner(&self, b: &Banner<'_>) {
        let binding = b.binding;
        let mut text = String::from("\n");
        if b.grid {
            text += &format!("  sheetsync dev is running. Open {}\n\n", b.url);
        } else {
            text += &format!(
                "  sheetsync dev is running against Google Sheets (no grid is served: open the sheet itself).\n  Webhook: {}/sync_postgres (the Apps Script needs a public URL to it, e.g. a tunnel)\n\n",
                b.url
            );
        }
        text += &format!("  table      {}\n", binding.table_display());
        text += &format!(
            "  sheet      spreadsheet {} tab '{}' (binding {})\n",
            binding.spreadsheet_id, binding.sheet, binding.name
        );
        text += &format!("  database   {}\n", b.database);
        text += &format!("  queue      {}\n", b.queue);
        match &b.key {
            Some(KeyShown {
                key,
                master_from_env: true,
            }) => {
                text += &format!(
                    "  key        {key} (for Sheetsync → Set up… in the sheet; derived from SHEETSYNC_WEBHOOK_SECRET)\n"
                )
            }
            Some(KeyShown {
                key,
                master_from_env: false,
            }) => {
                text += &format!(
                    "  key        {key} (for Sheetsync → Set up… in the sheet; set SHEETSYNC_WEBHOOK_SECRET to keep it across runs)\n"
                )
            }
            None => {}
        }
        text += &format!(
            "  first sync {} rows queued for the sheet\n\n",
            b.backfilled
        );
        if b.grid {
            text += "  Try it: edit a cell in the grid (the row changes in PostgreSQL), or run\n";
        } else {
            text += "  Try it: run\n";
        }
        text += &format!("    {}\n", b.psql);
        text += "  and watch the sheet change. Ctrl-C stops everything.\n";
        self.line(&text);
    }

    /// A batch the writer applied (or failed to).
    pub fn db_to_sheet(&self, s: &BatchStats) {
        if s.messages == 0 {
            return;
        }
        let mut parts = Vec::new();
        for (n, what) in [
            (s.rows_updated, "updated"),
            (s.rows_appended, "appended"),
            (s.rows_deleted, "deleted"),
            (s.stale, "already there"),
            (s.failed_messages, "failed (retrying)"),
        ] {
            if n > 0 {
                parts.push(format!("{n} {what}"));
            }
        }
        if parts.is_empty() {
            parts.push("no change".into());
        }
        let latency = s
            .max_lag_ms
            .map_or_else(String::new, |ms| format!("{ms} ms after commit"));
        self.line(&format!(
            "{}  db → sheet   {:<7} {:<34} {latency}",
            clock(),
            rows(s.rows_applied()),
            parts.join(", "),
        ));
    }

    pub fn sheet_to_db(&self, b: &SheetBatch<'_>) {
        self.line(&format!(
            "{}  sheet → db   {:<7} {:<34} {} ms",
            clock(),
            rows(b.rows),
            format!("{} {}", b.kind, b.outcome),
            b.millis
        ));
    }
}

fn rows(n: usize) -> String {
    if n == 1 {
        "1 row".into()
    } else {
        format!("{n} rows")
    }
}

/// HH:MM:SS (UTC): logs and psql sessions compare by it.
fn clock() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let day = secs % 86_400;
    format!("{:02}:{:02}:{:02}", day / 3600, day % 3600 / 60, day % 60)
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// The lines printed, without their `HH:MM:SS  ` clock.
    fn lines(buffer: &Buffer) -> Vec<String> {
        String::from_utf8(buffer.0.lock().unwrap().clone())
            .unwrap()
            .lines()
            .map(|l| l[10..].trim_end().to_string())
            .collect()
    }

    #[test]
    fn one_line_per_batch_with_direction_rows_and_latency() {
        let buffer = Buffer::default();
        let console = Console::to(Box::new(buffer.clone()));
        console.db_to_sheet(&BatchStats {
            messages: 1,
            rows_appended: 5,
            max_lag_ms: Some(15),
            ..BatchStats::default()
        });
        console.db_to_sheet(&BatchStats::default());
        console.db_to_sheet(&BatchStats {
            messages: 2,
            rows_updated: 1,
            failed_messages: 1,
            ..BatchStats::default()
        });
        console.sheet_to_db(&SheetBatch {
            kind: "edit",
            rows: 1,
            outcome: "→ updated 1".into(),
            millis: 9,
        });
        assert_eq!(
            lines(&buffer),
            vec![
                "db → sheet   5 rows  5 appended                         15 ms after commit",
                "db → sheet   1 row   1 updated, 1 failed (retrying)",
                "sheet → db   1 row   edit → updated 1                   9 ms",
            ]
        );
    }
}
