//! The local tasker-core environment for tests and the demo.
//!
//! Usage:
//!   tasker-devenv setup-db --admin-url URL --database-url URL
//!       creates the role and database of --database-url (as the admin), the
//!       pgmq extension, and applies tasker's migrations (from tasker-shared).
//!   tasker-devenv orchestration --database-url URL --bind 127.0.0.1:PORT [--environment test]
//!                [--grpc-bind 127.0.0.1:PORT] [--api-key KEY=perm,perm ...]
//!       runs the tasker-core orchestration server, configured from
//!       tasker-shared's own config types (no TOML to maintain); with
//!       --grpc-bind it also serves gRPC, with --api-key it requires one of
//!       the given keys (each with its permissions, e.g. tasks:*,steps:read).
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
use tasker_config_defaults::{default_common, to_toml};
use tasker_shared::config::tasker::{ApiKeyConfig, AuthConfig, GrpcConfig, OrchestrationConfig, OrchestrationWebConfig, TaskerConfig};
use tokio::io::AsyncReadExt;

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
}

fn parse_args() -> Result<Args> {
    let mut args = std::env::args().skip(1);
    let command = args.next().ok_or_else(|| anyhow!("usage: tasker-devenv <setup-db|orchestration|query|sql|install-pgmq> --database-url URL [--admin-url URL] [--bind IP:PORT] [--environment test] [--extension-dir DIR]"))?;
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
            "--api-key" => {
                let (key, permissions) = value.split_once('=').ok_or_else(|| anyhow!("--api-key wants KEY=perm,perm"))?;
                parsed.api_keys.push((key.to_string(), permissions.split(',').map(str::to_string).collect()));
            }
            other => bail!("unknown option {other}"),
        }
    }
    if parsed.database_url.is_empty() && parsed.command != "install-pgmq" {
        bail!("--database-url (or DATABASE_URL) is required");
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
    TaskerConfig { common, orchestration: Some(orchestration), worker: None }
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
    let config = orchestration_config(args);
    let path: PathBuf = std::env::temp_dir().join(format!("tasker-devenv-orchestration-{}.toml", std::process::id()));
    std::fs::write(&path, to_toml(&config).map_err(|e| anyhow!(e))?)?;
    std::env::set_var("TASKER_CONFIG_PATH", &path);
    std::env::set_var("TASKER_ENV", &args.environment);
    std::env::set_var("DATABASE_URL", &args.database_url);

    let started = OrchestrationBootstrap::bootstrap().await;
    // The configuration is read once, at bootstrap: nothing to leave behind.
    let _ = std::fs::remove_file(&path);
    let mut handle = started.map_err(|e| anyhow!("orchestration did not start: {e}"))?;
    wait_until_answering(&args.bind).await?;
    if let Some(grpc) = &args.grpc_bind {
        wait_until_answering(grpc).await?;
    }
    println!("READY {}", args.bind);

    stop_requested().await;
    let _ = tokio::time::timeout(Duration::from_secs(10), handle.stop()).await;
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
            other => Err(anyhow!("unknown command {other}; use setup-db, orchestration, query, sql or install-pgmq")),
        }
    });
    runtime.shutdown_timeout(Duration::from_secs(2));
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_orchestration_config_loads_through_taskers_loader() {
        let args = Args {
            command: "orchestration".into(),
            admin_url: String::new(),
            database_url: "postgresql://tasker:pw@127.0.0.1:5432/tasker".into(),
            bind: "127.0.0.1:18080".into(),
            environment: "test".into(),
            log_level: "warn".into(),
            grpc_bind: Some("127.0.0.1:19090".into()),
            api_keys: vec![("k".into(), vec!["tasks:*".into()])],
            sql: String::new(),
            extension_dir: String::new(),
        };
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
    }

    #[test]
    fn role_of_reads_the_url() {
        let (role, password, db) = role_of("postgresql://tasker:pw@127.0.0.1:5/tasker_test").unwrap();
        assert_eq!((role.as_str(), password.as_str(), db.as_str()), ("tasker", "pw", "tasker_test"));
        assert!(role_of("postgresql://bad-role:pw@h/d").is_err());
        assert!(role_of("postgresql://r:p'w@h/d").is_err());
    }
}
