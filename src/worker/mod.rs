//! The worker handle: one tasker worker per process, its own tokio runtime,
//! the dispatch channel, the step reader, crash recovery and an optional push
//! subscription.
//!
//! Lifecycle: `bootstrap` validates the options and the templates, checks
//! the database, takes the crash-recovery lease, starts tasker-worker and
//! the step reader. `transition_to_graceful` stops reading (so nothing new
//! is claimed) while completions of in-flight steps still flow. `stop`
//! detaches the worker at once (so a new one may start) and finishes the
//! shutdown on a background thread: steps that were claimed but never
//! completed are failed as retryable so the orchestration hands them out again.

mod start;
mod status;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tasker_worker::WorkerSystemHandle;
use tokio::runtime::Runtime;
use tokio::sync::watch;

use crate::cancellation::CancelWatch;
use crate::claims::Reader;
use crate::config::{self, Messaging, WorkerConfig};
use crate::db_health::DbHealth;
use crate::dispatch::Dispatch;
use crate::error::{BridgeError, BridgeResult, ErrorCode};
use crate::logging;
use crate::push::PushState;
use crate::starvation;
use crate::recovery::announce::{AnnounceConfig, Announcer};
use crate::recovery::Recovery;
use crate::sync::lock;
use crate::templates;

pub use status::{not_running_status, status_of, BootstrapResult, StopResult, WorkerStatus};

pub struct RunningWorker {
    pub handle_id: String,
    pub worker_id: String,
    pub environment: String,
    pub handle: tokio::runtime::Handle,
    runtime: Mutex<Option<Runtime>>,
    system: tokio::sync::Mutex<WorkerSystemHandle>,
    event_bus: crate::domain_events::EventBus,
    dispatch: Mutex<Option<Arc<Dispatch>>>,
    push: Mutex<Option<Arc<PushState>>>,
    reader: tokio::sync::Mutex<Option<Reader>>,
    recovery: tokio::sync::Mutex<Option<Recovery>>,
    cancel_watch: tokio::sync::Mutex<Option<CancelWatch>>,
    /// On RabbitMQ: step messages a broker outage kept from the orchestration.
    announcer: tokio::sync::Mutex<Option<Announcer>>,
    /// Ends the dispatch channel's monitor task.
    monitor: watch::Sender<bool>,
    pub health: Arc<DbHealth>,
    /// The broker's reachability, on RabbitMQ.
    pub broker_health: Option<Arc<DbHealth>>,
    /// `pgmq` or `rabbitmq`.
    pub messaging: &'static str,
    graceful: AtomicBool,
    /// Where to confirm, at shutdown, that every claim of this process has
    /// its result stored (crash recovery's claim records); None when off.
    claims_check: Option<(String, uuid::Uuid, Option<String>)>,
}

static CURRENT: Mutex<Option<Arc<RunningWorker>>> = Mutex::new(None);
static BOOTING: AtomicBool = AtomicBool::new(false);
/// The shutdown in progress (its result once done); a new bootstrap waits for it.
static SHUTDOWN: Mutex<Option<watch::Receiver<Option<u32>>>> = Mutex::new(None);

pub fn current() -> BridgeResult<Arc<RunningWorker>> {
    lock(&CURRENT).clone().ok_or_else(BridgeError::not_bootstrapped)
}

pub fn is_running() -> bool {
    lock(&CURRENT).is_some()
}

impl RunningWorker {
    pub fn dispatch(&self) -> BridgeResult<Arc<Dispatch>> {
        lock(&self.dispatch).clone().ok_or_else(BridgeError::not_bootstrapped)
    }

    pub fn push(&self) -> Option<Arc<PushState>> {
        lock(&self.push).clone().filter(|p| !p.is_closed())
    }

    pub fn set_push(&self, state: Arc<PushState>) -> BridgeResult<()> {
        let mut slot = lock(&self.push);
        if slot.as_ref().is_some_and(|p| !p.is_closed()) {
            return Err(BridgeError::new(
                ErrorCode::SubscriptionActive,
                "a push subscription is already delivering this worker's events; close() it first",
            ));
        }
        *slot = Some(state);
        Ok(())
    }

    pub fn is_graceful(&self) -> bool {
        self.graceful.load(Ordering::SeqCst)
    }

    /// tasker-worker's in-process domain event bus.
    pub fn event_bus(&self) -> crate::domain_events::EventBus {
        self.event_bus.clone()
    }

    /// tasker-worker's domain event statistics (router and in-process bus).
    pub async fn domain_event_stats(&self) -> serde_json::Value {
        let core = self.system.lock().await.worker_core.clone();
        let stats = core.lock().await.get_domain_event_stats().await;
        serde_json::to_value(stats).unwrap_or(serde_json::Value::Null)
    }
}

