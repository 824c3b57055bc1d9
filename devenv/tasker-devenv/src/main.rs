//! The local tasker-core environment for tests and the demo.
//!
//! Usage:
//!   tasker-devenv setup-db --admin-url URL --database-url URL
//!       creates the role and database of --database-url (as the admin), the
//!       pgmq extension, and applies tasker's migrations (from tasker-shared).
//!   tasker-devenv orchestration --database-url URL --bind 127.0.0.1:PORT [--environment test]
//!                [--grpc-bind 127.0.0.1:PORT] [--api-key KEY=perm,perm ...]
//!                [--messaging pgmq|rabbitmq --rabbitmq-url amqp://... [--broker-wait-seconds N]]
//!       runs the tasker-core orchestration server, configured from
//!       tasker-shared's own config types (no TOML to maintain); with
//!       --grpc-bind it also serves gRPC, with --api-key it requires one of
//!       the given keys (each with its permissions, e.g. tasks:*,steps:read).
//!       With --messaging rabbitmq its queues are on that broker; it exits
//!       with code 75 when the broker is unavailable (at start, after waiting
//!       up to --broker-wait-seconds, default 0) or its connection is lost
//!       (tasker-orchestration 0.1.8 never reconnects): the parent restarts it.
//!
//!   tasker-devenv declare-queue --rabbitmq-url URL --queue NAME
//!       declares a queue as tasker does (durable, with its dead-letter
//!       exchange and queue), through tasker-shared's own RabbitMQ provider.
//!   tasker-devenv publish --rabbitmq-url URL --queue NAME --message JSON
//!       publishes one message as tasker does (persistent, JSON).
//!   tasker-devenv register-templates --database-url URL --template-path DIR
//!       registers the task templates of a folder as a worker does at start
//!       (tests create tasks without running a worker).
//!
//!   tasker-devenv query --database-url URL --sql 'SELECT ...'
//!       prints each row of a query as a JSON line (tests read queues and
//!       tables with it; no Postgres client is needed in JS).
//!   tasker-devenv sql --database-url URL
//!       read-only queries over stdin/stdout, one JSON line each (src/sql.rs):
//!       what the `tasker-worker dev` page shows.
//!   tasker-devenv install-pgmq --extension-dir DIR
//!       writes the pgmq extension (embedded at build time) into a
//!       PostgreSQL installation's extension folder.
//!
//! `orchestration` prints `READY <bind>` on stdout once the web API answers,
//! and stops on SIGTERM, SIGINT or when its standard input closes (so it never
//! outlives the process that started it).

mod pgmq;
mod sql;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use tasker_orchestration::orchestration::bootstrap::OrchestrationBootstrap;
use tasker_config_defaults::{default_common, redacted, to_toml, with_broker_timeouts, BROKER_CONNECT_TIMEOUT_MS, BROKER_HEARTBEAT_SECONDS};
use tasker_shared::config::tasker::{
    ApiKeyConfig, AuthConfig, GrpcConfig, OrchestrationConfig, OrchestrationWebConfig, RabbitmqConfig, TaskerConfig,
};
use tasker_shared::messaging::client::MessageClient;
use tasker_shared::messaging::service::MessagingProvider;
use tokio::io::AsyncReadExt;

/// The exit code (EX_TEMPFAIL) of an orchestration whose broker is
/// unavailable: its parent restarts it, on the same port with the same options.
const EXIT_BROKER_UNAVAILABLE: i32 = 75;

/// The broker is unreachable or the connection to it was lost: exit with
/// EXIT_BROKER_UNAVAILABLE rather than 1.
#[derive(Debug)]
struct BrokerUnavailable(String);

impl std::fmt::Display for BrokerUnavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BrokerUnavailable {}

struct Args {
    command: String,
    admin_url: String,
    database_url: String,
    bind: String,
    environment: String,
    log_level: String,
    grpc_bind: Option<String>,
    api_keys: Vec<(String, Vec<String>)>,
    sql: String,
    extension_dir: String,
    messaging: String,
    rabbitmq_url: String,
    broker_wait: Duration,
    queue: String,
    message: String,
    template_path: String,
}

