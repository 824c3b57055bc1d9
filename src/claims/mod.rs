//! Claiming at the pace of the handlers, on either messaging backend.
//!
//! tasker-worker, left alone, claims every step message it receives (its
//! load shedding does not see FFI handlers; on RabbitMQ it even acks a
//! message before claiming it), so a busy worker would hold many claimed
//! steps no handler runs: lost on a crash, withheld from other workers. Here
//! the worker takes step messages from the orchestration's namespace queues
//! itself, only while it has room (src/admission.rs), and hands each to
//! tasker-worker's own command, which claims the step, hydrates it and
//! dispatches it to JS. Messages it has no room for stay in the queue (or
//! broker) for other workers. tasker-worker's own readers watch empty
//! queues of their own (`twjs_<namespace>_queue`).
//!
//! The loop is the same for both backends; where the messages come from,
//! how the reader waits for new ones and what happens to a message once
//! tasker answered differ: pgmq.rs (queues in PostgreSQL, woken by NOTIFY)
//! and rabbitmq.rs (a broker, with consumers that take one message at a
//! time). Connections come back by themselves after an outage.

pub mod pgmq;
pub mod rabbitmq;

use std::sync::Arc;
use std::time::Duration;

use tasker_worker::worker::{WorkerCommand, WorkerCommandSender};
use tokio::sync::{oneshot, watch};
use uuid::Uuid;

use crate::db_health::DbHealth;
use crate::dispatch::Dispatch;

const MIN_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(1);
/// With no room, how often to look again (room also wakes the reader).
const NO_ROOM_RECHECK: Duration = Duration::from_millis(500);

/// A step message taken from a queue, not yet answered by tasker-worker.
pub struct Fetched {
    pub step_uuid: Uuid,
    pub queue: String,
    pub message: Message,
}

/// The backend's own form of the message (what its command and its settling need).
pub enum Message {
    Pgmq(::pgmq::Message<tasker_shared::messaging::message::StepMessage>),
    RabbitMq(rabbitmq::Delivery),
}

/// What tasker-worker made of a message.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Answer {
    /// It answered (the step was claimed, or was not claimable).
    Answered,
    /// It failed (hydration, a transient database error): the step may still be claimable.
    Failed,
}

/// Where step messages come from.
pub enum Source {
    Pgmq(pgmq::PgmqSource),
    RabbitMq(rabbitmq::RabbitSource),
}

impl Source {
    /// What is being done, for one error line when it fails.
    fn what(&self) -> &'static str {
        match self {
            Source::Pgmq(_) => "reading step messages",
            Source::RabbitMq(_) => "taking step messages from the broker",
        }
    }

    /// Connects if not connected.
    async fn connect(&mut self) -> Result<(), String> {
        match self {
            Source::Pgmq(s) => s.connect().await,
            Source::RabbitMq(s) => s.connect().await,
        }
    }

    /// Up to `room` messages; when none is there now, waits (for a
    /// notification or a delivery) up to the source's idle wait.
    async fn fetch(&mut self, room: usize) -> Result<Vec<Fetched>, String> {
        match self {
            Source::Pgmq(s) => s.fetch(room).await,
            Source::RabbitMq(s) => s.fetch(room).await,
        }
    }

    /// No room now: a source that pushes messages stops doing so.
    async fn pause(&mut self) {
        if let Source::RabbitMq(s) = self {
            s.pause().await;
        }
    }

    /// Forgets the connection (after an error); `connect` makes a new one.
    fn disconnect(&mut self) {
        match self {
            Source::Pgmq(s) => s.disconnect(),
            Source::RabbitMq(s) => s.disconnect(),
        }
    }

    fn settler(&self) -> Settler {
        match self {
            Source::Pgmq(_) => Settler::Pgmq,
            Source::RabbitMq(s) => Settler::RabbitMq(s.settler()),
        }
    }
}

/// Settles messages once tasker-worker answered (in the answer's own task).
#[derive(Clone)]
enum Settler {
    /// tasker-worker deletes a claimed message; one it could not claim
    /// comes back after its visibility timeout.
    Pgmq,
    RabbitMq(Arc<rabbitmq::Settle>),
}

/// The running reader; `stop()` ends it (claims asked already still complete).
pub struct Reader {
    stop: watch::Sender<bool>,
    done: tokio::task::JoinHandle<()>,
}

impl Reader {
    pub fn start(runtime: &tokio::runtime::Handle, source: Source, commands: WorkerCommandSender, dispatch: Arc<Dispatch>, health: Arc<DbHealth>) -> Self {
        let (stop, stopped) = watch::channel(false);
        let done = runtime.spawn(read(source, commands, dispatch, health, stopped));
        Self { stop, done }
    }

