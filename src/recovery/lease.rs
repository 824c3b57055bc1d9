//! This process's lease: a row in tasker_worker_js.leases whose heartbeat it
//! refreshes, and a session advisory lock it holds, both on one dedicated
//! session. The same task runs the sweeps (they need that session's locks).
//! After a database outage it reconnects, takes its lock again and refreshes
//! its heartbeat before judging anyone else: a sweep only trusts a missing
//! heartbeat once this session has itself been up for `staleAfter`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection};
use tasker_shared::system_context::SystemContext;
use tokio::sync::watch;

use super::sweep::{self, Sweeper};
use super::{RecoveryConfig, LOCK_CLASS, SWEEP_LOCK};
use crate::db_health::DbHealth;
use crate::dispatch::Dispatch;

/// While the database is away, how often the lease tries to reconnect: the
/// first sweep after it answers finds results lost in the outage.
const RECONNECT_EVERY: Duration = Duration::from_millis(500);

/// How often the heartbeat is renewed: a quarter of `staleAfterMs` (a live
/// worker's heartbeat is then never near stale), within 250 ms..10 s.
pub fn heartbeat_every(stale_after: Duration) -> Duration {
    (stale_after / 4).clamp(Duration::from_millis(250), Duration::from_secs(10))
}

/// The lease, taken before tasker-worker may claim anything.
pub struct Lease {
    conn: PgConnection,
    key: i32,
    config: RecoveryConfig,
}

/// The running lease and sweeps; `stop()` releases the lease.
pub struct Recovery {
    stop: watch::Sender<bool>,
    done: tokio::task::JoinHandle<()>,
}

async fn open(config: &RecoveryConfig) -> Result<PgConnection, sqlx::Error> {
    let options: PgConnectOptions = config.database_url.parse()?;
    // Let the server notice a vanished client (a dead host, a cut network)
    // in seconds rather than hours, so its lock is released.
    let options = options.options([("tcp_keepalives_idle", "5"), ("tcp_keepalives_interval", "2"), ("tcp_keepalives_count", "3")]);
    PgConnection::connect_with(&options).await
}

/// Writes (or rewrites) the lease row and takes its lock.
async fn claim_lease(conn: &mut PgConnection, config: &RecoveryConfig, key: i32) -> Result<bool, sqlx::Error> {
    sqlx::query(
        "INSERT INTO tasker_worker_js.leases (incarnation, worker_id, lock_key, hostname, pid) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (incarnation) DO UPDATE SET heartbeat_at = now()",
    )
    .bind(config.incarnation)
    .bind(config.worker_id.clone())
    .bind(key)
    .bind(hostname())
    .bind(std::process::id() as i32)
    .execute(&mut *conn)
    .await?;
    sqlx::query_scalar("SELECT pg_try_advisory_lock($1, $2)").bind(LOCK_CLASS).bind(key).fetch_one(&mut *conn).await
}

fn hostname() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname").ok().map(|h| h.trim().to_string()).or_else(|| std::env::var("HOSTNAME").ok())
}

impl Lease {
    /// Takes a lease for this process (its lock key chosen at random).
    pub async fn take(config: RecoveryConfig) -> Result<Self, sqlx::Error> {
        let mut conn = open(&config).await?;
        for _ in 0..10 {
            let key = loop {
                let key = (uuid::Uuid::new_v4().as_u128() as u32 & 0x7fff_ffff) as i32;
                if key != SWEEP_LOCK {
                    break key;
                }
            };
            match claim_lease(&mut conn, &config, key).await {
                Ok(true) => return Ok(Self { conn, key, config }),
                // A lock key another process holds (or a unique violation): draw again.
                Ok(false) | Err(sqlx::Error::Database(_)) => {
                    sqlx::query("DELETE FROM tasker_worker_js.leases WHERE incarnation = $1").bind(config.incarnation).execute(&mut conn).await?;
                }
                Err(e) => return Err(e),
            }
        }
        Err(sqlx::Error::Protocol("could not find a free lock key in 10 draws".into()))
    }

    /// Starts heartbeats and sweeps on the worker's runtime.
    pub fn start(
        self,
        runtime: &tokio::runtime::Handle,
        context: Arc<SystemContext>,
        dispatch: Arc<Dispatch>,
        health: Arc<DbHealth>,
    ) -> Recovery {
        let (stop, stopped) = watch::channel(false);
        let done = runtime.spawn(run(self, context, dispatch, health, stopped));
        Recovery { stop, done }
    }
}

