import assert from 'node:assert/strict';
import { test } from 'node:test';

import { FakeRuntime, makeEvent } from '../helpers/fake-runtime.mjs';
import { pkg } from '../helpers/package.mjs';

const { PushDelivery } = pkg;

test('subscribes with maxInFlight and hands events over', async () => {
  const runtime = new FakeRuntime();
  const got = [];
  const push = new PushDelivery(runtime, { maxInFlight: 3, onStepEvent: (e) => got.push(e) });
  push.start();
  assert.deepEqual(runtime.calls.find((c) => c[0] === 'subscribeStepEvents')[1], { maxInFlight: 3 });
  assert.equal(push.isRunning(), true);
  for (let i = 0; i < 5; i++) runtime.push(makeEvent());
  assert.equal(got.length, 3, 'flow control holds at maxInFlight');
  assert.equal(push.inFlight, 3);
  await push.stop();
  assert.equal(push.isRunning(), false);
  assert.equal(runtime.subscription.closed, true);
});

test('a throwing consumer is reported, not thrown into the native callback', () => {
  const runtime = new FakeRuntime();
  const errors = [];
  const push = new PushDelivery(runtime, {
    onStepEvent: () => {
      throw new Error('consumer broke');
    },
    onError: (e) => errors.push(e.message),
  });
  push.start();
  assert.doesNotThrow(() => runtime.push(makeEvent()));
  assert.deepEqual(errors, ['consumer broke']);
});

test('metrics are published on a timer while running', async () => {
  const runtime = new FakeRuntime();
  const metrics = [];
  const push = new PushDelivery(runtime, { metricsIntervalMs: 10, onMetrics: (m) => metrics.push(m) });
  push.start();
  runtime.push(makeEvent());
  await new Promise((r) => setTimeout(r, 55));
  await push.stop();
  const n = metrics.length;
  assert.ok(n >= 2, `got ${n}`);
  assert.equal(metrics[0].mode, 'push');
  assert.equal(metrics.at(-1).eventsReceived, 1);
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(metrics.length, n, 'no metrics after stop');
});

test('setMetricsWanted stops and restarts the metrics timer', async () => {
  const runtime = new FakeRuntime();
  let reads = 0;
  const read = runtime.getFfiDispatchMetrics.bind(runtime);
  runtime.getFfiDispatchMetrics = () => (reads++, read());
  const push = new PushDelivery(runtime, { metricsIntervalMs: 5, onMetrics: () => {} });
  push.setMetricsWanted(false);
  push.start();
  await new Promise((r) => setTimeout(r, 40));
  assert.equal(reads, 0, 'not wanted before start: no timer');
  push.setMetricsWanted(true);
  await new Promise((r) => setTimeout(r, 40));
  assert.ok(reads >= 2, `wanted: read ${reads} times`);
  push.setMetricsWanted(false);
  const n = reads;
  await new Promise((r) => setTimeout(r, 40));
  assert.equal(reads, n, 'turned off: no more reads');
  await push.stop();
});

test('a batch hands every event to the consumer, in order, even when one of them throws', () => {
  const runtime = new FakeRuntime();
  const got = [];
  const errors = [];
  const events = [makeEvent(), makeEvent(), makeEvent()];
  const push = new PushDelivery(runtime, {
    maxInFlight: 10,
    maxBatch: 8,
    onStepEvent: (e) => {
      if (e === events[1]) throw new Error('the second broke');
      got.push(e.eventId);
    },
    onError: (e) => errors.push(e.message),
  });
  push.start();
  assert.equal(runtime.pushBatch(events), 3, 'one call carried the three events');
  assert.deepEqual(got, [events[0].eventId, events[2].eventId]);
  assert.deepEqual(errors, ['the second broke']);
  assert.equal(push.eventsReceived, 3);
});

test('by default, with maxBatch 1, or on a runtime without batches: one event per call', () => {
  for (const [runtime, options] of [
    [new FakeRuntime(), {}],
    [new FakeRuntime(), { maxBatch: 1 }],
    [Object.assign(new FakeRuntime(), { subscribeStepEventBatches: undefined }), { maxBatch: 8 }],
  ]) {
    const got = [];
    const push = new PushDelivery(runtime, { maxInFlight: 4, ...options, onStepEvent: (e) => got.push(e) });
    push.start();
    assert.deepEqual(runtime.calls.map((c) => c[0]), ['subscribeStepEvents']);
    runtime.push(makeEvent());
    assert.equal(got.length, 1);
  }
});
