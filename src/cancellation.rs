//! Cancelled tasks reach the handlers running their steps.
//!
//! tasker marks a cancelled task's steps `cancelled` and tells no worker
//! (no NOTIFY, no message), then refuses the results that still come. While
//! handlers run, this task asks every CHECK_EVERY which of their steps moved
//! to `cancelled` (one indexed query) and releases those events
//! (`Dispatch::release_cancelled`): the handlers' signals abort and no result
//! is sent. With nothing in a handler it asks nothing.

use std::sync::Arc;
use std::time::Duration;

use sqlx::{Connection, PgConnection};
use tokio::sync::watch;
use uuid::Uuid;

use crate::dispatch::Dispatch;

/// Well within the 1 s a cancellation may take to reach a handler.
const CHECK_EVERY: Duration = Duration::from_millis(400);

/// The running watcher; `stop()` ends it.
pub struct CancelWatch {
    stop: watch::Sender<bool>,
    done: tokio::task::JoinHandle<()>,
}

impl CancelWatch {
    /// Watches the steps `dispatch` has in handlers, on its own session at `url`.
    pub fn start(runtime: &tokio::runtime::Handle, url: String, dispatch: Arc<Dispatch>) -> Self {
        let (stop, stopped) = watch::channel(false);
        let done = runtime.spawn(watch_steps(url, dispatch, stopped));
        Self { stop, done }
    }

    pub async fn stop(self, limit: Duration) {
        let _ = self.stop.send(true);
        let _ = tokio::time::timeout(limit, self.done).await;
    }
}

async fn watch_steps(url: String, dispatch: Arc<Dispatch>, mut stopped: watch::Receiver<bool>) {
    let mut session: Option<PgConnection> = None;
    loop {
        // Idle: sleep until JS takes an event (enabled before the check, so
        // an event taken in between still wakes it).
        let taken = dispatch.taken();
        tokio::pin!(taken);
        taken.as_mut().enable();
        if dispatch.in_flight_steps().is_empty() {
            tokio::select! {
                _ = &mut taken => {}
                _ = stopped.changed() => break,
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(CHECK_EVERY) => {}
            _ = stopped.changed() => break,
        }
        let steps = dispatch.in_flight_steps();
        if steps.is_empty() {
            continue;
        }
        if session.is_none() {
            // A failure is the database being away: the step reader and the
            // lease report that; this tries again at the next check.
            session = PgConnection::connect(&url).await.ok();
        }
        let Some(conn) = session.as_mut() else { continue };
        match cancelled_among(conn, &steps).await {
            Ok(cancelled) => {
                for (step, state) in cancelled {
                    let reason = if state == "cancelled" { "the task was cancelled" } else { "the step was resolved manually" };
                    dispatch.release_cancelled(step, reason).await;
                }
            }
            Err(_) => session = None,
        }
    }
    if let Some(conn) = session {
        let _ = conn.close().await;
    }
}

/// The steps among `steps` whose latest state says tasker wants no result.
async fn cancelled_among(conn: &mut PgConnection, steps: &[Uuid]) -> Result<Vec<(Uuid, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT workflow_step_uuid, to_state FROM tasker.workflow_step_transitions \
         WHERE workflow_step_uuid = ANY($1) AND most_recent AND to_state IN ('cancelled', 'resolved_manually')",
    )
    .bind(steps)
    .fetch_all(conn)
    .await
}
