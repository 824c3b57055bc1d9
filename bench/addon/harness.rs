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
use tokio::sync::{mpsc, watch};
use uuid::Uuid;

use crate::fixtures as fixture;
use super::synthetic::{synthetic_event, SyntheticSource};
use crate::js::arg;
use crate::api::events::{completion_args, subscription_args, subscription_handle};
use crate::js::handle::{Args, HandleBuilder, Raw};
use crate::dispatch::{channel_length, parse_event_id, Dispatch};
use crate::error::{guard, BridgeError, BridgeResult, ErrorCode};
use crate::promise;
use crate::push::{self, PushState};
use crate::sync::lock;

/// Options of `bench.createHarness`.
#[napi(object, namespace = "bench")]
#[derive(Debug, Clone, Default)]
pub struct HarnessOptions {
    /// Completion timeout of delivered events (default 30000 ms).
    pub completion_timeout_ms: Option<u32>,
    /// Capacity of the dispatch channel (default 1000, as a worker's).
    pub capacity: Option<u32>,
}

/// The harness's state; JS sees it through a handle (see `harness_handle`).
pub struct Harness {
    runtime: Mutex<Option<Runtime>>,
    handle: tokio::runtime::Handle,
    dispatch: Arc<Dispatch>,
    feed: mpsc::Sender<FfiStepEvent>,
    entered: Arc<DashMap<Uuid, Instant>>,
    latencies_us: Mutex<Vec<f64>>,
    results: Arc<AtomicU64>,
    push: Mutex<Option<Arc<PushState>>>,
    stop_monitor: watch::Sender<bool>,
}

/// The completion channel as deep as a worker's (tasker's `completion_buffer_size`), whatever the dispatch capacity.
const COMPLETION_CAPACITY: usize = 1000;

/// Starvation threshold of the harness's channel (as a worker's default).
const STARVATION_THRESHOLD: Duration = Duration::from_secs(10);

/// A harness with its own runtime (two threads, as a worker has). Its
/// methods: inject, markStarted, takeLatenciesUs, poll, subscribe, subscribeBatches, complete,
/// tryComplete, completeAsync, metrics, close; getter resultsReceived.
#[napi(namespace = "bench", ts_args_type = "options?: HarnessOptions", ts_return_type = "object")]
pub fn create_harness<'env>(env: &'env Env, options: Unknown<'_>) -> napi::Result<Object<'env>, ErrorCode> {
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
        let (feed, receiver) = mpsc::channel(capacity);
        let (completions, mut drained) = mpsc::channel(COMPLETION_CAPACITY);
        let results = Arc::new(AtomicU64::new(0));
        let counted = results.clone();
        handle.spawn(async move {
            while drained.recv().await.is_some() {
                counted.fetch_add(1, Ordering::SeqCst);
            }
        });
        let source = SyntheticSource::new(receiver, completions.clone(), timeout);
        let dispatch = Arc::new(Dispatch::new(
            Box::new(source),
            channel_length(feed.clone()),
            completions,
            timeout,
            STARVATION_THRESHOLD,
            None,
        ));
        let (stop_monitor, stopped) = watch::channel(false);
        handle.spawn(crate::starvation::monitor(dispatch.clone(), stopped));
        let harness = Arc::new(Harness {
            runtime: Mutex::new(Some(runtime)),
            handle,
            dispatch,
            feed,
            entered: Arc::new(DashMap::new()),
            latencies_us: Mutex::new(Vec::new()),
            results,
            push: Mutex::new(None),
            stop_monitor,
        });
        harness_handle(env, harness)
    })
}

