//! The tasker configuration itself: generated from tasker-shared's defaults
//! or loaded from `configPath`, with the options applied on top, and written
//! where tasker reads it (`TASKER_CONFIG_PATH`).

use std::path::{Path, PathBuf};

use tasker_config_defaults::{default_worker_config, to_toml, use_rabbitmq};
use tasker_shared::config::tasker::{DeploymentMode, TaskerConfig, WorkerConfig as TaskerWorkerConfig, WorkerWebConfig};
use tasker_shared::config::ConfigLoader;

use super::validate::{check_range, validate_bind_address};
use super::{Messaging, WorkerConfig};
use crate::error::{BridgeError, BridgeResult, ErrorCode};
use crate::js::Whole;

/// A complete worker configuration from tasker-shared's defaults.
pub(super) fn generated_config() -> TaskerConfig {
    default_worker_config()
}

pub(super) fn load_config_file(path: &str) -> BridgeResult<TaskerConfig> {
    if !Path::new(path).is_file() {
        return Err(BridgeError::invalid(
            "configPath",
            format!("'{path}' is not a readable file; omit configPath to use a generated configuration"),
        ));
    }
    let loaded = std::panic::catch_unwind(|| ConfigLoader::load_from_path(&PathBuf::from(path)));
    match loaded {
        Ok(Ok(config)) if config.worker.is_some() => Ok(config),
        Ok(Ok(_)) => Err(BridgeError::invalid(
            "configPath",
            format!("'{path}' has no [worker] section; add one or omit configPath"),
        )),
        Ok(Err(e)) => Err(BridgeError::invalid("configPath", format!("'{path}' is not a valid tasker configuration: {e}"))),
        Err(_) => Err(BridgeError::invalid(
            "configPath",
            format!("'{path}' refers to an environment variable whose value tasker rejects; check DATABASE_URL, TASKER_ENV and the other ${{...}} references"),
        )),
    }
}


/// Prefix of the (always empty) queues tasker-worker's own readers watch.
pub const IDLE_QUEUE_PREFIX: &str = "twjs";

pub(super) fn apply_overrides(
    tasker: &mut TaskerConfig,
    config: &WorkerConfig,
    database_url: &str,
    environment: &str,
    worker_id: &str,
) -> BridgeResult<()> {
    tasker.common.database.url = database_url.to_string();
    tasker.common.execution.environment = environment.to_string();
    // tasker-worker reads and claims from `<prefix>_<namespace>_queue`. This
    // worker reads the orchestration's queues itself, only as fast as its
    // handlers take steps (src/claiming.rs), and has tasker-worker claim what
    // it read; tasker-worker's own readers get empty queues of their own.
    tasker.common.queues.worker_namespace = IDLE_QUEUE_PREFIX.to_string();
    if let Some(max) = config.database_max_connections.map(Whole::get) {
        if !(1..=1000).contains(&max) {
            return Err(BridgeError::invalid("databaseMaxConnections", "must be between 1 and 1000"));
        }
        tasker.common.database.pool.max_connections = max;
        tasker.common.database.pool.min_connections =
            tasker.common.database.pool.min_connections.min(max);
    }
    if let Some(seconds) = config.database_acquire_timeout_seconds.map(Whole::get) {
        check_range("databaseAcquireTimeoutSeconds", seconds, 1, 300)?;
        tasker.common.database.pool.acquire_timeout_seconds = seconds;
    }
    let worker = tasker.worker.get_or_insert_with(TaskerWorkerConfig::default);
    worker.worker_id = worker_id.to_string();
    // Nothing is ever sent to the `twjs_` queues tasker-worker's own readers
    // watch: its fallback poller (a read of each every 500 ms by default)
    // would only keep an idle worker busy. Its listener stays (a LISTEN).
    worker.event_systems.worker.deployment_mode = DeploymentMode::EventDrivenOnly;
    // The gRPC API is not part of this package's surface; never bind it implicitly.
    worker.grpc = None;
    match config.web_bind_address.as_deref() {
        None if config.config_path.is_none() => worker.web = None,
        None => {}
        Some("off") => worker.web = None,
        Some(address) => {
            validate_bind_address(address)?;
            let mut web = worker.web.clone().unwrap_or_else(WorkerWebConfig::default);
            web.enabled = true;
            web.bind_address = address.to_string();
            worker.web = Some(web);
        }
    }
    if let Some(tuning) = &config.dispatch {
        let handler_dispatch = &mut worker.mpsc_channels.handler_dispatch;
        if let Some(size) = tuning.dispatch_buffer_size.map(Whole::get) {
            check_range("dispatch.dispatchBufferSize", size, 10, 1_000_000)?;
            handler_dispatch.dispatch_buffer_size = size;
        }
        if let Some(size) = tuning.completion_buffer_size.map(Whole::get) {
            check_range("dispatch.completionBufferSize", size, 10, 1_000_000)?;
            handler_dispatch.completion_buffer_size = size;
        }
    }
    Ok(())
}