/// Starts a worker, blocking the calling thread until it runs (a few seconds).
pub fn bootstrap(options: WorkerConfig) -> BridgeResult<BootstrapResult> {
    if let Some(running) = lock(&CURRENT).clone() {
        return Ok(already_running(&running.handle_id, &running.worker_id));
    }
    if BOOTING.swap(true, Ordering::SeqCst) {
        return Ok(BootstrapResult {
            status: "already_running".into(),
            handle_id: String::new(),
            worker_id: String::new(),
            message: "another bootstrapWorker call is starting a worker in this process; wait for it".into(),
        });
    }
    let outcome = bootstrap_inner(options);
    BOOTING.store(false, Ordering::SeqCst);
    outcome
}

fn already_running(handle_id: &str, worker_id: &str) -> BootstrapResult {
    BootstrapResult {
        status: "already_running".into(),
        handle_id: handle_id.to_string(),
        worker_id: worker_id.to_string(),
        message: "a worker is already running in this process; nothing new was started (stopWorker() first to restart)".into(),
    }
}

fn bootstrap_inner(options: WorkerConfig) -> BridgeResult<BootstrapResult> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let resolved = config::resolve(&options, &env)?;
    // Templates and namespaces first: a mistake there fails in milliseconds.
    let found = templates::load(&resolved.template_path)?;
    templates::check_namespaces(&found, &resolved.namespaces)?;
    logging::init(&resolved.log_level);
    if let Some(mut previous) = lock(&SHUTDOWN).take() {
        let _ = futures::executor::block_on(previous.wait_for(|done| done.is_some()));
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("tasker-worker")
        .enable_all()
        .build()
        .map_err(|e| BridgeError::new(ErrorCode::BootstrapFailed, format!("could not start the worker's runtime: {e}")))?;

    let config_dir = std::env::temp_dir().join("tasker-worker-js");
    let config_file = config::write_config_file(&resolved.tasker, &config_dir)?;
    start::export_environment(&resolved, &config_file);

    let started = runtime.block_on(async {
        let lease = start::prepare_database(&resolved).await?;
        start::prepare_broker(&resolved).await?;
        let started = start::start_system(&resolved, &templates::namespaces(&found), &templates::publishers(&found)).await?;
        start::prepare_step_queues(&resolved, &started.namespaces).await?;
        Ok::<_, BridgeError>((lease, started))
    });
    // tasker reads its configuration once, at bootstrap: nothing to leave behind.
    let _ = std::fs::remove_file(&config_file);
    let _ = std::fs::remove_dir(&config_dir);
    let (lease, started) = match started {
        Ok(parts) => parts,
        Err(e) => {
            runtime.shutdown_timeout(Duration::from_secs(2));
            return Err(e);
        }
    };

    let handle = runtime.handle().clone();
    let health = Arc::new(DbHealth::default());
    let (monitor, monitor_stopped) = watch::channel(false);
    handle.spawn(starvation::monitor(started.dispatch.clone(), monitor_stopped));
    // The reader reports its own backend's outages (the database's are the lease's too).
    let source_health = match resolved.messaging {
        Messaging::Pgmq => health.clone(),
        Messaging::RabbitMq { .. } => Arc::new(DbHealth::of("the message broker")),
    };
    let source = {
        // Its database pool is made lazily, which needs the runtime's context.
        let _context = handle.enter();
        start::claim_source(&handle, &resolved, &started.namespaces)
    };
    let reader = Reader::start(&handle, source, started.commands, started.dispatch.clone(), source_health.clone());
    let announcer = match &resolved.messaging {
        Messaging::Pgmq => None,
        Messaging::RabbitMq { url } => Some(Announcer::start(
            &handle,
            AnnounceConfig {
                url: config::with_broker_timeouts(url),
                results_queue: resolved.tasker.common.queues.orchestration_queues.step_results.clone(),
                step_queues: started.namespaces.iter().map(|ns| (ns.clone(), format!("{}_{ns}_queue", resolved.step_queue_prefix))).collect(),
                database_url: start::session_url(&resolved, "announce"),
                incarnation: resolved.incarnation,
                claims_recorded: resolved.recovery.enabled,
            },
            started.context.clone(),
        )),
    };
    let recovery = lease.map(|lease| lease.start(&handle, started.context, started.dispatch.clone(), health.clone()));
    let cancel_watch = CancelWatch::start(&handle, start::session_url(&resolved, "cancel"), started.dispatch.clone());

    let handle_id = uuid::Uuid::new_v4().to_string();
    let worker = Arc::new(RunningWorker {
        handle_id: handle_id.clone(),
        worker_id: resolved.worker_id.clone(),
        environment: resolved.environment.clone(),
        handle,
        runtime: Mutex::new(Some(runtime)),
        system: tokio::sync::Mutex::new(started.system),
        event_bus: started.event_bus,
        dispatch: Mutex::new(Some(started.dispatch)),
        push: Mutex::new(None),
        reader: tokio::sync::Mutex::new(Some(reader)),
        recovery: tokio::sync::Mutex::new(recovery),
        cancel_watch: tokio::sync::Mutex::new(Some(cancel_watch)),
        announcer: tokio::sync::Mutex::new(announcer),
        monitor,
        health,
        broker_health: (source_health.subject() != "the database").then_some(source_health),
        messaging: resolved.messaging.name(),
        graceful: AtomicBool::new(false),
        claims_check: resolved.recovery.enabled.then(|| {
            // On PGMQ a stopping worker also sees its results' messages in the queue table.
            let results_queue = matches!(resolved.messaging, Messaging::Pgmq).then(|| resolved.tasker.common.queues.orchestration_queues.step_results.clone());
            (start::session_url(&resolved, "stop"), resolved.incarnation, results_queue)
        }),
    });
    *lock(&CURRENT) = Some(worker);
    Ok(BootstrapResult {
        status: "started".into(),
        handle_id,
        worker_id: resolved.worker_id,
        message: "worker started: claiming steps of the registered templates' namespaces".into(),
    })
}

