//! Step events: poll, push, complete, checkpoint, and the channel's metrics.

use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi::threadsafe_function::UnknownReturnValue;
use napi::Env;
use napi_derive::napi;
use serde_json::Value;
use tasker_shared::messaging::StepExecutionResult;
use uuid::Uuid;
use tasker_shared::models::core::batch_worker::CheckpointYieldData;

use super::args::arg;
use crate::conversions::event::StepEvent;
use crate::conversions::result::StepCompletion;
use crate::dispatch::{parse_event_id, Dispatch, DispatchMetrics};
use crate::error::{guard, BridgeError, BridgeResult, ErrorCode};
use crate::promise;
use crate::push::{self, PushState, StepEventCallback, SubscribeOptions};
use crate::worker::{self, RunningWorker};

fn dispatch() -> BridgeResult<(Arc<RunningWorker>, Arc<Dispatch>)> {
    let w = worker::current()?;
    let d = w.dispatch()?;
    Ok((w, d))
}

/// Takes up to `max` (default 1) step events that are ready, without waiting.
/// Returns an empty array when none is pending.
#[napi(ts_args_type = "max?: number | undefined | null")]
pub fn poll_step_events(max: Unknown<'_>) -> napi::Result<Vec<StepEvent>, ErrorCode> {
    guard(|| {
        let max = arg::<Option<u32>>(max, "max")?.unwrap_or(1);
        if !(1..=1000).contains(&max) {
            return Err(BridgeError::invalid("max", format!("{max} is outside 1..=1000")));
        }
        let (w, d) = dispatch()?;
        if w.push().is_some() {
            return Err(BridgeError::new(
                ErrorCode::SubscriptionActive,
                "a push subscription is delivering this worker's events; close() it before polling",
            ));
        }
        Ok(d.poll(max as usize))
    })
}

/// The arguments of a completion, checked before anything else (so bad input
/// is reported as such even when no worker runs).
pub(crate) fn completion_args(event_id: Unknown<'_>, result: Unknown<'_>) -> BridgeResult<(String, StepCompletion)> {
    Ok((arg(event_id, "eventId")?, arg(result, "result")?))
}

/// A completion checked and converted against the running worker's channel.
fn prepared_completion(
    event_id: Unknown<'_>,
    result: Unknown<'_>,
) -> BridgeResult<(Arc<RunningWorker>, Arc<Dispatch>, Uuid, StepExecutionResult)> {
    let (event_id, result) = completion_args(event_id, result)?;
    let (w, d) = dispatch()?;
    let (id, result) = d.prepare(&event_id, result)?;
    Ok((w, d, id, result))
}

/// Completes a delivered event with the handler's result.
#[napi(ts_args_type = "eventId: string, result: StepCompletion")]
pub fn complete_step_event(event_id: Unknown<'_>, result: Unknown<'_>) -> napi::Result<(), ErrorCode> {
    guard(|| {
        let (_, d, id, result) = prepared_completion(event_id, result)?;
        d.complete(id, result)
    })
}

/// Completes a delivered event if that cannot block: returns false, doing
/// nothing, while the worker's completion channel is full (then use
/// `completeStepEventAsync`). The cheapest way to complete: no Promise.
#[napi(ts_args_type = "eventId: string, result: StepCompletion")]
pub fn try_complete_step_event(event_id: Unknown<'_>, result: Unknown<'_>) -> napi::Result<bool, ErrorCode> {
    guard(|| {
        let (_, d, id, result) = prepared_completion(event_id, result)?;
        d.try_complete(id, result)
    })
}

/// Completes a delivered event without blocking the JS thread.
#[napi(ts_args_type = "eventId: string, result: StepCompletion", ts_return_type = "Promise<void>")]
pub fn complete_step_event_async<'env>(env: &'env Env, event_id: Unknown<'_>, result: Unknown<'_>) -> napi::Result<Object<'env>> {
    match prepared_completion(event_id, result) {
        Ok((w, d, id, result)) => promise::spawn_on(env, &w.handle, async move { d.complete_async(id, result).await }),
        Err(e) => promise::rejected(env, e),
    }
}

/// Progress a batch handler saves before yielding.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct CheckpointData {
    /// Where to resume.
    pub cursor: Value,
    pub items_processed: f64,
    /// Results gathered so far, handed back on resumption.
    pub accumulated_results: Option<Value>,
}