/// Points tasker at the messaging backend (RabbitMQ: with the broker's
/// timeouts, see `tasker_config_defaults::use_rabbitmq`).
pub fn apply_messaging(tasker: &mut TaskerConfig, messaging: &Messaging) {
    match messaging {
        Messaging::Pgmq => tasker.common.queues.backend = messaging.name().to_string(),
        Messaging::RabbitMq { url } => use_rabbitmq(tasker, url),
    }
}

/// The URL with `application_name` set, so the worker's sessions can be told apart.
/// Replaces any `application_name` the URL had: crash recovery attributes
/// claims to a worker process by the name of the session that made them.
pub fn with_application_name(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut params: Vec<&str> = query.split('&').filter(|p| !p.is_empty() && !p.starts_with("application_name=")).collect();
    let own = format!("application_name={name}");
    params.push(&own);
    format!("{base}?{}", params.join("&"))
}


/// Writes the configuration where tasker will read it (TASKER_CONFIG_PATH).
pub fn write_config_file(config: &TaskerConfig, dir: &Path) -> BridgeResult<PathBuf> {
    let text = to_toml(config)
        .map_err(|e| BridgeError::internal(format!("could not serialize the tasker configuration: {e}")))?;
    std::fs::create_dir_all(dir).map_err(|e| {
        BridgeError::new(
            ErrorCode::BootstrapFailed,
            format!("could not create {}: {e}; make the temporary folder writable", dir.display()),
        )
    })?;
    let path = dir.join(format!("tasker-worker-{}-{}.toml", std::process::id(), uuid::Uuid::new_v4().simple()));
    std::fs::write(&path, text).map_err(|e| {
        BridgeError::new(
            ErrorCode::BootstrapFailed,
            format!("could not write {}: {e}; make the temporary folder writable", path.display()),
        )
    })?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::resolve;
    use crate::config::test_support::{base, env_of};

    #[test]
    fn generated_config_round_trips_through_taskers_own_loader() {
        let resolved = resolve(&base(), &env_of(&[])).unwrap();
        let dir = std::env::temp_dir().join(format!("tw-config-test-{}", uuid::Uuid::new_v4()));
        let path = write_config_file(&resolved.tasker, &dir).unwrap();
        let loaded = ConfigLoader::load_from_path(&path).expect("tasker loads the generated config");
        assert_eq!(loaded, resolved.tasker);
        assert_eq!(
            loaded.common.database_url(),
            format!("postgresql://tasker:pw@127.0.0.1:5432/tasker_test?application_name=twjs-{}", resolved.incarnation.simple())
        );
        assert!(loaded.worker.as_ref().unwrap().web.is_none());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn messaging_sets_the_backend() {
        let mut tasker = generated_config();
        apply_messaging(&mut tasker, &Messaging::RabbitMq { url: "amqp://g:g@h:1/%2F".into() });
        assert_eq!(tasker.common.queues.backend, "rabbitmq");
        assert!(tasker.common.queues.rabbitmq.as_ref().unwrap().url.starts_with("amqp://g:g@h:1/%2F?"));
        apply_messaging(&mut tasker, &Messaging::Pgmq);
        assert_eq!(tasker.common.queues.backend, "pgmq");
    }

    #[test]
    fn application_name_is_added_once() {
        assert_eq!(with_application_name("postgresql://u:p@h/d", "tw-1"), "postgresql://u:p@h/d?application_name=tw-1");
        assert_eq!(with_application_name("postgresql://u:p@h/d?sslmode=disable", "tw-1"), "postgresql://u:p@h/d?sslmode=disable&application_name=tw-1");
        assert_eq!(
            with_application_name("postgresql://u:p@h/d?application_name=mine&sslmode=disable", "tw-1"),
            "postgresql://u:p@h/d?sslmode=disable&application_name=tw-1"
        );
    }

    #[test]
    fn config_file_is_loaded_and_overridden() {
        let dir = std::env::temp_dir().join(format!("tw-config-file-{}", uuid::Uuid::new_v4()));
        let mut original = generated_config();
        original.common.database.pool.max_connections = 7;
        let path = write_config_file(&original, &dir).unwrap();
        let config = WorkerConfig { config_path: Some(path.display().to_string()), ..base() };
        let r = resolve(&config, &env_of(&[])).unwrap();
        assert_eq!(r.tasker.common.database.pool.max_connections, 7);
        let worker = r.tasker.worker.as_ref().unwrap();
        assert_eq!(worker.event_systems.worker.deployment_mode, DeploymentMode::EventDrivenOnly, "no fallback poller on the idle queues");
        assert!(r.tasker.common.database.url.starts_with("postgresql://tasker:pw@127.0.0.1:5432/tasker_test?application_name=twjs-"));

        std::fs::write(&path, "not = [valid").unwrap();
        let err = resolve(&config, &env_of(&[])).unwrap_err();
        assert!(err.message.starts_with("configPath"), "{}", err.message);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
