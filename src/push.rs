//! Push delivery: a task on the worker's runtime takes events out of the
//! dispatch channel as soon as they arrive, at most `maxInFlight` at once, and
//! hands them to a JS callback through a ThreadsafeFunction: one event per
//! call, or (batch subscriptions) every event that is ready and has a slot,
//! up to `maxBatch`, in one call, so a burst wakes JS once instead of once
//! per event. A slot frees when its event completes, fails or times out. A
//! throw in the callback, or a rejection of the Promise it returns (an
//! `async` callback), fails its events as retryable with the reason instead
//! of reaching the host (src/callbacks.rs).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use tokio::sync::{watch, Semaphore};

use crate::callbacks::{self, Burst, Followed, Returned, Settled, SinkId};
use crate::conversions::event::{EventJson, StepEvent};
use crate::dispatch::{parse_event_id, Dispatch};
use crate::error::{BridgeError, BridgeResult, ErrorCode};
use crate::js::Whole;

/// Options of `subscribeStepEvents`.
#[napi(object)]
#[derive(Debug, Clone, Default)]
pub struct SubscribeOptions {
    /// Most events handed to JS and not yet completed (default 10, at most 10000).
    #[napi(ts_type = "number")]
    pub max_in_flight: Option<Whole>,
    /// `subscribeStepEventBatches` only: most events in one call (default 64, at most 1000).
    #[napi(ts_type = "number")]
    pub max_batch: Option<Whole>,
}

type Callback = ThreadsafeFunction<EventJson, Returned, EventJson, Status, false>;

/// Where pushed events go: one event per call, or (`batches`) an array of up
/// to `max_batch` per call.
pub struct StepEventCallback {
    pub function: Callback,
    pub batches: bool,
    pub max_batch: usize,
}

impl StepEventCallback {
    /// The events' JSON, made here on the runtime thread: the JS thread only parses it.
    fn serialize(&self, events: &[StepEvent]) -> serde_json::Result<EventJson> {
        if self.batches { EventJson::of(&events) } else { EventJson::of(&events[0]) }
    }

    /// Calls JS without waiting. On the JS thread: a throw fails the events
    /// at once; a returned thenable is followed, its rejection reaching `sink`.
    fn call(&self, json: EventJson, events: Vec<String>, dispatch: Weak<Dispatch>, sink: Arc<SinkId>) -> Status {
        let on_return = move |returned: Result<Returned>, env: Env| {
            let failure = match returned {
                Err(thrown) => Some(format!("threw: {}", thrown.reason)),
                Ok(value) => match callbacks::follow(&env, &value, &sink, &events.join(","), false) {
                    Followed::Broken(why) => Some(format!("returned a thenable that failed: {why}")),
                    Followed::Value | Followed::Thenable => None,
                },
            };
            if let (Some(failure), Some(dispatch)) = (failure, dispatch.upgrade()) {
                callback_failed(&dispatch, &events, &failure);
            }
            Ok(())
        };
        self.function.call_with_return_value(json, ThreadsafeFunctionCallMode::NonBlocking, on_return)
    }
}

/// Step event callbacks that failed (all subscriptions): logged once per burst.
static CALLBACK_FAILURES: Burst = Burst::new(Duration::from_secs(10));

/// The callback failed for `events` (`how`: "threw: ..."): they are failed as
/// retryable; those it completed before failing are left as they are.
fn callback_failed(dispatch: &Dispatch, events: &[String], how: &str) {
    let message = format!("step handler callback {how}");
    let failed = fail_events(dispatch, events, &message, "CallbackException");
    if let Some(count) = CALLBACK_FAILURES.note() {
        tracing::warn!(target: "tasker_worker_js", failed, failures_in_burst = count, "a step event callback {how}; its events not yet completed were failed as retryable");
    }
}

/// The sink of a subscription's returned thenables: a rejection fails the call's events.
fn rejection_sink(dispatch: Weak<Dispatch>) -> SinkId {
    SinkId::register(move |events, settled| {
        let (Settled::Rejected(why), Some(dispatch)) = (settled, dispatch.upgrade()) else { return };
        let ids: Vec<String> = events.split(',').map(str::to_string).collect();
        callback_failed(&dispatch, &ids, &format!("returned a Promise that rejected: {why}"));
    })
}

/// How long one wait for an event lasts before it starts over. Stopping does
/// not wait for it (it races `stopped`), so it is long: an idle worker's
/// delivery task then wakes once per slice, not four times a second.
const WAIT_SLICE: Duration = Duration::from_secs(5);
/// After a closed channel answered at once, the pause before asking again.
const CLOSED_PAUSE: Duration = Duration::from_millis(250);

pub struct PushState {
    pub max_in_flight: u32,
    slots: Arc<Semaphore>,
    stop: watch::Sender<bool>,
    closed: AtomicBool,
    /// Where the callback's rejected Promises go; kept while the
    /// subscription exists, so a late rejection still fails its events.
    sink: Arc<SinkId>,
}

