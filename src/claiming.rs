//! Claiming at the pace of the handlers.
//!
//! tasker-worker, left alone, claims every step message it reads (its load
//! shedding does not see FFI handlers), so a busy worker would hold many
//! claimed steps no handler runs: lost on a crash, withheld from other
//! workers. Here the worker reads the orchestration's namespace queues
//! itself, only while it has room (src/admission.rs), and hands each message
//! to tasker-worker's own `ExecuteStep` command, which claims the step,
//! hydrates it, dispatches it to JS and acks the message, as it would have.
//! Messages it has no room for stay visible in the queue for other workers.
//! tasker-worker's own readers watch empty queues (`twjs_<namespace>_queue`).
//!
//! The reader wakes on the orchestration's NOTIFY for a namespace and polls
//! every POLL_EVERY (for messages whose delay expired, and notifications
//! missed while reconnecting). While the NOTIFY session is up and the queues
//! stay empty, that poll slows down, doubling up to IDLE_POLL_MAX: every new
//! step message comes with a notification, so an idle worker need not ask
//! the database twice a second (only a message whose visibility expired,
//! read by a worker that then died, comes back unannounced; it waited 30 s).
//! Its connections reconnect by themselves after a database outage, backing
//! off up to MAX_BACKOFF.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgListener, PgPoolOptions};
use sqlx::{PgPool, Row};
use tasker_shared::messaging::message::StepMessage;
use tasker_worker::worker::{WorkerCommand, WorkerCommandSender};
use tokio::sync::{oneshot, watch, Notify};

use crate::db_health::DbHealth;
use crate::dispatch::Dispatch;

const POLL_EVERY: Duration = Duration::from_millis(500);
const IDLE_POLL_MAX: Duration = Duration::from_secs(4);
const MIN_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// Where and how the reader reads.
#[derive(Clone)]
pub struct ReaderConfig {
    /// The database URL for the reader's own sessions.
    pub database_url: String,
    /// `(queue, NOTIFY channel)` of each namespace served.
    pub queues: Vec<(String, String)>,
    /// How long a read message stays invisible to other readers.
    pub visibility_timeout_s: i32,
}

impl ReaderConfig {
    /// The queue the orchestration fills for `namespace`, and its NOTIFY channel
    /// (tasker's `pgmq_send_with_notify` notifies `pgmq_message_ready.<namespace>`).
    pub fn queue_of(prefix: &str, namespace: &str) -> (String, String) {
        (format!("{prefix}_{namespace}_queue"), format!("pgmq_message_ready.{namespace}"))
    }
}

/// The running reader; `stop()` ends it (claims asked already still complete).
pub struct Reader {
    stop: watch::Sender<bool>,
    done: tokio::task::JoinHandle<()>,
}

impl Reader {
    pub fn start(
        runtime: &tokio::runtime::Handle,
        config: ReaderConfig,
        commands: WorkerCommandSender,
        dispatch: Arc<Dispatch>,
        health: Arc<DbHealth>,
    ) -> Self {
        let (stop, stopped) = watch::channel(false);
        let wake = Arc::new(Wake::default());
        runtime.spawn(listen(config.clone(), wake.clone(), stopped.clone()));
        let done = runtime.spawn(read(config, commands, dispatch, health, wake, stopped));
        Self { stop, done }
    }

    /// Stops reading and waits (at most `limit`) for the read loop to end.
    pub async fn stop(self, limit: Duration) {
        let _ = self.stop.send(true);
        let _ = tokio::time::timeout(limit, self.done).await;
    }
}

/// Doubling waits between failed attempts, reset by a success.
struct Backoff(Duration);

impl Backoff {
    fn new() -> Self {
        Self(MIN_BACKOFF)
    }
    fn next(&mut self) -> Duration {
        let wait = self.0;
        self.0 = (self.0 * 2).min(MAX_BACKOFF);
        wait
    }
    fn reset(&mut self) {
        self.0 = MIN_BACKOFF;
    }
}

