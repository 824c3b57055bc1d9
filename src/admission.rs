//! How many steps the worker may hold claimed, and which claims are still on
//! their way into the dispatch channel.
//!
//! The worker reads step messages only while it has room (src/claiming.rs):
//! room = limit − (claims asked of tasker-worker whose step has not reached
//! JS yet + steps in JS handlers). A request counts from the moment it is
//! asked, so no step is ever uncounted on its way into the channel.
//! tasker-worker claims and dispatches one command at a time, in order, so
//! the dispatch channel holds the claimed ones among the requests in request
//! order: when JS takes the step of request k, every earlier answered request
//! still listed was never claimed. That also gives the waiting steps' ages
//! without a forwarding task.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::Notify;
use uuid::Uuid;

use crate::sync::lock;

/// Steps held claimed in poll mode when `maxClaimedSteps` is not set.
pub const DEFAULT_LIMIT: usize = 10;

struct Request {
    step_uuid: Uuid,
    at: Instant,
    answered: Option<Instant>,
}

/// An answered request not taken by JS after this long, with nothing
/// waiting in the channel, was not claimed (another worker had the step).
const UNCLAIMED_AFTER: Duration = Duration::from_secs(1);

pub struct Admission {
    limit: AtomicUsize,
    /// Set by `maxClaimedSteps`: a push subscription does not change it then.
    fixed: bool,
    unanswered: AtomicUsize,
    requests: Mutex<VecDeque<Request>>,
    room_changed: Notify,
    /// A claim was asked or a step taken: wakes an idle starvation monitor.
    activity: Notify,
}

impl Admission {
    /// Without an explicit `limit`, nothing is claimed until JS consumes
    /// steps: a push subscription sets the limit to its maxInFlight, the
    /// first poll to DEFAULT_LIMIT.
    pub fn new(limit: Option<usize>) -> Self {
        Self {
            limit: AtomicUsize::new(limit.unwrap_or(0)),
            fixed: limit.is_some(),
            unanswered: AtomicUsize::new(0),
            requests: Mutex::new(VecDeque::new()),
            room_changed: Notify::new(),
            activity: Notify::new(),
        }
    }

    pub fn limit(&self) -> usize {
        self.limit.load(Ordering::SeqCst)
    }

    /// Follows a push subscription's maxInFlight unless `maxClaimedSteps` was given.
    pub fn follow(&self, max_in_flight: usize) {
        if !self.fixed {
            self.limit.store(max_in_flight.max(1), Ordering::SeqCst);
            self.room_changed.notify_one();
        }
    }

    /// JS polled: claim up to DEFAULT_LIMIT unless a limit is set already.
    pub fn polled(&self) {
        if !self.fixed && self.limit.compare_exchange(0, DEFAULT_LIMIT, Ordering::SeqCst, Ordering::SeqCst).is_ok() {
            self.room_changed.notify_one();
        }
    }

    /// Claims asked of tasker-worker and not answered yet.
    pub fn unanswered(&self) -> usize {
        self.unanswered.load(Ordering::SeqCst)
    }

    /// Room left given the steps JS runs now.
    pub fn room(&self, in_handlers: usize) -> usize {
        self.limit().saturating_sub(in_handlers + lock(&self.requests).len())
    }

    /// Resolves when room may have grown (a step left, an answer came).
    pub async fn room_changed(&self) {
        self.room_changed.notified().await
    }

    pub fn notify(&self) {
        self.room_changed.notify_one();
    }

    /// Resolves on the next claim asked or step taken (or at once if one
    /// happened since the last call: the permit is kept).
    pub async fn activity(&self) {
        self.activity.notified().await
    }

    /// Whether no claim is asked or answered and not yet taken by JS.
    pub fn is_empty(&self) -> bool {
        lock(&self.requests).is_empty()
    }

    /// A claim of `step_uuid` was asked of tasker-worker.
    pub fn requested(&self, step_uuid: Uuid) {
        self.unanswered.fetch_add(1, Ordering::SeqCst);
        lock(&self.requests).push_back(Request { step_uuid, at: Instant::now(), answered: None });
        self.activity.notify_one();
    }

