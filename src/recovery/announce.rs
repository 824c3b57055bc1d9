//! On RabbitMQ: step messages that a broker outage kept from the
//! orchestration are sent again, on a broker connection of the worker's own.
//!
//! tasker-worker stores a step's result, then publishes a message about it
//! to the orchestration; its broker connection is never made again once the
//! broker restarts, so from then on every result is stored but unannounced.
//! And the orchestration publishes a step's message after marking the step
//! `enqueued`: a publish that fails during an outage strands the step. So:
//! - results: this worker's own claims whose result is stored and still
//!   waits for the orchestration (`reported`) are announced again, at once
//!   while tasker-worker's connection is down, else after RESULT_GRACE
//!   (a result message lost in transit, or taken by an orchestration that
//!   died before processing it); at most every REANNOUNCE_EVERY per step, as
//!   the orchestration ignores a duplicate;
//! - stranded steps: after an outage, the served namespaces' steps that
//!   became `enqueued` since it began are announced again to their queue,
//!   once (a duplicate message is spent by the first claim).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use lapin::options::BasicPublishOptions;
use lapin::{BasicProperties, Channel, Connection};
use sqlx::postgres::{PgPool, PgPoolOptions};
use tasker_shared::messaging::message::StepMessage;
use tasker_shared::system_context::SystemContext;
use tokio::sync::watch;
use uuid::Uuid;

use crate::claims::rabbitmq;

/// While tasker-worker cannot publish: look this often, and announce results stored this long ago.
const DEGRADED_TICK: Duration = Duration::from_millis(250);
const DEGRADED_GRACE: Duration = Duration::from_millis(200);
/// Otherwise: a result the orchestration has not processed after this long was lost on the way.
const TICK: Duration = Duration::from_secs(2);
const RESULT_GRACE: Duration = Duration::from_secs(3);
const REANNOUNCE_EVERY: Duration = Duration::from_secs(10);
/// A step the orchestration enqueued this long ago and nobody claimed may have lost its message.
const STRANDED_AFTER: Duration = Duration::from_secs(2);
/// How far before an outage was noticed (and after the broker came back) stranded steps are looked for.
const OUTAGE_MARGIN: Duration = Duration::from_secs(5);
const BATCH: i64 = 500;

#[derive(Clone)]
pub struct AnnounceConfig {
    /// The broker (with connect timeout and heartbeat in its query).
    pub url: String,
    /// Where the orchestration takes results.
    pub results_queue: String,
    /// `(namespace, its queue)` of each namespace served.
    pub step_queues: Vec<(String, String)>,
    pub database_url: String,
    pub incarnation: Uuid,
    /// Whether crash recovery records this worker's claims (needed for results).
    pub claims_recorded: bool,
}

/// The running announcer; `stop()` ends it.
pub struct Announcer {
    stop: watch::Sender<bool>,
    done: tokio::task::JoinHandle<()>,
}

impl Announcer {
    pub fn start(runtime: &tokio::runtime::Handle, config: AnnounceConfig, context: Arc<SystemContext>) -> Self {
        let (stop, stopped) = watch::channel(false);
        let done = runtime.spawn(run(config, context, stopped));
        Self { stop, done }
    }

    pub async fn stop(self, limit: Duration) {
        let _ = self.stop.send(true);
        let _ = tokio::time::timeout(limit, self.done).await;
    }
}

/// A broker connection of the announcer's own, made again when it fails.
struct Publisher {
    url: String,
    link: Option<(Connection, Channel)>,
}

impl Publisher {
    async fn channel(&mut self) -> Result<&Channel, String> {
        if !self.link.as_ref().is_some_and(|(c, ch)| c.status().connected() && ch.status().connected()) {
            let conn = rabbitmq::connect(&self.url).await?;
            let channel = conn.create_channel().await.map_err(|e| e.to_string())?;
            self.link = Some((conn, channel));
        }
        Ok(&self.link.as_ref().expect("connected just now").1)
    }