/// Sleeps `wait` unless stopped first; returns true when stopped.
async fn pause(wait: Duration, stopped: &mut watch::Receiver<bool>) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(wait) => *stopped.borrow(),
        _ = stopped.changed() => true,
    }
}

/// What the NOTIFY session tells the read loop.
#[derive(Default)]
struct Wake {
    /// A notification arrived (or the session reconnected): read now.
    notify: Notify,
    /// The session is up, so new messages will be announced.
    listening: AtomicBool,
}

/// Turns the orchestration's notifications into wake-ups, reconnecting as needed.
async fn listen(config: ReaderConfig, wake: Arc<Wake>, mut stopped: watch::Receiver<bool>) {
    let channels: Vec<&str> = config.queues.iter().map(|(_, channel)| channel.as_str()).collect();
    let mut backoff = Backoff::new();
    loop {
        let connected = async {
            let mut listener = PgListener::connect(&config.database_url).await?;
            listener.ignore_pool_close_event(true);
            listener.listen_all(channels.iter().copied()).await?;
            Ok::<_, sqlx::Error>(listener)
        };
        if let Ok(mut listener) = connected.await {
            backoff.reset();
            wake.listening.store(true, Ordering::Release);
            // Anything sent while we were away is found by the next read.
            wake.notify.notify_one();
            loop {
                tokio::select! {
                    notification = listener.recv() => match notification {
                        Ok(_) => wake.notify.notify_one(),
                        Err(_) => break,
                    },
                    _ = stopped.changed() => return,
                }
            }
            wake.listening.store(false, Ordering::Release);
        }
        if pause(backoff.next(), &mut stopped).await {
            return;
        }
    }
}

async fn connect(url: &str) -> Result<PgPool, sqlx::Error> {
    PgPoolOptions::new()
        .max_connections(2)
        .min_connections(0)
        .acquire_timeout(Duration::from_secs(5))
        .connect(url)
        .await
}

/// The orchestration's queues exist once a worker created them; so does the
/// reader (tasker-worker now creates only its own empty ones).
async fn create_queues(pool: &PgPool, config: &ReaderConfig) -> Result<(), sqlx::Error> {
    for (queue, _) in &config.queues {
        sqlx::query("SELECT pgmq.create($1)").bind(queue).execute(pool).await?;
    }
    Ok(())
}

async fn read(
    config: ReaderConfig,
    commands: WorkerCommandSender,
    dispatch: Arc<Dispatch>,
    health: Arc<DbHealth>,
    wake: Arc<Wake>,
    mut stopped: watch::Receiver<bool>,
) {
    let mut backoff = Backoff::new();
    let mut idle_poll = POLL_EVERY;
    let mut pool: Option<PgPool> = None;
    let mut first_queue = 0usize;
    while !*stopped.borrow() {
        if pool.is_none() {
            match connect(&config.database_url).await {
                Ok(p) => match create_queues(&p, &config).await {
                    Ok(()) => pool = Some(p),
                    Err(e) => health.failed("creating the namespace queues", &e),
                },
                Err(e) => health.failed("connecting the step reader", &e),
            }
        }
        let Some(active) = &pool else {
            if pause(backoff.next(), &mut stopped).await {
                break;
            }
            continue;
        };
        // Measured right before the read: the room may shrink while connecting.
        let room = dispatch.room();
        if room == 0 {
            tokio::select! {
                _ = dispatch.admission.room_changed() => {}
                _ = tokio::time::sleep(POLL_EVERY) => {}
                _ = stopped.changed() => break,
            }
            continue;
        }
        match read_messages(active, &config, room, first_queue).await {
            Err(e) => {
                health.failed("reading step messages", &e);
                if pause(backoff.next(), &mut stopped).await {
                    break;
                }
            }
            Ok(messages) => {
                tracing::trace!(target: "tasker_worker_js", room, read = messages.len(), "read the namespace queues");
                health.ok();
                backoff.reset();
                first_queue = (first_queue + 1) % config.queues.len().max(1);
                if messages.is_empty() {
                    let wait = if wake.listening.load(Ordering::Acquire) { idle_poll } else { POLL_EVERY };
                    tokio::select! {
                        _ = wake.notify.notified() => idle_poll = POLL_EVERY,
                        _ = tokio::time::sleep(wait) => idle_poll = (idle_poll * 2).min(IDLE_POLL_MAX),
                        _ = stopped.changed() => break,
                    }
                    continue;
                }
                idle_poll = POLL_EVERY;
                for (queue, message) in messages {
                    if !claim(&commands, &dispatch, queue, message).await {
                        // The worker core stopped taking commands: it is stopping.
                        return;
                    }
                }
            }
        }
    }
}

