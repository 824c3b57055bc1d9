//! Worker configuration: the typed options JS passes to `bootstrapWorker`
//! (this file), validated and completed from the environment (`resolve`),
//! and turned into the complete tasker configuration the tasker crates read
//! at bootstrap (`tasker_toml`).
//!
//! Without `configPath` the tasker configuration is produced from
//! tasker-shared's own config types and their defaults, so nobody needs a
//! hand-written TOML file; with it, the file is loaded through tasker-shared's
//! loader and the options given here are applied on top.

mod resolve;
mod tasker_toml;
mod validate;

use napi_derive::napi;

use crate::js::Whole;

pub use resolve::{resolve, Messaging, RecoverySettings, ResolvedConfig};
pub use tasker_config_defaults::{redacted, with_broker_timeouts};
pub use tasker_toml::{with_application_name, write_config_file};


/// Options for `bootstrapWorker`. Every field is optional; missing ones fall
/// back to the environment variable named in its description, then to
/// tasker's defaults.
#[napi(object)]
#[derive(Debug, Clone, Default)]
pub struct WorkerConfig {
    /// The namespace this worker must serve. Its task templates must be in `templatePath`.
    pub namespace: Option<String>,
    /// Several namespaces this worker must serve (combined with `namespace`).
    pub namespaces: Option<Vec<String>>,
    /// PostgreSQL URL, `postgresql://user:password@host:port/database` (default: `DATABASE_URL`).
    pub database_url: Option<String>,
    /// A complete tasker configuration TOML file to start from (default: generated).
    pub config_path: Option<String>,
    /// Folder of task template YAML files registered on start (default: `TASKER_TEMPLATE_PATH`).
    pub template_path: Option<String>,
    /// `test`, `development` or `production` (default: `TASKER_ENV`, else `development`).
    pub environment: Option<String>,
    /// `off`, `error`, `warn`, `info`, `debug` or `trace`, or a filter with per-target
    /// levels such as `warn,sqlx::query=warn` (default: `RUST_LOG`, else `warn`).
    pub log_level: Option<String>,
    /// Identifier reported to the orchestration (default: `TASKER_WORKER_ID`, else generated).
    pub worker_id: Option<String>,
    /// `host:port` to serve the worker's web API on, or `off` (default: off).
    pub web_bind_address: Option<String>,
    /// Maximum database connections of the worker's pool (default: tasker's).
    #[napi(ts_type = "number")]
    pub database_max_connections: Option<Whole>,
    /// How long a database operation waits for a connection before it fails,
    /// 1..=300 s (default: tasker's, 30). During an outage longer than this,
    /// results in transit are lost; crash recovery retries their steps.
    #[napi(ts_type = "number")]
    pub database_acquire_timeout_seconds: Option<Whole>,
    /// Dispatch channel tuning.
    pub dispatch: Option<DispatchTuning>,
    /// Most steps this worker holds claimed at once (running in a handler or
    /// waiting for one, 1..=10000). The rest stay in the queue for other
    /// workers. Default: the push subscription's `maxInFlight`, else 10.
    #[napi(ts_type = "number")]
    pub max_claimed_steps: Option<Whole>,
    /// Crash recovery of claimed steps (on by default).
    pub recovery: Option<RecoveryOptions>,
    /// tasker's messaging backend, as the orchestration's: `pgmq` (queues in
    /// PostgreSQL) or `rabbitmq` (default: `TASKER_MESSAGING_BACKEND`, else `pgmq`).
    pub messaging_backend: Option<String>,
    /// The broker, `amqp://user:password@host:port/vhost` (with `rabbitmq`;
    /// default: `RABBITMQ_URL`).
    pub rabbitmq_url: Option<String>,
}

/// How steps claimed by a worker process that died are brought back.
#[napi(object)]
#[derive(Debug, Clone, Default)]
pub struct RecoveryOptions {
    /// Off only for databases where the worker may not create its
    /// `tasker_worker_js` schema and trigger (default true).
    pub enabled: Option<bool>,
    /// A worker whose database session is gone and whose heartbeat is older
    /// than this is dead: its claimed steps are failed as retryable (default
    /// 15000 ms, 3000..=600000).
    #[napi(ts_type = "number")]
    pub stale_after_ms: Option<Whole>,
    /// How often each worker looks for dead workers' steps (default 5000 ms, 500..=300000).
    #[napi(ts_type = "number")]
    pub sweep_interval_ms: Option<Whole>,
}

/// Tuning of the dispatch channel between the Rust worker and JS handlers.
#[napi(object)]
#[derive(Debug, Clone, Default)]
pub struct DispatchTuning {
    /// A step whose completion does not arrive within this time is failed as
    /// retryable `ffi_timeout` (default 30000 ms).
    #[napi(ts_type = "number")]
    pub completion_timeout_ms: Option<Whole>,
    /// Events waiting for completion longer than this count as starving (default 10000 ms).
    #[napi(ts_type = "number")]
    pub starvation_threshold_ms: Option<Whole>,
    /// How long a completion may wait for room in the completion channel (default 10000 ms).
    #[napi(ts_type = "number")]
    pub completion_send_timeout_ms: Option<Whole>,
    /// Capacity of the dispatch channel (claimed steps waiting for JS; default 1000).
    #[napi(ts_type = "number")]
    pub dispatch_buffer_size: Option<Whole>,
    /// Capacity of the completion channel (results waiting to be sent; default 1000).
    #[napi(ts_type = "number")]
    pub completion_buffer_size: Option<Whole>,
}

/// Dispatch channel settings after defaults.

#[cfg(test)]
pub(crate) mod test_support {
    use std::collections::HashMap;

    use super::WorkerConfig;

    /// An environment lookup over fixed pairs.
    pub fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| map.get(k).cloned()
    }

    /// The smallest valid options.
    pub fn base() -> WorkerConfig {
        WorkerConfig {
            database_url: Some("postgresql://tasker:pw@127.0.0.1:5432/tasker_test".into()),
            template_path: Some(env!("CARGO_MANIFEST_DIR").to_string() + "/src"),
            ..Default::default()
        }
    }
}
