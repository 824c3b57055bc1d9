//! Domain events in JS (the exports that need the running worker are in
//! api/domain_events.rs).
//!
//! - `subscribeDomainEvents(callback, { patterns })` pushes the worker's
//!   in-process ("fast") domain events into JS: one broadcast receiver of
//!   tasker-worker's in-process bus per subscription (so the bus counts no
//!   FFI drops while one is attached), a task that filters by name pattern
//!   and calls JS through a ThreadsafeFunction. At most `bufferSize` events
//!   wait for JS; beyond that (or when the bus outpaces the receiver) events
//!   are dropped, counted and logged once per burst. A subscriber that throws
//!   (or whose returned Promise rejects) has that event counted as failed,
//!   logged once per burst; nothing else changes.
//! - `registerDomainEventPublisher(name, fn)` (publisher.rs) lets a template's
//!   `publisher: <name>` shape each event's payload in JS.

pub mod publisher;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use serde::Serialize;
use serde_json::Value;
use tasker_shared::events::domain_events::DomainEvent;
use tasker_shared::messaging::StepExecutionResult;
use tasker_shared::types::base::TaskSequenceStep;
use tasker_worker::worker::{InProcessEventBus, PostHandlerCallback};
use tokio::sync::{broadcast, watch, RwLock};

use crate::js::arg;
use crate::callbacks::{self, Burst, Followed, Returned, Settled, SinkId};
use crate::js::handle::HandleBuilder;
use crate::error::{BridgeError, BridgeResult};

/// A domain event as JS receives it.
#[napi(object, object_to_js = false)]
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DomainEventInfo {
    pub event_id: String,
    /// In dot notation, e.g. `payment.captured`.
    pub name: String,
    pub version: String,
    /// The business payload (the step's result, or what its publisher made of it).
    pub payload: Value,
    /// Whether the step that fired it succeeded.
    pub step_succeeded: bool,
    pub metadata: DomainEventMetadata,
}

#[napi(object)]
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DomainEventMetadata {
    pub task_uuid: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step_uuid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step_name: Option<String>,
    pub namespace: String,
    pub correlation_id: String,
    /// ISO 8601 (UTC).
    pub fired_at: String,
    /// The publisher that fired it.
    pub fired_by: String,
}

impl ToNapiValue for DomainEventInfo {
    unsafe fn to_napi_value(env: napi::sys::napi_env, value: Self) -> napi::Result<napi::sys::napi_value> {
        crate::conversions::json::to_js(env, &value)
    }
}

impl From<&DomainEvent> for DomainEventInfo {
    fn from(e: &DomainEvent) -> Self {
        let m = &e.metadata;
        Self {
            event_id: e.event_id.to_string(),
            name: e.event_name.clone(),
            version: e.event_version.clone(),
            payload: e.payload.payload.clone(),
            step_succeeded: e.payload.execution_result.success,
            metadata: DomainEventMetadata {
                task_uuid: m.task_uuid.to_string(),
                step_uuid: m.step_uuid.map(|u| u.to_string()),
                step_name: m.step_name.clone(),
                namespace: m.namespace.clone(),
                correlation_id: m.correlation_id.to_string(),
                fired_at: m.fired_at.to_rfc3339(),
                fired_by: m.fired_by.clone(),
            },
        }
    }
}

/// Options of `subscribeDomainEvents`.
#[napi(object)]
#[derive(Debug, Clone, Default)]
pub struct DomainEventOptions {
    /// Names or patterns (`payment.*`: `*` stands for one dot-separated
    /// part; a lone `*` for every event). Default: every event.
    pub patterns: Option<Vec<String>>,
    /// Most events waiting for JS before new ones are dropped (default 1000, 1..=100000).
    pub buffer_size: Option<u32>,
}

/// Whether `name` matches `pattern` (see `DomainEventOptions::patterns`).
pub fn matches(pattern: &str, name: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    let (p, n): (Vec<&str>, Vec<&str>) = (pattern.split('.').collect(), name.split('.').collect());
    p.len() == n.len() && p.iter().zip(&n).all(|(p, n)| *p == "*" || p == n)
}

