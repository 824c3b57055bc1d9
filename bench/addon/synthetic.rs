//! A step source fed with synthetic hydrated steps, keeping the contract of
//! tasker-worker's `FfiDispatchChannel`: a taken event is pending (a copy of
//! it kept, as tasker keeps one) until completed or overdue, and results go
//! to a completion channel.

use std::time::{Duration, Instant};

use dashmap::DashMap;
use futures::future::BoxFuture;
use tasker_shared::messaging::StepExecutionResult;
use tasker_shared::models::core::batch_worker::CheckpointYieldData;
use tasker_shared::types::{StepEventPayload, StepExecutionEvent, TaskSequenceStep};
use tasker_worker::worker::FfiStepEvent;
use tokio::sync::{mpsc, Mutex};
use uuid::Uuid;

use crate::step_source::StepSource;

/// How long `complete` waits for room in the completion channel (tasker retries up to its completion send timeout).
const SEND_TIMEOUT: Duration = Duration::from_secs(1);

pub struct SyntheticSource {
    receiver: Mutex<mpsc::Receiver<FfiStepEvent>>,
    pending: DashMap<Uuid, (FfiStepEvent, Instant)>,
    completions: mpsc::Sender<StepExecutionResult>,
    completion_timeout: Duration,
}

/// A new event for a copy of `step` with fresh ids.
pub fn synthetic_event(step: &TaskSequenceStep) -> FfiStepEvent {
    let mut step = step.clone();
    let (event_id, step_uuid) = (Uuid::now_v7(), Uuid::now_v7());
    step.workflow_step.workflow_step_uuid = step_uuid;
    let task_uuid = step.task.task.task_uuid;
    let payload = StepEventPayload::new(task_uuid, step_uuid, step);
    FfiStepEvent {
        event_id,
        task_uuid,
        step_uuid,
        correlation_id: Uuid::now_v7(),
        execution_event: StepExecutionEvent::with_event_id_and_trace(event_id, payload, None, None),
        trace_id: None,
        span_id: None,
    }
}

impl SyntheticSource {
    pub fn new(
        receiver: mpsc::Receiver<FfiStepEvent>,
        completions: mpsc::Sender<StepExecutionResult>,
        completion_timeout: Duration,
    ) -> Self {
        Self { receiver: Mutex::new(receiver), pending: DashMap::new(), completions, completion_timeout }
    }

    fn take(&self, event: FfiStepEvent) -> FfiStepEvent {
        self.pending.insert(event.event_id, (event.clone(), Instant::now()));
        event
    }
}

impl StepSource for SyntheticSource {
    fn poll(&self) -> Option<FfiStepEvent> {
        let event = self.receiver.try_lock().ok()?.try_recv().ok()?;
        Some(self.take(event))
    }

    fn poll_async(&self, timeout: Duration) -> BoxFuture<'_, Option<FfiStepEvent>> {
        Box::pin(async move {
            let mut receiver = self.receiver.lock().await;
            let event = tokio::time::timeout(timeout, receiver.recv()).await.ok()??;
            Some(self.take(event))
        })
    }

    /// As tasker's channel does: while the completion channel is full, retry
    /// for up to a second (a single try_send lost a result whenever an async
    /// completion filled the channel between the caller's room check and it).
    fn complete(&self, event_id: Uuid, result: StepExecutionResult) -> bool {
        if self.pending.remove(&event_id).is_none() {
            return false;
        }
        let deadline = Instant::now() + SEND_TIMEOUT;
        let mut result = result;
        loop {
            match self.completions.try_send(result) {
                Ok(()) => return true,
                Err(mpsc::error::TrySendError::Full(back)) if Instant::now() < deadline => {
                    result = back;
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err(_) => return false,
            }
        }
    }

    fn complete_async(&self, event_id: Uuid, result: StepExecutionResult) -> BoxFuture<'_, bool> {
        Box::pin(async move { self.pending.remove(&event_id).is_some() && self.completions.send(result).await.is_ok() })
    }

    fn checkpoint_yield(&self, event_id: Uuid, _data: CheckpointYieldData) -> bool {
        self.pending.remove(&event_id);
        false
    }

    fn cleanup_timeouts(&self) -> usize {
        // Counted as removed: events are taken concurrently, so lengths before and after do not tell.
        let mut removed = 0;
        self.pending.retain(|_, (_, taken)| {
            let keep = taken.elapsed() <= self.completion_timeout;
            removed += usize::from(!keep);
            keep
        });
        removed
    }
}
