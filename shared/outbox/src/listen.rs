//! The long-running relay: `LISTEN sheetsync_outbox` and drain each
//! binding the capture trigger names, plus every binding on a timer as a
//! safety net (notifications sent while the relay was disconnected are
//! lost, and enqueues outside the trigger may not notify). On a lost
//! connection it reconnects with exponential backoff and catches up with a
//! full drain.

use std::collections::BTreeSet;
use std::future::Future;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio_postgres::tls::{MakeTlsConnect, TlsConnect};
use tokio_postgres::{AsyncMessage, Client, Socket};
use tracing::{info, warn};

use crate::OutboxError;
use crate::drain::{BindingOutcome, DrainOptions, Scope, drain_until_idle};
use crate::linger::Linger;
use crate::sink::QueueSink;

/// The channel the capture trigger notifies, with the binding as payload.
pub const CHANNEL: &str = "sheetsync_outbox";

#[derive(Debug, Clone)]
pub struct ListenOptions {
    pub drain: DrainOptions,
    /// Every binding is drained at least this often.
    pub safety_interval: Duration,
    pub backoff_min: Duration,
    pub backoff_max: Duration,
    /// The longest one drain may run before the loop looks at its stop
    /// signal again (a cut-short drain goes on right after).
    pub drain_budget: Duration,
    /// How long a binding whose writers are mid-transaction is retried.
    pub busy_for: Duration,
    /// Drains of one spreadsheet's bindings at least this far apart; zero sends every
    /// notified change at once (see [`crate::linger`]).
    pub linger: Duration,
}

impl Default for ListenOptions {
    fn default() -> Self {
        ListenOptions {
            drain: DrainOptions::default(),
            safety_interval: Duration::from_secs(30),
            backoff_min: Duration::from_millis(200),
            backoff_max: Duration::from_secs(30),
            drain_budget: Duration::from_secs(5),
            busy_for: Duration::from_secs(2),
            linger: Duration::ZERO,
        }
    }
}

/// Runs until `shutdown` completes. Errors are logged and retried, never
/// returned: the loop is meant to outlive database restarts.
pub async fn listen<S, T>(
    config: &tokio_postgres::Config,
    tls: T,
    sink: &S,
    opts: &ListenOptions,
    shutdown: impl Future<Output = ()>,
) where
    S: QueueSink,
    T: MakeTlsConnect<Socket> + Clone + Send + Sync + 'static,
    T::Stream: Send + 'static,
    T::TlsConnect: Send,
    <T::TlsConnect as TlsConnect<Socket>>::Future: Send,
{
    tokio::pin!(shutdown);
    // A connection that died silently (failover, NAT timeout) would keep
    // the loop waiting for notifications that never come: probe it.
    let mut config = config.clone();
    config
        .keepalives(true)
        .keepalives_idle(Duration::from_secs(30))
        .keepalives_interval(Duration::from_secs(10))
        .keepalives_retries(3);
    let config = &config;
    let mut backoff = opts.backoff_min;
    loop {
        let connected = tokio::select! {
            () = &mut shutdown => return,
            c = connect(config, tls.clone()) => c,
        };
        match connected {
            Ok((mut client, notes)) => {
                backoff = opts.backoff_min;
                info!(channel = CHANNEL, "relay listening");
                match session(&mut client, notes, sink, opts, &mut shutdown).await {
                    Ok(()) => return,
                    Err(e) => warn!(error = %e, "relay connection lost; reconnecting"),
                }
            }
            Err(e) => {
                warn!(error = %e, retry_in_ms = backoff.as_millis() as u64, "relay cannot connect")
            }
        }
        tokio::select! {
            () = &mut shutdown => return,
            () = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(opts.backoff_max);
    }
}

/// A connection whose notifications arrive on the receiver; the receiver
/// closes when the connection ends.
async fn connect<T>(
    config: &tokio_postgres::Config,
    tls: T,
) -> Result<(Client, mpsc::UnboundedReceiver<String>), OutboxError>
where
    T: MakeTlsConnect<Socket> + Send + 'static,
    T::Stream: Send + 'static,
    T::TlsConnect: Send,
    <T::TlsConnect as TlsConnect<Socket>>::Future: Send,
{
    let (client, mut connection) = config.connect(tls).await?;
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(message) = messages.next().await {
            match message {
                Ok(AsyncMessage::Notification(n)) => {
                    if tx.send(n.payload().to_owned()).is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    warn!(error = %e, "relay connection ended");
                    return;
                }
            }
        }
    });
    client.batch_execute(&format!("LISTEN {CHANNEL}")).await?;
    Ok((client, rx))
}

