//! The worker handle: one tasker worker per process, its own tokio runtime,
//! the dispatch channel and an optional push subscription.
//!
//! Lifecycle: `bootstrap` validates the options, checks the database, starts
//! tasker-worker and wires the dispatch channel. `transition_to_graceful`
//! stops claiming new steps while completions of in-flight ones still flow.
//! `stop` detaches the worker at once (so a new one may start) and finishes
//! the shutdown on a background thread: steps that were claimed but never
//! completed are failed as retryable so the orchestration hands them out again.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use napi_derive::napi;
use sqlx::Connection;
use tasker_worker::worker::services::CheckpointService;
use tasker_worker::worker::{
    DomainEventCallback, FfiDispatchChannel, FfiDispatchChannelConfig, StepEventPublisherRegistry,
};
use tasker_worker::{WorkerBootstrap, WorkerCoreStatus, WorkerSystemHandle};
use tokio::runtime::Runtime;
use tokio::sync::watch;

use crate::config::{self, ResolvedConfig, WorkerConfig};
use crate::dispatch::{spawn_counting_forwarder, Dispatch};
use crate::error::{BridgeError, BridgeResult, ErrorCode};
use crate::logging;
use crate::push::PushState;

/// Answer of `bootstrapWorker`.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct BootstrapResult {
    /// `started`, or `already_running` when a worker was running (nothing new started).
    pub status: String,
    /// Identifies this bootstrap; changes with every new worker in the process.
    pub handle_id: String,
    pub worker_id: String,
    pub message: String,
}

/// Answer of `getWorkerStatus`.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct WorkerStatus {
    pub running: bool,
    pub worker_id: Option<String>,
    pub environment: Option<String>,
    /// created, starting, running, stopping, stopped, error: <reason>, or not_running.
    pub worker_core_status: String,
    /// True after `transitionToGracefulShutdown`: no new steps are claimed.
    pub graceful_shutdown: bool,
    /// Namespaces whose queues this worker reads (from the registered templates).
    pub namespaces: Vec<String>,
    pub database_pool_size: u32,
    pub database_pool_idle: u32,
}

/// Answer of `stopWorker` and `transitionToGracefulShutdown`.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct StopResult {
    /// `stopped`, `stopping`, `transitioned` or `not_running`.
    pub status: String,
    pub worker_id: Option<String>,
    /// Claimed steps that were failed as retryable because no handler completed them.
    pub handed_back: u32,
}

pub struct RunningWorker {
    pub handle_id: String,
    pub worker_id: String,
    pub environment: String,
    pub handle: tokio::runtime::Handle,
    runtime: Mutex<Option<Runtime>>,
    system: tokio::sync::Mutex<WorkerSystemHandle>,
    dispatch: Mutex<Option<Arc<Dispatch>>>,
    push: Mutex<Option<Arc<PushState>>>,
    graceful: AtomicBool,
    database_url: String,
    application_name: String,
    /// The core's full stop, running in the background once claiming stopped.
    core_stop: tokio::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
}

static CURRENT: Mutex<Option<Arc<RunningWorker>>> = Mutex::new(None);
static BOOTING: AtomicBool = AtomicBool::new(false);
/// The shutdown in progress (its result once done); a new bootstrap waits for it.
static SHUTDOWN: Mutex<Option<watch::Receiver<Option<u32>>>> = Mutex::new(None);

