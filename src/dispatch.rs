//! The dispatch channel between the Rust worker and JS handlers.
//!
//! Wraps a step source (in a worker, tasker-worker's `FfiDispatchChannel`,
//! which owns the pending-event table and completion timeouts) and adds what
//! JS needs: the step of each delivered event (so results need not repeat
//! it), counters for every way an event leaves, how many claimed steps wait
//! in the channel (its length, read where the event is taken: no forwarding
//! task), admission of new claims (src/admission.rs) and starvation reports
//! (src/starvation.rs). Poll and push delivery both go through here.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use dashmap::DashMap;
use napi_derive::napi;
use tasker_shared::messaging::StepExecutionResult;
use tasker_shared::models::core::batch_worker::CheckpointYieldData;
use tasker_worker::worker::FfiStepEvent;
use tokio::sync::{broadcast, mpsc, OwnedSemaphorePermit};
use uuid::Uuid;

use crate::admission::Admission;
use crate::conversions::event::StepEvent;
use crate::conversions::result::{bridge_failure, to_step_execution_result, StepCompletion};
use crate::error::{BridgeError, BridgeResult, ErrorCode};
use crate::step_source::StepSource;
use crate::sync::lock;

/// Counters of the dispatch channel, from `getFfiDispatchMetrics()`.
#[napi(object)]
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DispatchMetrics {
    /// Steps the worker claimed that are waiting in the channel for JS to take them.
    pub pending_count: u32,
    /// Events taken by JS (poll or push) and not yet completed.
    pub in_flight_count: u32,
    /// Events completed with a successful result.
    pub completed_count: f64,
    /// Events completed with a failure (including handler exceptions the bridge reported).
    pub failed_count: f64,
    /// Events failed as retryable `ffi_timeout` because no completion came in time.
    pub timed_out_count: f64,
    /// Events whose step was cancelled (its task cancelled) while in a handler: released, no result sent.
    pub cancelled_count: f64,
    /// Whether a claimed step (in a handler, or waiting for JS to take it) is
    /// older than the starvation threshold.
    pub starvation_detected: bool,
    /// How many claimed steps are older than the starvation threshold.
    pub starving_event_count: u32,
    /// Age in milliseconds of the oldest claimed step not completed (absent when none).
    pub oldest_pending_age_ms: Option<f64>,
    /// Most steps this worker holds claimed at once (`maxClaimedSteps`).
    pub max_claimed_steps: u32,
}

/// Steps older than the threshold, where they are, and the oldest age.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Report {
    pub in_handlers: usize,
    pub waiting: usize,
    pub oldest: Option<Duration>,
}

impl Report {
    pub fn starving(&self) -> usize {
        self.in_handlers + self.waiting
    }

    /// Builds the report from the ages of in-flight and waiting steps.
    pub fn of(in_flight: impl Iterator<Item = Duration>, waiting: impl Iterator<Item = Duration>, threshold: Duration) -> Self {
        let mut report = Report::default();
        let mut note = |age: Duration| report.oldest = Some(report.oldest.map_or(age, |o| o.max(age)));
        for age in in_flight {
            note(age);
            if age > threshold {
                report.in_handlers += 1;
            }
        }
        for age in waiting {
            note(age);
            if age > threshold {
                report.waiting += 1;
            }
        }
        report
    }
}

/// An event JS has taken and not completed yet.
struct InFlight {
    step_uuid: Uuid,
    task_uuid: Uuid,
    taken_at: Instant,
    /// Held while a push subscription counts the event against maxInFlight.
    _slot: Option<OwnedSemaphorePermit>,
}

/// The length of the channel claimed steps wait in.
pub type WaitingCount = Box<dyn Fn() -> usize + Send + Sync>;

/// How many messages a channel holds, from one of its senders.
pub fn channel_length<M: Send + 'static>(sender: mpsc::Sender<M>) -> WaitingCount {
    Box::new(move || sender.max_capacity() - sender.capacity())
}