impl PushState {
    pub fn close(&self) {
        if !self.closed.swap(true, Ordering::SeqCst) {
            let _ = self.stop.send(true);
        }
    }

    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    pub fn in_flight(&self) -> u32 {
        self.max_in_flight - self.slots.available_permits() as u32
    }
}

/// `maxBatch` of a batch subscription; a single-event one accepts none but 1.
pub fn max_batch(options: Option<&SubscribeOptions>, batches: bool) -> BridgeResult<usize> {
    let given = options.and_then(|o| o.max_batch).map(Whole::get);
    if !batches {
        return match given {
            None | Some(1) => Ok(1),
            Some(_) => Err(BridgeError::invalid("options.maxBatch", "applies to subscribeStepEventBatches; subscribeStepEvents delivers one event per call")),
        };
    }
    let value = given.unwrap_or(64);
    if (1..=1000).contains(&value) {
        Ok(value as usize)
    } else {
        Err(BridgeError::invalid("options.maxBatch", format!("{value} is outside 1..=1000")))
    }
}

pub fn max_in_flight(options: Option<&SubscribeOptions>) -> BridgeResult<u32> {
    let value = options.and_then(|o| o.max_in_flight).map_or(10, Whole::get);
    if (1..=10_000).contains(&value) {
        Ok(value)
    } else {
        Err(BridgeError::invalid("options.maxInFlight", format!("{value} is outside 1..=10000")))
    }
}

/// Starts delivering events from `dispatch` to `callback`.
pub fn start(
    runtime: &tokio::runtime::Handle,
    dispatch: Arc<Dispatch>,
    callback: StepEventCallback,
    max_in_flight: u32,
) -> Arc<PushState> {
    let (stop, stopped) = watch::channel(false);
    let state = Arc::new(PushState {
        max_in_flight,
        slots: Arc::new(Semaphore::new(max_in_flight as usize)),
        stop,
        closed: AtomicBool::new(false),
        sink: Arc::new(rejection_sink(Arc::downgrade(&dispatch))),
    });
    runtime.spawn(deliver(dispatch, callback, state.slots.clone(), state.sink.clone(), stopped));
    state
}

async fn deliver(
    dispatch: Arc<Dispatch>,
    callback: StepEventCallback,
    slots: Arc<Semaphore>,
    sink: Arc<SinkId>,
    mut stopped: watch::Receiver<bool>,
) {
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => match slot { Ok(s) => s, Err(_) => break },
            _ = stopped.changed() => break,
        };
        let started = Instant::now();
        let event = tokio::select! {
            event = dispatch.next(WAIT_SLICE, slot) => event,
            _ = stopped.changed() => break,
        };
        let Some(event) = event else {
            // A closed channel answers at once: do not spin on it.
            if started.elapsed() < Duration::from_millis(1) {
                tokio::select! {
                    _ = tokio::time::sleep(CLOSED_PAUSE) => {}
                    _ = stopped.changed() => break,
                }
            }
            continue;
        };
        let mut events = vec![event];
        // More in the same call while events are ready and slots are free.
        while events.len() < callback.max_batch {
            let Ok(slot) = slots.clone().try_acquire_owned() else { break };
            match dispatch.try_next(slot) {
                Some(event) => events.push(event),
                None => break,
            }
        }
        let ids: Vec<String> = events.iter().map(|e| e.event_id.clone()).collect();
        let json = match callback.serialize(&events) {
            Ok(json) => json,
            Err(e) => {
                fail_events(&dispatch, &ids, &format!("the event could not be serialized ({e}); it will be retried"), "DeliveryFailed");
                continue;
            }
        };
        drop(events);
        let status = callback.call(json, ids.clone(), Arc::downgrade(&dispatch), sink.clone());
        if status != Status::Ok {
            fail_events(&dispatch, &ids, &format!("the subscription could not deliver the event ({status}); it will be retried"), "DeliveryFailed");
            break;
        }
    }
    // Dropping `callback` here releases the ThreadsafeFunction: nothing keeps the process alive.
}

/// Fails events still in flight as retryable, each with `message`; returns
/// how many (an event completed meanwhile is not an error).
fn fail_events(dispatch: &Dispatch, event_ids: &[String], message: &str, error_type: &str) -> usize {
    let mut failed = 0;
    for event_id in event_ids {
        let Ok(id) = parse_event_id(event_id) else { continue };
        match dispatch.fail_retryable(id, message.to_string(), error_type) {
            Ok(()) => failed += 1,
            Err(e) if e.code == ErrorCode::UnknownEvent => {}
            Err(e) => tracing::warn!(target: "tasker_worker_js", event_id, error = %e, "could not fail an event for retry"),
        }
    }
    failed
}
