//! Complete tasker configurations built from tasker-shared's own config types
//! and defaults, and their TOML form (what `TASKER_CONFIG_PATH` points at).
//! Shared by the addon (worker configs), tasker-devenv (orchestration) and
//! tasker-bench (the native worker).

mod broker;

pub use broker::{redacted, use_rabbitmq, with_broker_timeouts, BROKER_CONNECT_TIMEOUT_MS, BROKER_HEARTBEAT_SECONDS};

use tasker_shared::config::tasker::{CommonConfig, TaskerConfig, WorkerConfig};

/// The configuration every context shares, all fields at tasker's defaults.
pub fn default_common() -> CommonConfig {
    CommonConfig {
        system: Default::default(),
        database: Default::default(),
        queues: Default::default(),
        circuit_breakers: Default::default(),
        mpsc_channels: Default::default(),
        execution: Default::default(),
        backoff: Default::default(),
        task_templates: Default::default(),
        cache: None,
        pgmq_database: None,
    }
}

/// A complete worker configuration at tasker's defaults, except what every
/// worker of this project sets: no gRPC or web API unless asked, and a 30 s
/// visibility timeout (tasker's 5 min would delay a step a stopping worker
/// read but did not claim).
pub fn default_worker_config() -> TaskerConfig {
    let mut worker = WorkerConfig::default();
    worker.event_systems.worker.timing.visibility_timeout_seconds = 30;
    worker.grpc = None;
    worker.web = None;
    TaskerConfig { common: default_common(), orchestration: None, worker: Some(worker) }
}

/// TOML of a configuration. TOML has no null or unit: such fields (all
/// `#[serde(default)]` in tasker-shared) are left out.
pub fn to_toml(config: &TaskerConfig) -> Result<String, String> {
    fn strip(v: serde_json::Value) -> serde_json::Value {
        match v {
            serde_json::Value::Object(map) => map.into_iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k, strip(v))).collect(),
            serde_json::Value::Array(items) => items.into_iter().map(strip).collect(),
            other => other,
        }
    }
    let value = strip(serde_json::to_value(config).map_err(|e| e.to_string())?);
    toml::to_string(&value).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_round_trip_through_taskers_loader() {
        let config = TaskerConfig { common: default_common(), orchestration: Some(Default::default()), worker: Some(Default::default()) };
        let path = std::env::temp_dir().join(format!("config-defaults-{}.toml", std::process::id()));
        std::fs::write(&path, to_toml(&config).unwrap()).unwrap();
        let loaded = tasker_shared::config::ConfigLoader::load_from_path(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert!(loaded.is_complete());
        assert_eq!(loaded.common, config.common);
    }
}
