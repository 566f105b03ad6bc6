//! `sheetsync dev`: the whole sync in one process on an embedded default.
//!
//! A throwaway PostgreSQL (or `DATABASE_URL`), the demo table, the Sheets
//! API emulator with a browser grid, the webhook over local HTTP, the relay
//! in LISTEN mode, an in-process queue (or SQS) and the writer — the same
//! library code the Lambdas run. Ctrl-C or SIGTERM stops it all and removes
//! what it made.
//!
//! * [`database`]: where PostgreSQL comes from; [`demo`]: the demo table.
//! * [`sheet`]: the emulator or a real Google Sheet, and the writer's client.
//! * [`relay`] and [`deliver`]: outbox → queue → writer.
//! * [`web`]: the grid, the webhook and the activity feed over HTTP.
//! * [`console`]: what the person at the terminal reads.

mod bind;
mod console;
mod database;
mod deliver;
mod demo;
mod error;
mod relay;
mod secret;
mod sheet;
mod stop;
mod web;

use std::path::PathBuf;
use std::sync::Arc;

pub use error::DevError;

use console::Console;
use database::Database;
use sheet::SheetSide;
use stop::Stop;

/// The sheet the stack syncs with.
#[derive(Debug, Clone)]
pub enum SheetChoice {
    /// The in-process Sheets API emulator, with the browser grid.
    Emulator,
    Google {
        credentials: PathBuf,
        spreadsheet_id: String,
        sheet: String,
    },
}

#[derive(Debug, Clone)]
pub struct Options {
    pub port: u16,
    pub table: Option<String>,
    pub sqs_url: Option<String>,
    pub sheet: SheetChoice,
}

/// Runs until Ctrl-C or SIGTERM; everything it started is stopped and
/// removed before it returns, on error too.
pub async fn run(options: Options) -> Result<(), DevError> {
    let stop = Stop::on_signals()?;
    let console = Arc::new(Console::stdout());
    let listener = web::Server::bind(options.port).await?;
    let database = Database::open(&console).await?;
    let result = run_on(listener, &database, &options, &stop, &console).await;
    // On an error, parts already started must not outlive the database.
    stop.trigger();
    if database.is_throwaway() {
        console.step("stopping PostgreSQL and removing its directory");
    }
    let stopped = tokio::task::spawn_blocking(move || database.close())
        .await
        .map_err(|e| DevError::Task(e.to_string()))?;
    result.and(stopped)?;
    console.step("stopped; nothing left behind");
    Ok(())
}

async fn run_on(
    listener: tokio::net::TcpListener,
    database: &Database,
    options: &Options,
    stop: &Stop,
    console: &Arc<Console>,
) -> Result<(), DevError> {
    let mut client = database.connect().await?;
    sheetsync_store::migrate(&client).await?;
    let table = demo::prepare(&client, options.table.as_deref(), console).await?;
    let side = SheetSide::open(&options.sheet, &table.name).await?;
    let binding = bind::bind(&client, &table, side.spreadsheet_id(), side.tab()).await?;
    // With a real sheet the Apps Script keeps its key across runs: take the
    // master from SHEETSYNC_WEBHOOK_SECRET when set. The grid always gets a
    // fresh one.
    let kept = match options.sheet {
        SheetChoice::Google { .. } => sheetsync_config::process_env(secret::ENV),
        SheetChoice::Emulator => None,
    };
    let master = match &kept {
        Some(secret) => secret.clone(),
        None => secret::dev_secret()?,
    };
    let key = sheetsync_webhook::spreadsheet_key(
        &sheetsync_webhook::Secret::new(master.as_bytes()),
        &binding.spreadsheet_id,
    );

    let writer = Arc::new(side.writer().await?);
    let queue = relay::Queue::open(options.sqs_url.as_deref()).await?;
    let relay_task = relay::spawn(database.config(), &queue, stop.clone())?;
    let deliver_task = deliver::spawn(&queue, writer, console.clone(), stop.clone());

    let server = web::Server::start(
        listener,
        web::Setup {
            psql: database.psql_command(&binding),
            database: database.config().clone(),
            binding: binding.clone(),
            master,
            key: key.clone(),
            emulator: side.emulator().cloned(),
            console: console.clone(),
            stop: stop.clone(),
        },
    )
    .await?;

    let Some(report) = relay::first_sync(&mut client, &binding, stop).await? else {
        return stop_parts(server, relay_task, deliver_task, &side, client, console).await;
    };
    console.banner(&console::Banner {
        url: server.url(),
        grid: side.emulator().is_some(),
        database: database.describe(),
        psql: database.psql_command(&binding),
        binding: &binding,
        queue: queue.describe(),
        backfilled: report.queued_rows,
        key: match side.emulator() {
            Some(_) => None,
            None => Some(console::KeyShown {
                key: key.reveal(),
                master_from_env: kept.is_some(),
            }),
        },
    });

    stop.wait().await;
    stop_parts(server, relay_task, deliver_task, &side, client, console).await
}

/// After the stop fired: the web server (no new edits), the relay (no new
/// messages), the writer, then the emulator; the database is closed last,
/// by the caller.
async fn stop_parts(
    server: web::Server,
    relay_task: relay::Task,
    deliver_task: relay::Task,
    side: &SheetSide,
    client: tokio_postgres::Client,
    console: &Console,
) -> Result<(), DevError> {
    console.step("stopping");
    server.join().await;
    relay_task.join().await;
    deliver_task.join().await;
    if let Some(emulator) = side.emulator() {
        emulator.clone().shutdown().await;
    }
    drop(client);
    Ok(())
}
