//! Worker configuration: the typed options JS passes to `bootstrapWorker`,
//! validated and turned into the complete tasker configuration plus the
//! environment variables the tasker crates read at bootstrap.
//!
//! Without `configPath` the tasker configuration is produced from
//! tasker-shared's own config types and their defaults, so nobody needs a
//! hand-written TOML file; with it, the file is loaded through tasker-shared's
//! loader and the options given here are applied on top.

use std::path::{Path, PathBuf};
use std::time::Duration;

use napi_derive::napi;
use tasker_config_defaults::{default_worker_config, to_toml};
use tasker_shared::config::tasker::{TaskerConfig, WorkerConfig as TaskerWorkerConfig, WorkerWebConfig};
use tasker_shared::config::ConfigLoader;

use crate::error::{BridgeError, BridgeResult, ErrorCode};

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
    /// `error`, `warn`, `info`, `debug` or `trace` (default: `RUST_LOG`, else `warn`).
    pub log_level: Option<String>,
    /// Identifier reported to the orchestration (default: `TASKER_WORKER_ID`, else generated).
    pub worker_id: Option<String>,
    /// `host:port` to serve the worker's web API on, or `off` (default: off).
    pub web_bind_address: Option<String>,
    /// Maximum database connections of the worker's pool (default: tasker's).
    pub database_max_connections: Option<u32>,
    /// Dispatch channel tuning.
    pub dispatch: Option<DispatchTuning>,
}

/// Tuning of the dispatch channel between the Rust worker and JS handlers.
#[napi(object)]
#[derive(Debug, Clone, Default)]
pub struct DispatchTuning {
    /// A step whose completion does not arrive within this time is failed as
    /// retryable `ffi_timeout` (default 30000 ms).
    pub completion_timeout_ms: Option<u32>,
    /// Events waiting for completion longer than this count as starving (default 10000 ms).
    pub starvation_threshold_ms: Option<u32>,
    /// How long a completion may wait for room in the completion channel (default 10000 ms).
    pub completion_send_timeout_ms: Option<u32>,
    /// Capacity of the dispatch channel (claimed steps waiting for JS; default 1000).
    pub dispatch_buffer_size: Option<u32>,
    /// Capacity of the completion channel (results waiting to be sent; default 1000).
    pub completion_buffer_size: Option<u32>,
}

/// Dispatch channel settings after defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct DispatchSettings {
    pub completion_timeout: Duration,
    pub starvation_threshold_ms: u64,
    pub completion_send_timeout: Duration,
}

/// Everything bootstrap needs, validated.
#[derive(Debug, Clone)]
pub struct ResolvedConfig {
    pub tasker: TaskerConfig,
    pub namespaces: Vec<String>,
    pub worker_id: String,
    pub environment: String,
    pub database_url: String,
    /// `application_name` of the worker's connections, to find its queries.
    pub application_name: String,
    pub template_path: String,
    pub log_level: String,
    pub dispatch: DispatchSettings,
}

const ENVIRONMENTS: [&str; 3] = ["test", "development", "production"];
const LOG_LEVELS: [&str; 5] = ["error", "warn", "info", "debug", "trace"];