/// The object `subscribeDomainEvents` answers.
#[napi(object, object_to_js = false, object_from_js = false)]
#[allow(dead_code)] // describes, in index.d.ts, the handle `subscribe_domain_events` builds
pub struct DomainEventSubscription {
    /// Stops delivery.
    #[napi(ts_type = "() => void")]
    pub close: (),
    #[napi(readonly)]
    pub closed: bool,
    /// Events delivered to the callback.
    #[napi(readonly)]
    pub delivered: f64,
    /// Events dropped because JS did not keep up.
    #[napi(readonly)]
    pub dropped: f64,
    /// Events whose callback threw or whose returned Promise rejected.
    #[napi(readonly)]
    pub failed: f64,
}

type Callback = ThreadsafeFunction<DomainEventInfo, Returned, DomainEventInfo, Status, false>;

struct Subscription {
    closed: AtomicBool,
    stop: watch::Sender<bool>,
    delivered: AtomicU64,
    dropped: AtomicU64,
    queued: AtomicU64,
    failed: AtomicU64,
}

/// Domain event subscribers that failed (all subscriptions): logged once per burst.
static SUBSCRIBER_FAILURES: Burst = Burst::new(std::time::Duration::from_secs(10));

fn subscriber_failed(state: &Subscription, event: &str, how: &str) {
    state.failed.fetch_add(1, Ordering::SeqCst);
    if let Some(count) = SUBSCRIBER_FAILURES.note() {
        tracing::warn!(target: "tasker_worker_js", event, failures_in_burst = count, "a domain event subscriber {how}; the event is counted as failed, other subscribers and steps are not affected");
    }
}

/// A subscription's callback (as a ThreadsafeFunction), its patterns and buffer size, checked.
pub struct SubscriptionArgs {
    callback: Callback,
    patterns: Vec<String>,
    buffer: u64,
}

impl SubscriptionArgs {
    pub fn parse(callback: Unknown<'_>, options: Unknown<'_>) -> BridgeResult<Self> {
        let callback: Function<'_, DomainEventInfo, Returned> = arg(callback, "callback")?;
        let options: DomainEventOptions = arg::<Option<DomainEventOptions>>(options, "options")?.unwrap_or_default();
        let patterns = options.patterns.unwrap_or_else(|| vec!["*".into()]);
        if patterns.is_empty() || patterns.iter().any(|p| p.trim().is_empty()) {
            return Err(BridgeError::invalid("options.patterns", "give at least one name or pattern, none empty"));
        }
        let buffer = options.buffer_size.unwrap_or(1000);
        if !(1..=100_000).contains(&buffer) {
            return Err(BridgeError::invalid("options.bufferSize", format!("{buffer} is outside 1..=100000")));
        }
        let callback: Callback = callback
            .build_threadsafe_function::<DomainEventInfo>()
            .callee_handled::<false>()
            .build()
            .map_err(|e| BridgeError::invalid("callback", format!("cannot be called from the worker: {e}")))?;
        Ok(Self { callback, patterns, buffer: u64::from(buffer) })
    }
}

/// Delivers the events `receiver` gets (a subscription of the worker's
/// in-process bus) to the callback on `runtime`; answers its JS handle.
pub fn subscribe<'env>(env: &'env Env, runtime: &tokio::runtime::Handle, receiver: broadcast::Receiver<DomainEvent>, args: SubscriptionArgs) -> BridgeResult<Object<'env>> {
    let (stop, stopped) = watch::channel(false);
    let state = Arc::new(Subscription {
        closed: AtomicBool::new(false),
        stop,
        delivered: AtomicU64::new(0),
        dropped: AtomicU64::new(0),
        queued: AtomicU64::new(0),
        failed: AtomicU64::new(0),
    });
    runtime.spawn(deliver(receiver, args.callback, args.patterns, args.buffer, state.clone(), stopped));
    handle(env, state)
}

fn handle<'env>(env: &'env Env, state: Arc<Subscription>) -> BridgeResult<Object<'env>> {
    let (a, b, c, d, e) = (state.clone(), state.clone(), state.clone(), state.clone(), state);
    HandleBuilder::new(env)?
        .method("close", move |_| {
            a.closed.store(true, Ordering::SeqCst);
            let _ = a.stop.send(true);
            Ok(())
        })?
        .getter("closed", move || b.closed.load(Ordering::SeqCst))?
        .getter("delivered", move || c.delivered.load(Ordering::SeqCst) as f64)?
        .getter("dropped", move || d.dropped.load(Ordering::SeqCst) as f64)?
        .getter("failed", move || e.failed.load(Ordering::SeqCst) as f64)?
        .build()
}