/// Locks `m`, recovering from a panic in another holder (the data stays usable).
pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

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
    export_environment(&resolved, &config_file);

    let started = runtime.block_on(async {
        check_database(&resolved.database_url).await?;
        start_system(&resolved).await
    });
    // tasker reads its configuration once, at bootstrap: nothing to leave behind.
    let _ = std::fs::remove_file(&config_file);
    let (system, dispatch) = match started {
        Ok(parts) => parts,
        Err(e) => {
            runtime.shutdown_timeout(Duration::from_secs(2));
            return Err(e);
        }
    };

    let handle_id = uuid::Uuid::new_v4().to_string();
    let worker = Arc::new(RunningWorker {
        handle_id: handle_id.clone(),
        worker_id: resolved.worker_id.clone(),
        environment: resolved.environment.clone(),
        handle: runtime.handle().clone(),
        runtime: Mutex::new(Some(runtime)),
        system: tokio::sync::Mutex::new(system),
        dispatch: Mutex::new(Some(dispatch)),
        push: Mutex::new(None),
        graceful: AtomicBool::new(false),
        database_url: resolved.database_url.clone(),
        application_name: resolved.application_name.clone(),
        core_stop: tokio::sync::Mutex::new(None),
    });

    if let Err(e) = check_namespaces(&worker, &resolved.namespaces) {
        let _ = shutdown(worker);
        return Err(e);
    }
    *lock(&CURRENT) = Some(worker);
    Ok(BootstrapResult {
        status: "started".into(),
        handle_id,
        worker_id: resolved.worker_id,
        message: "worker started: claiming steps of the registered templates' namespaces".into(),
    })
}

fn export_environment(resolved: &ResolvedConfig, config_file: &std::path::Path) {
    // tasker-worker reads these at bootstrap; they describe this worker only.
    std::env::set_var("TASKER_CONFIG_PATH", config_file);
    std::env::set_var("TASKER_ENV", &resolved.environment);
    std::env::set_var("DATABASE_URL", &resolved.database_url);
    std::env::set_var("TASKER_TEMPLATE_PATH", &resolved.template_path);
    std::env::set_var("TASKER_WORKER_ID", &resolved.worker_id);
}

async fn check_database(url: &str) -> BridgeResult<()> {
    let unavailable = |detail: String| {
        BridgeError::new(
            ErrorCode::DatabaseUnavailable,
            format!("cannot use the database at {}: {detail}", redact(url)),
        )
    };
    let connect = sqlx::PgConnection::connect(url);
    let mut conn = match tokio::time::timeout(Duration::from_secs(10), connect).await {
        Err(_) => return Err(unavailable("no answer within 10 s; is PostgreSQL running and reachable?".into())),
        Ok(Err(e)) => return Err(unavailable(format!("{e}; check the host, port, user and password"))),
        Ok(Ok(conn)) => conn,
    };
    let ready: (bool, bool) = sqlx::query_as(
        "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pgmq'), \
                to_regclass('tasker.tasks') IS NOT NULL",
    )
    .fetch_one(&mut conn)
    .await
    .map_err(|e| unavailable(e.to_string()))?;
    let _ = conn.close().await;
    match ready {
        (false, _) => Err(unavailable("the pgmq extension is not installed; run tasker's migrations (CREATE EXTENSION pgmq comes first)".into())),
        (_, false) => Err(unavailable("tasker's schema is missing; run tasker's migrations on this database".into())),
        _ => Ok(()),
    }
}

/// Hides the password of a database URL in messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            let user = credentials.split(':').next().unwrap_or_default();
            format!("{}{}:***{}", &url[..scheme + 3], user, &url[at..])
        }
        _ => url.to_string(),
    }
}