pub struct Dispatch {
    channel: Box<dyn StepSource>,
    completion_timeout: Duration,
    starvation_threshold: Duration,
    in_flight: DashMap<Uuid, InFlight>,
    waiting: WaitingCount,
    pub admission: Admission,
    /// Steps whose result left for tasker-worker, and when (kept a while, for
    /// crash recovery to tell a result in transit from a lost one).
    settled: DashMap<Uuid, Instant>,
    last_prune: Mutex<Instant>,
    /// A clone of the completion sender, to see when queued results are sent.
    completion_probe: mpsc::Sender<StepExecutionResult>,
    completed: AtomicU64,
    failed: AtomicU64,
    timed_out: AtomicU64,
    cancelled: AtomicU64,
    /// Events released because their step was cancelled, and when: a late
    /// completion of one is told why it is not taken.
    released: DashMap<Uuid, Instant>,
    cancellations: broadcast::Sender<Cancellation>,
    /// JS took an event (wakes whoever waits for steps in handlers).
    taken: tokio::sync::Notify,
}

/// A step cancelled while a handler ran it: its event was released.
#[derive(Debug, Clone)]
pub struct Cancellation {
    pub event_id: Uuid,
    pub step_uuid: Uuid,
    pub task_uuid: Uuid,
    /// Why, e.g. "the task was cancelled".
    pub reason: String,
}

/// How long `settled` remembers a step (crash recovery asks about the last
/// minute). Every completed step is an entry (~40 bytes) for this long, so it
/// bounds that memory at the completion rate times two minutes (it was ten:
/// 1M synthetic events grew RSS by ~35 MB).
pub const SETTLED_MEMORY: Duration = Duration::from_secs(120);
const PRUNE_EVERY: Duration = Duration::from_secs(5);

/// Where a step is in this worker, for crash recovery's lost-result check.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Whereabouts {
    /// Asked to be claimed, waiting for JS, or in a handler.
    OnItsWay,
    /// Its result was handed to tasker-worker this long ago.
    ResultSent(Duration),
    /// Not seen here (or longer ago than SETTLED_MEMORY).
    Unknown,
}

impl Dispatch {
    /// `limit`: `maxClaimedSteps` when given (else the default, following a push subscription).
    pub fn new(
        channel: Box<dyn StepSource>,
        waiting: WaitingCount,
        completion_probe: mpsc::Sender<StepExecutionResult>,
        completion_timeout: Duration,
        starvation_threshold: Duration,
        limit: Option<usize>,
    ) -> Self {
        Self {
            channel,
            completion_timeout,
            starvation_threshold,
            in_flight: DashMap::new(),
            waiting,
            admission: Admission::new(limit),
            settled: DashMap::new(),
            last_prune: Mutex::new(Instant::now()),
            completion_probe,
            completed: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            timed_out: AtomicU64::new(0),
            cancelled: AtomicU64::new(0),
            released: DashMap::new(),
            cancellations: broadcast::channel(1024).0,
            taken: tokio::sync::Notify::new(),
        }
    }

    /// Claimed steps older than this are starving (src/starvation.rs reports them).
    pub fn starvation_threshold(&self) -> Duration {
        self.starvation_threshold
    }

    /// Counts a taken event as in flight.
    fn note_taken(&self, event: &FfiStepEvent, slot: Option<OwnedSemaphorePermit>) {
        // In flight first, then off the request list: never uncounted.
        self.in_flight.insert(
            event.event_id,
            InFlight { step_uuid: event.step_uuid, task_uuid: event.task_uuid, taken_at: Instant::now(), _slot: slot },
        );
        self.admission.taken(event.step_uuid);
        self.taken.notify_waiters();
    }

    /// Counts a taken event as in flight and makes JS's view of it (its parts moved, not copied).
    fn track(&self, event: FfiStepEvent, slot: Option<OwnedSemaphorePermit>) -> StepEvent {
        self.note_taken(&event, slot);
        StepEvent::from(event)
    }

    /// An event left (completed, failed, timed out, yielded): room for a new claim.
    fn left(&self, event_id: Uuid) {
        if let Some((_, e)) = self.in_flight.remove(&event_id) {
            self.settled.insert(e.step_uuid, Instant::now());
        }
        self.admission.notify();
    }

