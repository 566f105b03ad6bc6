//! `GET /api/events`: the emulator's change feed as server-sent events, one
//! `change` per changed tab (the page then re-reads the tab), `lagged` when
//! this reader fell behind. Unlike the emulator's own feed it ends when the
//! stack stops, so an open page never holds the shutdown up.

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use sheetsync_sheets_emulator::Change;
use tokio::sync::broadcast::{self, error::RecvError};

use super::AppState;
use crate::dev::stop::Stop;

pub async fn events(
    State(state): State<Arc<AppState>>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let feed = state.emulator.as_ref().map(|e| e.changes());
    let stream = futures_util::stream::unfold(
        (feed, state.stop.clone()),
        |(feed, stop): (Option<broadcast::Receiver<Change>>, Stop)| async move {
            let mut feed = feed?;
            let event = tokio::select! {
                () = stop.wait() => return None,
                change = feed.recv() => match change {
                    Ok(change) => Event::default()
                        .event("change")
                        .data(serde_json::to_string(&change).unwrap_or_default()),
                    Err(RecvError::Lagged(missed)) => {
                        Event::default().event("lagged").data(missed.to_string())
                    }
                    Err(RecvError::Closed) => return None,
                },
            };
            Some((Ok(event), (Some(feed), stop)))
        },
    );
    Sse::new(stream).keep_alive(KeepAlive::default())
}
