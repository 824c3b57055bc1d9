//! One sweep, on the lease's session:
//! 1. dead workers: a lease whose heartbeat is older than `stale` and whose
//!    lock this session can take belongs to a process that is gone; its
//!    claimed steps are failed as retryable, then its lease is removed;
//! 2. ownerless claims (their lease already gone) older than `stale`: the same;
//! 3. this worker's own claims whose result never got stored (a database
//!    outage when the result was sent): failed as retryable, so they run
//!    again, OWN_RESULT_GRACE after this worker handed the result over (it
//!    knows when its results left; the longer RESULT_GRACE is for results it
//!    has no record of);
//! 4. stored results the orchestration was never told about (its queue
//!    message lost, e.g. while the messaging circuit breaker was open, or the
//!    process died between tasker's writes): the step's `results` is
//!    completed from its transition if it was not written, and the step
//!    message is sent again (the orchestration ignores duplicates).
//!
//! 1 and 2 judge other processes, so they wait until this session has been
//! up for `stale` (after an outage every heartbeat is old).

use std::sync::{Arc, Weak};
use std::time::Duration;

use sqlx::PgConnection;
use tasker_shared::messaging::message::StepMessage;
use tasker_shared::messaging::StepExecutionResult;
use tasker_shared::system_context::SystemContext;
use tasker_worker::worker::services::FFICompletionService;
use uuid::Uuid;

use super::{seconds, LOCK_CLASS, SWEEP_LOCK};
use crate::dispatch::{Dispatch, Whereabouts, SETTLED_MEMORY};

/// A result older than this that is still not stored is lost; an
/// orchestration this late with a stored result missed its message.
pub(crate) const RESULT_GRACE: Duration = Duration::from_secs(60);
/// A result this worker handed to tasker-worker is stored within
/// milliseconds when the database answers; still not stored this long after
/// it left (and nothing queued), it was lost.
pub(crate) const OWN_RESULT_GRACE: Duration = Duration::from_secs(3);
const _: () = assert!(SETTLED_MEMORY.as_secs() >= RESULT_GRACE.as_secs());
const BATCH: i64 = 500;

pub struct Sweeper {
    pub context: Arc<SystemContext>,
    /// Weak: the shutdown drops the dispatch channel before the lease ends.
    pub dispatch: Weak<Dispatch>,
    pub me: Uuid,
    pub stale: Duration,
}

pub fn is_connection_error(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Io(_) | sqlx::Error::Protocol(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed)
}

pub async fn sweep(conn: &mut PgConnection, s: &Sweeper, judge_others: bool) -> Result<(), sqlx::Error> {
    if judge_others {
        duty("recovering dead workers' steps", dead_workers(conn, s).await)?;
    }
    duty("retrying steps whose result was lost", own_lost_results(conn, s).await)?;
    let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1, $2)").bind(LOCK_CLASS).bind(SWEEP_LOCK).fetch_one(&mut *conn).await?;
    if locked {
        let outcome = shared_work(conn, s, judge_others).await;
        let _ = sqlx::query("SELECT pg_advisory_unlock($1, $2)").bind(LOCK_CLASS).bind(SWEEP_LOCK).execute(&mut *conn).await;
        outcome?;
    }
    Ok(())
}

/// One duty of the sweep: a failure is logged and the others still run; only
/// a lost connection ends the sweep (the lease reconnects).
fn duty(what: &str, outcome: Result<(), sqlx::Error>) -> Result<(), sqlx::Error> {
    match outcome {
        Err(e) if is_connection_error(&e) => Err(e),
        Err(e) => {
            tracing::warn!(target: "tasker_worker_js", error = %e, "crash-recovery sweep: {what} failed; it runs again at the next sweep");
            Ok(())
        }
        Ok(()) => Ok(()),
    }
}

/// What one worker at a time does (under the sweep lock).
async fn shared_work(conn: &mut PgConnection, s: &Sweeper, judge_others: bool) -> Result<(), sqlx::Error> {
    if judge_others {
        duty("recovering steps of workers that are gone", ownerless_claims(conn, s).await)?;
    }
    duty("announcing stored results again", unannounced_results(conn, s).await)
}

async fn dead_workers(conn: &mut PgConnection, s: &Sweeper) -> Result<(), sqlx::Error> {
    let candidates: Vec<(Uuid, String, i32, f64)> = sqlx::query_as(
        "SELECT incarnation, worker_id, lock_key, extract(epoch FROM now() - heartbeat_at)::float8 \
         FROM tasker_worker_js.leases WHERE incarnation <> $1 AND heartbeat_at < now() - make_interval(secs => $2)",
    )
    .bind(s.me)
    .bind(seconds(s.stale))
    .fetch_all(&mut *conn)
    .await?;
    for (incarnation, worker_id, key, silent_s) in candidates {
        let free: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1, $2)").bind(LOCK_CLASS).bind(key).fetch_one(&mut *conn).await?;
        if !free {
            // Its session lives: the process is alive, only its heartbeat is late.
            tracing::debug!(target: "tasker_worker_js", %worker_id, silent_s, "a worker's heartbeat is late but it holds its lock; not recovering");
            continue;
        }
        let outcome = recover_worker(conn, s, incarnation, &worker_id, silent_s).await;
        let _ = sqlx::query("SELECT pg_advisory_unlock($1, $2)").bind(LOCK_CLASS).bind(key).execute(&mut *conn).await;
        outcome?;
    }
    Ok(())
}