    /// tasker-worker answered the claim of `step_uuid` (claimed and dispatched, or not claimed).
    pub fn answered(&self, step_uuid: Uuid) {
        if let Some(r) = lock(&self.requests).iter_mut().find(|r| r.step_uuid == step_uuid && r.answered.is_none()) {
            r.answered = Some(Instant::now());
        }
        self.unanswered.fetch_sub(1, Ordering::SeqCst);
        self.room_changed.notify_one();
    }

    /// JS took the step: it leaves the list, and so does every earlier answered
    /// request (never claimed, or JS would have taken it first). An earlier
    /// request whose answer is still on its way stays until it is answered.
    pub fn taken(&self, step_uuid: Uuid) {
        self.activity.notify_one();
        let mut requests = lock(&self.requests);
        if let Some(at) = requests.iter().position(|r| r.step_uuid == step_uuid) {
            let mut index = 0;
            requests.retain(|r| {
                let keep = index > at || (index < at && r.answered.is_none());
                index += 1;
                keep
            });
        }
    }

    /// Whether a claim of `step_uuid` was asked and the step has not reached JS yet.
    pub fn is_pending(&self, step_uuid: Uuid) -> bool {
        lock(&self.requests).iter().any(|r| r.step_uuid == step_uuid)
    }

    /// Ages of the answered requests that may be waiting in the channel: the
    /// oldest `waiting` of them (the channel holds exactly that many claims).
    /// With none waiting, answered requests older than UNCLAIMED_AFTER were
    /// never claimed: they are forgotten (and free their room).
    pub fn waiting_ages(&self, waiting: usize) -> Vec<Duration> {
        let mut requests = lock(&self.requests);
        if waiting == 0 {
            let before = requests.len();
            requests.retain(|r| r.answered.is_none_or(|at| at.elapsed() < UNCLAIMED_AFTER));
            if requests.len() < before {
                tracing::debug!(target: "tasker_worker_js", unclaimed = before - requests.len(), "claims tasker-worker did not make (the step was not claimable) freed their room");
                self.room_changed.notify_one();
            }
            return Vec::new();
        }
        requests.iter().filter(|r| r.answered.is_some()).take(waiting).map(|r| r.at.elapsed()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    #[test]
    fn room_counts_unanswered_claims_and_held_steps() {
        let a = Admission::new(Some(3));
        assert_eq!(a.room(0), 3);
        a.requested(id(1));
        a.requested(id(2));
        assert_eq!(a.room(0), 1);
        a.answered(id(1));
        // Answered but not taken yet: still counted.
        assert_eq!(a.room(0), 1);
        a.taken(id(1));
        assert_eq!(a.room(1), 1, "taken: now counted as in a handler");
        a.follow(50);
        assert_eq!(a.limit(), 3, "an explicit limit does not follow the subscription");
    }

    #[test]
    fn a_taken_step_settles_earlier_unclaimed_requests() {
        let a = Admission::new(None);
        assert_eq!(a.limit(), 0, "nothing is claimed before JS consumes");
        a.polled();
        assert_eq!(a.limit(), DEFAULT_LIMIT);
        a.follow(4);
        assert_eq!(a.limit(), 4);
        for n in 1..=3 {
            a.requested(id(n));
            a.answered(id(n));
        }
        // Request 1 was not claimed; 2 reached JS first.
        a.taken(id(2));
        assert!(!a.is_pending(id(1)) && !a.is_pending(id(2)));
        assert!(a.is_pending(id(3)));
        assert_eq!(a.waiting_ages(1).len(), 1);
        assert!(a.waiting_ages(0).is_empty());
        assert!(a.is_pending(id(3)), "answered just now: it may still be on its way");
        std::thread::sleep(UNCLAIMED_AFTER + Duration::from_millis(10));
        assert!(a.waiting_ages(0).is_empty());
        assert!(!a.is_pending(id(3)), "nothing waits: request 3 was not claimed");
        assert_eq!(a.room(0), 4);
    }
}