/// Saves a checkpoint for a batch step and re-dispatches it: the handler will
/// receive the step again (a new event) with `workflowStep.checkpoint` set.
#[napi(ts_args_type = "eventId: string, data: CheckpointData", ts_return_type = "Promise<void>")]
pub fn checkpoint_yield_step_event<'env>(env: &'env Env, event_id: Unknown<'_>, data: Unknown<'_>) -> napi::Result<Object<'env>> {
    let args = arg::<String>(event_id, "eventId").and_then(|id| Ok((id, arg::<CheckpointData>(data, "data")?)));
    let (event_id, data) = match args {
        Ok(args) => args,
        Err(e) => return promise::rejected(env, e),
    };
    let checked = dispatch().and_then(|(w, d)| {
        if !(data.items_processed.is_finite() && data.items_processed >= 0.0) {
            return Err(BridgeError::invalid("data.itemsProcessed", "must be a non-negative number"));
        }
        let id = parse_event_id(&event_id)?;
        let step_uuid = d.step_of(id)?;
        Ok((w, d, step_uuid))
    });
    let (w, d, step_uuid) = match checked {
        Ok(parts) => parts,
        Err(e) => return promise::rejected(env, e),
    };
    let yield_data = CheckpointYieldData {
        step_uuid,
        cursor: data.cursor,
        items_processed: data.items_processed as u64,
        accumulated_results: data.accumulated_results,
    };
    // The channel saves the checkpoint with a blocking call on the worker's runtime.
    promise::spawn_thread(env, "tasker-worker-checkpoint", move || {
        let _keep_runtime = &w;
        d.checkpoint_yield(&event_id, yield_data)
    })
}

/// A push subscription: events flow to the callback until `close()`.
#[napi]
pub struct StepEventSubscription {
    pub(crate) state: Arc<PushState>,
}

#[napi]
impl StepEventSubscription {
    /// Stops delivery. Events already delivered can still be completed.
    #[napi]
    pub fn close(&self) {
        self.state.close();
    }

    /// Whether `close()` was called or the worker stopped.
    #[napi(getter)]
    pub fn closed(&self) -> bool {
        self.state.is_closed()
    }

    /// Events delivered and not completed yet.
    #[napi(getter)]
    pub fn in_flight(&self) -> u32 {
        self.state.in_flight()
    }

    #[napi(getter)]
    pub fn max_in_flight(&self) -> u32 {
        self.state.max_in_flight
    }
}

/// Delivers each step event to `callback` as soon as the worker has it, with
/// at most `maxInFlight` delivered and not completed. A throw in the callback
/// fails that step as retryable with the exception's message.
#[napi(ts_args_type = "callback: (event: StepEvent) => unknown, options?: SubscribeOptions")]
pub fn subscribe_step_events(callback: Unknown<'_>, options: Unknown<'_>) -> napi::Result<StepEventSubscription, ErrorCode> {
    guard(|| {
        let (callback, max_in_flight) = subscription_args(callback, options)?;
        let (w, d) = dispatch()?;
        let state = push::start(&w.handle, d, callback, max_in_flight);
        if let Err(e) = w.set_push(state.clone()) {
            state.close();
            return Err(e);
        }
        Ok(StepEventSubscription { state })
    })
}

/// The callback (as a ThreadsafeFunction) and maxInFlight of a subscription.
pub(crate) fn subscription_args(callback: Unknown<'_>, options: Unknown<'_>) -> BridgeResult<(StepEventCallback, u32)> {
    let callback: Function<'_, StepEvent, UnknownReturnValue> = arg(callback, "callback")?;
    let options: Option<SubscribeOptions> = arg(options, "options")?;
    let max_in_flight = push::max_in_flight(options.as_ref())?;
    let tsfn = callback
        .build_threadsafe_function::<StepEvent>()
        .callee_handled::<false>()
        .build()
        .map_err(|e| BridgeError::invalid("callback", format!("cannot be called from the worker: {e}")))?;
    Ok((tsfn, max_in_flight))
}

/// Counters of the dispatch channel.
#[napi]
pub fn get_ffi_dispatch_metrics() -> napi::Result<DispatchMetrics, ErrorCode> {
    guard(|| Ok(dispatch()?.1.metrics()))
}

/// Logs a warning for each in-flight event older than the starvation threshold.
#[napi]
pub fn check_starvation_warnings() -> napi::Result<(), ErrorCode> {
    guard(|| {
        dispatch()?.1.check_starvation_warnings();
        Ok(())
    })
}

/// Fails in-flight events whose completion is overdue (as retryable
/// `ffi_timeout`); returns how many.
#[napi]
pub fn cleanup_timeouts() -> napi::Result<u32, ErrorCode> {
    guard(|| Ok(dispatch()?.1.cleanup_timeouts()))
}
