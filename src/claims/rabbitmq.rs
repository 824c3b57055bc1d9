//! Step messages from RabbitMQ: the orchestration's `worker_<namespace>_queue`
//! queues on the broker, taken on a connection of the reader's own.
//!
//! tasker's RabbitMQ provider cannot be used as it is: its push consumer acks
//! each message as it hands it over (before any claim, taking as many as its
//! prefetch allows), its pull reads share the one channel tasker publishes
//! results on (a wrong or second ack closes that channel for good), and
//! nothing in it reconnects after the broker restarts. So the reader keeps a
//! connection of its own: one consumer per queue with a prefetch of one,
//! while there is room (with none, the consumers are cancelled and waiting
//! messages stay in the broker for other workers). A message goes to
//! tasker-worker's `ExecuteStepFromMessage` with a delivery tag tasker treats
//! as "nothing to ack", and is settled here once tasker answered: acked when
//! the step was claimed (or is no longer claimable), put back when it still
//! is (a transient failure), dead-lettered after MAX_RETRIES. A worker that
//! dies has its unacked messages requeued by the broker. The connection is
//! made again, with backoff, when the broker goes away.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use lapin::options::{
    BasicAckOptions, BasicCancelOptions, BasicConsumeOptions, BasicNackOptions, BasicQosOptions, BasicRejectOptions, ExchangeDeclareOptions,
    QueueBindOptions, QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{Channel, Connection, ConnectionProperties, ExchangeKind};
use sqlx::postgres::{PgPool, PgPoolOptions};
use tasker_shared::messaging::message::StepMessage;
use tasker_shared::messaging::service::{MessageHandle, MessageMetadata, QueuedMessage};
use tasker_worker::worker::WorkerCommand;
use tokio::sync::mpsc;
use uuid::Uuid;

use super::{Answer, Fetched, Message};
use crate::sync::lock;

/// How long `fetch` waits for a delivery before the loop looks again (and
/// sees a connection that died quietly).
const IDLE_WAIT: Duration = Duration::from_secs(1);
/// Connecting gives up after this: a host that does not answer, or a server
/// that accepts but never speaks AMQP (the URL's connect timeout, 5 s, only
/// covers the TCP connect). A worker's start fails within 10 s.
pub const CONNECT_WITHIN: Duration = Duration::from_secs(6);
/// A step tasker could not claim for a transient reason is offered again
/// after this pause, at most MAX_RETRIES times, then dead-lettered.
const RETRY_PAUSE: Duration = Duration::from_secs(1);
const MAX_RETRIES: u32 = 5;
/// How long an ack, nack or reject may take before it is left to the broker.
const ANSWER_WITHIN: Duration = Duration::from_secs(5);
/// The delivery tag tasker's RabbitMQ provider ignores when asked to ack:
/// the reader acks on its own channel.
const NOT_TASKERS_TO_ACK: u64 = u64::MAX;

#[derive(Clone)]
pub struct RabbitConfig {
    /// The broker (with connect timeout and heartbeat in its query).
    pub url: String,
    /// The orchestration's queue of each namespace served.
    pub queues: Vec<String>,
    /// For the settling's look at a step's state.
    pub database_url: String,
    /// Names this worker's consumers (the broker's management tools show them).
    pub consumer_prefix: String,
}

/// A message the broker delivered, with its parsed step message.
pub struct Delivery {
    inner: lapin::message::Delivery,
    step: StepMessage,
}

impl Delivery {
    /// tasker-worker's command for it, and what acks it on the reader's channel.
    pub fn command(self, queue: String, resp: tokio::sync::oneshot::Sender<tasker_shared::TaskerResult<()>>) -> (WorkerCommand, lapin::acker::Acker) {
        let Delivery { inner, step } = self;
        let metadata = MessageMetadata::new(if inner.redelivered { 2 } else { 1 }, chrono::Utc::now());
        let handle = MessageHandle::RabbitMq { delivery_tag: NOT_TASKERS_TO_ACK, queue_name: queue };
        let body = serde_json::to_value(&step).unwrap_or(serde_json::Value::Null);
        (WorkerCommand::ExecuteStepFromMessage { message: QueuedMessage::with_handle(body, handle, metadata), resp }, inner.acker)
    }
}

/// What the consumers' tasks forward: a delivery, or the end of their consumer.
enum Event {
    Delivered(String, lapin::message::Delivery),
    Ended(String),
}

pub struct RabbitSource {
    config: RabbitConfig,
    conn: Option<Connection>,
    channel: Option<Channel>,
    consuming: bool,
    events: (mpsc::Sender<Event>, mpsc::Receiver<Event>),
    settle: Arc<Settle>,
}

impl RabbitSource {
    pub fn new(config: RabbitConfig) -> Self {
        let settle = Arc::new(Settle::new(&config.database_url));
        Self { config, conn: None, channel: None, consuming: false, events: mpsc::channel(256), settle }
    }

