//! Step messages from PGMQ: the orchestration's `worker_<namespace>_queue`
//! tables, read with `pgmq.read` only as far as there is room; tasker-worker's
//! `ExecuteStep` claims a step and deletes its message. A message it could
//! not claim comes back after its visibility timeout.
//!
//! The reader wakes on the orchestration's NOTIFY for a namespace and polls
//! every POLL_EVERY (for messages whose delay expired, and notifications
//! missed while reconnecting). While the NOTIFY session is up and the queues
//! stay empty, that poll slows down, doubling up to IDLE_POLL_MAX: every new
//! step message comes with a notification, so an idle worker need not ask
//! the database twice a second (only a message whose visibility expired,
//! read by a worker that then died, comes back unannounced; it waited 30 s).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgListener, PgPoolOptions};
use sqlx::{PgPool, Row};
use tasker_shared::messaging::message::StepMessage;
use tokio::sync::{watch, Notify};

use super::{pause, Backoff, Fetched, Message};

const POLL_EVERY: Duration = Duration::from_millis(500);
const IDLE_POLL_MAX: Duration = Duration::from_secs(4);

/// Where and how the reader reads.
#[derive(Clone)]
pub struct PgmqConfig {
    /// The database URL for the reader's own sessions.
    pub database_url: String,
    /// `(queue, NOTIFY channel)` of each namespace served.
    pub queues: Vec<(String, String)>,
    /// How long a read message stays invisible to other readers.
    pub visibility_timeout_s: i32,
}

impl PgmqConfig {
    /// The queue the orchestration fills for `namespace`, and its NOTIFY channel
    /// (tasker's `pgmq_send_with_notify` notifies `pgmq_message_ready.<namespace>`).
    pub fn queue_of(prefix: &str, namespace: &str) -> (String, String) {
        (format!("{prefix}_{namespace}_queue"), format!("pgmq_message_ready.{namespace}"))
    }
}

/// What the NOTIFY session tells the reader.
#[derive(Default)]
struct Wake {
    /// A notification arrived (or the session reconnected): read now.
    notify: Notify,
    /// The session is up, so new messages will be announced.
    listening: AtomicBool,
}

pub struct PgmqSource {
    config: PgmqConfig,
    pool: Option<PgPool>,
    wake: Arc<Wake>,
    idle_poll: Duration,
    first_queue: usize,
    /// Ends the NOTIFY session's task with the source.
    _listening: watch::Sender<bool>,
}

impl PgmqSource {
    /// Starts the NOTIFY session on `runtime`; reads happen in `fetch`.
    pub fn new(runtime: &tokio::runtime::Handle, config: PgmqConfig) -> Self {
        let wake = Arc::new(Wake::default());
        let (listening, stopped) = watch::channel(false);
        runtime.spawn(listen(config.clone(), wake.clone(), stopped));
        Self { config, pool: None, wake, idle_poll: POLL_EVERY, first_queue: 0, _listening: listening }
    }

    pub async fn connect(&mut self) -> Result<(), String> {
        if self.pool.is_some() {
            return Ok(());
        }
        let pool = PgPoolOptions::new()
            .max_connections(2)
            .min_connections(0)
            .acquire_timeout(Duration::from_secs(5))
            .connect(&self.config.database_url)
            .await
            .map_err(|e| format!("connecting the step reader: {e}"))?;
        // The orchestration's queues exist once a worker created them.
        for (queue, _) in &self.config.queues {
            sqlx::query("SELECT pgmq.create($1)").bind(queue).execute(&pool).await.map_err(|e| format!("creating the namespace queues: {e}"))?;
        }
        self.pool = Some(pool);
        Ok(())
    }

    pub fn disconnect(&mut self) {
        self.pool = None;
    }

    /// Reads up to `room`; with none there, waits for a notification or the idle poll.
    pub async fn fetch(&mut self, room: usize) -> Result<Vec<Fetched>, String> {
        let Some(pool) = self.pool.clone() else { return Ok(Vec::new()) };
        let messages = read_messages(&pool, &self.config, room, self.first_queue).await.map_err(|e| e.to_string())?;
        self.first_queue = (self.first_queue + 1) % self.config.queues.len().max(1);
        if !messages.is_empty() {
            self.idle_poll = POLL_EVERY;
            return Ok(messages);
        }
        let wait = if self.wake.listening.load(Ordering::Acquire) { self.idle_poll } else { POLL_EVERY };
        tokio::select! {
            _ = self.wake.notify.notified() => self.idle_poll = POLL_EVERY,
            _ = tokio::time::sleep(wait) => self.idle_poll = (self.idle_poll * 2).min(IDLE_POLL_MAX),
        }
        Ok(Vec::new())
    }
}

/// Turns the orchestration's notifications into wake-ups, reconnecting as needed.
async fn listen(config: PgmqConfig, wake: Arc<Wake>, mut stopped: watch::Receiver<bool>) {
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

/// Reads up to `room` messages, queue after queue starting at `first`.
async fn read_messages(pool: &PgPool, config: &PgmqConfig, room: usize, first: usize) -> Result<Vec<Fetched>, sqlx::Error> {
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
                Ok(message) => found.push(Fetched {
                    step_uuid: message.step_uuid,
                    queue: queue.clone(),
                    message: Message::Pgmq(pgmq::Message {
                        msg_id,
                        vt: row.try_get("vt")?,
                        enqueued_at: row.try_get("enqueued_at")?,
                        read_ct: row.try_get("read_ct")?,
                        message,
                    }),
                }),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queues_and_channels_follow_taskers_naming() {
        assert_eq!(
            PgmqConfig::queue_of("worker", "shop"),
            ("worker_shop_queue".to_string(), "pgmq_message_ready.shop".to_string())
        );
    }
}