    /// Stops reading and waits (at most `limit`) for the read loop to end.
    pub async fn stop(self, limit: Duration) {
        let _ = self.stop.send(true);
        let _ = tokio::time::timeout(limit, self.done).await;
    }
}

/// Doubling waits between failed attempts, reset by a success.
pub(crate) struct Backoff(Duration);

impl Backoff {
    pub(crate) fn new() -> Self {
        Self(MIN_BACKOFF)
    }
    pub(crate) fn next(&mut self) -> Duration {
        let wait = self.0;
        self.0 = (self.0 * 2).min(MAX_BACKOFF);
        wait
    }
    pub(crate) fn reset(&mut self) {
        self.0 = MIN_BACKOFF;
    }
}

/// Sleeps `wait` unless stopped first; returns true when stopped.
pub(crate) async fn pause(wait: Duration, stopped: &mut watch::Receiver<bool>) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(wait) => *stopped.borrow(),
        _ = stopped.changed() => true,
    }
}

async fn read(mut source: Source, commands: WorkerCommandSender, dispatch: Arc<Dispatch>, health: Arc<DbHealth>, mut stopped: watch::Receiver<bool>) {
    let mut backoff = Backoff::new();
    while !*stopped.borrow() {
        if let Err(e) = source.connect().await {
            health.failed(source.what(), &e);
            if pause(backoff.next(), &mut stopped).await {
                break;
            }
            continue;
        }
        // Measured right before taking: the room may shrink while connecting.
        let room = dispatch.room();
        if room == 0 {
            source.pause().await;
            tokio::select! {
                _ = dispatch.admission.room_changed() => {}
                _ = tokio::time::sleep(NO_ROOM_RECHECK) => {}
                _ = stopped.changed() => break,
            }
            continue;
        }
        let fetched = tokio::select! {
            fetched = source.fetch(room) => fetched,
            _ = stopped.changed() => break,
        };
        match fetched {
            Err(e) => {
                health.failed(source.what(), &e);
                source.disconnect();
                if pause(backoff.next(), &mut stopped).await {
                    break;
                }
            }
            Ok(messages) => {
                tracing::trace!(target: "tasker_worker_js", room, taken = messages.len(), "took step messages");
                health.ok();
                backoff.reset();
                let settler = source.settler();
                for message in messages {
                    if !claim(&commands, &dispatch, settler.clone(), message).await {
                        // The worker core stopped taking commands: it is stopping.
                        return;
                    }
                }
            }
        }
    }
    source.pause().await;
}

/// Asks tasker-worker to claim and dispatch one step; false once its command
/// channel is closed.
async fn claim(commands: &WorkerCommandSender, dispatch: &Arc<Dispatch>, settler: Settler, fetched: Fetched) -> bool {
    let Fetched { step_uuid, queue, message } = fetched;
    tracing::trace!(target: "tasker_worker_js", %step_uuid, queue, "asking tasker-worker to claim a step");
    let (resp, answer) = oneshot::channel();
    dispatch.admission.requested(step_uuid);
    let (command, settle) = match message {
        Message::Pgmq(m) => (WorkerCommand::ExecuteStep { message: m, queue_name: queue, resp }, None),
        Message::RabbitMq(delivery) => {
            let (command, ack) = delivery.command(queue, resp);
            (command, Some(ack))
        }
    };
    if commands.send(command).await.is_err() {
        dispatch.admission.answered(step_uuid);
        return false;
    }
    let dispatch = dispatch.clone();
    tokio::spawn(async move {
        let outcome = match answer.await {
            Ok(Ok(())) => Answer::Answered,
            Ok(Err(e)) => {
                tracing::warn!(target: "tasker_worker_js", %step_uuid, error = %e, "tasker-worker could not claim a step; its message comes back");
                Answer::Failed
            }
            Err(_) => Answer::Failed,
        };
        dispatch.admission.answered(step_uuid);
        // Settling may wait on the broker: the worker's stop must not wait for it.
        drop(dispatch);
        if let (Settler::RabbitMq(settle), Some(ack)) = (settler, settle) {
            settle.settle(step_uuid, ack, outcome).await;
        }
    });
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_and_resets() {
        let mut b = Backoff::new();
        let waits: Vec<u128> = (0..6).map(|_| b.next().as_millis()).collect();
        assert_eq!(waits, vec![100, 200, 400, 800, 1000, 1000]);
        b.reset();
        assert_eq!(b.next(), MIN_BACKOFF);
    }
}