/// Validates `config`, filling gaps from `env` (an environment lookup).
pub fn resolve(
    config: &WorkerConfig,
    env: &dyn Fn(&str) -> Option<String>,
) -> BridgeResult<ResolvedConfig> {
    let database_url = config
        .database_url
        .clone()
        .or_else(|| env("DATABASE_URL"))
        .ok_or_else(|| {
            BridgeError::invalid(
                "databaseUrl",
                "missing: pass databaseUrl or set DATABASE_URL (postgresql://user:password@host:port/database)",
            )
        })?;
    let database_url = normalize_database_url(&database_url)?;

    let template_path = config
        .template_path
        .clone()
        .or_else(|| env("TASKER_TEMPLATE_PATH"))
        .ok_or_else(|| {
            BridgeError::invalid(
                "templatePath",
                "missing: pass templatePath or set TASKER_TEMPLATE_PATH to the folder of your task template YAML files",
            )
        })?;
    validate_template_path(&template_path)?;

    let environment = config
        .environment
        .clone()
        .or_else(|| env("TASKER_ENV"))
        .unwrap_or_else(|| "development".to_string());
    if !ENVIRONMENTS.contains(&environment.as_str()) {
        return Err(BridgeError::invalid(
            "environment",
            format!("'{environment}' is not one of test, development, production"),
        ));
    }

    let log_level = match &config.log_level {
        Some(level) => {
            let level = level.to_ascii_lowercase();
            if !LOG_LEVELS.contains(&level.as_str()) {
                return Err(BridgeError::invalid(
                    "logLevel",
                    format!("'{level}' is not one of error, warn, info, debug, trace"),
                ));
            }
            level
        }
        None => env("RUST_LOG").unwrap_or_else(|| "warn".to_string()),
    };

    let worker_id = match config.worker_id.clone().or_else(|| env("TASKER_WORKER_ID")) {
        Some(id) => {
            validate_worker_id(&id)?;
            id
        }
        None => format!("ts-worker-{}", uuid::Uuid::new_v4()),
    };

    let application_name = format!("tw-{}", &worker_id.chars().rev().take(40).collect::<String>().chars().rev().collect::<String>());
    let namespaces = collect_namespaces(config)?;
    let dispatch = dispatch_settings(config.dispatch.as_ref())?;

    let mut tasker = match &config.config_path {
        Some(path) => load_config_file(path)?,
        None => generated_config(),
    };
    let tasker_url = with_application_name(&database_url, &application_name);
    apply_overrides(&mut tasker, config, &tasker_url, &environment, &worker_id)?;

    Ok(ResolvedConfig {
        tasker,
        namespaces,
        worker_id,
        environment,
        database_url,
        application_name,
        template_path,
        log_level,
        dispatch,
    })
}

/// A complete worker configuration from tasker-shared's defaults.
pub fn generated_config() -> TaskerConfig {
    default_worker_config()
}

fn load_config_file(path: &str) -> BridgeResult<TaskerConfig> {
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

fn apply_overrides(
    tasker: &mut TaskerConfig,
    config: &WorkerConfig,
    database_url: &str,
    environment: &str,
    worker_id: &str,
) -> BridgeResult<()> {
    tasker.common.database.url = database_url.to_string();
    tasker.common.execution.environment = environment.to_string();
    if let Some(max) = config.database_max_connections {
        if !(1..=1000).contains(&max) {
            return Err(BridgeError::invalid("databaseMaxConnections", "must be between 1 and 1000"));
        }
        tasker.common.database.pool.max_connections = max;
        tasker.common.database.pool.min_connections =
            tasker.common.database.pool.min_connections.min(max);
    }
    let worker = tasker.worker.get_or_insert_with(TaskerWorkerConfig::default);
    worker.worker_id = worker_id.to_string();
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
        if let Some(size) = tuning.dispatch_buffer_size {
            check_range("dispatch.dispatchBufferSize", size, 10, 1_000_000)?;
            handler_dispatch.dispatch_buffer_size = size;
        }
        if let Some(size) = tuning.completion_buffer_size {
            check_range("dispatch.completionBufferSize", size, 10, 1_000_000)?;
            handler_dispatch.completion_buffer_size = size;
        }
    }
    Ok(())
}

