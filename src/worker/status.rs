//! What `getWorkerStatus`, `stopWorker` and `bootstrapWorker` answer.

use std::sync::Arc;
use std::time::Duration;

use napi_derive::napi;
use tasker_worker::WorkerCoreStatus;

use super::RunningWorker;

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