    /// Nothing to watch: no step in a handler, waiting, or asked to be claimed.
    pub fn is_idle(&self) -> bool {
        self.in_flight.is_empty() && self.admission.is_empty() && (self.waiting)() == 0
    }

    /// How many more steps may be claimed now.
    pub fn room(&self) -> usize {
        self.admission.room(self.in_flight.len())
    }

    /// Where the step is in this worker (see Whereabouts).
    pub fn whereabouts(&self, step_uuid: Uuid) -> Whereabouts {
        if self.admission.is_pending(step_uuid) || self.in_flight.iter().any(|e| e.step_uuid == step_uuid) {
            return Whereabouts::OnItsWay;
        }
        match self.settled.get(&step_uuid) {
            Some(at) => Whereabouts::ResultSent(at.elapsed()),
            None => Whereabouts::Unknown,
        }
    }

    /// Whether results handed to tasker-worker are still queued for storing.
    pub fn results_queued(&self) -> bool {
        self.completion_probe.capacity() < self.completion_probe.max_capacity()
    }

    /// Takes up to `max` events without waiting.
    pub fn poll(&self, max: usize) -> Vec<StepEvent> {
        self.admission.polled();
        let mut events = Vec::new();
        while events.len() < max {
            match self.channel.poll() {
                Some(event) => events.push(self.track(event, None)),
                None => break,
            }
        }
        events
    }

    /// Waits up to `timeout` for one event; `slot` is released when it leaves.
    pub async fn next(&self, timeout: Duration, slot: OwnedSemaphorePermit) -> Option<StepEvent> {
        let event = self.channel.poll_async(timeout).await?;
        Some(self.track(event, Some(slot)))
    }

    /// Takes one event if one is ready, without waiting; `slot` as in `next`.
    pub fn try_next(&self, slot: OwnedSemaphorePermit) -> Option<StepEvent> {
        let event = self.channel.poll()?;
        Some(self.track(event, Some(slot)))
    }

    pub fn step_of(&self, event_id: Uuid) -> BridgeResult<Uuid> {
        if self.released.contains_key(&event_id) {
            return Err(BridgeError::new(
                ErrorCode::UnknownEvent,
                format!("event {event_id} was released while its handler ran: its task was cancelled, so tasker takes no result for it (subscribeStepCancellations tells when this happens)"),
            ));
        }
        self.in_flight.get(&event_id).map(|e| e.step_uuid).ok_or_else(|| {
            BridgeError::new(
                ErrorCode::UnknownEvent,
                format!(
                    "event {event_id} is not in flight: it was already completed, timed out after {} ms, or never delivered; do not complete an event twice",
                    self.completion_timeout.as_millis()
                ),
            )
        })
    }

    /// Validates a completion and returns tasker's result for it.
    pub fn prepare(&self, event_id: &str, completion: StepCompletion) -> BridgeResult<(Uuid, StepExecutionResult)> {
        let event_id = parse_event_id(event_id)?;
        let step_uuid = self.step_of(event_id)?;
        Ok((event_id, to_step_execution_result(completion, step_uuid)?))
    }

    fn settle(&self, event_id: Uuid, success: bool, accepted: bool) -> BridgeResult<()> {
        self.left(event_id);
        if !accepted {
            return Err(BridgeError::new(
                ErrorCode::ChannelClosed,
                format!("the completion of event {event_id} was not accepted: it timed out meanwhile or the worker's completion channel is closed or full; the step will be retried by the orchestration"),
            ));
        }
        let counter = if success { &self.completed } else { &self.failed };
        counter.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    /// Sends a prepared result (may wait up to the completion send timeout).
    pub fn complete(&self, event_id: Uuid, result: StepExecutionResult) -> BridgeResult<()> {
        let success = result.success;
        let accepted = self.channel.complete(event_id, result);
        self.settle(event_id, success, accepted)
    }

    /// Sends a prepared result only if the completion channel has room now
    /// (then it cannot block); `Ok(false)` means nothing was done.
    pub fn try_complete(&self, event_id: Uuid, result: StepExecutionResult) -> BridgeResult<bool> {
        if self.completion_probe.capacity() == 0 {
            return Ok(false);
        }
        self.complete(event_id, result).map(|()| true)
    }

    pub async fn complete_async(&self, event_id: Uuid, result: StepExecutionResult) -> BridgeResult<()> {
        let success = result.success;
        let accepted = self.channel.complete_async(event_id, result).await;
        self.settle(event_id, success, accepted)
    }

    /// Resolves when JS next takes an event (enable it before checking, then await).
    pub fn taken(&self) -> tokio::sync::futures::Notified<'_> {
        self.taken.notified()
    }

