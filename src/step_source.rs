//! Where the dispatch channel takes claimed steps from and sends results to.
//!
//! A worker uses tasker-worker's `FfiDispatchChannel` (not its starvation
//! check or metrics: src/starvation.rs also sees steps waiting for JS). The
//! benchmarks use a synthetic source with the same contract (tasker's
//! dispatch message cannot be built outside tasker-worker), so everything
//! above it is the real path.

use std::time::Duration;

use futures::future::BoxFuture;
use tasker_shared::messaging::StepExecutionResult;
use tasker_shared::models::core::batch_worker::CheckpointYieldData;
use tasker_worker::worker::{FfiDispatchChannel, FfiStepEvent};
use uuid::Uuid;

pub trait StepSource: Send + Sync + 'static {
    /// The next claimed step, without waiting; it becomes pending completion.
    fn poll(&self) -> Option<FfiStepEvent>;
    /// Waits up to `timeout` for the next claimed step.
    fn poll_async(&self, timeout: Duration) -> BoxFuture<'_, Option<FfiStepEvent>>;
    /// Sends the result of a pending event; false if it was not accepted.
    fn complete(&self, event_id: Uuid, result: StepExecutionResult) -> bool;
    fn complete_async(&self, event_id: Uuid, result: StepExecutionResult) -> BoxFuture<'_, bool>;
    fn checkpoint_yield(&self, event_id: Uuid, data: CheckpointYieldData) -> bool;
    /// Fails pending events whose completion is overdue; returns how many.
    fn cleanup_timeouts(&self) -> usize;
}

impl StepSource for FfiDispatchChannel {
    fn poll(&self) -> Option<FfiStepEvent> {
        FfiDispatchChannel::poll(self)
    }
    fn poll_async(&self, timeout: Duration) -> BoxFuture<'_, Option<FfiStepEvent>> {
        Box::pin(FfiDispatchChannel::poll_async(self, timeout))
    }
    fn complete(&self, event_id: Uuid, result: StepExecutionResult) -> bool {
        FfiDispatchChannel::complete(self, event_id, result)
    }
    fn complete_async(&self, event_id: Uuid, result: StepExecutionResult) -> BoxFuture<'_, bool> {
        Box::pin(FfiDispatchChannel::complete_async(self, event_id, result))
    }
    fn checkpoint_yield(&self, event_id: Uuid, data: CheckpointYieldData) -> bool {
        FfiDispatchChannel::checkpoint_yield(self, event_id, data)
    }
    fn cleanup_timeouts(&self) -> usize {
        FfiDispatchChannel::cleanup_timeouts(self)
    }
}
