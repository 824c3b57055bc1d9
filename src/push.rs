//! Push delivery: a task on the worker's runtime takes events out of the
//! dispatch channel as soon as they arrive, at most `maxInFlight` at once, and
//! hands each to a JS callback through a ThreadsafeFunction. A slot frees when
//! its event completes, fails or times out. A throw in the callback fails the
//! event as retryable with the exception's message instead of reaching the host.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode, UnknownReturnValue};
use napi_derive::napi;
use tokio::sync::{watch, Semaphore};

use crate::conversions::event::StepEvent;
use crate::dispatch::{parse_event_id, Dispatch};
use crate::error::{BridgeError, BridgeResult};

/// Options of `subscribeStepEvents`.
#[napi(object)]
#[derive(Debug, Clone, Default)]
pub struct SubscribeOptions {
    /// Most events handed to JS and not yet completed (default 10, at most 10000).
    pub max_in_flight: Option<u32>,
}

pub type StepEventCallback = ThreadsafeFunction<StepEvent, UnknownReturnValue, StepEvent, Status, false>;

const WAIT_SLICE: Duration = Duration::from_millis(250);

pub struct PushState {
    pub max_in_flight: u32,
    slots: Arc<Semaphore>,
    stop: watch::Sender<bool>,
    closed: AtomicBool,
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

pub fn max_in_flight(options: Option<&SubscribeOptions>) -> BridgeResult<u32> {
    let value = options.and_then(|o| o.max_in_flight).unwrap_or(10);
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
    });
    runtime.spawn(deliver(dispatch, callback, state.slots.clone(), stopped));
    state
}

async fn deliver(
    dispatch: Arc<Dispatch>,
    callback: StepEventCallback,
    slots: Arc<Semaphore>,
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
                tokio::time::sleep(WAIT_SLICE).await;
            }
            continue;
        };
        let event_id = event.event_id.clone();
        let on_return = {
            let dispatch = dispatch.clone();
            let event_id = event_id.clone();
            move |returned: Result<UnknownReturnValue>, _env: Env| {
                if let Err(thrown) = returned {
                    fail_event(&dispatch, &event_id, format!("step handler callback threw: {}", thrown.reason), "CallbackException");
                }
                Ok(())
            }
        };
        let status = callback.call_with_return_value(event, ThreadsafeFunctionCallMode::NonBlocking, on_return);
        if status != Status::Ok {
            fail_event(&dispatch, &event_id, format!("the subscription could not deliver the event ({status}); it will be retried"), "DeliveryFailed");
            break;
        }
    }
    // Dropping `callback` here releases the ThreadsafeFunction: nothing keeps the process alive.
}

fn fail_event(dispatch: &Dispatch, event_id: &str, message: String, error_type: &str) {
    if let Ok(id) = parse_event_id(event_id) {
        if let Err(e) = dispatch.fail_retryable(id, message, error_type) {
            tracing::warn!(target: "tasker_worker_js", event_id, error = %e, "could not fail an undeliverable event");
        }
    }
}
