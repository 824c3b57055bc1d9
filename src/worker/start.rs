//! Starting a worker: the database checked (and crash recovery's schema and
//! lease set up) before tasker-worker boots, then tasker-worker itself, the
//! dispatch channel over its handles, and the step reader.

use std::sync::Arc;
use std::time::Duration;

use sqlx::Connection;
use tasker_shared::system_context::SystemContext;
use tasker_worker::worker::services::CheckpointService;
use tasker_worker::worker::{
    DomainEventCallback, FfiDispatchChannel, FfiDispatchChannelConfig, StepEventPublisherRegistry, WorkerCommandSender,
};
use tasker_worker::{WorkerBootstrap, WorkerSystemHandle};

use crate::claims::pgmq::{PgmqConfig, PgmqSource};
use crate::claims::rabbitmq::{self, RabbitConfig, RabbitSource};
use crate::claims::Source;
use crate::config::{with_application_name, with_broker_timeouts, Messaging, ResolvedConfig};
use crate::dispatch::{channel_length, Dispatch};
use crate::domain_events::publisher::JsPublisher;
use crate::domain_events::SkipCancelled;
use crate::error::{BridgeError, BridgeResult, ErrorCode};
use crate::recovery::{self, Lease, RecoveryConfig};

/// Everything tasker-worker gave us once it runs.
pub struct Started {
    pub system: WorkerSystemHandle,
    pub event_bus: crate::domain_events::EventBus,
    pub dispatch: Arc<Dispatch>,
    pub commands: WorkerCommandSender,
    pub context: Arc<SystemContext>,
    pub namespaces: Vec<String>,
}

pub fn export_environment(resolved: &ResolvedConfig, config_file: &std::path::Path) {
    // tasker-worker reads these at bootstrap; they describe this worker only.
    std::env::set_var("TASKER_CONFIG_PATH", config_file);
    std::env::set_var("TASKER_ENV", &resolved.environment);
    std::env::set_var("DATABASE_URL", &resolved.database_url);
    std::env::set_var("TASKER_TEMPLATE_PATH", &resolved.template_path);
    std::env::set_var("TASKER_WORKER_ID", &resolved.worker_id);
}

/// The URL of one of this worker's own sessions (not tasker-worker's: the
/// claim trigger attributes claims only to sessions named `twjs-<incarnation>`).
pub fn session_url(resolved: &ResolvedConfig, role: &str) -> String {
    with_application_name(&resolved.database_url, &format!("twjs-{role}-{}", resolved.incarnation.simple()))
}

/// Checks that the database is usable and sets up crash recovery's schema;
/// returns this process's lease when recovery is on.
pub async fn prepare_database(resolved: &ResolvedConfig) -> BridgeResult<Option<Lease>> {
    let url = session_url(resolved, "setup");
    let unavailable = |detail: String| {
        BridgeError::new(ErrorCode::DatabaseUnavailable, format!("cannot use the database at {}: {detail}", crate::config::redacted(&resolved.database_url)))
    };
    let mut conn = match tokio::time::timeout(Duration::from_secs(10), sqlx::PgConnection::connect(&url)).await {
        Err(_) => return Err(unavailable("no answer within 10 s; is PostgreSQL running and reachable?".into())),
        Ok(Err(e)) => return Err(unavailable(format!("{e}; check the host, port, user and password"))),
        Ok(Ok(conn)) => conn,
    };
    let ready: (bool, bool) = sqlx::query_as(
        "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pgmq'), to_regclass('tasker.tasks') IS NOT NULL",
    )
    .fetch_one(&mut conn)
    .await
    .map_err(|e| unavailable(e.to_string()))?;
    match ready {
        (false, _) => return Err(unavailable("the pgmq extension is not installed; run tasker's migrations (CREATE EXTENSION pgmq comes first)".into())),
        (_, false) => return Err(unavailable("tasker's schema is missing; run tasker's migrations on this database".into())),
        _ => {}
    }
    if !resolved.recovery.enabled {
        let _ = conn.close().await;
        return Ok(None);
    }
    recovery::ensure_schema(&mut conn).await?;
    let _ = conn.close().await;
    let config = RecoveryConfig {
        database_url: session_url(resolved, "lease"),
        incarnation: resolved.incarnation,
        worker_id: resolved.worker_id.clone(),
        settings: resolved.recovery.clone(),
    };
    Lease::take(config)
        .await
        .map(Some)
        .map_err(|e| BridgeError::new(ErrorCode::BootstrapFailed, format!("could not take this worker's crash-recovery lease: {e}")))
}

