//! Benchmark tools for the end-to-end comparison.
//!
//! Usage:
//!   tasker-bench worker --database-url URL --template-path DIR [--concurrency N]
//!                       [--messaging pgmq|rabbitmq --rabbitmq-url URL]
//!       The native baseline: tasker-worker with Rust handlers (every step
//!       succeeds at once) run by tasker's own HandlerDispatchService, at most
//!       N at once. Prints `READY` once it claims steps; stops on SIGINT or
//!       when its standard input closes.
//!   tasker-bench wait-tasks --database-url URL --namespace NS --count N [--timeout-s S]
//!       Waits until N tasks of namespace NS have finished, then prints their
//!       completion statistics as one JSON line (times from the database).

mod stats;
mod worker;

use std::time::Duration;

use anyhow::{anyhow, bail, Result};

pub struct Args {
    pub command: String,
    pub database_url: String,
    pub template_path: String,
    pub namespace: String,
    pub concurrency: usize,
    /// The RabbitMQ broker, when the orchestration is on RabbitMQ.
    pub rabbitmq_url: Option<String>,
    pub count: i64,
    pub timeout: Duration,
}

fn parse_args() -> Result<Args> {
    let mut args = std::env::args().skip(1);
    let command = args.next().ok_or_else(|| anyhow!("usage: tasker-bench <worker|wait-tasks> --database-url URL ..."))?;
    let mut parsed = Args {
        command,
        database_url: std::env::var("DATABASE_URL").unwrap_or_default(),
        template_path: String::new(),
        namespace: String::new(),
        concurrency: 10,
        rabbitmq_url: None,
        count: 0,
        timeout: Duration::from_secs(300),
    };
    let mut messaging = String::from("pgmq");
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| anyhow!("{flag} needs a value"))?;
        let number = |v: &str| v.parse::<u64>().map_err(|_| anyhow!("{flag} must be a positive integer, got {v}"));
        match flag.as_str() {
            "--database-url" => parsed.database_url = value,
            "--template-path" => parsed.template_path = value,
            "--namespace" => parsed.namespace = value,
            "--concurrency" => parsed.concurrency = number(&value)?.clamp(1, 10_000) as usize,
            "--messaging" => messaging = value,
            "--rabbitmq-url" => parsed.rabbitmq_url = Some(value),
            "--count" => parsed.count = number(&value)? as i64,
            "--timeout-s" => parsed.timeout = Duration::from_secs(number(&value)?),
            other => bail!("unknown option {other}"),
        }
    }
    if parsed.database_url.is_empty() {
        bail!("--database-url (or DATABASE_URL) is required");
    }
    match messaging.as_str() {
        "pgmq" => parsed.rabbitmq_url = None,
        "rabbitmq" if parsed.rabbitmq_url.is_none() => bail!("--messaging rabbitmq needs --rabbitmq-url"),
        "rabbitmq" => {}
        other => bail!("--messaging must be pgmq or rabbitmq, got {other}"),
    }
    Ok(parsed)
}

/// Resolves on Ctrl-C or when standard input closes (how the runner stops
/// its workers; SIGTERM keeps its default action).
pub async fn stop_requested() {
    let (mut stdin, mut sink) = (tokio::io::stdin(), tokio::io::sink());
    tokio::select! {
        _ = tokio::io::copy(&mut stdin, &mut sink) => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

fn main() -> Result<()> {
    let args = parse_args()?;
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into())))
        .with_writer(std::io::stderr)
        .init();
    // Two worker threads, as the addon's worker runtime has.
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    runtime.block_on(async {
        match args.command.as_str() {
            "worker" => worker::run(&args).await,
            "wait-tasks" => stats::wait_tasks(&args).await,
            other => Err(anyhow!("unknown command {other}; use worker or wait-tasks")),
        }
    })
}