    /// The steps of the events in handlers now.
    pub fn in_flight_steps(&self) -> Vec<Uuid> {
        self.in_flight.iter().map(|e| e.step_uuid).collect()
    }

    /// Releases the in-flight event of `step`, whose task was cancelled:
    /// tasker refuses any result for it, so none is awaited. tasker-worker's
    /// own record of the event is closed with a failure it will refuse
    /// (src/cancelled.rs keeps that refusal out of the log and out of domain
    /// events). Subscribers hear of it; returns whether an event was released.
    pub async fn release_cancelled(&self, step: Uuid, reason: &str) -> bool {
        let Some(event_id) = self.in_flight.iter().find(|e| e.step_uuid == step).map(|e| *e.key()) else { return false };
        let Some((_, event)) = self.in_flight.remove(&event_id) else { return false };
        crate::cancelled::mark(step);
        self.released.insert(event_id, Instant::now());
        self.cancelled.fetch_add(1, Ordering::SeqCst);
        self.admission.notify();
        let _ = self.channel.complete_async(event_id, bridge_failure(step, reason.to_string(), "StepCancelled")).await;
        let _ = self.cancellations.send(Cancellation { event_id, step_uuid: step, task_uuid: event.task_uuid, reason: reason.to_string() });
        tracing::info!(target: "tasker_worker_js", step_uuid = %step, task_uuid = %event.task_uuid, %event_id, "{reason} while its handler ran: the handler is told (its signal aborts) and no result is sent");
        true
    }

    /// Cancellations from now on (see `release_cancelled`).
    pub fn cancellations(&self) -> broadcast::Receiver<Cancellation> {
        self.cancellations.subscribe()
    }

    /// Fails an in-flight event as retryable on the handler's behalf.
    pub fn fail_retryable(&self, event_id: Uuid, message: String, error_type: &str) -> BridgeResult<()> {
        let step_uuid = self.step_of(event_id)?;
        self.complete(event_id, bridge_failure(step_uuid, message, error_type))
    }

    /// Persists a checkpoint and re-dispatches the step (batch handlers).
    pub fn checkpoint_yield(&self, event_id: &str, data: CheckpointYieldData) -> BridgeResult<()> {
        let id = parse_event_id(event_id)?;
        let step_uuid = self.step_of(id)?;
        if data.step_uuid != step_uuid {
            return Err(BridgeError::invalid("checkpoint.stepUuid", format!("{} is not the step of this event ({step_uuid})", data.step_uuid)));
        }
        let ok = self.channel.checkpoint_yield(id, data);
        // Either way the event has left: a continuation or a retry follows.
        self.left(id);
        if ok {
            Ok(())
        } else {
            Err(BridgeError::new(
                ErrorCode::ChannelClosed,
                format!("the checkpoint of event {id} could not be saved; the step was failed as retryable and will run again"),
            ))
        }
    }

    /// Fails events whose completion is overdue; returns how many.
    pub fn cleanup_timeouts(&self) -> u32 {
        let count = self.channel.cleanup_timeouts();
        // Our taken_at is never earlier than the channel's, so anything we see
        // as overdue the channel has already failed.
        let overdue: Vec<Uuid> =
            self.in_flight.iter().filter(|e| e.taken_at.elapsed() > self.completion_timeout).map(|e| *e.key()).collect();
        for id in overdue {
            self.left(id);
        }
        self.prune_settled();
        self.timed_out.fetch_add(count as u64, Ordering::SeqCst);
        count as u32
    }