/// Waits (at most `limit`) until every step claimed by this process has its
/// result stored and the orchestration's message about it sent (tasker
/// stores a result in three steps: the transition, the step's `results`,
/// then the message; cutting it short leaves a step the orchestration can
/// never process).
pub async fn wait_for_claims_settled(url: &str, incarnation: uuid::Uuid, results_queue: Option<&str>, limit: Duration) {
    const IDLE: Duration = Duration::from_millis(1500);
    // On RabbitMQ the queue cannot be looked into: stored results are enough.
    let table = results_queue.map(|q| format!("pgmq.q_{q}"));
    let wait = async {
        let mut conn = sqlx::PgConnection::connect(url).await?;
        // Results are stored one at a time, in milliseconds: when none has
        // been for IDLE, what is left will not be (tasker rejected it) and
        // crash recovery retries those steps.
        let mut last: Option<(i64, tokio::time::Instant)> = None;
        loop {
            let open: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM tasker_worker_js.claims c \
                 JOIN tasker.workflow_steps ws ON ws.workflow_step_uuid = c.workflow_step_uuid \
                 WHERE c.incarnation = $1 AND (c.state = 'claimed' OR ws.results IS NULL \
                   OR ($2::text IS NOT NULL AND to_regclass($2) IS NOT NULL AND NOT tasker_worker_js.result_announced($2, c.workflow_step_uuid)))",
            )
            .bind(incarnation)
            .bind(&table)
            .fetch_one(&mut conn)
            .await?;
            let now = tokio::time::Instant::now();
            match last {
                _ if open == 0 => {
                    let _ = conn.close().await;
                    return Ok::<i64, sqlx::Error>(0);
                }
                Some((count, since)) if count == open && now.duration_since(since) >= IDLE => return Ok(open),
                Some((count, _)) if count == open => {}
                _ => last = Some((open, now)),
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    match tokio::time::timeout(limit, wait).await {
        Ok(Ok(0)) => {}
        Ok(Ok(left)) => tracing::warn!(target: "tasker_worker_js", left, "at stop, some claimed steps had no result tasker could store; crash recovery will fail them for retry"),
        Ok(Err(e)) => tracing::warn!(target: "tasker_worker_js", error = %e, "could not confirm at stop that every claimed step has its result stored; crash recovery will settle any that has not"),
        Err(_) => tracing::warn!(target: "tasker_worker_js", "some claimed steps had no stored result {} s after stop began; crash recovery will fail them for retry", limit.as_secs()),
    }
}


/// Boots tasker-worker, one worker process at a time per database.
///
/// tasker registers a worker's templates by looking each namespace and
/// template up and inserting it when absent, without a lock: two workers
/// booting together on a new namespace both insert, one loses on a unique
/// key, logs a warning, and goes on serving no namespace of its templates
/// (measured: one of two workers started together claimed nothing in 1 run
/// of 4 to 10). Workers of this package take turns on a session advisory
/// lock, which the server releases at once should this process die.
async fn bootstrap_in_turn(resolved: &ResolvedConfig) -> BridgeResult<WorkerSystemHandle> {
    let failed = |e: sqlx::Error| BridgeError::new(ErrorCode::BootstrapFailed, format!("could not take turns with other workers to register the templates: {e}"));
    let mut turn = sqlx::PgConnection::connect(&session_url(resolved, "register")).await.map_err(failed)?;
    sqlx::query("SET lock_timeout = '120s'").execute(&mut turn).await.map_err(failed)?;
    sqlx::query("SELECT pg_advisory_lock($1, $2)").bind(recovery::LOCK_CLASS).bind(recovery::REGISTER_LOCK).execute(&mut turn).await.map_err(failed)?;
    // Not Send, so it runs here rather than in a spawned task; a panic in it
    // is caught by the export's guard (the session's end releases the lock).
    let system = WorkerBootstrap::bootstrap().await.map_err(|e| {
        BridgeError::new(
            ErrorCode::BootstrapFailed,
            format!("tasker-worker did not start: {e}; check the templates in templatePath and the database"),
        )
    });
    let _ = turn.close().await;
    system
}

/// The namespaces it must serve (those asked for, else every one of its
/// templates) that tasker-worker did not register.
fn unserved(resolved: &ResolvedConfig, defined: &[String], served: &[String]) -> Vec<String> {
    let wanted = if resolved.namespaces.is_empty() { defined } else { &resolved.namespaces };
    wanted.iter().filter(|ns| !served.contains(ns)).cloned().collect()
}

/// Boots tasker-worker and wires the dispatch channel over its handles.
pub async fn start_system(resolved: &ResolvedConfig, defined: &[String], publishers: &[String]) -> BridgeResult<Started> {
    let mut system = bootstrap_in_turn(resolved).await?;
    let fail = |detail: &str| BridgeError::new(ErrorCode::BootstrapFailed, detail.to_string());
    let served = system.supported_namespaces().await;
    let missing = unserved(resolved, defined, &served);
    if !missing.is_empty() {
        let _ = system.stop().await;
        return Err(fail(&format!(
            "tasker-worker registered no template of namespace(s) {missing:?} (it serves {served:?}); its log's 'errors during TaskTemplate discovery' line says why"
        )));
    }
    let handles = system.take_dispatch_handles().ok_or_else(|| fail("tasker-worker gave no dispatch handles"))?;
    let (callback, context, commands, event_bus) = {
        let core = system.worker_core.lock().await;
        let router = core.event_router().ok_or_else(|| fail("tasker-worker has no event router"))?;
        let mut registry = StepEventPublisherRegistry::with_event_router(core.domain_event_publisher(), router.clone());
        // Publishers the templates name: their payloads are shaped in JS.
        for name in publishers {
            registry.register(JsPublisher::new(name.clone(), core.domain_event_publisher(), Some(router.clone())));
        }
        let events = Arc::new(DomainEventCallback::new(Arc::new(tokio::sync::RwLock::new(registry))));
        let callback = Arc::new(SkipCancelled(events));
        (callback, core.context.clone(), core.command_sender().clone(), core.in_process_event_bus())
    };
    let namespaces = served;
    let settings = &resolved.dispatch;
    let channel_config = FfiDispatchChannelConfig::new(tokio::runtime::Handle::current())
        .with_service_id(resolved.worker_id.clone())
        .with_completion_timeout(settings.completion_timeout)
        .with_starvation_threshold_ms(settings.starvation_threshold_ms)
        .with_completion_send_timeout(settings.completion_send_timeout);
    let waiting = channel_length(handles.dispatch_sender.clone());
    let probe = handles.completion_sender.clone();
    let channel = FfiDispatchChannel::new(handles.dispatch_receiver, handles.completion_sender, channel_config, callback)
        .with_checkpoint_support(CheckpointService::new(context.database_pool().clone()), handles.dispatch_sender);
    let dispatch = Arc::new(Dispatch::new(
        Box::new(channel),
        waiting,
        probe,
        settings.completion_timeout,
        Duration::from_millis(settings.starvation_threshold_ms),
        resolved.max_claimed_steps.map(|n| n as usize),
    ));
    Ok(Started { system, event_bus, dispatch, commands, context, namespaces })
}

/// Checks that the broker answers before tasker-worker tries it (its own
/// attempt would fail with a misleading "database connection" error, or
/// hang for the OS's TCP timeout on a host that does not answer).
pub async fn prepare_broker(resolved: &ResolvedConfig) -> BridgeResult<()> {
    let Messaging::RabbitMq { url } = &resolved.messaging else { return Ok(()) };
    let conn = rabbitmq::connect(&with_broker_timeouts(url))
        .await
        .map_err(|e| BridgeError::new(ErrorCode::BrokerUnavailable, format!("{e}; is RabbitMQ running there, and are its user and password right?")))?;
    let _ = conn.close(200, "checked").await;
    Ok(())
}

/// Creates the orchestration's queue of each namespace served before the
/// worker reports itself started (the orchestration never creates them, and
/// a step sent to a queue that does not exist never arrives).
pub async fn prepare_step_queues(resolved: &ResolvedConfig, namespaces: &[String]) -> BridgeResult<()> {
    let queues = step_queues(resolved, namespaces);
    match &resolved.messaging {
        Messaging::Pgmq => {
            let failed = |e: sqlx::Error| BridgeError::new(ErrorCode::BootstrapFailed, format!("could not create the namespace queues: {e}"));
            let mut conn = sqlx::PgConnection::connect(&session_url(resolved, "setup")).await.map_err(failed)?;
            for queue in &queues {
                sqlx::query("SELECT pgmq.create($1)").bind(queue).execute(&mut conn).await.map_err(failed)?;
            }
            let _ = conn.close().await;
        }
        Messaging::RabbitMq { url } => {
            let failed = |e: String| BridgeError::new(ErrorCode::BrokerUnavailable, format!("could not declare the namespace queues: {e}"));
            let conn = rabbitmq::connect(&with_broker_timeouts(url)).await.map_err(failed)?;
            let channel = conn.create_channel().await.map_err(|e| failed(e.to_string()))?;
            for queue in &queues {
                rabbitmq::declare_step_queue(&channel, queue).await.map_err(failed)?;
            }
            let _ = conn.close(200, "declared").await;
        }
    }
    Ok(())
}

/// The orchestration's queue of each namespace (it names them `worker_<namespace>_queue`).
fn step_queues(resolved: &ResolvedConfig, namespaces: &[String]) -> Vec<String> {
    namespaces.iter().map(|ns| PgmqConfig::queue_of(&resolved.step_queue_prefix, ns).0).collect()
}

/// Where the step reader takes steps from: the orchestration's queue of each namespace served.
pub fn claim_source(runtime: &tokio::runtime::Handle, resolved: &ResolvedConfig, namespaces: &[String]) -> Source {
    match &resolved.messaging {
        Messaging::Pgmq => {
            let visibility_timeout_s = resolved
                .tasker
                .worker
                .as_ref()
                .map(|w| w.event_systems.worker.timing.visibility_timeout_seconds as i32)
                .unwrap_or(30);
            Source::Pgmq(PgmqSource::new(
                runtime,
                PgmqConfig {
                    database_url: session_url(resolved, "claim"),
                    queues: namespaces.iter().map(|ns| PgmqConfig::queue_of(&resolved.step_queue_prefix, ns)).collect(),
                    visibility_timeout_s,
                },
            ))
        }
        Messaging::RabbitMq { url } => Source::RabbitMq(RabbitSource::new(RabbitConfig {
            url: with_broker_timeouts(url),
            queues: step_queues(resolved, namespaces),
            database_url: session_url(resolved, "claim"),
            consumer_prefix: format!("twjs-{}", resolved.incarnation.simple()),
        })),
    }
}

#[cfg(test)]
mod tests {
    use crate::config::resolve;
    use crate::config::test_support::{base, env_of};

    #[test]
    fn every_namespace_asked_for_or_defined_must_be_served() {
        let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let all = resolve(&crate::config::WorkerConfig { namespace: None, ..base() }, &env_of(&[])).unwrap();
        assert_eq!(super::unserved(&all, &strings(&["a", "b"]), &strings(&["default"])), strings(&["a", "b"]), "lost the registration race");
        assert!(super::unserved(&all, &strings(&["a", "b"]), &strings(&["a", "b"])).is_empty());
        let some = resolve(&crate::config::WorkerConfig { namespace: Some("b".into()), ..base() }, &env_of(&[])).unwrap();
        assert!(super::unserved(&some, &strings(&["a", "b"]), &strings(&["b"])).is_empty(), "only what it was asked to serve");
    }

}
