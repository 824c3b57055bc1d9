//! `subscribeStepCancellations`: JS hears when a step it runs was cancelled
//! (its task cancelled) and its event released, so its handler can stop.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use serde::Serialize;
use tokio::sync::{broadcast, watch};

use crate::js::arg;
use crate::js::handle::HandleBuilder;
use crate::callbacks::{self, Burst, Followed, Returned, Settled, SinkId};
use crate::dispatch::Cancellation;
use crate::error::{guard, BridgeError, ErrorCode};
use crate::worker;

/// A step cancelled while its handler ran: its event is released (no
/// completion is taken for it) and its handler should stop.
#[napi(object, object_to_js = false)]
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StepCancellation {
    pub event_id: String,
    pub step_uuid: String,
    pub task_uuid: String,
    /// Why, e.g. "the task was cancelled".
    pub reason: String,
}

impl ToNapiValue for StepCancellation {
    unsafe fn to_napi_value(env: napi::sys::napi_env, value: Self) -> napi::Result<napi::sys::napi_value> {
        crate::conversions::json::to_js(env, &value)
    }
}

impl From<Cancellation> for StepCancellation {
    fn from(c: Cancellation) -> Self {
        Self { event_id: c.event_id.to_string(), step_uuid: c.step_uuid.to_string(), task_uuid: c.task_uuid.to_string(), reason: c.reason }
    }
}

/// The object `subscribeStepCancellations` answers.
#[napi(object, object_to_js = false, object_from_js = false)]
#[allow(dead_code)] // describes, in index.d.ts, the handle built below
pub struct StepCancellationSubscription {
    /// Stops delivery.
    #[napi(ts_type = "() => void")]
    pub close: (),
    #[napi(readonly)]
    pub closed: bool,
}

type Callback = ThreadsafeFunction<StepCancellation, Returned, StepCancellation, Status, false>;

/// Calls `callback` for each step of this worker cancelled while its
/// handler ran (checked every 400 ms while handlers run): abort the handler;
/// its event is already released, and completing it answers UNKNOWN_EVENT.
/// A throw or rejection in the callback is logged and changes nothing else.
#[napi(ts_args_type = "callback: (cancellation: StepCancellation) => unknown", ts_return_type = "StepCancellationSubscription")]
pub fn subscribe_step_cancellations<'env>(env: &'env Env, callback: Unknown<'_>) -> napi::Result<Object<'env>, ErrorCode> {
    guard(|| {
        let function: Function<'_, StepCancellation, Returned> = arg(callback, "callback")?;
        let function: Callback = function
            .build_threadsafe_function::<StepCancellation>()
            .callee_handled::<false>()
            .build()
            .map_err(|e| BridgeError::invalid("callback", format!("cannot be called from the worker: {e}")))?;
        let w = worker::current()?;
        let receiver = w.dispatch()?.cancellations();
        let (stop, stopped) = watch::channel(false);
        let closed = Arc::new(AtomicBool::new(false));
        w.handle.spawn(deliver(receiver, function, closed.clone(), stopped));
        let reader = closed.clone();
        HandleBuilder::new(env)?
            .method("close", move |_| {
                closed.store(true, Ordering::SeqCst);
                let _ = stop.send(true);
                Ok(())
            })?
            .getter("closed", move || reader.load(Ordering::SeqCst))?
            .build()
    })
}

/// Cancellation callbacks that failed: logged once per burst.
static FAILURES: Burst = Burst::new(std::time::Duration::from_secs(10));

fn callback_failed(how: &str) {
    if let Some(count) = FAILURES.note() {
        tracing::warn!(target: "tasker_worker_js", failures_in_burst = count, "a step cancellation callback {how}; the step's event is released all the same");
    }
}

async fn deliver(mut receiver: broadcast::Receiver<Cancellation>, callback: Callback, closed: Arc<AtomicBool>, mut stopped: watch::Receiver<bool>) {
    let sink = Arc::new(SinkId::register(|_, settled| {
        if let Settled::Rejected(why) = settled {
            callback_failed(&format!("returned a Promise that rejected ({why})"));
        }
    }));
    loop {
        let cancellation = tokio::select! {
            c = receiver.recv() => c,
            _ = stopped.changed() => break,
        };
        match cancellation {
            Ok(c) => {
                let sink = sink.clone();
                let status = callback.call_with_return_value(c.into(), ThreadsafeFunctionCallMode::NonBlocking, move |returned: Result<Returned>, env| {
                    match returned {
                        Err(thrown) => callback_failed(&format!("threw ({})", thrown.reason)),
                        Ok(value) => {
                            if let Followed::Broken(why) = callbacks::follow(&env, &value, &sink, "", false) {
                                callback_failed(&format!("returned a thenable that failed ({why})"));
                            }
                        }
                    }
                    Ok(())
                });
                if status != Status::Ok {
                    break;
                }
            }
            Err(broadcast::error::RecvError::Lagged(missed)) => {
                tracing::warn!(target: "tasker_worker_js", missed, "step cancellations were missed by a slow subscriber; their events are released all the same");
            }
            Err(broadcast::error::RecvError::Closed) => break,
        }
    }
    closed.store(true, Ordering::SeqCst);
}