    /// Publishes `message` to `queue` as tasker's provider does (persistent JSON).
    async fn publish(&mut self, queue: &str, message: &StepMessage) -> Result<(), String> {
        let body = serde_json::to_vec(message).map_err(|e| e.to_string())?;
        let properties = BasicProperties::default().with_delivery_mode(2).with_content_type("application/json".into());
        let sent = self.channel().await?.basic_publish("", queue, BasicPublishOptions::default(), &body, properties).await;
        if let Err(e) = sent {
            self.link = None;
            return Err(e.to_string());
        }
        Ok(())
    }

    fn is_up(&self) -> bool {
        self.link.as_ref().is_some_and(|(c, _)| c.status().connected())
    }
}

async fn run(config: AnnounceConfig, context: Arc<SystemContext>, mut stopped: watch::Receiver<bool>) {
    let pool: PgPool = match PgPoolOptions::new().max_connections(1).min_connections(0).acquire_timeout(Duration::from_secs(5)).connect_lazy(&config.database_url) {
        Ok(pool) => pool,
        Err(_) => return,
    };
    let mut publisher = Publisher { url: config.url.clone(), link: None };
    // Per kind: a stranded step re-sent is soon a result to announce.
    let mut results_sent: HashMap<Uuid, Instant> = HashMap::new();
    let mut steps_sent: HashMap<Uuid, Instant> = HashMap::new();
    let mut outage = Outage::default();
    let mut taskers_was_down = false;
    loop {
        let taskers_down = !context.message_client().health_check().await.unwrap_or(false);
        // Its connection dies once and is never made again: its first fall is an outage.
        if taskers_down && !taskers_was_down {
            outage.began();
        }
        taskers_was_down = taskers_down;
        // The announcer's own connection, kept open, tells of later outages and of the broker's return.
        if publisher.link.is_some() && !publisher.is_up() {
            outage.began();
        }
        if publisher.channel().await.is_ok() {
            outage.broker_back();
        }
        let tick = if taskers_down { DEGRADED_TICK } else { TICK };
        tokio::select! {
            _ = tokio::time::sleep(tick) => {}
            _ = stopped.changed() => break,
        }
        results_sent.retain(|_, at| at.elapsed() < REANNOUNCE_EVERY);
        steps_sent.retain(|_, at| at.elapsed() < REANNOUNCE_EVERY);
        if config.claims_recorded {
            let grace = if taskers_down { DEGRADED_GRACE } else { RESULT_GRACE };
            if let Err(e) = announce_results(&pool, &config, &mut publisher, &mut results_sent, grace).await {
                tracing::debug!(target: "tasker_worker_js", error = %e, "announcing stored results failed; trying again shortly");
                continue;
            }
        }
        if let Some(window) = outage.window() {
            match announce_stranded(&pool, &config, &mut publisher, &mut steps_sent, window).await {
                Ok(()) => outage.swept(),
                Err(e) => tracing::debug!(target: "tasker_worker_js", error = %e, "announcing stranded steps failed; trying again shortly"),
            }
        }
    }
}

/// A broker outage: when it was first seen and when the broker answered again.
#[derive(Default)]
struct Outage {
    began: Option<Instant>,
    back: Option<Instant>,
}

impl Outage {
    fn began(&mut self) {
        if self.began.is_none() || self.back.is_some() {
            *self = Outage { began: Some(Instant::now()), back: None };
        }
    }

    fn broker_back(&mut self) {
        if self.began.is_some() && self.back.is_none() {
            self.back = Some(Instant::now());
        }
    }

    /// How long ago the window for stranded steps opened and closed, once the broker is back.
    fn window(&self) -> Option<(Duration, Duration)> {
        let (began, back) = (self.began?, self.back?);
        Some((began.elapsed() + OUTAGE_MARGIN, back.elapsed().saturating_sub(STRANDED_AFTER)))
    }

