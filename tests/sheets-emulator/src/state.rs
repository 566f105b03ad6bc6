//! State shared by every request handler and the `Emulator` handle.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};

use serde_json::Value as Json;
use tokio::sync::broadcast;

use crate::auth::Tokens;
use crate::changes::{Change, ChangeSource};
use crate::error::ApiError;
use crate::faults::Faults;
use crate::grid::{Spreadsheet, Store};
use crate::log::RequestLog;
use crate::race::Races;

/// Receivers that fall this far behind get `Lagged` and should re-read everything.
const CHANGE_FEED_CAPACITY: usize = 4096;

pub struct Shared {
    store: Mutex<Store>,
    pub tokens: Tokens,
    pub faults: Faults,
    pub log: RequestLog,
    pub races: Races,
    changes: broadcast::Sender<Change>,
    revision: AtomicU64,
    /// `http://host:port/` once the emulator listens.
    pub root_url: OnceLock<String>,
}

impl Default for Shared {
    fn default() -> Self {
        Shared {
            store: Mutex::new(Store::default()),
            tokens: Tokens::default(),
            faults: Faults::default(),
            log: RequestLog::default(),
            races: Races::default(),
            changes: broadcast::channel(CHANGE_FEED_CAPACITY).0,
            revision: AtomicU64::new(0),
            root_url: OnceLock::new(),
        }
    }
}

impl Shared {
    /// The store. API writes go to a copy first, so a panic while holding the
    /// lock (only a seed closure can panic) never leaves a request half-applied:
    /// a poisoned lock is still usable.
    pub fn store(&self) -> MutexGuard<'_, Store> {
        self.store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.changes.subscribe()
    }

    pub fn notify(&self, spreadsheet_id: &str, sheet_id: i32, sheet: &str, source: ChangeSource) {
        let revision = self.revision.fetch_add(1, Ordering::SeqCst) + 1;
        // No receiver is fine: nobody is watching.
        let _ = self.changes.send(Change {
            revision,
            spreadsheet_id: spreadsheet_id.to_string(),
            sheet_id,
            sheet: sheet.to_string(),
            source,
        });
    }

    /// Runs `change` on a copy of the spreadsheet and keeps the copy only if it
    /// succeeds, so a failed request (or batch) changes nothing. `change` returns
    /// the response and the tabs it touched (id, title before the change).
    pub fn mutate(
        &self,
        id: &str,
        source: ChangeSource,
        change: impl FnOnce(&mut Spreadsheet) -> Result<(Json, Vec<(i32, String)>), ApiError>,
    ) -> Result<Json, ApiError> {
        let mut store = self.store();
        let original = store.get_mut(id)?;
        if matches!(source, ChangeSource::Api) {
            self.races.run(original);
        }
        let mut copy = original.clone();
        let (response, touched) = change(&mut copy)?;
        let notes: Vec<(i32, String)> = touched
            .into_iter()
            .map(|(sheet_id, old_title)| {
                let title = copy
                    .sheet_by_id(sheet_id)
                    .map_or(old_title, |s| s.title.clone());
                (sheet_id, title)
            })
            .collect();
        *original = copy;
        drop(store);
        for (sheet_id, title) in notes {
            self.notify(id, sheet_id, &title, source);
        }
        Ok(response)
    }

    pub fn revision(&self) -> u64 {
        self.revision.load(Ordering::SeqCst)
    }

    pub fn token_uri(&self) -> Option<String> {
        self.root_url.get().map(|root| format!("{root}token"))
    }
}
