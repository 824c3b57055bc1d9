//! The floor of push delivery on this machine: a bare ThreadsafeFunction
//! call from a runtime thread (a two-thread tokio runtime, as a worker's) to
//! a JS callback, carrying only the time it was sent. Nothing of the worker
//! runs: no channel, no event, no serialization. What push delivery takes
//! above this is the bridge's; this much is the scheduler's and the JS
//! engine's wake-up. Carrying the step event as well, it is the floor of
//! handing a step over whole: the wake-up and the JS engine's parse, still
//! without tasker's copy, tracking or serialization. `roundTripFloor` is the
//! same for the round trip: calls as fast as a window of unanswered ones
//! allows, each answered when the callback returns.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use napi::bindgen_prelude::*;
use napi::threadsafe_function::ThreadsafeFunctionCallMode;
use napi_derive::napi;
use tokio::sync::Semaphore;

use super::harness::Jitter;
use crate::conversions::event::EventJson;
use crate::error::{guard, BridgeError, BridgeResult, ErrorCode};
use crate::js::arg;

fn base() -> Instant {
    static BASE: OnceLock<Instant> = OnceLock::new();
    *BASE.get_or_init(Instant::now)
}

/// Nanoseconds on the clock `pingFloor` stamps its calls with.
#[napi(namespace = "bench")]
pub fn monotonic_ns() -> f64 {
    base().elapsed().as_nanos() as f64
}

/// Calls `callback(sentNs)` `count` times from a runtime thread, gaps
/// uniformly random with mean `meanGapUs`; the callback takes
/// `monotonicNs() - sentNs`. With `withEvent`, each call carries
/// `[sentNs, event]` instead: the bridge benchmark's step event as JSON text
/// parsed on the JS thread, as push delivery hands a step over. Returns at
/// once; the calls follow.
#[napi(
    namespace = "bench",
    ts_args_type = "callback: (sent: number | [number, StepEvent]) => void, count: number, meanGapUs: number, withEvent?: boolean"
)]
pub fn ping_floor(callback: Unknown<'_>, count: Unknown<'_>, mean_gap_us: Unknown<'_>, with_event: Unknown<'_>) -> napi::Result<(), ErrorCode> {
    guard(|| {
        let count = within(arg::<i64>(count, "count")?, 0, 100_000_000, "count")?;
        let mean_gap = within(arg::<i64>(mean_gap_us, "meanGapUs")?, 0, 10_000_000, "meanGapUs")? as u64;
        let with_event = arg::<Option<bool>>(with_event, "withEvent")?.unwrap_or(false);
        let unusable = |e: napi::Error| BridgeError::invalid("callback", e.to_string());
        base();
        if with_event {
            let function: Function<'_, EventJson, ()> = arg(callback, "callback")?;
            let tsfn = function.build_threadsafe_function::<EventJson>().callee_handled::<false>().build().map_err(unusable)?;
            let event = event_text()?;
            paced(count, mean_gap, move || {
                // Stamped first: making the text is part of what a delivery does after taking a step.
                let sent = monotonic_ns();
                tsfn.call(EventJson::from_text(format!("[{sent},{event}]")), ThreadsafeFunctionCallMode::NonBlocking);
            })
        } else {
            let function: Function<'_, f64, ()> = arg(callback, "callback")?;
            let tsfn = function.build_threadsafe_function::<f64>().callee_handled::<false>().build().map_err(unusable)?;
            paced(count, mean_gap, move || {
                tsfn.call(monotonic_ns(), ThreadsafeFunctionCallMode::NonBlocking);
            })
        }
    })
}

/// Runs `send` `count` times on a runtime of its own, gaps uniformly random with mean `mean_gap` µs.
fn paced(count: usize, mean_gap: u64, send: impl Fn() + Send + 'static) -> BridgeResult<()> {
    run_on_own_runtime(async move {
        let mut jitter = Jitter(0x2545_f491_4f6c_dd1d);
        for _ in 0..count {
            send();
            tokio::time::sleep(Duration::from_micros(jitter.next(2 * mean_gap))).await;
        }
    })
}

/// The bridge benchmark's step event as JSON.
fn event_text() -> BridgeResult<String> {
    serde_json::to_string(&super::bridge::event()).map_err(|e| BridgeError::internal(e.to_string()))
}

fn within(value: i64, low: usize, high: usize, name: &str) -> BridgeResult<usize> {
    usize::try_from(value)
        .ok()
        .filter(|v| (low..=high).contains(v))
        .ok_or_else(|| BridgeError::invalid(name, format!("{value} is outside {low}..={high}")))
}

/// Runs `work` on a two-thread tokio runtime (as a worker's) of its own, on a
/// thread of its own; returns at once.
fn run_on_own_runtime(work: impl std::future::Future<Output = ()> + Send + 'static) -> BridgeResult<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .map_err(|e| BridgeError::internal(e.to_string()))?;
    std::thread::spawn(move || {
        let task = runtime.spawn(work);
        let _ = runtime.block_on(task);
    });
    Ok(())
}

/// Calls `callback(event)` `count` times from a runtime thread, as fast as
/// `window` calls not yet returned allow (a subscription's maxInFlight); a
/// call is answered when the callback returns, as a synchronous completion
/// would answer it. `withEvent`: each call carries the bridge benchmark's
/// step event as JSON text parsed on the JS thread (as push delivery does),
/// else only its send time (as `pingFloor`'s). Returns at once; the calls follow.
#[napi(namespace = "bench", ts_args_type = "callback: (event: StepEvent | number) => void, count: number, window: number, withEvent: boolean")]
pub fn round_trip_floor(callback: Unknown<'_>, count: Unknown<'_>, window: Unknown<'_>, with_event: Unknown<'_>) -> napi::Result<(), ErrorCode> {
    guard(|| {
        let function: Function<'_, EventJson, ()> = arg(callback, "callback")?;
        // As i64, so that a negative number is refused rather than wrapped.
        let count = within(arg::<i64>(count, "count")?, 0, 100_000_000, "count")?;
        let window = within(arg::<i64>(window, "window")?, 1, 10_000, "window")?;
        let with_event: bool = arg(with_event, "withEvent")?;
        let text = if with_event { Some(event_text()?) } else { None };
        let tsfn = function
            .build_threadsafe_function::<EventJson>()
            .callee_handled::<false>()
            .build()
            .map_err(|e| BridgeError::invalid("callback", e.to_string()))?;
        let room = Arc::new(Semaphore::new(window));
        base();
        run_on_own_runtime(async move {
            for _ in 0..count {
                let Ok(slot) = room.acquire().await else { return };
                slot.forget();
                let answered = room.clone();
                let payload = EventJson::from_text(text.clone().unwrap_or_else(|| monotonic_ns().to_string()));
                tsfn.call_with_return_value(payload, ThreadsafeFunctionCallMode::NonBlocking, move |_: Result<()>, _| {
                    answered.add_permits(1);
                    Ok(())
                });
            }
        })
    })
}