/// Fails the claimed steps of a dead process (whose lock this session holds)
/// and removes its lease once none is left.
async fn recover_worker(conn: &mut PgConnection, s: &Sweeper, incarnation: Uuid, worker_id: &str, silent_s: f64) -> Result<(), sqlx::Error> {
    let steps: Vec<Uuid> =
        sqlx::query_scalar("SELECT workflow_step_uuid FROM tasker_worker_js.claims WHERE incarnation = $1 AND state = 'claimed' LIMIT $2")
            .bind(incarnation)
            .bind(BATCH)
            .fetch_all(&mut *conn)
            .await?;
    let reason = format!(
        "the worker process that claimed this step (worker {worker_id}) died before reporting a result (no heartbeat for {silent_s:.0} s); failed as retryable so tasker retries it"
    );
    let recovered = fail_all(s, &steps, incarnation, &reason).await;
    if recovered == steps.len() && (steps.len() as i64) < BATCH {
        sqlx::query("DELETE FROM tasker_worker_js.leases WHERE incarnation = $1").bind(incarnation).execute(&mut *conn).await?;
    }
    tracing::warn!(target: "tasker_worker_js", %worker_id, %incarnation, recovered, silent_s, "recovered the claimed steps of a dead worker process");
    Ok(())
}

async fn ownerless_claims(conn: &mut PgConnection, s: &Sweeper) -> Result<(), sqlx::Error> {
    let rows: Vec<(Uuid, Uuid)> = sqlx::query_as(
        "SELECT c.workflow_step_uuid, c.incarnation FROM tasker_worker_js.claims c \
         WHERE c.state = 'claimed' AND c.changed_at < now() - make_interval(secs => $1) \
           AND NOT EXISTS (SELECT 1 FROM tasker_worker_js.leases l WHERE l.incarnation = c.incarnation) LIMIT $2",
    )
    .bind(seconds(s.stale))
    .bind(BATCH)
    .fetch_all(&mut *conn)
    .await?;
    for (step, incarnation) in rows {
        let reason = "the worker process that claimed this step is gone and never reported a result; failed as retryable so tasker retries it";
        if fail_all(s, &[step], incarnation, reason).await == 1 {
            tracing::warn!(target: "tasker_worker_js", step_uuid = %step, %incarnation, "recovered a step whose worker process is gone");
        }
    }
    Ok(())
}

async fn own_lost_results(conn: &mut PgConnection, s: &Sweeper) -> Result<(), sqlx::Error> {
    let Some(dispatch) = s.dispatch.upgrade() else { return Ok(()) };
    if dispatch.results_queued() {
        return Ok(()); // results still on their way to the database
    }
    let steps: Vec<(Uuid, f64)> = sqlx::query_as(
        "SELECT workflow_step_uuid, extract(epoch FROM now() - changed_at)::float8 FROM tasker_worker_js.claims \
         WHERE incarnation = $1 AND state = 'claimed' AND changed_at < now() - make_interval(secs => $2) LIMIT $3",
    )
    .bind(s.me)
    .bind(seconds(OWN_RESULT_GRACE))
    .bind(BATCH)
    .fetch_all(&mut *conn)
    .await?;
    let lost: Vec<Uuid> = steps
        .into_iter()
        .filter(|(step, claimed_s)| is_lost(dispatch.whereabouts(*step), Duration::from_secs_f64(claimed_s.max(0.0))))
        .map(|(step, _)| step)
        .collect();
    drop(dispatch);
    if !lost.is_empty() {
        let reason = "this step's result could not be stored (the database was unavailable when the handler finished); failed as retryable so it runs again";
        let recovered = fail_all(s, &lost, s.me, reason).await;
        tracing::warn!(target: "tasker_worker_js", recovered, "steps whose result was lost in a database outage are retried");
    }
    Ok(())
}

/// Whether a claim of this worker, still not stored `claimed_for` after the
/// claim, has lost its result.
fn is_lost(whereabouts: Whereabouts, claimed_for: Duration) -> bool {
    match whereabouts {
        Whereabouts::OnItsWay => false,
        Whereabouts::ResultSent(ago) => ago > OWN_RESULT_GRACE,
        Whereabouts::Unknown => claimed_for > RESULT_GRACE,
    }
}