impl Recovery {
    /// Ends the sweeps and gives the lease up (its row deleted, its lock released).
    pub async fn stop(self, limit: Duration) {
        let _ = self.stop.send(true);
        let _ = tokio::time::timeout(limit, self.done).await;
    }
}

async fn run(lease: Lease, context: Arc<SystemContext>, dispatch: Arc<Dispatch>, health: Arc<DbHealth>, mut stopped: watch::Receiver<bool>) {
    let Lease { conn, key, config } = lease;
    let mut session = Some(conn);
    let mut connected_at = Instant::now();
    let mut next_sweep = Instant::now();
    let beat_every = heartbeat_every(config.settings.stale_after);
    let mut next_beat = Instant::now();
    let sweeper = Sweeper { context, dispatch: Arc::downgrade(&dispatch), me: config.incarnation, stale: config.settings.stale_after };
    drop(dispatch);
    loop {
        // Wakes for the next heartbeat or sweep, whichever is first; while
        // disconnected, every RECONNECT_EVERY.
        let wake = if session.is_none() { Instant::now() + RECONNECT_EVERY } else { next_beat.min(next_sweep) };
        tokio::select! {
            _ = tokio::time::sleep_until(wake.into()) => {}
            _ = stopped.changed() => break,
        }
        if session.is_none() {
            match boxed(reopen(&config, key)).await {
                Ok(conn) => {
                    session = Some(conn);
                    connected_at = Instant::now();
                    // Back after an outage: look for results it lost at once.
                    next_sweep = Instant::now();
                    next_beat = Instant::now();
                }
                Err(e) => {
                    health.failed("renewing the worker's lease", &e);
                    continue;
                }
            }
        }
        let Some(conn) = session.as_mut() else { continue };
        if Instant::now() >= next_beat {
            next_beat = Instant::now() + beat_every;
            if let Err(e) = boxed(beat(conn, &config, key)).await {
                health.failed("renewing the worker's lease", &e);
                session = None;
                continue;
            }
            health.ok();
        }
        if Instant::now() >= next_sweep {
            next_sweep = Instant::now() + config.settings.sweep_interval;
            let judge_others = connected_at.elapsed() >= config.settings.stale_after;
            if let Err(e) = boxed(sweep::sweep(conn, &sweeper, judge_others)).await {
                tracing::warn!(target: "tasker_worker_js", error = %e, "crash-recovery sweep failed; it runs again shortly");
                if sweep::is_connection_error(&e) {
                    session = None;
                }
            }
        }
    }
    if let Some(mut conn) = session {
        let _ = sqlx::query("DELETE FROM tasker_worker_js.leases WHERE incarnation = $1").bind(config.incarnation).execute(&mut conn).await;
        let _ = conn.close().await;
    }
}

/// Erases the borrowed lifetimes of sqlx futures behind a `Send` box: without
/// it the compiler cannot prove the spawned task `Send` (a known limitation
/// with higher-ranked lifetimes in async fns).
fn boxed<'a, T>(f: impl std::future::Future<Output = T> + Send + 'a) -> std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>> {
    Box::pin(f)
}

/// A new session after an outage: the lease row back and its lock retaken.
async fn reopen(config: &RecoveryConfig, key: i32) -> Result<PgConnection, sqlx::Error> {
    let mut conn = open(config).await?;
    if !claim_lease(&mut conn, config, key).await? {
        tracing::error!(
            target: "tasker_worker_js",
            worker_id = %config.worker_id,
            "another worker holds this worker's lease lock: it judged this worker dead (no heartbeat for over {} ms) and is failing its claimed steps for retry; results of steps running here now may be rejected",
            config.settings.stale_after.as_millis()
        );
    }
    Ok(conn)
}

async fn beat(conn: &mut PgConnection, config: &RecoveryConfig, key: i32) -> Result<(), sqlx::Error> {
    let updated = sqlx::query("UPDATE tasker_worker_js.leases SET heartbeat_at = now() WHERE incarnation = $1")
        .bind(config.incarnation)
        .execute(&mut *conn)
        .await?;
    if updated.rows_affected() == 0 {
        tracing::warn!(target: "tasker_worker_js", worker_id = %config.worker_id, "this worker's lease row was gone (another worker judged it dead); it is written again");
        claim_lease(conn, config, key).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_heartbeat_follows_stale_after() {
        assert_eq!(heartbeat_every(Duration::from_secs(15)), Duration::from_millis(3750));
        assert_eq!(heartbeat_every(Duration::from_millis(200)), Duration::from_millis(250));
        assert_eq!(heartbeat_every(Duration::from_secs(600)), Duration::from_secs(10));
    }
}