    /// Forgets settled steps older than SETTLED_MEMORY, at most every
    /// PRUNE_EVERY: a busy worker's map holds a million entries, too many to
    /// walk on every 250 ms check.
    fn prune_settled(&self) {
        let mut last = lock(&self.last_prune);
        if last.elapsed() >= PRUNE_EVERY {
            *last = Instant::now();
            drop(last);
            self.settled.retain(|_, at| at.elapsed() < SETTLED_MEMORY);
            self.released.retain(|_, at| at.elapsed() < SETTLED_MEMORY);
        }
    }

    /// Fails every claimed step JS has not completed (waiting or in flight) as
    /// retryable, so the orchestration hands it out again. Returns how many.
    pub fn hand_back_all(&self) -> u32 {
        let message = "the worker stopped before a handler completed this step; it is handed back for retry";
        let mut handed_back = 0;
        while let Some(event) = self.channel.poll() {
            self.note_taken(&event, None);
        }
        let ids: Vec<Uuid> = self.in_flight.iter().map(|e| *e.key()).collect();
        for id in ids {
            if self.fail_retryable(id, message.to_string(), "WorkerShutdown").is_ok() {
                handed_back += 1;
            }
        }
        handed_back
    }

    /// Waits until the completion channel is empty (results handed to the
    /// completion processor), at most `limit`.
    pub async fn wait_for_completions_sent(&self, limit: Duration) {
        let deadline = Instant::now() + limit;
        while self.results_queued() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Claimed steps older than `threshold`, in handlers and waiting for JS.
    pub fn starvation(&self, threshold: Duration) -> Report {
        let in_flight: Vec<Duration> = self.in_flight.iter().map(|e| e.taken_at.elapsed()).collect();
        let waiting = self.admission.waiting_ages((self.waiting)());
        Report::of(in_flight.into_iter(), waiting.into_iter(), threshold)
    }

    /// Logs the current starvation picture once (the monitor logs on its own).
    pub fn check_starvation_warnings(&self) {
        let report = self.starvation(self.starvation_threshold);
        if report.starving() > 0 {
            tracing::warn!(
                target: "tasker_worker_js",
                in_handlers = report.in_handlers,
                waiting = report.waiting,
                oldest_ms = report.oldest.unwrap_or_default().as_millis() as u64,
                "claimed steps older than the starvation threshold ({} ms)",
                self.starvation_threshold.as_millis()
            );
        }
    }

    pub fn metrics(&self) -> DispatchMetrics {
        let report = self.starvation(self.starvation_threshold);
        DispatchMetrics {
            pending_count: (self.waiting)() as u32,
            in_flight_count: self.in_flight.len() as u32,
            completed_count: self.completed.load(Ordering::SeqCst) as f64,
            failed_count: self.failed.load(Ordering::SeqCst) as f64,
            timed_out_count: self.timed_out.load(Ordering::SeqCst) as f64,
            cancelled_count: self.cancelled.load(Ordering::SeqCst) as f64,
            starvation_detected: report.starving() > 0,
            starving_event_count: report.starving() as u32,
            oldest_pending_age_ms: report.oldest.map(|d| d.as_secs_f64() * 1000.0),
            max_claimed_steps: self.admission.limit() as u32,
        }
    }
}

pub fn parse_event_id(event_id: &str) -> BridgeResult<Uuid> {
    Uuid::parse_str(event_id)
        .map_err(|_| BridgeError::invalid("eventId", format!("'{event_id}' is not a UUID; pass the eventId of a delivered step event")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: fn(u64) -> Duration = Duration::from_millis;

    #[test]
    fn report_counts_both_places_and_the_oldest() {
        let r = Report::of([MS(50), MS(1500)].into_iter(), [MS(2500), MS(10)].into_iter(), MS(1000));
        assert_eq!((r.in_handlers, r.waiting, r.oldest), (1, 1, Some(MS(2500))));
        assert_eq!(Report::of(std::iter::empty(), std::iter::empty(), MS(1)), Report::default());
    }
}
