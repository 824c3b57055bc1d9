//! Whether the worker's own database sessions (the step reader, the lease)
//! reach PostgreSQL: for `healthCheck()` and for one clear, rate-limited error
//! log while the database is away, instead of one line per failed query.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::sync::lock;

/// While the database stays unreachable, repeat the error this often.
const REPEAT_EVERY: Duration = Duration::from_secs(30);

#[derive(Default)]
struct State {
    /// Since when, and the last error, while failing.
    down: Option<(Instant, String)>,
    last_logged: Option<Instant>,
}

pub struct DbHealth {
    /// What is reached ("the database", "the message broker"), for the log line.
    subject: &'static str,
    state: Mutex<State>,
}

impl Default for DbHealth {
    fn default() -> Self {
        Self::of("the database")
    }
}

impl DbHealth {
    /// The health of reaching `subject`.
    pub fn of(subject: &'static str) -> Self {
        Self { subject, state: Mutex::new(State::default()) }
    }

    pub fn subject(&self) -> &'static str {
        self.subject
    }

    /// A query of `what` failed with `error`.
    pub fn failed(&self, what: &str, error: &dyn std::fmt::Display) {
        let mut state = lock(&self.state);
        let now = Instant::now();
        let since = state.down.as_ref().map_or(now, |(since, _)| *since);
        state.down = Some((since, format!("{what}: {error}")));
        let due = state.last_logged.is_none_or(|at| now.duration_since(at) >= REPEAT_EVERY);
        if due {
            state.last_logged = Some(now);
            tracing::error!(
                target: "tasker_worker_js",
                down_for_s = since.elapsed().as_secs(),
                "{} is unreachable ({what}: {error}); steps resume by themselves when it answers again",
                self.subject
            );
        }
    }

    /// A query succeeded.
    pub fn ok(&self) {
        let mut state = lock(&self.state);
        if let Some((since, _)) = state.down.take() {
            state.last_logged = None;
            tracing::warn!(target: "tasker_worker_js", "{} answers again after {} ms", self.subject, since.elapsed().as_millis());
        }
    }

    /// `None` when healthy, else how long it has failed and the last error.
    pub fn problem(&self) -> Option<(Duration, String)> {
        lock(&self.state).down.as_ref().map(|(since, error)| (since.elapsed(), error.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracks_an_outage_until_a_query_succeeds() {
        let health = DbHealth::default();
        assert!(health.problem().is_none());
        health.failed("reading steps", &"connection refused");
        health.failed("heartbeat", &"connection refused");
        let (_, error) = health.problem().unwrap();
        assert_eq!(error, "heartbeat: connection refused");
        health.ok();
        assert!(health.problem().is_none());
    }
}