fn parse_args() -> Result<Args> {
    let mut args = std::env::args().skip(1);
    let command = args.next().ok_or_else(|| anyhow!("usage: tasker-devenv <setup-db|orchestration|query|sql|install-pgmq|declare-queue|publish|register-templates> --database-url URL [--admin-url URL] [--bind IP:PORT] [--environment test] [--extension-dir DIR] [--messaging pgmq|rabbitmq] [--rabbitmq-url URL]"))?;
    let mut parsed = Args {
        command,
        admin_url: String::new(),
        database_url: std::env::var("DATABASE_URL").unwrap_or_default(),
        bind: "127.0.0.1:8080".into(),
        environment: "test".into(),
        log_level: std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()),
        grpc_bind: None,
        api_keys: Vec::new(),
        sql: String::new(),
        extension_dir: String::new(),
        messaging: "pgmq".into(),
        rabbitmq_url: std::env::var("RABBITMQ_URL").unwrap_or_default(),
        broker_wait: Duration::ZERO,
        queue: String::new(),
        message: String::new(),
        template_path: String::new(),
    };
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| anyhow!("{flag} needs a value"))?;
        match flag.as_str() {
            "--database-url" => parsed.database_url = value,
            "--admin-url" => parsed.admin_url = value,
            "--bind" => parsed.bind = value,
            "--environment" => parsed.environment = value,
            "--log-level" => parsed.log_level = value,
            "--grpc-bind" => parsed.grpc_bind = Some(value),
            "--sql" => parsed.sql = value,
            "--extension-dir" => parsed.extension_dir = value,
            "--messaging" => parsed.messaging = value,
            "--rabbitmq-url" => parsed.rabbitmq_url = value,
            "--broker-wait-seconds" => {
                parsed.broker_wait = Duration::from_secs(value.parse().map_err(|_| anyhow!("--broker-wait-seconds wants a number of seconds"))?)
            }
            "--queue" => parsed.queue = value,
            "--message" => parsed.message = value,
            "--template-path" => parsed.template_path = value,
            "--api-key" => {
                let (key, permissions) = value.split_once('=').ok_or_else(|| anyhow!("--api-key wants KEY=perm,perm"))?;
                parsed.api_keys.push((key.to_string(), permissions.split(',').map(str::to_string).collect()));
            }
            other => bail!("unknown option {other}"),
        }
    }
    let needs_database = !matches!(parsed.command.as_str(), "install-pgmq" | "declare-queue" | "publish");
    if parsed.database_url.is_empty() && needs_database {
        bail!("--database-url (or DATABASE_URL) is required");
    }
    match parsed.messaging.as_str() {
        "pgmq" => {}
        "rabbitmq" if parsed.rabbitmq_url.is_empty() => bail!("--messaging rabbitmq needs --rabbitmq-url (or RABBITMQ_URL)"),
        "rabbitmq" => {}
        other => bail!("--messaging must be pgmq or rabbitmq, got {other}"),
    }
    if matches!(parsed.command.as_str(), "declare-queue" | "publish") && (parsed.rabbitmq_url.is_empty() || parsed.queue.is_empty()) {
        bail!("{} needs --rabbitmq-url (or RABBITMQ_URL) and --queue", parsed.command);
    }
    parsed.bind.parse::<std::net::SocketAddr>().with_context(|| format!("--bind {} is not ip:port", parsed.bind))?;
    if let Some(bind) = &parsed.grpc_bind {
        bind.parse::<std::net::SocketAddr>().with_context(|| format!("--grpc-bind {bind} is not ip:port"))?;
    }
    Ok(parsed)
}

