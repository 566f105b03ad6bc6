//! The `Emulator` handle: serves the API in the background and seeds, inspects
//! and injects faults in-process.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::serve::ListenerExt;
use serde_json::Value as Json;
use tokio::net::TcpListener;
use tokio::sync::{broadcast, oneshot};
use tokio::task::JoinHandle;

use crate::auth::TEST_SERVICE_ACCOUNT_JSON;
use crate::cell::Cell;
use crate::changes::Change;
use crate::faults::Faults;
use crate::log::{Counters, LoggedRequest};
use crate::state::Shared;
use crate::{router, seed};

/// A running Sheets API v4 emulator. Cloning gives another handle to the same
/// emulator; the server stops when the last handle is dropped (or on `shutdown`).
#[derive(Clone)]
pub struct Emulator {
    shared: Arc<Shared>,
    addr: SocketAddr,
    server: Arc<Server>,
}

struct Server {
    stop: std::sync::Mutex<Option<oneshot::Sender<()>>>,
    task: std::sync::Mutex<Option<JoinHandle<()>>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(mut task) = self.task.lock()
            && let Some(task) = task.take()
        {
            task.abort();
        }
    }
}

impl Emulator {
    /// Starts an emulator on `127.0.0.1` at a free port, serving in the background
    /// on the current tokio runtime.
    ///
    /// # Panics
    /// If no loopback port can be bound (a broken test machine); use
    /// [`Emulator::bind`] to handle that as an error.
    pub async fn start() -> Emulator {
        match Emulator::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await {
            Ok(emulator) => emulator,
            Err(e) => panic!("sheets emulator: cannot bind 127.0.0.1:0: {e}"),
        }
    }