async fn deliver(
    mut receiver: broadcast::Receiver<DomainEvent>,
    callback: Callback,
    patterns: Vec<String>,
    buffer: u64,
    state: Arc<Subscription>,
    mut stopped: watch::Receiver<bool>,
) {
    let mut dropping = false;
    // A rejected Promise of the subscriber: the event it was given failed.
    let sink = Arc::new({
        let state = Arc::downgrade(&state);
        SinkId::register(move |event, settled| {
            if let (Settled::Rejected(why), Some(state)) = (settled, state.upgrade()) {
                subscriber_failed(&state, event, &format!("returned a Promise that rejected ({why})"));
            }
        })
    });
    loop {
        let event = tokio::select! {
            event = receiver.recv() => event,
            _ = stopped.changed() => break,
        };
        let event = match event {
            Ok(event) => event,
            Err(broadcast::error::RecvError::Lagged(missed)) => {
                note_dropped(&state, missed, &mut dropping, "the worker published faster than this subscriber's receiver kept");
                continue;
            }
            Err(broadcast::error::RecvError::Closed) => break,
        };
        if !patterns.iter().any(|p| matches(p, &event.event_name)) {
            continue;
        }
        if state.queued.load(Ordering::SeqCst) >= buffer {
            note_dropped(&state, 1, &mut dropping, "bufferSize events were already waiting for JS");
            continue;
        }
        dropping = false;
        state.queued.fetch_add(1, Ordering::SeqCst);
        let name = event.event_name.clone();
        let (done, sink) = (state.clone(), sink.clone());
        let status = callback.call_with_return_value(DomainEventInfo::from(&event), ThreadsafeFunctionCallMode::NonBlocking, move |returned: Result<Returned>, env| {
            done.queued.fetch_sub(1, Ordering::SeqCst);
            done.delivered.fetch_add(1, Ordering::SeqCst);
            match returned {
                Err(thrown) => subscriber_failed(&done, &name, &format!("threw ({})", thrown.reason)),
                Ok(value) => {
                    if let Followed::Broken(why) = callbacks::follow(&env, &value, &sink, &name, false) {
                        subscriber_failed(&done, &name, &format!("returned a thenable that failed ({why})"));
                    }
                }
            }
            Ok(())
        });
        if status != Status::Ok {
            state.queued.fetch_sub(1, Ordering::SeqCst);
            break;
        }
    }
    state.closed.store(true, Ordering::SeqCst);
}

/// Counts dropped events; logs once when a burst of drops starts.
fn note_dropped(state: &Subscription, count: u64, dropping: &mut bool, why: &str) {
    state.dropped.fetch_add(count, Ordering::SeqCst);
    if !*dropping {
        *dropping = true;
        tracing::warn!(target: "tasker_worker_js", dropped_so_far = state.dropped.load(Ordering::SeqCst), "domain events dropped for a subscriber: {why}");
    }
}

/// The worker's in-process event bus, taken at bootstrap.
pub type EventBus = Arc<RwLock<InProcessEventBus>>;

/// tasker-worker's post-handler callback (it publishes the step's domain
/// events), except for the refused result a step cancelled while its
/// handler ran leaves behind (src/cancelled.rs): its task no longer runs, so
/// no event fires for it.
pub struct SkipCancelled(pub Arc<dyn PostHandlerCallback>);

#[async_trait::async_trait]
impl PostHandlerCallback for SkipCancelled {
    async fn on_handler_complete(&self, step: &TaskSequenceStep, result: &StepExecutionResult, worker_id: &str) {
        if !crate::cancelled::contains(&result.step_uuid) {
            self.0.on_handler_complete(step, result, worker_id).await;
        }
    }

    fn name(&self) -> &str {
        self.0.name()
    }
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn patterns_match_whole_parts() {
        assert!(matches("*", "payment.captured"));
        assert!(matches("payment.*", "payment.captured"));
        assert!(matches("payment.captured", "payment.captured"));
        assert!(!matches("payment.*", "payment.card.captured"));
        assert!(!matches("payment.*", "order.shipped"));
        assert!(matches("*.shipped", "order.shipped"));
    }
}