/// A complete orchestration configuration from tasker-shared's defaults.
fn orchestration_config(args: &Args) -> TaskerConfig {
    let mut common = default_common();
    common.database.url = args.database_url.clone();
    common.execution.environment = args.environment.clone();
    // Long-polling queue readers hold connections for seconds: with tasker's
    // default of 10, a burst of task requests waits out the pool.
    common.database.pool.max_connections = 40;
    // After a database restart, work that waited for a connection resumes
    // within a second (sqlx's reconnect backoff is a fifth of this, 6 s at
    // tasker's 30 s default), and a breaker that opened stays open 1 s.
    common.database.pool.acquire_timeout_seconds = 5;
    common.circuit_breakers.default_config.timeout_seconds = 1;
    // Retries in tests should not wait long.
    common.backoff.default_backoff_seconds = vec![1, 1, 2];
    common.backoff.max_backoff_seconds = 2;
    common.backoff.jitter_enabled = false;
    let auth = (!args.api_keys.is_empty()).then(|| AuthConfig {
        enabled: true,
        api_keys_enabled: true,
        api_keys: args
            .api_keys
            .iter()
            .map(|(key, permissions)| ApiKeyConfig { key: key.clone(), permissions: permissions.clone(), description: "devenv".into() })
            .collect(),
        ..Default::default()
    });
    let mut orchestration = OrchestrationConfig {
        web: Some(OrchestrationWebConfig { bind_address: args.bind.clone(), auth, ..Default::default() }),
        grpc: args.grpc_bind.as_ref().map(|bind| GrpcConfig { bind_address: bind.clone(), ..Default::default() }),
        shutdown_timeout_ms: 10_000,
        ..Default::default()
    };
    orchestration.event_systems.orchestration.timing.visibility_timeout_seconds = 120;
    orchestration.event_systems.task_readiness.timing.visibility_timeout_seconds = 121;
    // As tasker-core configures its own test environment ("fast retry cycle"):
    // steps whose backoff expired are re-enqueued by the task-readiness
    // poller, and results whose notification was missed (a database restart
    // ends the orchestration's LISTEN for good) are picked up by the queue
    // poller. tasker's 10 s defaults would re-run a 1 s backoff ~10 s late.
    orchestration.event_systems.orchestration.timing.fallback_polling_interval_seconds = 1;
    orchestration.event_systems.task_readiness.timing.fallback_polling_interval_seconds = 1;
    if args.messaging == "rabbitmq" {
        common.queues.backend = "rabbitmq".into();
        common.queues.rabbitmq = Some(rabbitmq_config(&args.rabbitmq_url));
    }
    TaskerConfig { common, orchestration: Some(orchestration), worker: None }
}

/// tasker's RabbitMQ settings for `url` (with the broker timeouts of
/// tasker_config_defaults). The prefetch stays tasker's default.
fn rabbitmq_config(url: &str) -> RabbitmqConfig {
    RabbitmqConfig { url: with_broker_timeouts(url), heartbeat_seconds: BROKER_HEARTBEAT_SECONDS, ..RabbitmqConfig::default() }
}

/// A connection to the broker through tasker's own provider.
async fn connect_broker(url: &str) -> Result<MessagingProvider> {
    let config = rabbitmq_config(url);
    match tokio::time::timeout(Duration::from_millis(BROKER_CONNECT_TIMEOUT_MS + 1000), MessagingProvider::new_rabbitmq(&config)).await {
        Ok(Ok(provider)) => Ok(provider),
        Ok(Err(e)) => Err(anyhow!(BrokerUnavailable(format!("RabbitMQ at {} is unavailable: {e}", redacted(url))))),
        Err(_) => Err(anyhow!(BrokerUnavailable(format!("RabbitMQ at {} did not answer within {BROKER_CONNECT_TIMEOUT_MS} ms", redacted(url))))),
    }
}

/// `host:port` of an AMQP URL (5672 when it names no port).
fn broker_address(url: &str) -> String {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map(|(_, h)| h).unwrap_or(authority);
    let has_port = host_port.rsplit_once(':').is_some_and(|(_, port)| !port.contains(']'));
    if has_port {
        host_port.to_string()
    } else {
        format!("{host_port}:5672")
    }
}