async fn start_system(resolved: &ResolvedConfig) -> BridgeResult<(WorkerSystemHandle, Arc<Dispatch>)> {
    // Not Send, so it runs here rather than in a spawned task; a panic in it
    // is caught by the export's guard.
    let mut system = WorkerBootstrap::bootstrap().await.map_err(|e| {
        BridgeError::new(
            ErrorCode::BootstrapFailed,
            format!("tasker-worker did not start: {e}; check the templates in templatePath and the database"),
        )
    })?;
    let fail = |detail: &str| BridgeError::new(ErrorCode::BootstrapFailed, detail.to_string());
    let handles = system.take_dispatch_handles().ok_or_else(|| fail("tasker-worker gave no dispatch handles"))?;
    let (callback, pool) = {
        let core = system.worker_core.lock().await;
        let router = core.event_router().ok_or_else(|| fail("tasker-worker has no event router"))?;
        let registry = StepEventPublisherRegistry::with_event_router(core.domain_event_publisher(), router);
        let callback = Arc::new(DomainEventCallback::new(Arc::new(tokio::sync::RwLock::new(registry))));
        (callback, core.context.database_pool().clone())
    };
    let settings = &resolved.dispatch;
    let channel_config = FfiDispatchChannelConfig::new(tokio::runtime::Handle::current())
        .with_service_id(resolved.worker_id.clone())
        .with_completion_timeout(settings.completion_timeout)
        .with_starvation_threshold_ms(settings.starvation_threshold_ms)
        .with_completion_send_timeout(settings.completion_send_timeout);
    let capacity = resolved
        .tasker
        .worker
        .as_ref()
        .map(|w| w.mpsc_channels.handler_dispatch.dispatch_buffer_size as usize)
        .unwrap_or(1000);
    let (receiver, waiting) =
        spawn_counting_forwarder(&tokio::runtime::Handle::current(), handles.dispatch_receiver, capacity);
    let probe = handles.completion_sender.clone();
    let channel = FfiDispatchChannel::new(receiver, handles.completion_sender, channel_config, callback)
        .with_checkpoint_support(CheckpointService::new(pool), handles.dispatch_sender);
    Ok((system, Arc::new(Dispatch::new(Box::new(channel), waiting, probe, settings.completion_timeout))))
}

fn check_namespaces(worker: &RunningWorker, wanted: &[String]) -> BridgeResult<()> {
    if wanted.is_empty() {
        return Ok(());
    }
    let served = worker.handle.block_on(async { worker.system.lock().await.supported_namespaces().await });
    let missing: Vec<&String> = wanted.iter().filter(|ns| !served.contains(ns)).collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(BridgeError::invalid(
            "namespace",
            format!(
                "{missing:?} has no task template in templatePath (templates define {served:?}); add a template with that namespace_name or fix the name"
            ),
        ))
    }
}

/// Fetches the status; waits at most a moment for the core's lock.
pub async fn status_of(worker: Arc<RunningWorker>) -> WorkerStatus {
    let report = async {
        let system = worker.system.lock().await;
        system.status().await.ok()
    };
    let status = tokio::time::timeout(Duration::from_millis(250), report).await.ok().flatten();
    let core_status = match &status {
        Some(s) => core_status_name(&s.worker_core_status),
        None => "stopping".to_string(),
    };
    WorkerStatus {
        running: true,
        worker_id: Some(worker.worker_id.clone()),
        environment: Some(worker.environment.clone()),
        worker_core_status: core_status,
        graceful_shutdown: worker.is_graceful(),
        namespaces: status.as_ref().map(|s| s.supported_namespaces.clone()).unwrap_or_default(),
        database_pool_size: status.as_ref().map(|s| s.database_pool_size).unwrap_or(0),
        database_pool_idle: status.as_ref().map(|s| s.database_pool_idle as u32).unwrap_or(0),
    }
}

pub fn not_running_status() -> WorkerStatus {
    WorkerStatus {
        running: false,
        worker_id: None,
        environment: None,
        worker_core_status: "not_running".into(),
        graceful_shutdown: false,
        namespaces: vec![],
        database_pool_size: 0,
        database_pool_idle: 0,
    }
}

fn core_status_name(status: &WorkerCoreStatus) -> String {
    match status {
        WorkerCoreStatus::Created => "created".into(),
        WorkerCoreStatus::Starting => "starting".into(),
        WorkerCoreStatus::Running => "running".into(),
        WorkerCoreStatus::Stopping => "stopping".into(),
        WorkerCoreStatus::Stopped => "stopped".into(),
        WorkerCoreStatus::Error(reason) => format!("error: {reason}"),
    }
}

/// Stops claiming new steps; completions of in-flight steps are still accepted.
pub async fn transition_to_graceful(worker: Arc<RunningWorker>) -> BridgeResult<StopResult> {
    stop_claiming(&worker).await?;
    Ok(StopResult { status: "transitioned".into(), worker_id: Some(worker.worker_id.clone()), handed_back: 0 })
}

