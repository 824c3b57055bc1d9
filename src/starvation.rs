//! Starvation: claimed steps that wait too long, in a handler (taken by JS
//! and not completed) or in the channel (JS is not taking them: a blocked
//! event loop, a poller that stopped). A monitor task looks every
//! CHECK_EVERY, in both delivery modes, and logs one warning line with the
//! counts and the oldest age when starvation starts, a reminder at most every
//! REMIND_EVERY while it lasts (if the picture changed), and a line when it ends.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::dispatch::{Dispatch, Report};

pub const CHECK_EVERY: Duration = Duration::from_millis(250);
/// With nothing claimed the monitor sleeps until a claim is asked or a step
/// taken (a timeout or starvation needs one); this is its fallback check.
const IDLE_CHECK_EVERY: Duration = Duration::from_secs(5);
const REMIND_EVERY: Duration = Duration::from_secs(30);

/// Logs starvation once per episode (plus rare reminders), never once per tick.
#[derive(Default)]
pub struct Announcer {
    since: Option<Instant>,
    last_said: Option<(Instant, usize)>,
}

impl Announcer {
    /// What to log for this report, if anything.
    pub fn line(&mut self, report: &Report, threshold: Duration, now: Instant) -> Option<(tracing::Level, String)> {
        let starving = report.starving();
        if starving == 0 {
            let since = self.since.take()?;
            self.last_said = None;
            return Some((tracing::Level::INFO, format!("starvation over after {} ms: every claimed step is moving again", since.elapsed().as_millis())));
        }
        let remind = match self.last_said {
            None => true,
            Some((at, count)) => now.duration_since(at) >= REMIND_EVERY && count != starving,
        };
        self.since.get_or_insert(now);
        if !remind {
            return None;
        }
        self.last_said = Some((now, starving));
        let oldest = report.oldest.unwrap_or_default().as_millis();
        Some((
            tracing::Level::WARN,
            format!(
                "{starving} claimed step(s) older than the starvation threshold ({} ms): {} in handlers not completed, {} waiting for JS to take them; oldest {oldest} ms. Is the event loop blocked, a handler stuck, or the poller stopped?",
                threshold.as_millis(),
                report.in_handlers,
                report.waiting,
            ),
        ))
    }
}

/// Every CHECK_EVERY while steps are claimed: fail overdue events (both
/// delivery modes) and report starvation. An idle worker's monitor waits for
/// activity instead, so it does not wake four times a second for nothing.
pub async fn monitor(dispatch: Arc<Dispatch>, mut stopped: watch::Receiver<bool>) {
    let threshold = dispatch.starvation_threshold();
    let mut announcer = Announcer::default();
    let mut interval = tokio::time::interval(CHECK_EVERY);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        if dispatch.is_idle() {
            tokio::select! {
                _ = dispatch.admission.activity() => {}
                _ = tokio::time::sleep(IDLE_CHECK_EVERY) => {}
                _ = stopped.changed() => break,
            }
            // Check again one full period after the activity, as when busy.
            interval.reset();
        }
        tokio::select! {
            _ = interval.tick() => {}
            _ = stopped.changed() => break,
        }
        dispatch.cleanup_timeouts();
        let report = dispatch.starvation(threshold);
        match announcer.line(&report, threshold, Instant::now()) {
            Some((tracing::Level::WARN, line)) => tracing::warn!(target: "tasker_worker_js", starving = report.starving(), "{line}"),
            Some((_, line)) => tracing::info!(target: "tasker_worker_js", "{line}"),
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: fn(u64) -> Duration = Duration::from_millis;

    #[test]
    fn one_line_per_episode_not_per_tick() {
        let mut a = Announcer::default();
        let t0 = Instant::now();
        let starving = Report { in_handlers: 2, waiting: 1, oldest: Some(MS(1200)) };
        let (level, line) = a.line(&starving, MS(1000), t0).unwrap();
        assert_eq!(level, tracing::Level::WARN);
        assert!(line.contains("3 claimed step(s)") && line.contains("2 in handlers") && line.contains("1 waiting") && line.contains("oldest 1200 ms"), "{line}");
        for tick in 1..100 {
            assert!(a.line(&starving, MS(1000), t0 + MS(tick * 250)).is_none(), "no repeat on tick {tick}");
        }
        let worse = Report { in_handlers: 5, ..starving };
        assert!(a.line(&worse, MS(1000), t0 + REMIND_EVERY + MS(1)).is_some(), "a reminder when the picture changed");
        let (level, _) = a.line(&Report::default(), MS(1000), t0 + MS(40_000)).unwrap();
        assert_eq!(level, tracing::Level::INFO);
        assert!(a.line(&Report::default(), MS(1000), t0 + MS(41_000)).is_none());
    }
}