/// `Ok` when shut down, `Err` when the connection is lost.
async fn session<S: QueueSink>(
    client: &mut Client,
    mut notes: mpsc::UnboundedReceiver<String>,
    sink: &S,
    opts: &ListenOptions,
    shutdown: &mut std::pin::Pin<&mut impl Future<Output = ()>>,
) -> Result<(), OutboxError> {
    let mut linger = Linger::new(opts.linger);
    // Catch up with whatever was queued while nobody listened.
    let mut unfinished = run_drain(client, sink, &Scope::All, opts, &mut linger).await?;
    let mut timer = tokio::time::interval(opts.safety_interval);
    timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    timer.tick().await;
    loop {
        // A drain that used up its budget goes on at once, after a look at
        // the stop signal: a large backlog must not wait for the timer.
        if let Some(scope) = unfinished.take() {
            tokio::select! {
                biased;
                () = shutdown.as_mut() => return Ok(()),
                () = std::future::ready(()) => {}
            }
            unfinished = run_drain(client, sink, &scope, opts, &mut linger).await?;
            continue;
        }
        let due = linger.next_due();
        let scope = tokio::select! {
            () = shutdown.as_mut() => return Ok(()),
            note = notes.recv() => {
                let Some(first) = note else {
                    return Err(OutboxError::ConnectionLost);
                };
                // Many commits notify at once: drain each binding once.
                let mut names = BTreeSet::from([first]);
                while let Ok(more) = notes.try_recv() {
                    names.insert(more);
                }
                let ready = linger.admit(names, tokio::time::Instant::now());
                if ready.is_empty() {
                    continue;
                }
                Scope::Bindings(ready)
            }
            () = sleep_until_due(due) => Scope::Bindings(linger.take_due(tokio::time::Instant::now())),
            _ = timer.tick() => Scope::All,
        };
        unfinished = run_drain(client, sink, &scope, opts, &mut linger).await?;
    }
}

/// Waits until `due`, or forever when nothing waits.
async fn sleep_until_due(due: Option<tokio::time::Instant>) {
    match due {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Drains `scope` for at most the drain budget; answers the bindings the
/// budget cut short, and `Err` only when the connection is lost.
async fn run_drain<S: QueueSink>(
    client: &mut Client,
    sink: &S,
    scope: &Scope,
    opts: &ListenOptions,
    linger: &mut Linger,
) -> Result<Option<Scope>, OutboxError> {
    let deadline = Instant::now() + opts.drain_budget;
    let drain = DrainOptions {
        again_while_sending: opts.drain.again_while_sending && opts.linger.is_zero(),
        ..opts.drain.clone()
    };
    let result = drain_until_idle(client, sink, scope, &drain, deadline, opts.busy_for).await;
    if client.is_closed() {
        return Err(result.err().unwrap_or(OutboxError::ConnectionLost));
    }
    match result {
        Ok(report) => {
            let sent: Vec<(String, String)> = report
                .bindings
                .iter()
                .filter(|b| b.rows_sent > 0)
                .map(|b| (b.binding.clone(), b.spreadsheet_id.clone()))
                .collect();
            linger.sent(&sent, tokio::time::Instant::now());
            if report.rows_sent() > 0 {
                info!(
                    rows = report.rows_sent(),
                    messages = report.messages(),
                    "relay drained"
                );
            }
            let mut cut: Vec<String> = report
                .bindings
                .iter()
                .filter(|b| matches!(b.outcome, BindingOutcome::Deadline))
                .map(|b| b.binding.clone())
                .collect();
            cut.sort();
            cut.dedup();
            Ok((!cut.is_empty()).then_some(Scope::Bindings(cut)))
        }
        // A failed query on a live connection: log it and go on listening.
        Err(e) => {
            warn!(error = %e, "relay drain failed");
            Ok(None)
        }
    }
}