/// Starts the core's stop and returns once it no longer claims steps (its
/// command processor is gone). The rest of the stop, which waits for the
/// completion processor to drain, goes on in the background.
async fn stop_claiming(worker: &RunningWorker) -> BridgeResult<()> {
    let mut core_stop = worker.core_stop.lock().await;
    if worker.graceful.swap(true, Ordering::SeqCst) {
        return Ok(());
    }
    let core = worker.system.lock().await.worker_core.clone();
    let commands = core.lock().await.command_sender().clone();
    let stopping = tokio::spawn(async move {
        if let Err(e) = core.lock().await.stop().await {
            tracing::warn!(target: "tasker_worker_js", error = %e, "worker core stop reported an error");
        }
    });
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !commands.is_closed() && !stopping.is_finished() {
        if tokio::time::Instant::now() > deadline {
            return Err(BridgeError::internal("the worker core did not stop claiming steps within 20 s"));
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    *core_stop = Some(stopping);
    logging::quiet_queue_poller();
    cancel_long_polls(worker).await;
    Ok(())
}

/// Cancels the worker's queue long-polls still running in PostgreSQL. A
/// stopped poller's `read_with_poll` goes on server-side for seconds and
/// would take (and hide, for the visibility timeout) messages that arrive
/// meanwhile, delaying them for every other worker.
async fn cancel_long_polls(worker: &RunningWorker) {
    let cancel = async {
        let mut conn = sqlx::PgConnection::connect(&worker.database_url).await?;
        let cancelled: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM (SELECT pg_cancel_backend(pid) FROM pg_stat_activity \
             WHERE application_name = $1 AND state = 'active' AND query ILIKE '%read_with_poll%') c",
        )
        .bind(&worker.application_name)
        .fetch_one(&mut conn)
        .await?;
        let _ = conn.close().await;
        Ok::<i64, sqlx::Error>(cancelled)
    };
    match tokio::time::timeout(Duration::from_secs(5), cancel).await {
        Ok(Ok(n)) => tracing::debug!(target: "tasker_worker_js", cancelled = n, "cancelled queue long-polls"),
        Ok(Err(e)) => tracing::warn!(target: "tasker_worker_js", error = %e, "could not cancel queue long-polls"),
        Err(_) => tracing::warn!(target: "tasker_worker_js", "cancelling queue long-polls timed out"),
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
    let dispatch = lock(&worker.dispatch).take();
    let handed_back = worker.handle.block_on(async {
        if let Err(e) = stop_claiming(&worker).await {
            tracing::warn!(target: "tasker_worker_js", error = %e, "could not stop claiming cleanly");
        }
        let mut handed_back = 0;
        if let Some(dispatch) = dispatch {
            // Let the push tasks exit and drop their references.
            for _ in 0..50 {
                if Arc::strong_count(&dispatch) == 1 {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            handed_back = dispatch.hand_back_all();
            dispatch.wait_for_completions_sent(Duration::from_secs(10)).await;
            // Closing the completion channel lets the completion processor
            // finish the queued results and end, which ends the core's stop.
            drop(dispatch);
        }
        if let Some(stopping) = worker.core_stop.lock().await.take() {
            let _ = tokio::time::timeout(Duration::from_secs(30), stopping).await;
        }
        let mut system = worker.system.lock().await;
        if let Err(e) = system.stop().await {
            tracing::warn!(target: "tasker_worker_js", error = %e, "worker system stop reported an error");
        }
        handed_back
    });
    if let Some(runtime) = lock(&worker.runtime).take() {
        runtime.shutdown_timeout(Duration::from_secs(2));
    }
    handed_back
}

#[cfg(test)]
mod tests {
    #[test]
    fn redact_hides_the_password() {
        assert_eq!(super::redact("postgresql://u:secret@h:5/d"), "postgresql://u:***@h:5/d");
        assert_eq!(super::redact("postgresql://h/d"), "postgresql://h/d");
    }
}
