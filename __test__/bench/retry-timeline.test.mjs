// The retry benchmark's reading of a step's transitions.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { retryTimeline } from '../../bench/lib/retry-timeline.mjs';

const steps = (...pairs) => pairs.map(([state, atMs]) => ({ state, atMs }));

test('a step that fails once: the re-run is timed from the failure, attempts from start to start', () => {
  const timeline = retryTimeline(steps(
    ['pending', 0], ['enqueued', 10], ['in_progress', 20],
    ['enqueued_as_error_for_orchestration', 30], ['error', 40], ['waiting_for_retry', 45],
    ['enqueued', 1200], ['in_progress', 1230], ['enqueued_for_orchestration', 1240], ['complete', 1250],
  ));
  assert.deepEqual(timeline, { attempts: 2, failures: 1, rerunAfterFailureMs: [1200], attemptGapMs: [1210] });
});

test('three failed attempts: two re-runs, the last failure has none', () => {
  const attempt = (start) => [['in_progress', start], ['enqueued_as_error_for_orchestration', start + 5], ['error', start + 8]];
  const timeline = retryTimeline(steps(['enqueued', 0], ...attempt(10), ['enqueued', 1100], ...attempt(1110), ['enqueued', 2300], ...attempt(2310)));
  assert.equal(timeline.attempts, 3);
  assert.equal(timeline.failures, 3);
  assert.deepEqual(timeline.rerunAfterFailureMs, [1095, 1195]);
  assert.deepEqual(timeline.attemptGapMs, [1100, 1200]);
});

test('a failure state outside an attempt (none has begun) is not a failure', () => {
  assert.deepEqual(retryTimeline(steps(['error', 5], ['in_progress', 10], ['complete', 20])), { attempts: 1, failures: 0, rerunAfterFailureMs: [], attemptGapMs: [] });
  assert.deepEqual(retryTimeline([]), { attempts: 0, failures: 0, rerunAfterFailureMs: [], attemptGapMs: [] });
});