    /// A pass found what it could; once steps enqueued up to the broker's
    /// return have had STRANDED_AFTER to be claimed, the outage is done.
    fn swept(&mut self) {
        if self.back.is_some_and(|back| back.elapsed() > STRANDED_AFTER * 2) {
            *self = Outage::default();
        }
    }
}

async fn announce_results(pool: &PgPool, config: &AnnounceConfig, publisher: &mut Publisher, announced: &mut HashMap<Uuid, Instant>, grace: Duration) -> Result<(), String> {
    let rows: Vec<(Uuid, Uuid, Uuid)> = sqlx::query_as(
        "SELECT c.workflow_step_uuid, ws.task_uuid, t.correlation_id FROM tasker_worker_js.claims c \
         JOIN tasker.workflow_steps ws ON ws.workflow_step_uuid = c.workflow_step_uuid \
         JOIN tasker.tasks t ON t.task_uuid = ws.task_uuid \
         WHERE c.incarnation = $1 AND c.state = 'reported' AND c.changed_at < now() - make_interval(secs => $2) LIMIT $3",
    )
    .bind(config.incarnation)
    .bind(grace.as_secs_f64())
    .bind(BATCH)
    .fetch_all(pool)
    .await
    .map_err(|e| e.to_string())?;
    let mut sent = 0;
    for (step, task, correlation) in rows {
        if announced.contains_key(&step) {
            continue;
        }
        publisher.publish(&config.results_queue, &StepMessage::new(task, step, correlation)).await?;
        announced.insert(step, Instant::now());
        sent += 1;
    }
    if sent > 0 {
        tracing::info!(target: "tasker_worker_js", sent, "announced stored results the orchestration had not heard of (broker outage)");
    }
    Ok(())
}

async fn announce_stranded(pool: &PgPool, config: &AnnounceConfig, publisher: &mut Publisher, announced: &mut HashMap<Uuid, Instant>, window: (Duration, Duration)) -> Result<(), String> {
    let (opened, closed) = window;
    let namespaces: Vec<String> = config.step_queues.iter().map(|(ns, _)| ns.clone()).collect();
    let rows: Vec<(Uuid, Uuid, Uuid, String)> = sqlx::query_as(
        "SELECT ws.workflow_step_uuid, ws.task_uuid, t.correlation_id, tn.name FROM tasker.workflow_step_transitions tr \
         JOIN tasker.workflow_steps ws ON ws.workflow_step_uuid = tr.workflow_step_uuid \
         JOIN tasker.tasks t ON t.task_uuid = ws.task_uuid \
         JOIN tasker.named_tasks nt ON nt.named_task_uuid = t.named_task_uuid \
         JOIN tasker.task_namespaces tn ON tn.task_namespace_uuid = nt.task_namespace_uuid \
         WHERE tr.most_recent AND tr.to_state = 'enqueued' AND tn.name = ANY($1) \
           AND tr.created_at >= now() - make_interval(secs => $2) AND tr.created_at < now() - make_interval(secs => $3) \
           AND tr.created_at < now() - make_interval(secs => $5) LIMIT $4",
    )
    .bind(&namespaces)
    .bind(opened.as_secs_f64())
    .bind(closed.as_secs_f64())
    .bind(BATCH)
    .bind(STRANDED_AFTER.as_secs_f64())
    .fetch_all(pool)
    .await
    .map_err(|e| e.to_string())?;
    let mut sent = 0;
    for (step, task, correlation, namespace) in rows {
        if announced.contains_key(&step) {
            continue;
        }
        let Some((_, queue)) = config.step_queues.iter().find(|(ns, _)| *ns == namespace) else { continue };
        publisher.publish(queue, &StepMessage::new(task, step, correlation)).await?;
        announced.insert(step, Instant::now());
        sent += 1;
    }
    if sent > 0 {
        tracing::info!(target: "tasker_worker_js", sent, "sent again the messages of steps enqueued during a broker outage");
    }
    Ok(())
}
