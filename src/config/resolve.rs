//! Options + environment → everything bootstrap needs, validated: each
//! missing option falls back to its environment variable, then to a default.

use std::time::Duration;

use tasker_shared::config::tasker::TaskerConfig;

use super::tasker_toml::{apply_overrides, generated_config, load_config_file, with_application_name};
use super::validate::{check_range, collect_namespaces, normalize_database_url, validate_template_path, validate_worker_id};
use super::{DispatchTuning, RecoveryOptions, WorkerConfig};
use crate::error::{BridgeError, BridgeResult};
use crate::js::Whole;

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
    pub template_path: String,
    pub log_level: String,
    pub dispatch: DispatchSettings,
    /// Identifies this worker process (a restart with the same workerId is a
    /// new incarnation); its database sessions are named `twjs-<incarnation>`.
    pub incarnation: uuid::Uuid,
    /// Prefix of the namespace queues the orchestration fills (`<prefix>_<namespace>_queue`).
    pub step_queue_prefix: String,
    /// Explicit `maxClaimedSteps`, if given.
    pub max_claimed_steps: Option<u32>,
    pub recovery: RecoverySettings,
    pub messaging: Messaging,
}

/// The messaging backend, as tasker's orchestration uses it.
#[derive(Debug, Clone, PartialEq)]
pub enum Messaging {
    /// Queues in PostgreSQL (the pgmq extension).
    Pgmq,
    /// A RabbitMQ broker; `url` as given (with its password: never show it, see `redacted`).
    RabbitMq { url: String },
}

impl Messaging {
    pub fn name(&self) -> &'static str {
        match self {
            Messaging::Pgmq => "pgmq",
            Messaging::RabbitMq { .. } => "rabbitmq",
        }
    }
}

/// Crash recovery settings after defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct RecoverySettings {
    pub enabled: bool,
    pub stale_after: Duration,
    pub sweep_interval: Duration,
}


const ENVIRONMENTS: [&str; 3] = ["test", "development", "production"];
const LOG_LEVELS: [&str; 6] = ["off", "error", "warn", "info", "debug", "trace"];


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
        Some(level) if LOG_LEVELS.contains(&level.to_ascii_lowercase().as_str()) => level.to_ascii_lowercase(),
        // A RUST_LOG-style filter with per-target levels, e.g. `warn,sqlx::query=warn`.
        Some(filter) if filter.contains('=') && tracing_subscriber::EnvFilter::try_new(filter).is_ok() => filter.clone(),
        Some(level) => {
            return Err(BridgeError::invalid(
                "logLevel",
                format!("'{level}' is not one of off, error, warn, info, debug, trace, or a filter such as warn,sqlx::query=warn"),
            ))
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

    let incarnation = uuid::Uuid::new_v4();
    // tasker-worker's sessions are named so: the claim trigger attributes claims by it.
    let application_name = format!("twjs-{}", incarnation.simple());
    let namespaces = collect_namespaces(config)?;
    let dispatch = dispatch_settings(config.dispatch.as_ref())?;
    let recovery = recovery_settings(config.recovery.as_ref())?;
    if let Some(max) = config.max_claimed_steps {
        check_range("maxClaimedSteps", max.get(), 1, 10_000)?;
    }

    let messaging = messaging(config, env)?;
    let mut tasker = match &config.config_path {
        Some(path) => load_config_file(path)?,
        None => generated_config(),
    };
    let step_queue_prefix = tasker.common.queues.worker_namespace.clone();
    let tasker_url = with_application_name(&database_url, &application_name);
    apply_overrides(&mut tasker, config, &tasker_url, &environment, &worker_id)?;
    super::tasker_toml::apply_messaging(&mut tasker, &messaging);

    Ok(ResolvedConfig {
        tasker,
        namespaces,
        worker_id,
        environment,
        database_url,
        template_path,
        log_level,
        dispatch,
        incarnation,
        step_queue_prefix,
        max_claimed_steps: config.max_claimed_steps.map(Whole::get),
        recovery,
        messaging,
    })
}

/// The backend and its broker: options first, then the environment tasker's own deployments use.
fn messaging(config: &WorkerConfig, env: &dyn Fn(&str) -> Option<String>) -> BridgeResult<Messaging> {
    let (backend, field) = match &config.messaging_backend {
        Some(b) => (b.clone(), "messagingBackend"),
        None => (env("TASKER_MESSAGING_BACKEND").unwrap_or_else(|| "pgmq".into()), "TASKER_MESSAGING_BACKEND"),
    };
    match backend.as_str() {
        "pgmq" => Ok(Messaging::Pgmq),
        "rabbitmq" => {
            let (url, field) = match &config.rabbitmq_url {
                Some(u) => (u.clone(), "rabbitmqUrl"),
                None => (
                    env("RABBITMQ_URL").ok_or_else(|| BridgeError::invalid("rabbitmqUrl", "is required with messagingBackend 'rabbitmq' (or set RABBITMQ_URL): amqp://user:password@host:port/vhost"))?,
                    "RABBITMQ_URL",
                ),
            };
            super::validate::validate_amqp_url(field, &url)?;
            Ok(Messaging::RabbitMq { url })
        }
        other => Err(BridgeError::invalid(field, format!("'{other}' is not a messaging backend: give 'pgmq' or 'rabbitmq'"))),
    }
}