/// Reads up to `room` messages, queue after queue starting at `first`.
async fn read_messages(
    pool: &PgPool,
    config: &ReaderConfig,
    room: usize,
    first: usize,
) -> Result<Vec<(String, pgmq::Message<StepMessage>)>, sqlx::Error> {
    let mut found = Vec::new();
    let count = config.queues.len();
    for i in 0..count {
        let left = room - found.len();
        if left == 0 {
            break;
        }
        let queue = &config.queues[(first + i) % count].0;
        let rows = sqlx::query("SELECT msg_id, read_ct, enqueued_at, vt, message FROM pgmq.read($1::text, $2::integer, $3::integer)")
            .bind(queue)
            .bind(config.visibility_timeout_s)
            .bind(left as i32)
            .fetch_all(pool)
            .await?;
        for row in rows {
            let msg_id: i64 = row.try_get("msg_id")?;
            let body: serde_json::Value = row.try_get("message")?;
            match serde_json::from_value::<StepMessage>(body) {
                Ok(message) => found.push((
                    queue.clone(),
                    pgmq::Message {
                        msg_id,
                        vt: row.try_get("vt")?,
                        enqueued_at: row.try_get("enqueued_at")?,
                        read_ct: row.try_get("read_ct")?,
                        message,
                    },
                )),
                Err(e) => {
                    // Not a step message: it would come back forever. Keep it in
                    // the queue's archive for inspection.
                    tracing::error!(target: "tasker_worker_js", queue, msg_id, error = %e, "archived a message that is not a step message");
                    sqlx::query("SELECT pgmq.archive($1::text, $2::bigint)").bind(queue).bind(msg_id).execute(pool).await?;
                }
            }
        }
    }
    Ok(found)
}

/// Asks tasker-worker to claim, dispatch and ack one step; false once its
/// command channel is closed.
async fn claim(commands: &WorkerCommandSender, dispatch: &Arc<Dispatch>, queue: String, message: pgmq::Message<StepMessage>) -> bool {
    let step_uuid = message.message.step_uuid;
    tracing::trace!(target: "tasker_worker_js", %step_uuid, queue, msg_id = message.msg_id, read_ct = message.read_ct, "asking tasker-worker to claim a step");
    let (resp, answer) = oneshot::channel();
    dispatch.admission.requested(step_uuid);
    if commands.send(WorkerCommand::ExecuteStep { message, queue_name: queue, resp }).await.is_err() {
        dispatch.admission.answered(step_uuid);
        return false;
    }
    let dispatch = dispatch.clone();
    tokio::spawn(async move {
        if let Ok(Err(e)) = answer.await {
            tracing::warn!(target: "tasker_worker_js", %step_uuid, error = %e, "tasker-worker could not claim a step; its message comes back after the visibility timeout");
        }
        dispatch.admission.answered(step_uuid);
    });
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queues_and_channels_follow_taskers_naming() {
        assert_eq!(
            ReaderConfig::queue_of("worker", "shop"),
            ("worker_shop_queue".to_string(), "pgmq_message_ready.shop".to_string())
        );
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_and_resets() {
        let mut b = Backoff::new();
        let waits: Vec<u128> = (0..6).map(|_| b.next().as_millis()).collect();
        assert_eq!(waits, vec![100, 200, 400, 800, 1000, 1000]);
        b.reset();
        assert_eq!(b.next(), MIN_BACKOFF);
    }
}