/// Stops claiming new steps; completions of in-flight steps are still accepted.
pub async fn transition_to_graceful(worker: Arc<RunningWorker>) -> BridgeResult<StopResult> {
    stop_claiming(&worker).await;
    Ok(StopResult { status: "transitioned".into(), worker_id: Some(worker.worker_id.clone()), handed_back: 0 })
}

/// Stops the step reader and waits for the claims it asked for to be answered
/// (then nothing new reaches the dispatch channel).
async fn stop_claiming(worker: &RunningWorker) {
    let mut reader = worker.reader.lock().await;
    worker.graceful.store(true, Ordering::SeqCst);
    let Some(active) = reader.take() else { return };
    active.stop(Duration::from_secs(5)).await;
    if let Ok(dispatch) = worker.dispatch() {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while dispatch.admission.unanswered() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

/// Detaches the running worker and shuts it down on a background thread.
/// The receiver yields how many claimed steps were handed back, once done.
pub fn stop() -> Option<(String, watch::Receiver<Option<u32>>)> {
    let worker = lock(&CURRENT).take()?;
    let worker_id = worker.worker_id.clone();
    let (done, receiver) = watch::channel(None);
    *lock(&SHUTDOWN) = Some(receiver.clone());
    let spawned = std::thread::Builder::new()
        .name("tasker-worker-stop".into())
        .spawn(move || {
            let handed_back = shutdown(worker);
            let _ = done.send(Some(handed_back));
        });
    if spawned.is_err() {
        tracing::error!(target: "tasker_worker_js", "could not start the shutdown thread");
    }
    Some((worker_id, receiver))
}

/// Full shutdown; returns how many claimed steps were handed back for retry.
fn shutdown(worker: Arc<RunningWorker>) -> u32 {
    if let Some(push) = lock(&worker.push).take() {
        push.close();
    }
    let handed_back = worker.handle.block_on(async {
        stop_claiming(&worker).await;
        let _ = worker.monitor.send(true);
        if let Some(watch) = worker.cancel_watch.lock().await.take() {
            watch.stop(Duration::from_secs(2)).await;
        }
        let dispatch = lock(&worker.dispatch).take();
        let mut handed_back = 0;
        if let Some(dispatch) = dispatch {
            // Let the push and monitor tasks exit and drop their references.
            for _ in 0..100 {
                if Arc::strong_count(&dispatch) == 1 {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            handed_back = dispatch.hand_back_all();
            dispatch.wait_for_completions_sent(Duration::from_secs(10)).await;
            // Closing the completion channel lets tasker-worker's completion
            // processor finish the queued results and end, which ends its stop.
            drop(dispatch);
        }
        // tasker-worker stores results on a task its stop does not wait for:
        // wait until every claim of this process has its result stored.
        if let Some((url, incarnation, results_queue)) = &worker.claims_check {
            start::wait_for_claims_settled(url, *incarnation, results_queue.as_deref(), Duration::from_secs(15)).await;
        }
        logging::quiet_queue_poller();
        let mut system = worker.system.lock().await;
        if let Err(e) = system.stop().await {
            tracing::warn!(target: "tasker_worker_js", error = %e, "worker system stop reported an error");
        }
        drop(system);
        if let Some(announcer) = worker.announcer.lock().await.take() {
            announcer.stop(Duration::from_secs(2)).await;
        }
        // Last: the lease goes only once the results above are stored.
        if let Some(recovery) = worker.recovery.lock().await.take() {
            recovery.stop(Duration::from_secs(5)).await;
        }
        handed_back
    });
    if let Some(runtime) = lock(&worker.runtime).take() {
        runtime.shutdown_timeout(Duration::from_secs(2));
    }
    handed_back
}
