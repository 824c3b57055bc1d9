//! Completion statistics of a benchmark's tasks, from the database's own
//! timestamps (task creation to its `complete` transition).

use std::time::Instant;

use anyhow::{bail, Result};
use sqlx::postgres::PgPoolOptions;

use crate::Args;

const FROM_NAMESPACE: &str = "FROM tasker.tasks t \
    JOIN tasker.named_tasks nt ON nt.named_task_uuid = t.named_task_uuid \
    JOIN tasker.task_namespaces ns ON ns.task_namespace_uuid = nt.task_namespace_uuid";

pub async fn wait_tasks(args: &Args) -> Result<()> {
    if args.namespace.is_empty() || args.count < 1 {
        bail!("--namespace and --count (at least 1) are required");
    }
    let pool = PgPoolOptions::new().max_connections(1).connect(&args.database_url).await?;
    let progress = format!(
        "SELECT count(*) FILTER (WHERE t.complete), \
                count(*) FILTER (WHERE tt.to_state IN ('error', 'blocked_by_failures', 'cancelled')) \
         {FROM_NAMESPACE} LEFT JOIN tasker.task_transitions tt ON tt.task_uuid = t.task_uuid AND tt.most_recent \
         WHERE ns.name = $1"
    );
    let started = Instant::now();
    let (complete, failed) = loop {
        let (complete, failed): (i64, i64) = sqlx::query_as(&progress).bind(&args.namespace).fetch_one(&pool).await?;
        if complete + failed >= args.count {
            break (complete, failed);
        }
        if started.elapsed() > args.timeout {
            bail!("only {complete} of {} tasks of {} completed ({failed} failed) within {:?}", args.count, args.namespace, args.timeout);
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let rows: Vec<(f64, f64, f64)> = sqlx::query_as(&format!(
        "SELECT EXTRACT(EPOCH FROM t.created_at)::float8, EXTRACT(EPOCH FROM tt.created_at)::float8, \
                (SELECT count(*) FROM tasker.workflow_steps ws WHERE ws.task_uuid = t.task_uuid)::float8 \
         {FROM_NAMESPACE} JOIN tasker.task_transitions tt ON tt.task_uuid = t.task_uuid AND tt.to_state = 'complete' \
         WHERE ns.name = $1"
    ))
    .bind(&args.namespace)
    .fetch_all(&pool)
    .await?;
    pool.close().await;
    let first_created = rows.iter().map(|r| r.0).fold(f64::INFINITY, f64::min);
    let last_completed = rows.iter().map(|r| r.1).fold(f64::NEG_INFINITY, f64::max);
    let latencies: Vec<f64> = rows.iter().map(|r| ((r.1 - r.0) * 1000.0 * 100.0).round() / 100.0).collect();
    let steps: f64 = rows.iter().map(|r| r.2).sum();
    println!(
        "{}",
        serde_json::json!({
            "complete": complete,
            "failed": failed,
            "steps": steps,
            "span_ms": ((last_completed - first_created) * 1000.0).max(0.0),
            "latencies_ms": latencies,
        })
    );
    Ok(())
}