fn recovery_settings(options: Option<&RecoveryOptions>) -> BridgeResult<RecoverySettings> {
    let options = options.cloned().unwrap_or_default();
    let stale_after = options.stale_after_ms.map_or(15_000, Whole::get);
    check_range("recovery.staleAfterMs", stale_after, 3_000, 600_000)?;
    let sweep_interval = options.sweep_interval_ms.map_or(5_000, Whole::get);
    check_range("recovery.sweepIntervalMs", sweep_interval, 500, 300_000)?;
    Ok(RecoverySettings {
        enabled: options.enabled.unwrap_or(true),
        stale_after: Duration::from_millis(stale_after.into()),
        sweep_interval: Duration::from_millis(sweep_interval.into()),
    })
}


fn dispatch_settings(tuning: Option<&DispatchTuning>) -> BridgeResult<DispatchSettings> {
    let tuning = tuning.cloned().unwrap_or_default();
    let completion_timeout = tuning.completion_timeout_ms.map_or(30_000, Whole::get);
    check_range("dispatch.completionTimeoutMs", completion_timeout, 100, 86_400_000)?;
    let starvation = tuning.starvation_threshold_ms.map_or(10_000, Whole::get);
    check_range("dispatch.starvationThresholdMs", starvation, 1, 86_400_000)?;
    let send_timeout = tuning.completion_send_timeout_ms.map_or(10_000, Whole::get);
    check_range("dispatch.completionSendTimeoutMs", send_timeout, 1, 600_000)?;
    Ok(DispatchSettings {
        completion_timeout: Duration::from_millis(completion_timeout.into()),
        starvation_threshold_ms: starvation.into(),
        completion_send_timeout: Duration::from_millis(send_timeout.into()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::test_support::{base, env_of};
    use crate::error::ErrorCode;

    #[test]
    fn every_option_is_applied() {
        let config = WorkerConfig {
            namespace: Some("alpha".into()),
            namespaces: Some(vec!["beta".into(), "alpha".into()]),
            environment: Some("test".into()),
            log_level: Some("DEBUG".into()),
            worker_id: Some("w-1".into()),
            web_bind_address: Some("127.0.0.1:18081".into()),
            database_max_connections: Some(Whole(4)),
            dispatch: Some(DispatchTuning {
                completion_timeout_ms: Some(Whole(1500)),
                starvation_threshold_ms: Some(Whole(700)),
                completion_send_timeout_ms: Some(Whole(900)),
                dispatch_buffer_size: Some(Whole(64)),
                completion_buffer_size: Some(Whole(32)),
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
    fn the_messaging_backend_comes_from_the_options_then_the_environment() {
        assert_eq!(resolve(&base(), &env_of(&[])).unwrap().messaging, Messaging::Pgmq);
        let env = env_of(&[("TASKER_MESSAGING_BACKEND", "rabbitmq"), ("RABBITMQ_URL", "amqp://g:secret@h:5672/%2F")]);
        let r = resolve(&base(), &env).unwrap();
        assert_eq!(r.messaging, Messaging::RabbitMq { url: "amqp://g:secret@h:5672/%2F".into() });
        assert_eq!(r.tasker.common.queues.backend, "rabbitmq");
        let pinned = WorkerConfig { messaging_backend: Some("pgmq".into()), ..base() };
        assert_eq!(resolve(&pinned, &env).unwrap().messaging, Messaging::Pgmq, "the option wins");
        let err = resolve(&WorkerConfig { messaging_backend: Some("rabbitmq".into()), rabbitmq_url: Some("rabbit://g:secret@h".into()), ..base() }, &env_of(&[])).unwrap_err();
        assert!(err.message.starts_with("rabbitmqUrl") && !err.message.contains("secret"), "{}", err.message);
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
            (WorkerConfig { database_max_connections: Some(Whole(0)), ..base() }, "databaseMaxConnections"),
            (WorkerConfig { database_acquire_timeout_seconds: Some(Whole(0)), ..base() }, "databaseAcquireTimeoutSeconds"),
            (WorkerConfig { messaging_backend: Some("kafka".into()), ..base() }, "messagingBackend"),
            (WorkerConfig { messaging_backend: Some("rabbitmq".into()), ..base() }, "rabbitmqUrl"),
            (WorkerConfig { messaging_backend: Some("rabbitmq".into()), rabbitmq_url: Some("http://h".into()), ..base() }, "rabbitmqUrl"),
            (
                WorkerConfig {
                    dispatch: Some(DispatchTuning { completion_timeout_ms: Some(Whole(5)), ..Default::default() }),
                    ..base()
                },
                "dispatch.completionTimeoutMs",
            ),
            (
                WorkerConfig {
                    dispatch: Some(DispatchTuning { dispatch_buffer_size: Some(Whole(1)), ..Default::default() }),
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
}
