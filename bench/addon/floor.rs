//! The floor of push delivery on this machine: a bare ThreadsafeFunction
//! call from a runtime thread (a two-thread tokio runtime, as a worker's) to
//! a JS callback, carrying only the time it was sent. Nothing of the worker
//! runs: no channel, no event, no serialization. What push delivery takes
//! above this is the bridge's; this much is the scheduler's and the JS
//! engine's wake-up.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use napi::bindgen_prelude::*;
use napi::threadsafe_function::ThreadsafeFunctionCallMode;
use napi_derive::napi;

use super::harness::Jitter;
use crate::error::{guard, BridgeError, ErrorCode};
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
/// `monotonicNs() - sentNs`. Returns at once; the calls follow.
#[napi(namespace = "bench", ts_args_type = "callback: (sentNs: number) => void, count: number, meanGapUs: number")]
pub fn ping_floor(callback: Unknown<'_>, count: Unknown<'_>, mean_gap_us: Unknown<'_>) -> napi::Result<(), ErrorCode> {
    guard(|| {
        let function: Function<'_, f64, ()> = arg(callback, "callback")?;
        let count: u32 = arg(count, "count")?;
        let mean_gap: u32 = arg(mean_gap_us, "meanGapUs")?;
        let tsfn = function
            .build_threadsafe_function::<f64>()
            .callee_handled::<false>()
            .build()
            .map_err(|e| BridgeError::invalid("callback", e.to_string()))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_time()
            .build()
            .map_err(|e| BridgeError::internal(e.to_string()))?;
        base();
        std::thread::spawn(move || {
            let pinging = runtime.spawn(async move {
                let mut jitter = Jitter(0x2545_f491_4f6c_dd1d);
                for _ in 0..count {
                    tsfn.call(monotonic_ns(), ThreadsafeFunctionCallMode::NonBlocking);
                    tokio::time::sleep(Duration::from_micros(jitter.next(2 * u64::from(mean_gap)))).await;
                }
            });
            let _ = runtime.block_on(pinging);
        });
        Ok(())
    })
}
