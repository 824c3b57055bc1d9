//! A dispatch channel without a database: synthetic steps go in through the
//! counting forwarder and reach JS by poll or push exactly as a worker's do;
//! completions are converted and sent to a completion channel that only
//! counts them. `markStarted` records how long an event took from entering
//! the channel to the start of its JS handler.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dashmap::DashMap;
use napi::bindgen_prelude::*;
use napi::Env;
use napi_derive::napi;
use tasker_worker::worker::FfiStepEvent;
use tokio::runtime::Runtime;
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::fixtures as fixture;
use super::synthetic::{synthetic_event, SyntheticSource};
use crate::api::arg;
use crate::api::events::{completion_args, subscription_args, StepEventSubscription};
use crate::conversions::event::StepEvent;
use crate::dispatch::{parse_event_id, spawn_counting_forwarder, Dispatch, DispatchMetrics};
use crate::error::{guard, BridgeError, BridgeResult, ErrorCode};
use crate::promise;
use crate::push::{self, PushState};
use crate::worker::lock;

/// Options of `bench.createHarness`.
#[napi(object, namespace = "bench")]
#[derive(Debug, Clone, Default)]
pub struct HarnessOptions {
    /// Completion timeout of delivered events (default 30000 ms).
    pub completion_timeout_ms: Option<u32>,
    /// Capacity of the dispatch channel (default 1000, as a worker's).
    pub capacity: Option<u32>,
}

#[napi(namespace = "bench")]
pub struct Harness {
    runtime: Mutex<Option<Runtime>>,
    handle: tokio::runtime::Handle,
    dispatch: Arc<Dispatch>,
    feed: mpsc::Sender<FfiStepEvent>,
    entered: Arc<DashMap<Uuid, Instant>>,
    latencies_us: Mutex<Vec<f64>>,
    results: Arc<AtomicU64>,
    push: Mutex<Option<Arc<PushState>>>,
}

/// A harness with its own runtime (two threads, as a worker has).
#[napi(namespace = "bench", ts_args_type = "options?: HarnessOptions")]
pub fn create_harness(options: Unknown<'_>) -> napi::Result<Harness, ErrorCode> {
    guard(|| {
        let options: HarnessOptions = arg::<Option<HarnessOptions>>(options, "options")?.unwrap_or_default();
        let timeout = Duration::from_millis(options.completion_timeout_ms.unwrap_or(30_000).max(100).into());
        let capacity = options.capacity.unwrap_or(1000).clamp(1, 1_000_000) as usize;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("tasker-bench")
            .enable_all()
            .build()
            .map_err(|e| BridgeError::internal(format!("could not start a runtime: {e}")))?;
        let handle = runtime.handle().clone();
        let (feed, source) = mpsc::channel(capacity);
        let (receiver, waiting) = spawn_counting_forwarder(&handle, source, capacity);
        let (completions, mut drained) = mpsc::channel(capacity);
        let results = Arc::new(AtomicU64::new(0));
        let counted = results.clone();
        handle.spawn(async move {
            while drained.recv().await.is_some() {
                counted.fetch_add(1, Ordering::SeqCst);
            }
        });
        let source = SyntheticSource::new(receiver, completions.clone(), timeout);
        let dispatch = Arc::new(Dispatch::new(Box::new(source), waiting, completions, timeout));
        Ok(Harness {
            runtime: Mutex::new(Some(runtime)),
            handle,
            dispatch,
            feed,
            entered: Arc::new(DashMap::new()),
            latencies_us: Mutex::new(Vec::new()),
            results,
            push: Mutex::new(None),
        })
    })
}

