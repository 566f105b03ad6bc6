//! One stop signal for every part of the stack: Ctrl-C, SIGTERM, or a part
//! that cannot go on.

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;

use super::DevError;

#[derive(Clone)]
pub struct Stop {
    tx: watch::Sender<bool>,
}

impl Stop {
    /// A stop that fires on SIGINT (Ctrl-C) or SIGTERM.
    pub fn on_signals() -> Result<Stop, DevError> {
        let (tx, _) = watch::channel(false);
        let stop = Stop { tx };
        let mut interrupt =
            signal(SignalKind::interrupt()).map_err(|e| DevError::io("SIGINT handler", e))?;
        let mut terminate =
            signal(SignalKind::terminate()).map_err(|e| DevError::io("SIGTERM handler", e))?;
        let on_signal = stop.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
            on_signal.trigger();
        });
        Ok(stop)
    }

    pub fn trigger(&self) {
        self.tx.send_replace(true);
    }

    /// Whether the stop has fired, for work that checks between its steps.
    pub fn fired(&self) -> bool {
        *self.tx.borrow()
    }

    /// Completes once the stop fired (at once if it already has).
    pub async fn wait(&self) {
        let mut rx = self.tx.subscribe();
        // An error means the sender is gone, which cannot outlive `self`.
        let _ = rx.wait_for(|stopped| *stopped).await;
    }
}