    pub fn settler(&self) -> Arc<Settle> {
        self.settle.clone()
    }

    pub async fn connect(&mut self) -> Result<(), String> {
        let up = self.conn.as_ref().is_some_and(|c| c.status().connected()) && self.channel.as_ref().is_some_and(|c| c.status().connected());
        if up {
            return Ok(());
        }
        self.disconnect();
        let conn = connect(&self.config.url).await?;
        let channel = conn.create_channel().await.map_err(|e| format!("opening a channel: {e}"))?;
        channel.basic_qos(1, BasicQosOptions::default()).await.map_err(|e| format!("setting the prefetch: {e}"))?;
        for queue in &self.config.queues {
            declare_step_queue(&channel, queue).await?;
        }
        self.conn = Some(conn);
        self.channel = Some(channel);
        Ok(())
    }

    pub fn disconnect(&mut self) {
        self.consuming = false;
        self.channel = None;
        // Dropping the connection closes it: the broker requeues what was not acked.
        self.conn = None;
        while self.events.1.try_recv().is_ok() {}
    }

    /// Up to `room` deliveries; with none waiting, the first that comes within IDLE_WAIT.
    pub async fn fetch(&mut self, room: usize) -> Result<Vec<Fetched>, String> {
        self.consume().await?;
        let first = match tokio::time::timeout(IDLE_WAIT, self.events.1.recv()).await {
            Err(_) => return Ok(Vec::new()),
            Ok(None) => return Err("the consumers' channel closed".into()),
            Ok(Some(event)) => event,
        };
        let mut taken = Vec::new();
        let mut next = Some(first);
        while let Some(event) = next.take() {
            match event {
                Event::Ended(queue) => return Err(format!("the broker ended the consumer of {queue} (connection lost?)")),
                Event::Delivered(queue, delivery) => {
                    if let Some(fetched) = parse(queue, delivery).await {
                        taken.push(fetched);
                    }
                }
            }
            if taken.len() < room {
                next = self.events.1.try_recv().ok();
            }
        }
        Ok(taken)
    }

    /// No room: cancels the consumers; a delivery already on its way goes back.
    pub async fn pause(&mut self) {
        if !self.consuming {
            return;
        }
        self.consuming = false;
        if let Some(channel) = &self.channel {
            for queue in &self.config.queues {
                let _ = channel.basic_cancel(&self.consumer_tag(queue), BasicCancelOptions::default()).await;
            }
        }
        // Deliveries that crossed the cancel: back to the queue for others.
        while let Ok(Ok(Some(event))) = tokio::time::timeout(Duration::from_millis(20), self.events.1.recv()).await.map(Ok::<_, ()>) {
            if let Event::Delivered(_, delivery) = event {
                let _ = tokio::time::timeout(ANSWER_WITHIN, delivery.acker.nack(BasicNackOptions { requeue: true, multiple: false })).await;
            }
        }
    }

    fn consumer_tag(&self, queue: &str) -> String {
        format!("{}-{queue}", self.config.consumer_prefix)
    }

    /// Starts a consumer per queue unless they run.
    async fn consume(&mut self) -> Result<(), String> {
        if self.consuming {
            return Ok(());
        }
        let channel = self.channel.as_ref().ok_or("not connected")?;
        for queue in &self.config.queues {
            let mut consumer = channel
                .basic_consume(queue, &self.consumer_tag(queue), BasicConsumeOptions::default(), FieldTable::default())
                .await
                .map_err(|e| format!("consuming {queue}: {e}"))?;
            let (events, queue) = (self.events.0.clone(), queue.clone());
            tokio::spawn(async move {
                while let Some(Ok(delivery)) = consumer.next().await {
                    if events.send(Event::Delivered(queue.clone(), delivery)).await.is_err() {
                        return;
                    }
                }
                let _ = events.send(Event::Ended(queue)).await;
            });
        }
        self.consuming = true;
        Ok(())
    }
}

/// A connection to the broker, or why not (without the password), within CONNECT_WITHIN.
pub async fn connect(url: &str) -> Result<Connection, String> {
    let shown = crate::config::redacted(url.split('?').next().unwrap_or_default());
    match tokio::time::timeout(CONNECT_WITHIN, Connection::connect(url, ConnectionProperties::default())).await {
        Err(_) => Err(format!("the broker at {shown} did not answer within {} s", CONNECT_WITHIN.as_secs())),
        Ok(Err(e)) => Err(format!("cannot connect to the broker at {shown}: {e}")),
        Ok(Ok(conn)) => Ok(conn),
    }
}

