//! Step events: poll, push, complete, checkpoint, and the channel's metrics.

use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi::Env;
use napi_derive::napi;
use serde_json::Value;
use tasker_shared::messaging::StepExecutionResult;
use uuid::Uuid;
use tasker_shared::models::core::batch_worker::CheckpointYieldData;

use crate::js::{arg, Whole};
use crate::js::handle::HandleBuilder;
use crate::callbacks::Returned;
use crate::conversions::event::{EventJson, StepEvent};
use crate::conversions::json;
use crate::conversions::result::{StepCompletion, MAX_SAFE_COUNT};
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
        let max = arg::<Option<Whole>>(max, "max")?.map(Whole::get).unwrap_or(1);
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
    promise::guarded(env, || {
        let (w, d, id, result) = prepared_completion(event_id, result)?;
        promise::spawn_on(env, &w.handle, async move { d.complete_async(id, result).await })
    })
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
    promise::guarded(env, || {
        let event_id: String = arg(event_id, "eventId")?;
        let data: CheckpointData = arg(data, "data")?;
        let (w, d) = dispatch()?;
        if !(data.items_processed.is_finite() && (0.0..=MAX_SAFE_COUNT).contains(&data.items_processed)) {
            return Err(BridgeError::invalid("data.itemsProcessed", "must be a whole number from 0 to 2^53 - 1"));
        }
        let step_uuid = d.step_of(parse_event_id(&event_id)?)?;
        let saved = serde_json::to_string(&(&data.cursor, &data.accumulated_results)).unwrap_or_default();
        if json::nul_escape(&saved).is_some() {
            return Err(BridgeError::invalid("data", "holds a NUL character (\\u0000), which PostgreSQL cannot store; remove it"));
        }
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
    })
}

/// A push subscription: events flow to the callback until `close()`. A plain
/// object: its method and getters work whatever `this` is.
#[napi(object, object_to_js = false, object_from_js = false)]
#[allow(dead_code)] // describes, in index.d.ts, the object `subscription_handle` builds
pub struct StepEventSubscription {
    /// Stops delivery. Events already delivered can still be completed.
    #[napi(ts_type = "() => void")]
    pub close: (),
    /// Whether `close()` was called or the worker stopped.
    #[napi(readonly)]
    pub closed: bool,
    /// Events delivered and not completed yet.
    #[napi(readonly)]
    pub in_flight: u32,
    #[napi(readonly)]
    pub max_in_flight: u32,
}

/// The JS object of a subscription (see `StepEventSubscription`).
pub(crate) fn subscription_handle<'env>(env: &'env Env, state: Arc<PushState>) -> BridgeResult<Object<'env>> {
    let (closing, closed, in_flight) = (state.clone(), state.clone(), state.clone());
    let max_in_flight = state.max_in_flight;
    HandleBuilder::new(env)?
        .method("close", move |_| {
            closing.close();
            Ok(())
        })?
        .getter("closed", move || closed.is_closed())?
        .getter("inFlight", move || in_flight.in_flight())?
        .getter("maxInFlight", move || max_in_flight)?
        .build()
}

/// Delivers each step event to `callback` as soon as the worker has it, with
/// at most `maxInFlight` delivered and not completed. A throw in the callback,
/// or a rejection of the Promise it returns, fails that step as retryable
/// with the reason (unless it was completed first).
#[napi(ts_args_type = "callback: (event: StepEvent) => unknown, options?: SubscribeOptions", ts_return_type = "StepEventSubscription")]
pub fn subscribe_step_events<'env>(env: &'env Env, callback: Unknown<'_>, options: Unknown<'_>) -> napi::Result<Object<'env>, ErrorCode> {
    guard(|| subscribe(env, subscription_args(callback, options, false)?))
}

/// Like `subscribeStepEvents`, but each call hands over every event that is
/// ready and has a slot, up to `maxBatch` (default 64): under load, one
/// wake-up of JS for many events. A throw in the callback (or a rejection of
/// the Promise it returns) fails that call's events not completed yet as
/// retryable (handle each event's errors in the callback).
#[napi(ts_args_type = "callback: (events: StepEvent[]) => unknown, options?: SubscribeOptions", ts_return_type = "StepEventSubscription")]
pub fn subscribe_step_event_batches<'env>(env: &'env Env, callback: Unknown<'_>, options: Unknown<'_>) -> napi::Result<Object<'env>, ErrorCode> {
    guard(|| subscribe(env, subscription_args(callback, options, true)?))
}

fn subscribe<'env>(env: &'env Env, (callback, max_in_flight): (StepEventCallback, u32)) -> BridgeResult<Object<'env>> {
    let (w, d) = dispatch()?;
    if w.push().is_some() {
        return Err(BridgeError::new(
            ErrorCode::SubscriptionActive,
            "a push subscription is already delivering this worker's events; close() it first",
        ));
    }
    let state = push::start(&w.handle, d.clone(), callback, max_in_flight);
    if let Err(e) = w.set_push(state.clone()) {
        state.close();
        return Err(e);
    }
    // Claims follow what the subscription lets JS run (unless maxClaimedSteps is set).
    d.admission.follow(max_in_flight as usize);
    subscription_handle(env, state)
}

/// The callback (as a ThreadsafeFunction) and maxInFlight of a subscription,
/// delivering one event per call or (`batches`) arrays of them.
pub(crate) fn subscription_args(callback: Unknown<'_>, options: Unknown<'_>, batches: bool) -> BridgeResult<(StepEventCallback, u32)> {
    let function: Function<'_, EventJson, Returned> = arg(callback, "callback")?;
    let options: Option<SubscribeOptions> = arg(options, "options")?;
    let max_in_flight = push::max_in_flight(options.as_ref())?;
    let max_batch = push::max_batch(options.as_ref(), batches)?;
    let unusable = |e: napi::Error| BridgeError::invalid("callback", format!("cannot be called from the worker: {e}"));
    let function = function.build_threadsafe_function::<EventJson>().callee_handled::<false>().build().map_err(unusable)?;
    let callback = StepEventCallback { function, batches, max_batch };
    Ok((callback, max_in_flight))
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
