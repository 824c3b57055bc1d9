//! Starting, inspecting and stopping the worker.

use napi::bindgen_prelude::{Object, Unknown};
use napi::Env;
use napi_derive::napi;

use crate::js::arg;
use crate::config::WorkerConfig;
use crate::error::{guard, BridgeError, ErrorCode};
use crate::promise;
use crate::worker::{self, BootstrapResult, StopResult, WorkerStatus};

/// Starts a tasker worker in this process. Blocks the JS thread while it boots
/// (seconds); prefer `bootstrapWorkerAsync` in servers.
#[napi(ts_args_type = "config?: WorkerConfig | undefined | null")]
pub fn bootstrap_worker(config: Unknown<'_>) -> napi::Result<BootstrapResult, ErrorCode> {
    guard(|| {
        let config: Option<WorkerConfig> = arg(config, "config")?;
        worker::bootstrap(config.unwrap_or_default())
    })
}

/// Starts a tasker worker without blocking the JS thread.
#[napi(ts_args_type = "config?: WorkerConfig | undefined | null", ts_return_type = "Promise<BootstrapResult>")]
pub fn bootstrap_worker_async<'env>(env: &'env Env, config: Unknown<'_>) -> napi::Result<Object<'env>> {
    promise::guarded(env, || {
        let config: Option<WorkerConfig> = arg(config, "config")?;
        promise::spawn_thread(env, "tasker-worker-boot", move || worker::bootstrap(config.unwrap_or_default()))
    })
}

/// Whether a worker is running in this process.
#[napi]
pub fn is_worker_running() -> bool {
    worker::is_running()
}

/// Status of the worker (`running: false` when none is running).
#[napi]
pub fn get_worker_status() -> napi::Result<WorkerStatus, ErrorCode> {
    guard(|| match worker::current() {
        Err(_) => Ok(worker::not_running_status()),
        Ok(w) => Ok(w.handle.clone().block_on(worker::status_of(w))),
    })
}

/// Stops claiming new steps; in-flight steps can still be completed. Returns
/// at once; the transition finishes in the background (see the async form).
#[napi]
pub fn transition_to_graceful_shutdown() -> napi::Result<StopResult, ErrorCode> {
    guard(|| {
        let w = worker::current()?;
        let worker_id = w.worker_id.clone();
        let handle = w.handle.clone();
        handle.spawn(async move {
            if let Err(e) = worker::transition_to_graceful(w).await {
                tracing::warn!(target: "tasker_worker_js", error = %e, "graceful transition failed");
            }
        });
        Ok(StopResult { status: "transitioning".into(), worker_id: Some(worker_id), handed_back: 0 })
    })
}

/// Stops claiming new steps and resolves once the worker core has stopped claiming.
#[napi(ts_return_type = "Promise<StopResult>")]
pub fn transition_to_graceful_shutdown_async(env: &Env) -> napi::Result<Object<'_>> {
    promise::guarded(env, || {
        let w = worker::current()?;
        promise::spawn_on(env, &w.handle.clone(), worker::transition_to_graceful(w))
    })
}

/// Stops the worker. Returns at once (`stopping`); the shutdown, which hands
/// uncompleted steps back for retry, finishes in the background.
#[napi]
pub fn stop_worker() -> napi::Result<StopResult, ErrorCode> {
    guard(|| {
        Ok(match worker::stop() {
            Some((worker_id, _)) => StopResult { status: "stopping".into(), worker_id: Some(worker_id), handed_back: 0 },
            None => StopResult { status: "not_running".into(), worker_id: None, handed_back: 0 },
        })
    })
}

/// Stops the worker and resolves once it has fully stopped.
#[napi(ts_return_type = "Promise<StopResult>")]
pub fn stop_worker_async(env: &Env) -> napi::Result<Object<'_>> {
    promise::guarded(env, || promise::spawn_thread(env, "tasker-worker-stop-wait", || {
        let Some((worker_id, mut done)) = worker::stop() else {
            return Ok(StopResult { status: "not_running".into(), worker_id: None, handed_back: 0 });
        };
        let handed_back = futures::executor::block_on(done.wait_for(|v| v.is_some()))
            .map(|v| v.unwrap_or(0))
            .map_err(|_| BridgeError::internal("the shutdown thread ended without an answer"))?;
        Ok(StopResult { status: "stopped".into(), worker_id: Some(worker_id), handed_back })
    }))
}