/// Tries the broker until it answers or `wait` has passed (a restarted
/// orchestration waits out the end of a broker outage instead of failing).
/// A closed port is told by TCP alone, which keeps lapin's warnings about
/// failed connects out of the log.
async fn wait_for_broker(url: &str, wait: Duration) -> Result<()> {
    let deadline = tokio::time::Instant::now() + wait;
    let address = broker_address(url);
    loop {
        let open = tokio::time::timeout(Duration::from_secs(1), tokio::net::TcpStream::connect(&address)).await.is_ok_and(|c| c.is_ok());
        let attempt = if open || tokio::time::Instant::now() >= deadline { Some(connect_broker(url).await) } else { None };
        match attempt {
            // Only a probe: tasker's bootstrap opens its own connection.
            Some(Ok(_probe)) => return Ok(()),
            Some(Err(e)) if tokio::time::Instant::now() >= deadline => return Err(e),
            _ => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

/// Resolves once the orchestration's broker connection has been down for
/// 1 s after having been up. tasker-orchestration 0.1.8 never reconnects:
/// its consumers end for good when the broker restarts, so the only cure is
/// a new process.
async fn broker_lost(client: std::sync::Arc<MessageClient>) {
    let mut seen_healthy = false;
    let mut down_since: Option<tokio::time::Instant> = None;
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    loop {
        tick.tick().await;
        let healthy = matches!(tokio::time::timeout(Duration::from_millis(500), client.health_check()).await, Ok(Ok(true)));
        if healthy {
            seen_healthy = true;
            down_since = None;
        } else if seen_healthy {
            let since = *down_since.get_or_insert_with(tokio::time::Instant::now);
            if since.elapsed() >= Duration::from_secs(1) {
                return;
            }
        }
    }
}

/// A local environment's `pgmq.read_with_poll` that answers at once.
///
/// tasker-orchestration 0.1.8 LISTENs for new results on one session that it
/// never reopens once PostgreSQL restarts; from then on its fallback poller
/// alone reads the three orchestration queues, one after the other, each
/// with `read_with_poll`, which waits 5 s on an empty queue: a result waited
/// up to ~20 s after a restart. Reading without waiting (the poller itself
/// runs every second here) brings that under a second. It replaces a
/// function of the pgmq extension, so it is for development databases only.
const READ_WITHOUT_WAITING: &str = "CREATE OR REPLACE FUNCTION pgmq.read_with_poll(\
    queue_name TEXT, vt INTEGER, qty INTEGER, max_poll_seconds INTEGER DEFAULT 5, \
    poll_interval_ms INTEGER DEFAULT 100, conditional JSONB DEFAULT '{}') \
    RETURNS SETOF pgmq.message_record LANGUAGE sql \
    AS $$ SELECT * FROM pgmq.read(queue_name, vt, qty, conditional) $$";

/// Splits `postgresql://user:password@host:port/database` into its role, password and database.
fn role_of(url: &str) -> Result<(String, String, String)> {
    let rest = url.split_once("://").map(|(_, r)| r).ok_or_else(|| anyhow!("{url} has no scheme"))?;
    let (credentials, location) = rest.rsplit_once('@').ok_or_else(|| anyhow!("the database URL needs user:password@"))?;
    let (user, password) = credentials.split_once(':').ok_or_else(|| anyhow!("the database URL needs user:password@"))?;
    let database = location.split_once('/').map(|(_, d)| d.split('?').next().unwrap_or_default()).unwrap_or_default();
    let plain = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !plain(user) || !plain(database) || password.contains('\'') {
        bail!("role and database names must be plain identifiers, and the password must not contain quotes");
    }
    Ok((user.to_string(), password.to_string(), database.to_string()))
}

async fn connect(url: &str) -> Result<sqlx::PgPool> {
    sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .acquire_timeout(Duration::from_secs(10))
        .connect(url)
        .await
        .with_context(|| format!("connecting to {}", url.split('@').next_back().unwrap_or(url)))
}

async fn setup_db(args: &Args) -> Result<()> {
    if args.admin_url.is_empty() {
        bail!("--admin-url is required: a superuser URL of the same server");
    }
    let (role, password, database) = role_of(&args.database_url)?;
    let admin = connect(&args.admin_url).await?;
    let role_exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)")
        .bind(&role)
        .fetch_one(&admin)
        .await?;
    if !role_exists {
        // A local test role: superuser so it can create the pgmq extension.
        sqlx::query(&format!("CREATE ROLE {role} LOGIN SUPERUSER PASSWORD '{password}'")).execute(&admin).await?;
    }
    let db_exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
        .bind(&database)
        .fetch_one(&admin)
        .await?;
    if !db_exists {
        sqlx::query(&format!("CREATE DATABASE {database} OWNER {role}")).execute(&admin).await?;
    }
    admin.close().await;

    // search_path is `public` for the migrations: the role is named tasker, so
    // its default path ("$user", public) finds the tasker schema once the
    // first migration made it, and sqlx would then look for its record of
    // applied migrations there (empty) instead of in public, and apply them
    // all again on an existing database.
    let options: sqlx::postgres::PgConnectOptions = args.database_url.parse().context("the database URL")?;
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options.options([("search_path", "public")]))
        .await
        .context("connecting as the tasker role")?;
    sqlx::query("CREATE EXTENSION IF NOT EXISTS pgmq CASCADE").execute(&pool).await.context(
        "creating the pgmq extension (are pgmq.control and its SQL script in the server's share/extension folder?)",
    )?;
    tasker_shared::database::migrator::MIGRATOR.run(&pool).await.context("running tasker's migrations")?;
    sqlx::raw_sql(READ_WITHOUT_WAITING).execute(&pool).await.context("making pgmq.read_with_poll answer at once")?;
    pool.close().await;
    println!("DATABASE READY");
    Ok(())
}

async fn wait_until_answering(bind: &str) -> Result<()> {
    for _ in 0..600 {
        if tokio::net::TcpStream::connect(bind).await.is_ok() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("the web API did not open {bind} within 60 s")
}

async fn stop_requested() {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
    let stdin_closed = async {
        let mut stdin = tokio::io::stdin();
        let mut buf = [0u8; 64];
        while let Ok(n) = stdin.read(&mut buf).await {
            if n == 0 {
                break;
            }
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
        _ = stdin_closed => {}
    }
}

async fn orchestration(args: &Args) -> Result<()> {
    let rabbitmq = args.messaging == "rabbitmq";
    // One stop request for the whole run: it also ends a wait for the broker.
    let stop = stop_requested();
    tokio::pin!(stop);
    if rabbitmq {
        tokio::select! {
            waited = wait_for_broker(&args.rabbitmq_url, args.broker_wait) => waited?,
            _ = &mut stop => return Ok(()),
        }
    }
    let config = orchestration_config(args);
    let path: PathBuf = std::env::temp_dir().join(format!("tasker-devenv-orchestration-{}.toml", std::process::id()));
    std::fs::write(&path, to_toml(&config).map_err(|e| anyhow!(e))?)?;
    std::env::set_var("TASKER_CONFIG_PATH", &path);
    std::env::set_var("TASKER_ENV", &args.environment);
    std::env::set_var("DATABASE_URL", &args.database_url);

    let started = OrchestrationBootstrap::bootstrap().await;
    // The configuration is read once, at bootstrap: nothing to leave behind.
    let _ = std::fs::remove_file(&path);
    let mut handle = match started {
        Ok(handle) => handle,
        // The broker went away between the probe and tasker's own connect.
        Err(e) if rabbitmq && connect_broker(&args.rabbitmq_url).await.is_err() => {
            return Err(anyhow!(BrokerUnavailable(format!("orchestration did not start, its broker is unavailable: {e}"))))
        }
        Err(e) => return Err(anyhow!("orchestration did not start: {e}")),
    };
    wait_until_answering(&args.bind).await?;
    if let Some(grpc) = &args.grpc_bind {
        wait_until_answering(grpc).await?;
    }
    println!("READY {}", args.bind);

    let client = handle.orchestration_core.context.message_client();
    let lost = tokio::select! {
        _ = &mut stop => false,
        _ = broker_lost(client), if rabbitmq => true,
    };
    if lost {
        eprintln!("the connection to RabbitMQ at {} is lost and tasker-orchestration does not reconnect: stopping", redacted(&args.rabbitmq_url));
    }
    let _ = tokio::time::timeout(Duration::from_secs(if lost { 3 } else { 10 }), handle.stop()).await;
    if lost {
        return Err(anyhow!(BrokerUnavailable(format!(
            "exiting with {EXIT_BROKER_UNAVAILABLE} to be restarted (the broker connection was lost)"
        ))));
    }
    Ok(())
}

async fn declare_queue(args: &Args) -> Result<()> {
    let provider = connect_broker(&args.rabbitmq_url).await?;
    provider.ensure_queue(&args.queue).await.with_context(|| format!("declaring {}", args.queue))?;
    println!("DECLARED {}", args.queue);
    Ok(())
}

async fn publish(args: &Args) -> Result<()> {
    let message: serde_json::Value = serde_json::from_str(&args.message).context("--message must be JSON")?;
    let provider = connect_broker(&args.rabbitmq_url).await?;
    provider.send_message(&args.queue, &message).await.with_context(|| format!("publishing to {}", args.queue))?;
    println!("PUBLISHED {}", args.queue);
    Ok(())
}

async fn register_templates(args: &Args) -> Result<()> {
    if args.template_path.is_empty() {
        bail!("--template-path is required");
    }
    let pool = connect(&args.database_url).await?;
    let registry = tasker_shared::registry::TaskTemplateRegistry::new(pool.clone());
    let found = registry.discover_and_register_templates(&args.template_path).await.context("registering the templates")?;
    pool.close().await;
    if found.failed_registrations > 0 {
        bail!("{} of {} templates failed: {}", found.failed_registrations, found.total_files, found.errors.join("; "));
    }
    println!("REGISTERED {}", found.discovered_templates.join(" "));
    Ok(())
}

async fn query(args: &Args) -> Result<()> {
    if args.sql.is_empty() {
        bail!("--sql is required");
    }
    let pool = connect(&args.database_url).await?;
    // A SELECT prints its rows as JSON, one per line; other statements run as given.
    if args.sql.trim_start().to_ascii_lowercase().starts_with("select") {
        let wrapped = format!("SELECT row_to_json(q)::text FROM ({}) q", args.sql);
        let rows: Vec<String> = sqlx::query_scalar(&wrapped).fetch_all(&pool).await.context("running the query")?;
        for row in rows {
            println!("{row}");
        }
    } else {
        let done = sqlx::query(&args.sql).execute(&pool).await.context("running the statement")?;
        println!("{{\"rowsAffected\":{}}}", done.rows_affected());
    }
    pool.close().await;
    Ok(())
}

fn main() -> Result<()> {
    let args = parse_args()?;
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(&args.log_level))
        .with_writer(std::io::stderr)
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let result = runtime.block_on(async {
        match args.command.as_str() {
            "setup-db" => setup_db(&args).await,
            "orchestration" => orchestration(&args).await,
            "query" => query(&args).await,
            "sql" => sql::serve(&args.database_url).await,
            "install-pgmq" if args.extension_dir.is_empty() => Err(anyhow!("--extension-dir is required")),
            "install-pgmq" => pgmq::install(std::path::Path::new(&args.extension_dir)),
            "declare-queue" => declare_queue(&args).await,
            "publish" => publish(&args).await,
            "register-templates" => register_templates(&args).await,
            other => Err(anyhow!(
                "unknown command {other}; use setup-db, orchestration, query, sql, install-pgmq, declare-queue, publish or register-templates"
            )),
        }
    });
    if let Err(e) = &result {
        if e.downcast_ref::<BrokerUnavailable>().is_some() {
            // At once: the runtime's shutdown would wait 2 s for the stdin
            // reader, and the parent restarts us only once we are gone.
            eprintln!("Error: {e:#}");
            std::process::exit(EXIT_BROKER_UNAVAILABLE);
        }
    }
    runtime.shutdown_timeout(Duration::from_secs(2));
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_orchestration_config_loads_through_taskers_loader() {
        let mut args = test_args();
        args.grpc_bind = Some("127.0.0.1:19090".into());
        args.api_keys = vec![("k".into(), vec!["tasks:*".into()])];
        let config = orchestration_config(&args);
        let path = std::env::temp_dir().join(format!("orch-config-test-{}.toml", std::process::id()));
        std::fs::write(&path, to_toml(&config).unwrap()).unwrap();
        let loaded = tasker_shared::config::ConfigLoader::load_from_path(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        let orchestration = loaded.orchestration.unwrap();
        assert_eq!(orchestration.web.unwrap().bind_address, "127.0.0.1:18080");
        assert_eq!(orchestration.event_systems.task_readiness.timing.fallback_polling_interval_seconds, 1);
        assert_eq!(orchestration.grpc.unwrap().bind_address, "127.0.0.1:19090");
        assert!(loaded.worker.is_none());
        assert_eq!(loaded.common.queues.backend, "pgmq");
    }

    #[test]
    fn rabbitmq_messaging_loads_with_connection_parameters_in_the_url() {
        let mut args = test_args();
        args.messaging = "rabbitmq".into();
        args.rabbitmq_url = "amqp://guest:guest@127.0.0.1:5673/%2F".into();
        let config = orchestration_config(&args);
        let path = std::env::temp_dir().join(format!("orch-config-rabbit-test-{}.toml", std::process::id()));
        std::fs::write(&path, to_toml(&config).unwrap()).unwrap();
        let loaded = tasker_shared::config::ConfigLoader::load_from_path(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(loaded.common.queues.backend, "rabbitmq");
        let rabbitmq = loaded.common.queues.rabbitmq.unwrap();
        assert_eq!(rabbitmq.url, "amqp://guest:guest@127.0.0.1:5673/%2F?connection_timeout=5000&heartbeat=10");
        assert_eq!(rabbitmq.prefetch_count, RabbitmqConfig::default().prefetch_count);
    }

    #[test]
    fn broker_addresses_default_the_port() {
        assert_eq!(broker_address("amqp://u:p@127.0.0.1:5673/%2F?heartbeat=1"), "127.0.0.1:5673");
        assert_eq!(broker_address("amqp://localhost"), "localhost:5672");
        assert_eq!(broker_address("amqp://u:p@[::1]/%2F"), "[::1]:5672");
    }

    fn test_args() -> Args {
        Args {
            command: "orchestration".into(),
            admin_url: String::new(),
            database_url: "postgresql://tasker:pw@127.0.0.1:5432/tasker".into(),
            bind: "127.0.0.1:18080".into(),
            environment: "test".into(),
            log_level: "warn".into(),
            grpc_bind: None,
            api_keys: Vec::new(),
            sql: String::new(),
            extension_dir: String::new(),
            messaging: "pgmq".into(),
            rabbitmq_url: String::new(),
            broker_wait: Duration::ZERO,
            queue: String::new(),
            message: String::new(),
            template_path: String::new(),
        }
    }

    #[test]
    fn role_of_reads_the_url() {
        let (role, password, db) = role_of("postgresql://tasker:pw@127.0.0.1:5/tasker_test").unwrap();
        assert_eq!((role.as_str(), password.as_str(), db.as_str()), ("tasker", "pw", "tasker_test"));
        assert!(role_of("postgresql://bad-role:pw@h/d").is_err());
        assert!(role_of("postgresql://r:p'w@h/d").is_err());
    }
}