async fn unannounced_results(conn: &mut PgConnection, s: &Sweeper) -> Result<(), sqlx::Error> {
    let rows: Vec<(Uuid, Uuid, Uuid)> = sqlx::query_as(
        "SELECT c.workflow_step_uuid, ws.task_uuid, t.correlation_id FROM tasker_worker_js.claims c \
         JOIN tasker.workflow_steps ws ON ws.workflow_step_uuid = c.workflow_step_uuid \
         JOIN tasker.tasks t ON t.task_uuid = ws.task_uuid \
         WHERE c.state = 'reported' AND c.changed_at < now() - make_interval(secs => $1) LIMIT $2",
    )
    .bind(seconds(RESULT_GRACE))
    .bind(BATCH)
    .fetch_all(&mut *conn)
    .await?;
    if rows.is_empty() {
        return Ok(());
    }
    let client = s.context.message_client();
    let queue = client.router().result_queue();
    for (step, task, correlation) in rows {
        // tasker writes the transition, then `results` (what the orchestration
        // reads), then the message; a process that died in between left
        // `results` empty. Write what tasker would have, from the transition.
        if let Err(e) = repair_results(conn, step).await {
            if is_connection_error(&e) {
                return Err(e);
            }
            tracing::warn!(target: "tasker_worker_js", step_uuid = %step, error = %e, "could not complete a stored result's `results`");
            continue;
        }
        match client.send_message(&queue, &StepMessage::new(task, step, correlation)).await {
            Ok(_) => {
                sqlx::query("UPDATE tasker_worker_js.claims SET changed_at = now() WHERE workflow_step_uuid = $1").bind(step).execute(&mut *conn).await?;
                tracing::warn!(target: "tasker_worker_js", step_uuid = %step, "told the orchestration again about a stored result it had not processed");
            }
            Err(e) => tracing::warn!(target: "tasker_worker_js", step_uuid = %step, error = %e, "could not tell the orchestration about a stored result; trying again later"),
        }
    }
    Ok(())
}

/// Writes a step's `results` from its most recent transition when tasker
/// did not get to (the event is kept as JSON text in the transition).
async fn repair_results(conn: &mut PgConnection, step: Uuid) -> Result<(), sqlx::Error> {
    let event: Option<String> = sqlx::query_scalar(
        "SELECT t.metadata->>'event' FROM tasker.workflow_step_transitions t \
         JOIN tasker.workflow_steps ws ON ws.workflow_step_uuid = t.workflow_step_uuid \
         WHERE t.workflow_step_uuid = $1 AND t.most_recent AND ws.results IS NULL \
           AND t.to_state IN ('enqueued_for_orchestration', 'enqueued_as_error_for_orchestration')",
    )
    .bind(step)
    .fetch_optional(&mut *conn)
    .await?
    .flatten();
    let data = event.and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok()).and_then(|e| e.get("data").cloned());
    // PostgreSQL's jsonb cannot hold a NUL character (which is why tasker
    // could not write it): keep the rest of the result readable.
    let data = data.map(|d| without_nul(d));
    if let Some(data) = data.filter(|d| !d.is_null()) {
        sqlx::query("UPDATE tasker.workflow_steps SET results = $2, in_process = false WHERE workflow_step_uuid = $1 AND results IS NULL")
            .bind(step)
            .bind(sqlx::types::Json(data))
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

fn without_nul(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::String(s) if s.contains('\0') => Value::String(s.replace('\0', "\u{fffd}")),
        Value::Array(items) => Value::Array(items.into_iter().map(without_nul).collect()),
        Value::Object(map) => Value::Object(map.into_iter().map(|(k, v)| (k.replace('\0', "\u{fffd}"), without_nul(v))).collect()),
        other => other,
    }
}

/// Fails each step as retryable through tasker-worker's completion service,
/// attributed to `owner`; returns how many were failed (a step that moved on
/// meanwhile is not an error: nothing was left to recover).
async fn fail_all(s: &Sweeper, steps: &[Uuid], owner: Uuid, reason: &str) -> usize {
    let service = FFICompletionService::new(owner.to_string(), s.context.clone());
    let mut failed = 0;
    for step in steps {
        let result = StepExecutionResult::failure(*step, reason.to_string(), Some("WORKER_LOST".into()), Some("WorkerLost".into()), true, 0, None);
        match service.send_step_result(result).await {
            Ok(()) => failed += 1,
            Err(e) => tracing::debug!(target: "tasker_worker_js", step_uuid = %step, error = %e, "step not recovered (it moved on meanwhile?)"),
        }
    }
    failed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_own_result_is_lost_soon_after_it_left_an_unknown_one_after_the_grace() {
        let s = Duration::from_secs;
        assert!(!is_lost(Whereabouts::OnItsWay, s(600)), "a step in a handler is never lost");
        assert!(!is_lost(Whereabouts::ResultSent(s(1)), s(30)), "just sent: tasker may be storing it");
        assert!(is_lost(Whereabouts::ResultSent(s(4)), s(5)), "sent 4 s ago and not stored: lost");
        assert!(!is_lost(Whereabouts::Unknown, s(30)));
        assert!(is_lost(Whereabouts::Unknown, s(61)));
    }
}