fn dispatch_settings(tuning: Option<&DispatchTuning>) -> BridgeResult<DispatchSettings> {
    let tuning = tuning.cloned().unwrap_or_default();
    let completion_timeout = tuning.completion_timeout_ms.unwrap_or(30_000);
    check_range("dispatch.completionTimeoutMs", completion_timeout, 100, 86_400_000)?;
    let starvation = tuning.starvation_threshold_ms.unwrap_or(10_000);
    check_range("dispatch.starvationThresholdMs", starvation, 1, 86_400_000)?;
    let send_timeout = tuning.completion_send_timeout_ms.unwrap_or(10_000);
    check_range("dispatch.completionSendTimeoutMs", send_timeout, 1, 600_000)?;
    Ok(DispatchSettings {
        completion_timeout: Duration::from_millis(completion_timeout.into()),
        starvation_threshold_ms: starvation.into(),
        completion_send_timeout: Duration::from_millis(send_timeout.into()),
    })
}

fn check_range(field: &str, value: u32, min: u32, max: u32) -> BridgeResult<()> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(BridgeError::invalid(field, format!("{value} is outside {min}..={max}")))
    }
}

fn collect_namespaces(config: &WorkerConfig) -> BridgeResult<Vec<String>> {
    let mut namespaces: Vec<String> = Vec::new();
    for ns in config.namespace.iter().chain(config.namespaces.iter().flatten()) {
        let valid = !ns.is_empty()
            && ns.len() <= 64
            && ns.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !valid {
            return Err(BridgeError::invalid(
                "namespace",
                format!("'{ns}' must be 1-64 letters, digits, '_' or '-'"),
            ));
        }
        if !namespaces.contains(ns) {
            namespaces.push(ns.clone());
        }
    }
    Ok(namespaces)
}

/// The URL with `application_name` set, so the worker's sessions can be told apart.
pub fn with_application_name(url: &str, name: &str) -> String {
    if url.contains("application_name=") {
        return url.to_string();
    }
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}application_name={name}")
}

/// Accepts `postgres://` or `postgresql://` URLs and returns the form tasker
/// requires: `postgresql://user:password@host[:port]/database[?params]`.
pub fn normalize_database_url(url: &str) -> BridgeResult<String> {
    let field = "databaseUrl";
    let rest = url
        .strip_prefix("postgresql://")
        .or_else(|| url.strip_prefix("postgres://"))
        .ok_or_else(|| BridgeError::invalid(field, "must start with postgresql:// (for example postgresql://tasker:secret@127.0.0.1:5432/tasker)"))?;
    let (credentials, location) = rest
        .rsplit_once('@')
        .ok_or_else(|| BridgeError::invalid(field, "must include user:password@ before the host; tasker requires a password"))?;
    let (user, password) = credentials
        .split_once(':')
        .ok_or_else(|| BridgeError::invalid(field, "must include user:password@ before the host; tasker requires a password"))?;
    let word = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !word(user) {
        return Err(BridgeError::invalid(field, "the user name may only hold letters, digits, '_' and '-'"));
    }
    if password.is_empty() {
        return Err(BridgeError::invalid(field, "the password must not be empty"));
    }
    let (host_port, path) = location
        .split_once('/')
        .ok_or_else(|| BridgeError::invalid(field, "must end with /<database name>"))?;
    let (host, port) = match host_port.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (host_port, None),
    };
    if host.is_empty() || !host.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-') {
        return Err(BridgeError::invalid(field, format!("'{host}' is not a host name or IPv4 address")));
    }
    if let Some(port) = port {
        if port.parse::<u16>().map(|p| p == 0).unwrap_or(true) {
            return Err(BridgeError::invalid(field, format!("'{port}' is not a port number")));
        }
    }
    let database = path.split('?').next().unwrap_or_default();
    if !word(database) {
        return Err(BridgeError::invalid(field, "the database name may only hold letters, digits, '_' and '-'"));
    }
    Ok(format!("postgresql://{rest}"))
}

fn validate_template_path(path: &str) -> BridgeResult<()> {
    // tasker only accepts plain path characters for TASKER_TEMPLATE_PATH.
    let plain = !path.is_empty()
        && path.chars().all(|c| c.is_ascii_alphanumeric() || "._/-".contains(c));
    if !plain {
        return Err(BridgeError::invalid(
            "templatePath",
            format!("'{path}' may only hold letters, digits and . _ / - (tasker rejects other characters); move the templates to such a folder"),
        ));
    }
    if !Path::new(path).is_dir() {
        return Err(BridgeError::invalid(
            "templatePath",
            format!("'{path}' is not a folder; point it at the folder of your task template YAML files"),
        ));
    }
    Ok(())
}

