//! `@tasker-systems/worker` native addon: TypeScript step handlers as a
//! tasker-core worker, on the real tasker-worker foundation.

// napi-derive registers exports only outside test builds, so in the unit test
// binary every export (and what only exports use) is unused. Normal builds
// keep the lint, and scripts/build.sh fails on any warning.
#![cfg_attr(test, allow(dead_code))]

mod admission;
mod allocator;
mod api;
mod callbacks;
mod cancellation;
mod cancelled;
// Benchmark-only exports (`bench` namespace), compiled in only by `npm run
// bench` (cargo feature `bench`): the shipped addon carries none of it.
#[cfg(feature = "bench")]
#[path = "../bench/addon/mod.rs"]
mod bench;
mod claims;
mod client;
mod config;
mod conversions;
mod db_health;
mod domain_events;
mod dispatch;
mod error;
mod js;
#[cfg(any(test, feature = "bench"))]
mod fixtures;
mod logging;
mod promise;
mod push;
mod recovery;
mod starvation;
mod step_source;
mod sync;
mod templates;
mod worker;

use napi_derive::napi;

/// Version of the addon (the npm package version).
#[napi]
pub fn get_version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

/// Health of the addon and of the worker, if one runs.
#[napi(object)]
pub struct HealthReport {
    /// True when the addon works and, if a worker runs, its core is running.
    pub healthy: bool,
    pub worker_running: bool,
    /// Whether the worker's database sessions work (false while it is unreachable, or with no worker).
    pub database_reachable: bool,
    /// The messaging backend of the running worker (`pgmq`, `rabbitmq`), or none.
    pub messaging: Option<String>,
    /// On RabbitMQ, whether the step reader reaches the broker (false while it
    /// is unreachable, or with no worker); on PGMQ, as `databaseReachable`.
    pub broker_reachable: bool,
    pub worker_core_status: String,
    pub version: String,
    pub message: String,
}

/// Checks the addon and the worker.
#[napi]
pub fn health_check() -> napi::Result<HealthReport, error::ErrorCode> {
    error::guard(|| {
        let version = env!("CARGO_PKG_VERSION").to_string();
        Ok(match worker::current() {
            Err(_) => HealthReport {
                healthy: true,
                worker_running: false,
                database_reachable: false,
                messaging: None,
                broker_reachable: false,
                worker_core_status: "not_running".into(),
                version,
                message: "addon loaded; no worker is running".into(),
            },
            Ok(w) => {
                let database = w.health.problem();
                let broker = w.broker_health.as_ref().map_or_else(|| database.clone(), |h| h.problem());
                let messaging = Some(w.messaging.to_string());
                let status = w.handle.clone().block_on(worker::status_of(w.clone()));
                let core_ok = status.worker_core_status == "running" || status.graceful_shutdown;
                let worker_id = status.worker_id.unwrap_or_default();
                let message = match (&database, w.broker_health.as_ref().and(broker.as_ref())) {
                    (None, None) => format!("worker {worker_id} is {}", status.worker_core_status),
                    (Some((down_for, error)), _) => format!(
                        "worker {worker_id} cannot reach its database for {} s ({error}); steps resume by themselves when it answers",
                        down_for.as_secs()
                    ),
                    (None, Some((down_for, error))) => format!(
                        "worker {worker_id} cannot reach its message broker for {} s ({error}); steps resume by themselves when it answers",
                        down_for.as_secs()
                    ),
                };
                HealthReport {
                    healthy: core_ok && database.is_none() && broker.is_none(),
                    worker_running: true,
                    database_reachable: database.is_none(),
                    broker_reachable: broker.is_none(),
                    messaging,
                    message,
                    worker_core_status: status.worker_core_status,
                    version,
                }
            }
        })
    })
}