    /// Starts an emulator listening on `addr` (port 0 picks a free one).
    pub async fn bind(addr: SocketAddr) -> std::io::Result<Emulator> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::default());
        let _ = shared.root_url.set(format!("http://{addr}/"));
        let app = router::router(shared.clone());
        // Small responses after large uploads must not wait on Nagle + delayed ACK.
        let listener = listener.tap_io(|tcp| {
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::debug!(error = %e, "sheets emulator: TCP_NODELAY not set");
            }
        });
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = stopped.await;
            });
            if let Err(e) = serve.await {
                tracing::error!(error = %e, "sheets emulator stopped");
            }
        });
        Ok(Emulator {
            shared,
            addr,
            server: Arc::new(Server {
                stop: std::sync::Mutex::new(Some(stop)),
                task: std::sync::Mutex::new(Some(task)),
            }),
        })
    }

    /// Stops serving and waits for open connections to finish.
    pub async fn shutdown(self) {
        let stop = self.server.stop.lock().ok().and_then(|mut s| s.take());
        let task = self.server.task.lock().ok().and_then(|mut t| t.take());
        if let Some(stop) = stop {
            let _ = stop.send(());
        }
        if let Some(task) = task {
            let _ = task.await;
        }
    }

    /// The same API (and `/_emulator` controls) over this emulator's state, to
    /// serve from another listener too (e.g. the local stack's web server).
    pub fn router(&self) -> axum::Router {
        router::router(self.shared.clone())
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT/`: google-sheets4's `root_url`/`base_url`.
    pub fn root_url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// `http://127.0.0.1:PORT/token`: the OAuth2 token endpoint.
    pub fn token_uri(&self) -> String {
        format!("http://{}/token", self.addr)
    }

    /// The test service account's key file (JSON, as Google's console downloads
    /// it) with `token_uri` pointing at this emulator; feed it to
    /// `yup_oauth2::parse_service_account_key`.
    pub fn service_account_key(&self) -> String {
        service_account_key(&self.token_uri())
    }

    // ---- seed -------------------------------------------------------------

    /// Creates the tab (and the spreadsheet) if missing; returns its `sheetId`.
    /// A new spreadsheet's first tab gets id 0, as in Google.
    pub fn add_sheet(&self, spreadsheet_id: &str, tab: &str) -> i32 {
        seed::add_sheet(&self.shared, spreadsheet_id, tab)
    }

    /// Replaces the tab's cells with `rows` (creating it if missing, growing the
    /// grid to fit). Values: JSON number, string (raw, not parsed), bool, null
    /// (empty), or a [`Cell`] as JSON for formats.
    ///
    /// # Panics
    /// On a value that is neither (an array, a malformed cell object).
    pub fn set_rows(&self, spreadsheet_id: &str, tab: &str, rows: Vec<Vec<Json>>) {
        if let Err(e) = seed::set_rows(&self.shared, spreadsheet_id, tab, &rows) {
            panic!("sheets emulator: set_rows: {e}");
        }
    }

    /// Sets the spreadsheet's time zone (`properties.timeZone`, an IANA
    /// name), creating the spreadsheet if missing. New spreadsheets are in
    /// `Etc/GMT`. Cells keep their serial numbers: a zone change moves the
    /// instants date-time cells mean, as in Google.
    ///
    /// # Panics
    /// On a name that is not an IANA time zone.
    pub fn set_time_zone(&self, spreadsheet_id: &str, zone: &str) {
        if let Err(e) = seed::set_time_zone(&self.shared, spreadsheet_id, zone) {
            panic!("sheets emulator: set_time_zone: {e}");
        }
    }

    /// Sets the spreadsheet's locale (`properties.locale`, e.g. `de_DE`),
    /// creating the spreadsheet if missing. New spreadsheets are `en_US`.
    ///
    /// # Panics
    /// On a value that is not a locale tag.
    pub fn set_locale(&self, spreadsheet_id: &str, locale: &str) {
        if let Err(e) = seed::set_locale(&self.shared, spreadsheet_id, locale) {
            panic!("sheets emulator: set_locale: {e}");
        }
    }

    /// Sets one cell (zero-based row and column), growing the grid if needed.
    pub fn set_cell(&self, spreadsheet_id: &str, tab: &str, row: usize, col: usize, cell: Cell) {
        seed::set_cell(&self.shared, spreadsheet_id, tab, row, col, cell)
    }

    /// Types `text` into a cell as a person would in the Sheets UI (`42` becomes a
    /// number, `2024-01-05` a date, `TRUE` a bool, `'42` text); returns the cell.
    pub fn enter_text(
        &self,
        spreadsheet_id: &str,
        tab: &str,
        row: usize,
        col: usize,
        text: &str,
    ) -> Cell {
        seed::enter_text(&self.shared, spreadsheet_id, tab, row, col, text)
    }

    /// Edits the tab's stored rows directly (sort them, move them, clear cells):
    /// what a person does in the sheet behind the API's back. The grid grows to fit.
    /// `edit` runs under the emulator's lock: it must not call the emulator.
    pub fn edit_rows<R>(
        &self,
        spreadsheet_id: &str,
        tab: &str,
        edit: impl FnOnce(&mut Vec<Vec<Cell>>) -> R,
    ) -> R {
        seed::with_tab(&self.shared, spreadsheet_id, tab, |sheet| {
            let mut cells = sheet.cells();
            let out = edit(&mut cells);
            sheet.set_cells(cells);
            out
        })
    }

    /// Deletes `count` rows at zero-based `start` as the sheet UI does; false if out of range.
    pub fn delete_rows(&self, spreadsheet_id: &str, tab: &str, start: usize, count: usize) -> bool {
        seed::delete_rows(&self.shared, spreadsheet_id, tab, start, count)
    }

    /// Sets sheet-located developer metadata `key` on the tab (replacing an entry with that key).
    pub fn set_developer_metadata(&self, spreadsheet_id: &str, tab: &str, key: &str, value: &str) {
        seed::set_metadata(&self.shared, spreadsheet_id, tab, key, value)
    }

    // ---- inspect ----------------------------------------------------------

    /// The tab's values as `values.get` (UNFORMATTED_VALUE, SERIAL_NUMBER) returns
    /// them: dates as serial numbers, empty cells `""` inside a row, trailing
    /// empties and rows left out. Empty when the tab does not exist.
    pub fn rows(&self, spreadsheet_id: &str, tab: &str) -> Vec<Vec<Json>> {
        seed::read_tab(&self.shared, spreadsheet_id, tab, |_, sheet| {
            seed::rows(sheet)
        })
        .unwrap_or_default()
    }

    /// The tab's stored cells (typed values, formats, notes); `None` when the tab does not exist.
    pub fn cells(&self, spreadsheet_id: &str, tab: &str) -> Option<Vec<Vec<Cell>>> {
        seed::read_tab(&self.shared, spreadsheet_id, tab, |_, sheet| sheet.cells())
    }

    /// One cell (zero-based); a blank cell past the data, `None` when the tab does not exist.
    pub fn cell(&self, spreadsheet_id: &str, tab: &str, row: usize, col: usize) -> Option<Cell> {
        seed::read_tab(&self.shared, spreadsheet_id, tab, |_, sheet| {
            sheet.cell(row, col).clone()
        })
    }

    /// (rowCount, columnCount) of the tab's grid.
    pub fn grid_size(&self, spreadsheet_id: &str, tab: &str) -> Option<(usize, usize)> {
        seed::read_tab(&self.shared, spreadsheet_id, tab, |_, s| {
            (s.row_count, s.column_count)
        })
    }

    pub fn sheet_id(&self, spreadsheet_id: &str, tab: &str) -> Option<i32> {
        seed::read_tab(&self.shared, spreadsheet_id, tab, |_, s| s.id)
    }

    /// Tab titles in order; empty when the spreadsheet does not exist.
    pub fn tabs(&self, spreadsheet_id: &str) -> Vec<String> {
        self.shared
            .store()
            .spreadsheets
            .get(spreadsheet_id)
            .map(|s| s.sheets.iter().map(|t| t.title.clone()).collect())
            .unwrap_or_default()
    }

    /// The value of the tab's developer metadata `key` (the first entry with that key).
    pub fn developer_metadata(&self, spreadsheet_id: &str, tab: &str, key: &str) -> Option<String> {
        seed::read_tab(&self.shared, spreadsheet_id, tab, |spreadsheet, sheet| {
            seed::metadata_value(spreadsheet, sheet, key)
        })
        .flatten()
    }

    // ---- request log ------------------------------------------------------

    /// Requests answered since the last reset (API and token calls; newest last).
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.shared.log.entries()
    }

    /// Sheets API calls (under `/v4/`) since the last reset, whatever their status.
    pub fn request_count(&self) -> u64 {
        self.shared.log.counters().api_requests
    }

    pub fn counters(&self) -> Counters {
        self.shared.log.counters()
    }

    pub fn reset_log(&self) {
        self.shared.log.reset()
    }

    // ---- faults, tokens, changes, reset --------------------------------------

    /// A person's edit of `tab`'s rows that happens just before the next
    /// API write to the spreadsheet is applied: in the writer's read → write
    /// window, every time. `edit` runs under the emulator's lock.
    pub fn before_next_write(
        &self,
        spreadsheet_id: &str,
        tab: &str,
        edit: impl FnOnce(&mut Vec<Vec<Cell>>) + Send + 'static,
    ) {
        let mut edit = Some(edit);
        self.before_writes(spreadsheet_id, tab, 1, move |rows| {
            if let Some(edit) = edit.take() {
                edit(rows)
            }
        });
    }

    /// A person who moves rows just before each of the next `writes`
    /// batchUpdates of the spreadsheet: the writer's repairs are raced too.
    pub fn before_writes(
        &self,
        spreadsheet_id: &str,
        tab: &str,
        writes: usize,
        edit: impl FnMut(&mut Vec<Vec<Cell>>) + Send + 'static,
    ) {
        self.shared
            .races
            .push(spreadsheet_id, tab, writes, Box::new(edit));
    }

    /// Fault injection: quota (429 + Retry-After), 5xx bursts, latency.
    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    /// Lifetime of tokens issued from now on (default 3599 s, Google's).
    pub fn set_token_lifetime(&self, lifetime: Duration) {
        self.shared.tokens.set_lifetime(lifetime)
    }

    /// Invalidates every issued token: API calls with them get 401 until the client fetches a new one.
    /// Every OAuth scope a token was granted for so far.
    pub fn granted_scopes(&self) -> std::collections::BTreeSet<String> {
        self.shared.tokens.granted_scopes()
    }

    pub fn revoke_tokens(&self) {
        self.shared.tokens.revoke_all()
    }

    /// A receiver of tab changes from now on (API writes and seeds).
    pub fn changes(&self) -> broadcast::Receiver<Change> {
        self.shared.subscribe()
    }

    /// The revision of the latest change (0 before any).
    pub fn revision(&self) -> u64 {
        self.shared.revision()
    }

    /// Forgets every spreadsheet, token, fault and logged request.
    pub fn reset(&self) {
        self.shared.store().spreadsheets.clear();
        self.shared.tokens.revoke_all();
        self.shared.faults.clear();
        self.shared.log.reset();
    }
}

/// The test key JSON with `token_uri` replaced.
pub fn service_account_key(token_uri: &str) -> String {
    match serde_json::from_str::<Json>(TEST_SERVICE_ACCOUNT_JSON) {
        Ok(mut key) => {
            key["token_uri"] = Json::String(token_uri.to_string());
            serde_json::to_string_pretty(&key).unwrap_or_default()
        }
        Err(_) => TEST_SERVICE_ACCOUNT_JSON.to_string(),
    }
}
