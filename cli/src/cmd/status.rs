use chrono::{DateTime, SecondsFormat, Utc};
use sheetsync_store::{
    binding_status, recent_conflicts, recent_rejects, recent_schema_changes, sheet_header_issues,
};

use crate::error::CmdResult;
use crate::global::Global;
use crate::table::Table;

#[derive(clap::Args)]
pub struct Args {
    /// Only this binding's conflicts and rejects
    #[arg(long, value_name = "NAME")]
    binding: Option<String>,
    /// How many recent conflicts and rejects to show
    #[arg(long, default_value_t = 10)]
    limit: i64,
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl Args {
    pub async fn run(self, global: &Global) -> CmdResult {
        let client = global.connect().await?;
        let bindings = binding_status(&client).await?;
        let binding = self.binding.as_deref();

        let mut t = Table::new(&[
            "BINDING",
            "TABLE",
            "SPREADSHEET",
            "SHEET",
            "CONFLICT",
            "QUEUED",
            "OLDEST QUEUED",
            "CONFLICTS",
            "REJECTS",
        ]);
        for b in bindings
            .iter()
            .filter(|b| binding.is_none_or(|n| n == b.name))
        {
            t.row(vec![
                b.name.clone(),
                b.table.clone(),
                b.spreadsheet_id.clone(),
                b.sheet.clone(),
                b.policy.clone(),
                b.outbox_depth.to_string(),
                b.oldest_pending.map(time).unwrap_or_else(|| "-".into()),
                b.conflicts.to_string(),
                b.rejects.to_string(),
            ]);
        }
        if bindings.is_empty() {
            println!("no bindings (attach a table with `sheetsync attach`)");
        } else {
            print!("{}", t.render());
        }

        let headers = sheet_header_issues(&client, binding).await?;
        if !headers.is_empty() {
            let mut t = Table::new(&[
                "BINDING",
                "NOT COLUMNS (IGNORED)",
                "COLUMNS THE HEADER LACKS",
                "SEEN",
            ]);
            for h in &headers {
                t.row(vec![
                    h.binding.clone(),
                    list(&h.ignored),
                    list(&h.missing),
                    time(h.seen_at),
                ]);
            }
            println!(
                "\nSheet headers (as the last request showed them; these cells are not synced):"
            );
            print!("{}", t.render());
        }

        let changes = recent_schema_changes(&client, binding, self.limit).await?;
        if !changes.is_empty() {
            let mut t = Table::new(&["TIME", "BINDING", "CHANGE", "COLUMN", "WAS"]);
            for c in &changes {
                t.row(vec![
                    time(c.detected_at),
                    c.binding.clone(),
                    c.change.clone(),
                    c.column_name.clone(),
                    c.previous.clone().unwrap_or_else(|| "-".into()),
                ]);
            }
            println!("\nRecent table column changes (sent to the sheet's header):");
            print!("{}", t.render());
        }

        let conflicts = recent_conflicts(&client, binding, self.limit).await?;
        if !conflicts.is_empty() {
            let mut t = Table::new(&[
                "TIME",
                "BINDING",
                "KEY",
                "COLUMN",
                "SHEET VALUE",
                "DB VALUE",
                "WINNER",
            ]);
            for c in &conflicts {
                t.row(vec![
                    time(c.recorded_at),
                    c.binding.clone(),
                    c.key.to_string(),
                    c.column_name.clone(),
                    show(&c.sheet_value),
                    show(&c.db_value),
                    c.winner.clone(),
                ]);
            }
            println!("\nRecent conflicts:");
            print!("{}", t.render());
        }

        let rejects = recent_rejects(&client, binding, self.limit).await?;
        if !rejects.is_empty() {
            let mut t = Table::new(&["TIME", "BINDING", "ROW", "KEY", "COLUMN", "REASON"]);
            for r in &rejects {
                t.row(vec![
                    time(r.recorded_at),
                    r.binding.clone(),
                    r.sheet_row
                        .map(|n| n.to_string())
                        .unwrap_or_else(|| "-".into()),
                    show(&r.key),
                    r.column_name.clone().unwrap_or_else(|| "-".into()),
                    r.reason.clone(),
                ]);
            }
            println!("\nRecent rejects:");
            print!("{}", t.render());
        }
        Ok(())
    }
}

fn list(names: &[String]) -> String {
    if names.is_empty() {
        "-".into()
    } else {
        names.join(", ")
    }
}

fn show(v: &Option<serde_json::Value>) -> String {
    v.as_ref().map_or_else(|| "-".into(), |v| v.to_string())
}