/// Declares a step queue as tasker's RabbitMQ provider does (a durable queue
/// dead-lettering to `<queue>_dlx` → `<queue>_dlq`): the orchestration
/// publishes into it and never declares it, so a namespace's messages are
/// only kept once a worker did. Other arguments would be refused.
pub async fn declare_step_queue(channel: &Channel, queue: &str) -> Result<(), String> {
    let (dlx, dlq) = (format!("{queue}_dlx"), format!("{queue}_dlq"));
    let durable = QueueDeclareOptions { durable: true, ..Default::default() };
    let failed = |what: &str, e: lapin::Error| format!("declaring {what}: {e}");
    channel
        .exchange_declare(&dlx, ExchangeKind::Direct, ExchangeDeclareOptions { durable: true, ..Default::default() }, FieldTable::default())
        .await
        .map_err(|e| failed(&dlx, e))?;
    channel.queue_declare(&dlq, durable, FieldTable::default()).await.map_err(|e| failed(&dlq, e))?;
    channel.queue_bind(&dlq, &dlx, queue, QueueBindOptions::default(), FieldTable::default()).await.map_err(|e| failed(&dlq, e))?;
    let mut args = FieldTable::default();
    args.insert("x-dead-letter-exchange".into(), AMQPValue::LongString(dlx.as_str().into()));
    args.insert("x-dead-letter-routing-key".into(), AMQPValue::LongString(queue.into()));
    channel.queue_declare(queue, durable, args).await.map_err(|e| failed(queue, e))?;
    Ok(())
}

/// A delivery as a step message; one that is not is dead-lettered (it would
/// come back forever), kept in `<queue>_dlq` for inspection.
async fn parse(queue: String, delivery: lapin::message::Delivery) -> Option<Fetched> {
    match serde_json::from_slice::<StepMessage>(&delivery.data) {
        Ok(step) => Some(Fetched { step_uuid: step.step_uuid, queue, message: Message::RabbitMq(Delivery { inner: delivery, step }) }),
        Err(e) => {
            tracing::error!(target: "tasker_worker_js", queue, error = %e, "dead-lettered a message that is not a step message");
            let _ = delivery.acker.reject(BasicRejectOptions { requeue: false }).await;
            None
        }
    }
}

/// Settles a delivery once tasker-worker answered, by the step's state now.
pub struct Settle {
    pool: PgPool,
    retries: Mutex<HashMap<Uuid, u32>>,
}

impl Settle {
    fn new(database_url: &str) -> Self {
        let pool = PgPoolOptions::new()
            .max_connections(2)
            .min_connections(0)
            .acquire_timeout(Duration::from_secs(5))
            .connect_lazy(database_url)
            .expect("a URL checked at bootstrap");
        Self { pool, retries: Mutex::new(HashMap::new()) }
    }

    pub async fn settle(&self, step: Uuid, acker: lapin::acker::Acker, answer: Answer) {
        let state: Result<Option<String>, sqlx::Error> = sqlx::query_scalar(
            "SELECT to_state FROM tasker.workflow_step_transitions WHERE workflow_step_uuid = $1 AND most_recent",
        )
        .bind(step)
        .fetch_optional(&self.pool)
        .await;
        let claimable = match &state {
            Ok(Some(s)) => s == "pending" || s == "enqueued",
            Ok(None) => false,
            Err(_) => true,
        };
        if !claimable {
            // Claimed (here or elsewhere), done, or gone: the message is spent.
            lock(&self.retries).remove(&step);
            answered(step, "ack", acker.ack(BasicAckOptions::default())).await;
            return;
        }
        let attempt = {
            let mut retries = lock(&self.retries);
            let n = retries.entry(step).or_insert(0);
            *n += 1;
            *n
        };
        if attempt > MAX_RETRIES {
            lock(&self.retries).remove(&step);
            tracing::error!(target: "tasker_worker_js", %step, ?answer, "a step could not be claimed {MAX_RETRIES} times; its message is dead-lettered (<queue>_dlq)");
            answered(step, "reject", acker.reject(BasicRejectOptions { requeue: false })).await;
            return;
        }
        tracing::debug!(target: "tasker_worker_js", %step, ?answer, attempt, "the step is still claimable: its message goes back");
        tokio::time::sleep(RETRY_PAUSE).await;
        answered(step, "nack", acker.nack(BasicNackOptions { requeue: true, multiple: false })).await;
    }
}

/// Waits for the broker to take an ack, nack or reject, at most ANSWER_WITHIN.
/// lapin was seen to leave an ack that crossed a consumer's cancel
/// unanswered for seconds; the broker requeues a message left unacked when
/// the connection closes, and a step that is no longer claimable is then
/// acked by whoever takes it, so giving up loses nothing.
async fn answered(step: Uuid, what: &str, op: impl std::future::Future<Output = lapin::Result<bool>>) {
    match tokio::time::timeout(ANSWER_WITHIN, op).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => tracing::debug!(target: "tasker_worker_js", %step, error = %e, "the broker did not take the {what} of a step message; it comes back when the connection closes"),
        Err(_) => tracing::debug!(target: "tasker_worker_js", %step, "no answer to the {what} of a step message in {} s; it comes back when the connection closes", ANSWER_WITHIN.as_secs()),
    }
}