/// The JS object of a harness: closures over its state, so every call
/// answers with a value or a coded error whatever `this` is.
fn harness_handle<'env>(env: &'env Env, h: Arc<Harness>) -> BridgeResult<Object<'env>> {
    let [a, b, c, d, e, f, g, i, j, k, l, m] = std::array::from_fn(|_| h.clone());
    HandleBuilder::new(env)?
        .method("inject", move |args| {
            let count: u32 = arg(args.get(0)?, "count")?;
            let mean_gap: Option<u32> = arg(args.get(1)?, "meanGapUs")?;
            let track: Option<bool> = arg(args.get(2)?, "trackLatency")?;
            Ok(Raw(a.inject(args.env(), count, mean_gap.unwrap_or(0) as u64, track.unwrap_or(false))?.raw()))
        })?
        .method("markStarted", move |args| b.mark_started(&arg::<String>(args.get(0)?, "eventId")?))?
        .method("takeLatenciesUs", move |_| Ok(std::mem::take(&mut *lock(&c.latencies_us))))?
        .method("poll", move |args| {
            let max: Option<u32> = arg(args.get(0)?, "max")?;
            d.open()?;
            Ok(d.dispatch.poll(max.unwrap_or(1).clamp(1, 1000) as usize))
        })?
        .method("subscribe", move |args| e.subscribe(args, false))?
        .method("subscribeBatches", move |args| m.subscribe(args, true))?
        .method("complete", move |args| {
            let (id, result) = f.prepare(args)?;
            f.dispatch.complete(id, result)
        })?
        .method("tryComplete", move |args| {
            let (id, result) = g.prepare(args)?;
            g.dispatch.try_complete(id, result)
        })?
        .method("completeAsync", move |args| {
            let (id, result) = i.prepare(args)?;
            i.open()?;
            let dispatch = i.dispatch.clone();
            Ok(Raw(promise::spawn_on(args.env(), &i.handle, async move { dispatch.complete_async(id, result).await })?.raw()))
        })?
        .method("metrics", move |_| Ok(j.dispatch.metrics()))?
        .method("close", move |_| {
            k.close();
            Ok(())
        })?
        .getter("resultsReceived", move || l.results.load(Ordering::SeqCst) as f64)?
        .build()
}

impl Harness {
    /// Push delivery from the harness's channel, as `subscribeStepEvents` /
    /// `subscribeStepEventBatches` (`batches`) do from a worker's.
    fn subscribe(&self, args: &Args<'_>, batches: bool) -> BridgeResult<Raw> {
        let (callback, max_in_flight) = subscription_args(args.get(0)?, args.get(1)?, batches)?;
        self.open()?;
        let state = push::start(&self.handle, self.dispatch.clone(), callback, max_in_flight);
        self.dispatch.admission.follow(max_in_flight as usize);
        if let Some(previous) = lock(&self.push).replace(state.clone()) {
            previous.close();
        }
        Ok(Raw(subscription_handle(args.env(), state)?.raw()))
    }

    /// Fails with CHANNEL_CLOSED once `close()` was called.
    fn open(&self) -> BridgeResult<()> {
        if lock(&self.runtime).is_some() {
            Ok(())
        } else {
            Err(BridgeError::new(ErrorCode::ChannelClosed, "this harness is closed"))
        }
    }

    /// Puts `count` synthetic steps into the channel, one every `mean_gap`
    /// microseconds on average (jittered; 0 sends as fast as the channel takes
    /// them). With `track`, remembers when each entered, for `markStarted`.
    /// Resolves with the number sent.
    fn inject<'env>(&self, env: &'env Env, count: u32, mean_gap: u64, track: bool) -> BridgeResult<Object<'env>> {
        self.open()?;
        let (feed, entered) = (self.feed.clone(), self.entered.clone());
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

    /// Records the time since `event_id` entered the channel (call it first
    /// thing in the handler).
    fn mark_started(&self, event_id: &str) -> BridgeResult<()> {
        let id = parse_event_id(event_id)?;
        if let Some((_, entered)) = self.entered.remove(&id) {
            lock(&self.latencies_us).push(entered.elapsed().as_nanos() as f64 / 1000.0);
        }
        Ok(())
    }

    fn prepare(&self, args: &Args<'_>) -> BridgeResult<(Uuid, tasker_shared::messaging::StepExecutionResult)> {
        let (event_id, result) = completion_args(args.get(0)?, args.get(1)?)?;
        self.dispatch.prepare(&event_id, result)
    }

    /// Stops delivery and the harness's runtime.
    fn close(&self) {
        if let Some(push) = lock(&self.push).take() {
            push.close();
        }
        let _ = self.stop_monitor.send(true);
        if let Some(runtime) = lock(&self.runtime).take() {
            runtime.shutdown_background();
        }
    }
}

/// A small xorshift generator: uniform gaps in 0..bound without a dependency.
pub(super) struct Jitter(pub(super) u64);

impl Jitter {
    pub(super) fn next(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        if bound == 0 { 0 } else { self.0 % bound }
    }
}