fn validate_worker_id(id: &str) -> BridgeResult<()> {
    let valid = !id.is_empty()
        && id.len() <= 128
        && id.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    if valid {
        Ok(())
    } else {
        Err(BridgeError::invalid("workerId", format!("'{id}' must be 1-128 letters, digits, '.', '_' or '-'")))
    }
}

fn validate_bind_address(address: &str) -> BridgeResult<()> {
    address
        .parse::<std::net::SocketAddr>()
        .map(|_| ())
        .map_err(|_| {
            BridgeError::invalid(
                "webBindAddress",
                format!("'{address}' is not an ip:port address such as 127.0.0.1:8081 (or 'off')"),
            )
        })
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
    use std::collections::HashMap;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| map.get(k).cloned()
    }

    fn base() -> WorkerConfig {
        WorkerConfig {
            database_url: Some("postgresql://tasker:pw@127.0.0.1:5432/tasker_test".into()),
            template_path: Some(env!("CARGO_MANIFEST_DIR").to_string() + "/src"),
            ..Default::default()
        }
    }

    #[test]
    fn generated_config_round_trips_through_taskers_own_loader() {
        let resolved = resolve(&base(), &env_of(&[])).unwrap();
        let dir = std::env::temp_dir().join(format!("tw-config-test-{}", uuid::Uuid::new_v4()));
        let path = write_config_file(&resolved.tasker, &dir).unwrap();
        let loaded = ConfigLoader::load_from_path(&path).expect("tasker loads the generated config");
        assert_eq!(loaded, resolved.tasker);
        assert_eq!(
            loaded.common.database_url(),
            format!("postgresql://tasker:pw@127.0.0.1:5432/tasker_test?application_name={}", resolved.application_name)
        );
        assert!(loaded.worker.as_ref().unwrap().web.is_none());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn every_option_is_applied() {
        let config = WorkerConfig {
            namespace: Some("alpha".into()),
            namespaces: Some(vec!["beta".into(), "alpha".into()]),
            environment: Some("test".into()),
            log_level: Some("DEBUG".into()),
            worker_id: Some("w-1".into()),
            web_bind_address: Some("127.0.0.1:18081".into()),
            database_max_connections: Some(4),
            dispatch: Some(DispatchTuning {
                completion_timeout_ms: Some(1500),
                starvation_threshold_ms: Some(700),
                completion_send_timeout_ms: Some(900),
                dispatch_buffer_size: Some(64),
                completion_buffer_size: Some(32),
            }),
            ..base()
        };
        let r = resolve(&config, &env_of(&[])).unwrap();
        assert_eq!(r.namespaces, vec!["alpha", "beta"]);
        assert_eq!(r.environment, "test");
        assert_eq!(r.tasker.common.execution.environment, "test");
        assert_eq!(r.log_level, "debug");
        assert_eq!(r.worker_id, "w-1");
        let worker = r.tasker.worker.as_ref().unwrap();
        assert_eq!(worker.worker_id, "w-1");
        assert_eq!(worker.web.as_ref().unwrap().bind_address, "127.0.0.1:18081");
        assert_eq!(worker.mpsc_channels.handler_dispatch.dispatch_buffer_size, 64);
        assert_eq!(worker.mpsc_channels.handler_dispatch.completion_buffer_size, 32);
        assert_eq!(r.tasker.common.database.pool.max_connections, 4);
        assert_eq!(
            r.dispatch,
            DispatchSettings {
                completion_timeout: Duration::from_millis(1500),
                starvation_threshold_ms: 700,
                completion_send_timeout: Duration::from_millis(900),
            }
        );
    }

    #[test]
    fn application_name_is_added_once() {
        assert_eq!(with_application_name("postgresql://u:p@h/d", "tw-1"), "postgresql://u:p@h/d?application_name=tw-1");
        assert_eq!(with_application_name("postgresql://u:p@h/d?sslmode=disable", "tw-1"), "postgresql://u:p@h/d?sslmode=disable&application_name=tw-1");
        assert_eq!(with_application_name("postgresql://u:p@h/d?application_name=mine", "tw-1"), "postgresql://u:p@h/d?application_name=mine");
    }

    #[test]
    fn environment_fills_gaps() {
        let config = WorkerConfig::default();
        let dir = env!("CARGO_MANIFEST_DIR").to_string();
        let r = resolve(
            &config,
            &env_of(&[
                ("DATABASE_URL", "postgres://u:p@db:5433/x"),
                ("TASKER_TEMPLATE_PATH", &dir),
                ("TASKER_ENV", "production"),
                ("TASKER_WORKER_ID", "from-env"),
            ]),
        )
        .unwrap();
        assert_eq!(r.database_url, "postgresql://u:p@db:5433/x");
        assert_eq!(r.environment, "production");
        assert_eq!(r.worker_id, "from-env");
        assert_eq!(r.log_level, "warn");
    }

    #[test]
    fn bad_input_names_the_field() {
        let cases: Vec<(WorkerConfig, &str)> = vec![
            (WorkerConfig { database_url: None, ..base() }, "databaseUrl"),
            (WorkerConfig { database_url: Some("mysql://a:b@h/d".into()), ..base() }, "databaseUrl"),
            (WorkerConfig { database_url: Some("postgresql://h:5432/d".into()), ..base() }, "databaseUrl"),
            (WorkerConfig { database_url: Some("postgresql://u:@h/d".into()), ..base() }, "databaseUrl"),
            (WorkerConfig { database_url: Some("postgresql://u:p@h:99999/d".into()), ..base() }, "databaseUrl"),
            (WorkerConfig { template_path: Some("/no/such/folder".into()), ..base() }, "templatePath"),
            (WorkerConfig { template_path: Some("/tmp/a b".into()), ..base() }, "templatePath"),
            (WorkerConfig { environment: Some("staging".into()), ..base() }, "environment"),
            (WorkerConfig { log_level: Some("loud".into()), ..base() }, "logLevel"),
            (WorkerConfig { worker_id: Some("a b".into()), ..base() }, "workerId"),
            (WorkerConfig { namespace: Some("bad ns".into()), ..base() }, "namespace"),
            (WorkerConfig { web_bind_address: Some("localhost".into()), ..base() }, "webBindAddress"),
            (WorkerConfig { config_path: Some("/no/such.toml".into()), ..base() }, "configPath"),
            (WorkerConfig { database_max_connections: Some(0), ..base() }, "databaseMaxConnections"),
            (
                WorkerConfig {
                    dispatch: Some(DispatchTuning { completion_timeout_ms: Some(5), ..Default::default() }),
                    ..base()
                },
                "dispatch.completionTimeoutMs",
            ),
            (
                WorkerConfig {
                    dispatch: Some(DispatchTuning { dispatch_buffer_size: Some(1), ..Default::default() }),
                    ..base()
                },
                "dispatch.dispatchBufferSize",
            ),
        ];
        for (config, field) in cases {
            let err = resolve(&config, &env_of(&[])).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidArgument, "{field}");
            assert!(err.message.starts_with(field), "{field}: {}", err.message);
        }
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
        assert!(r.tasker.common.database.url.starts_with("postgresql://tasker:pw@127.0.0.1:5432/tasker_test?application_name=tw-"));

        std::fs::write(&path, "not = [valid").unwrap();
        let err = resolve(&config, &env_of(&[])).unwrap_err();
        assert!(err.message.starts_with("configPath"), "{}", err.message);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