#[napi(namespace = "bench")]
impl Harness {
    /// Puts `count` synthetic steps into the channel, one every `meanGapUs`
    /// on average (jittered; 0 sends as fast as the channel takes them).
    /// With `trackLatency`, remembers when each entered, for `markStarted`.
    /// Resolves with the number sent.
    #[napi(ts_return_type = "Promise<number>")]
    pub fn inject<'env>(
        &self,
        env: &'env Env,
        count: u32,
        mean_gap_us: Option<u32>,
        track_latency: Option<bool>,
    ) -> napi::Result<Object<'env>> {
        let (feed, entered) = (self.feed.clone(), self.entered.clone());
        let track = track_latency.unwrap_or(false);
        let mean_gap = mean_gap_us.unwrap_or(0) as u64;
        promise::spawn_on(env, &self.handle, async move {
            let step = fixture::task_sequence_step();
            let mut jitter = Jitter(0x9e37_79b9_7f4a_7c15);
            for sent in 0..count {
                let event = synthetic_event(&step);
                if track {
                    entered.insert(event.event_id, Instant::now());
                }
                if feed.send(event).await.is_err() {
                    return Ok(sent);
                }
                if mean_gap > 0 {
                    tokio::time::sleep(Duration::from_micros(jitter.next(2 * mean_gap))).await;
                }
            }
            Ok(count)
        })
    }

    /// Records the time since `eventId` entered the channel (call it first
    /// thing in the handler).
    #[napi]
    pub fn mark_started(&self, event_id: String) -> napi::Result<(), ErrorCode> {
        guard(|| {
            let id = parse_event_id(&event_id)?;
            if let Some((_, entered)) = self.entered.remove(&id) {
                lock(&self.latencies_us).push(entered.elapsed().as_nanos() as f64 / 1000.0);
            }
            Ok(())
        })
    }

    /// The recorded latencies in microseconds; clears them.
    #[napi]
    pub fn take_latencies_us(&self) -> Vec<f64> {
        std::mem::take(&mut *lock(&self.latencies_us))
    }

    /// As `pollStepEvents`.
    #[napi]
    pub fn poll(&self, max: Option<u32>) -> napi::Result<Vec<StepEvent>, ErrorCode> {
        guard(|| Ok(self.dispatch.poll(max.unwrap_or(1).clamp(1, 1000) as usize)))
    }

    /// As `subscribeStepEvents`.
    #[napi(ts_args_type = "callback: (event: StepEvent) => unknown, options?: SubscribeOptions")]
    pub fn subscribe(&self, callback: Unknown<'_>, options: Unknown<'_>) -> napi::Result<StepEventSubscription, ErrorCode> {
        guard(|| {
            let (callback, max_in_flight) = subscription_args(callback, options)?;
            let state = push::start(&self.handle, self.dispatch.clone(), callback, max_in_flight);
            if let Some(previous) = lock(&self.push).replace(state.clone()) {
                previous.close();
            }
            Ok(StepEventSubscription { state })
        })
    }

    /// As `completeStepEvent`.
    #[napi(ts_args_type = "eventId: string, result: StepCompletion")]
    pub fn complete(&self, event_id: Unknown<'_>, result: Unknown<'_>) -> napi::Result<(), ErrorCode> {
        guard(|| {
            let (id, result) = self.prepare(event_id, result)?;
            self.dispatch.complete(id, result)
        })
    }

    /// As `tryCompleteStepEvent`.
    #[napi(ts_args_type = "eventId: string, result: StepCompletion")]
    pub fn try_complete(&self, event_id: Unknown<'_>, result: Unknown<'_>) -> napi::Result<bool, ErrorCode> {
        guard(|| {
            let (id, result) = self.prepare(event_id, result)?;
            self.dispatch.try_complete(id, result)
        })
    }

    /// As `completeStepEventAsync`.
    #[napi(ts_args_type = "eventId: string, result: StepCompletion", ts_return_type = "Promise<void>")]
    pub fn complete_async<'env>(&self, env: &'env Env, event_id: Unknown<'_>, result: Unknown<'_>) -> napi::Result<Object<'env>> {
        match self.prepare(event_id, result) {
            Ok((id, result)) => {
                let dispatch = self.dispatch.clone();
                promise::spawn_on(env, &self.handle, async move { dispatch.complete_async(id, result).await })
            }
            Err(e) => promise::rejected(env, e),
        }
    }

    #[napi]
    pub fn metrics(&self) -> DispatchMetrics {
        self.dispatch.metrics()
    }

    /// Results that reached the completion channel.
    #[napi(getter)]
    pub fn results_received(&self) -> f64 {
        self.results.load(Ordering::SeqCst) as f64
    }

    /// Stops delivery and the harness's runtime.
    #[napi]
    pub fn close(&self) {
        if let Some(push) = lock(&self.push).take() {
            push.close();
        }
        if let Some(runtime) = lock(&self.runtime).take() {
            runtime.shutdown_background();
        }
    }
}

impl Harness {
    fn prepare(
        &self,
        event_id: Unknown<'_>,
        result: Unknown<'_>,
    ) -> BridgeResult<(Uuid, tasker_shared::messaging::StepExecutionResult)> {
        let (event_id, result) = completion_args(event_id, result)?;
        self.dispatch.prepare(&event_id, result)
    }
}

/// A small xorshift generator: uniform gaps in 0..bound without a dependency.
struct Jitter(u64);

impl Jitter {
    fn next(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        if bound == 0 { 0 } else { self.0 % bound }
    }
}
