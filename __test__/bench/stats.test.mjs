// The summaries the benchmark table is built from.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { distribution, median, percentile, ratio } from '../../bench/lib/stats.mjs';
import { table } from '../../bench/lib/table.mjs';

test('percentiles by nearest rank, whatever the input order', () => {
  const values = [5, 1, 4, 2, 3, 10, 9, 8, 7, 6];
  assert.equal(percentile(values, 50), 5);
  assert.equal(percentile(values, 90), 9);
  assert.equal(percentile(values, 99), 10);
  assert.equal(percentile(values, 0), 1);
  assert.equal(median([3, 1, 2]), 2);
  assert.ok(Number.isNaN(median([])));
  assert.deepEqual(distribution([2, 1, 3]), { n: 3, p50: 2, p90: 3, p95: 3, p99: 3, max: 3 });
  assert.deepEqual(values.slice(0, 3), [5, 1, 4], 'the input is not sorted in place');
});

test('ratios are rounded to two decimals', () => {
  assert.equal(ratio(1, 3), 0.33);
  assert.equal(ratio(90, 100), 0.9);
});

test('the table puts each measure beside its baseline with the ratio', () => {
  const text = table({
    latency: [
      { runtime: 'node', delivery: 'push', latencyUs: { p50: 40, p99: 900 } },
      { runtime: 'node', delivery: 'poll', latencyUs: { p50: 5000, p99: 10_000 } },
    ],
    e2e: [
      { kind: 'native', concurrency: 8, stepsPerSecond: 100, taskLatencyMs: { p50: 200, p99: 400 } },
      { kind: 'bun', concurrency: 8, stepsPerSecond: 95, taskLatencyMs: { p50: 210, p99: 420 } },
    ],
  });
  assert.match(text, /delivery latency p50 \(push vs 10 ms poll\)\s+\| node\s+\| 40 µs\s+\| 5.00 ms\s+\| 0.01/);
  assert.match(text, /delivery latency p99 .*\| 900 µs .*\| 10.00 ms .*\| 0.09/);
  assert.match(text, /end-to-end steps\/s, maxInFlight 8 \(TS vs native\)\s+\| bun\s+\| 95\s+\| 100\s+\| 0.95/);
  assert.equal(text.split('\n').length, 2 + 4);
});

test('lone-task latency, retries and scale-out each get rows against their own baseline', () => {
  const text = table({
    taskLatency: [
      { kind: 'native', tasks: 30, taskLatencyMs: { p50: 200, p95: 300 } },
      { kind: 'node', tasks: 30, taskLatencyMs: { p50: 210, p95: 330 } },
    ],
    retry: [{ runtime: 'bun', tasks: 8, backoffRequestedMs: 1000, rerunAfterFailureMs: { p50: 1500 }, attemptGapMs: { p50: 1520 }, finalError: { p50Ms: 3000 } }],
    scale: [
      { kind: 'node', workers: 1, stepsPerSecond: 40, taskLatencyMs: { p50: 1000 } },
      { kind: 'node', workers: 4, stepsPerSecond: 60, taskLatencyMs: { p50: 800 } },
    ],
  });
  assert.match(text, /lone 4-step linear task, p50 \(TS vs native, 30 tasks\)\s+\| node\s+\| 210 ms\s+\| 200 ms\s+\| 1.05/);
  assert.match(text, /lone 4-step linear task, p95 .*\| node .*\| 330 ms .*\| 300 ms .*\| 1.1/);
  assert.match(text, /re-run after a failure, p50 .*\| bun\s+\| 1500 ms\s+\| 1000 ms\s+\| 1.5/);
  assert.match(text, /3 attempts to final error, p50 .*\| bun\s+\| 3000 ms\s+\| 2000 ms\s+\| 1.5/);
  assert.match(text, /scale-out steps\/s, 4 worker processes \(vs 1\)\s+\| node\s+\| 60\s+\| 40\s+\| 1.5/);
  assert.equal(text.split('\n').length, 2 + 2 + 3 + 2, 'no row for the baselines themselves');
});

test('push delivery sits beside both floors: the bare call and the call carrying the event', () => {
  const text = table({
    latency: [
      { runtime: 'bun', delivery: 'push', latencyUs: { p50: 100, p99: 400 } },
      { runtime: 'bun', delivery: 'floor', latencyUs: { p50: 20, p99: 80 } },
      { runtime: 'bun', delivery: 'floor-event', latencyUs: { p50: 50, p99: 200 } },
    ],
  });
  assert.match(text, /the floor: a bare ThreadsafeFunction call, p50 \(vs Worker push\)\s+\| bun\s+\| 20 µs\s+\| 100 µs\s+\| 0.2/);
  assert.match(text, /the floor carrying the event \(parsed\), p50 \(vs Worker push\)\s+\| bun\s+\| 50 µs\s+\| 100 µs\s+\| 0.5/);
  assert.match(text, /the floor carrying the event \(parsed\), p99 \(vs Worker push\)\s+\| bun\s+\| 200 µs\s+\| 400 µs\s+\| 0.5/);
  assert.equal(text.split('\n').length, 2 + 4, 'without a poll run, no push-vs-poll rows');
});

test('the floors sit beside what they bound: the round trip and the idle worker', () => {
  const mib = 1024 * 1024;
  const text = table({
    throughput: [
      { runtime: 'node', mode: 'worker-single', maxInFlight: 64, eventsPerSecond: 18_000 },
      { runtime: 'node', mode: 'floor', maxInFlight: 64, eventsPerSecond: 45_000, bareEventsPerSecond: 90_000 },
    ],
    idle: [
      { runtime: 'bun', delivery: 'push', seconds: 30, cpuMs: 30, cpuPercentOfCore: 0.1, rssBytes: 66 * mib, loadedRssBytes: 50 * mib },
      { runtime: 'bun', delivery: 'poll', seconds: 30, cpuMs: 300, cpuPercentOfCore: 1, rssBytes: 67 * mib },
      { runtime: 'bun', delivery: 'bare', seconds: 30, cpuMs: 15, cpuPercentOfCore: 0.05, rssBytes: 22 * mib },
    ],
  });
  assert.match(text, /through the Worker, one per call \(vs the floor: .*\)\s+\| node\s+\| 18000\/s\s+\| 45000\/s\s+\| 0.4/);
  assert.match(text, /the floor carrying the event \(vs the same without it\)\s+\| node\s+\| 45000\/s\s+\| 90000\/s\s+\| 0.5/);
  assert.match(text, /RSS with the package loaded, before the worker starts \(vs the idle worker\)\s+\| bun\s+\| 50 MB\s+\| 66 MB\s+\| 0.76/);
  assert.match(text, /the bare runtime's CPU over 30 s \(vs the push worker\)\s+\| bun\s+\| 0.05% core\s+\| 0.1% core\s+\| 0.5/);
  assert.match(text, /RSS of the bare runtime \(vs the idle worker\)\s+\| bun\s+\| 22 MB\s+\| 66 MB\s+\| 0.33/);
});
