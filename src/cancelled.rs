//! Steps whose task was cancelled (or that were resolved) while this
//! process ran them: tasker refuses their results. Kept for a while so that
//! the late completion tasker-worker rejects is logged as what it is (our
//! own `info` line) instead of tasker's ERROR, and publishes no domain event.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::sync::lock;

/// How long a cancelled step is remembered (its late completion comes
/// within the completion timeout; the rest is margin).
const REMEMBER: Duration = Duration::from_secs(600);

static CANCELLED: Mutex<Option<HashMap<Uuid, Instant>>> = Mutex::new(None);

/// Notes that `step` was cancelled; forgets old entries.
pub fn mark(step: Uuid) {
    let mut guard = lock(&CANCELLED);
    let steps = guard.get_or_insert_with(HashMap::new);
    steps.retain(|_, at| at.elapsed() < REMEMBER);
    steps.insert(step, Instant::now());
}

/// Whether `step` was cancelled while this process ran it.
pub fn contains(step: &Uuid) -> bool {
    lock(&CANCELLED).as_ref().is_some_and(|steps| steps.contains_key(step))
}

#[cfg(test)]
mod tests {
    #[test]
    fn remembers_what_was_marked() {
        let (a, b) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
        super::mark(a);
        assert!(super::contains(&a));
        assert!(!super::contains(&b));
    }
}
