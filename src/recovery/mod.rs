//! Crash recovery of claimed steps.
//!
//! tasker-worker acks a step's queue message as soon as it claims the step,
//! so a worker process that dies (kill -9, OOM, a crash) leaves its steps
//! `in_progress` with nothing to bring them back. This module makes that
//! safe, through tasker's own protocol:
//! - a trigger on `tasker.workflow_step_transitions` (schema.sql) records,
//!   in each claim's own transaction, which worker process made it: this
//!   package names every session of a process `twjs-<incarnation>`;
//! - each process holds a session advisory lock and heartbeats a lease row
//!   (lease.rs); the lock goes the instant its session dies;
//! - every process sweeps (sweep.rs): a lease whose lock is free and whose
//!   heartbeat is older than `staleAfterMs` belongs to a dead process, and its
//!   claimed steps are failed as retryable through tasker-worker's completion
//!   service, exactly as a handler failure would be; the orchestration then
//!   retries them per their retry policy (the lost attempt counts). A step
//!   whose worker is alive is never touched: its lock is held.

pub mod announce;
mod lease;
pub(crate) mod sweep;

use std::time::Duration;

use sqlx::{Connection, PgConnection};
use uuid::Uuid;

use crate::config::RecoverySettings;
use crate::error::{BridgeError, BridgeResult, ErrorCode};

pub use lease::{Lease, Recovery};

/// classid of this package's advisory locks ("twjs"); tasker and pgmq use the
/// one-key form, whose key space this two-key form never meets.
pub const LOCK_CLASS: i32 = 1_953_983_091;
/// objid of the lock that lets one worker at a time sweep ownerless claims.
const SWEEP_LOCK: i32 = 0;
/// objid of the lock workers take turns with to register their templates (src/worker/start.rs).
pub const REGISTER_LOCK: i32 = -2;
const SCHEMA_VERSION: i32 = 2;
const SCHEMA: &str = include_str!("schema.sql");

/// What the lease and the sweeps need to know about this process.
#[derive(Debug, Clone)]
pub struct RecoveryConfig {
    /// URL for the lease's own session (named so the trigger ignores it).
    pub database_url: String,
    pub incarnation: Uuid,
    pub worker_id: String,
    pub settings: RecoverySettings,
}

/// Creates (or upgrades) the recovery schema once per database, serialized
/// between workers starting at the same time.
pub async fn ensure_schema(conn: &mut PgConnection) -> BridgeResult<()> {
    let setup = async {
        let mut tx = conn.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1, $2)").bind(LOCK_CLASS).bind(-1).execute(&mut *tx).await?;
        let exists: bool = sqlx::query_scalar("SELECT to_regclass('tasker_worker_js.schema_version') IS NOT NULL")
            .fetch_one(&mut *tx)
            .await?;
        let current: Option<i32> = if exists {
            sqlx::query_scalar("SELECT max(version) FROM tasker_worker_js.schema_version").fetch_one(&mut *tx).await?
        } else {
            None
        };
        if current.unwrap_or(0) < SCHEMA_VERSION {
            sqlx::raw_sql(SCHEMA).execute(&mut *tx).await?;
            sqlx::query("INSERT INTO tasker_worker_js.schema_version (version) VALUES ($1)")
                .bind(SCHEMA_VERSION)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await
    };
    setup.await.map_err(|e| {
        BridgeError::new(
            ErrorCode::BootstrapFailed,
            format!(
                "crash recovery could not set up its schema tasker_worker_js and its trigger on tasker.workflow_step_transitions ({e}). \
                 The database user needs CREATE on the database and TRIGGER on that table (or have the table's owner start one worker once); \
                 recovery: {{ enabled: false }} turns crash recovery off"
            ),
        )
    })
}

/// How long ago a timestamp was, as a Postgres interval parameter in seconds.
fn seconds(d: Duration) -> f64 {
    d.as_secs_f64()
}
