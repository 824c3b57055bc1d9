import assert from 'node:assert/strict';
import { test } from 'node:test';

import { FakeRuntime, makeEvent } from '../helpers/fake-runtime.mjs';
import { pkg } from '../helpers/package.mjs';

const { EventPoller } = pkg;
const count = (runtime, name) => runtime.calls.filter((c) => c[0] === name).length;

test('maintenance runs on the classic schedule', async () => {
  const runtime = new FakeRuntime();
  const metrics = [];
  const poller = new EventPoller(runtime, { onMetrics: (m) => metrics.push(m) });
  for (let i = 0; i < 2000; i++) await poller.tick();
  assert.equal(count(runtime, 'pollStepEvents'), 2000);
  assert.equal(count(runtime, 'checkStarvationWarnings'), 20);
  assert.equal(count(runtime, 'cleanupTimeouts'), 2);
  assert.equal(metrics.length, 20);
  assert.equal(metrics.at(-1).ticks, 2000);
  assert.equal(metrics[0].mode, 'poll');
});

test('events go to onStepEvent, never more than the capacity', async () => {
  const runtime = new FakeRuntime();
  runtime.queue.push(makeEvent(), makeEvent(), makeEvent());
  const got = [];
  let room = 2;
  const poller = new EventPoller(runtime, { capacity: () => room }).onStepEvent((e) => got.push(e.eventId));
  await poller.tick();
  assert.equal(got.length, 2);
  room = 0;
  await poller.tick();
  assert.equal(got.length, 2, 'nothing taken without room');
  assert.equal(runtime.queue.length, 1, 'the event stays in the channel');
  room = 5;
  await poller.tick();
  assert.equal(got.length, 3);
});

test('an error in one poll goes to onError and polling continues', async () => {
  const runtime = new FakeRuntime();
  const errors = [];
  const got = [];
  const poller = new EventPoller(runtime, { intervalMs: 1 }).onError((e) => errors.push(e)).onStepEvent((e) => got.push(e));
  runtime.failPoll = new Error('poll broke');
  poller.start();
  await new Promise((r) => setTimeout(r, 30));
  runtime.failPoll = undefined;
  runtime.queue.push(makeEvent());
  await new Promise((r) => setTimeout(r, 30));
  await poller.stop();
  assert.ok(errors.length >= 1);
  assert.equal(errors[0].message, 'poll broke');
  assert.equal(got.length, 1);
});

test('start/stop: runs every intervalMs, never overlapping, stop waits for the poll in progress', async () => {
  const runtime = new FakeRuntime();
  let active = 0;
  let maxActive = 0;
  const poller = new EventPoller(runtime, { intervalMs: 10 });
  const tick = poller.tick.bind(poller);
  poller.tick = async () => {
    active++;
    maxActive = Math.max(maxActive, active);
    await new Promise((r) => setTimeout(r, 15));
    await tick();
    active--;
  };
  assert.equal(poller.isRunning(), false);
  poller.start();
  assert.equal(poller.isRunning(), true);
  await new Promise((r) => setTimeout(r, 120));
  await poller.stop(1000);
  assert.equal(poller.isRunning(), false);
  assert.equal(maxActive, 1, 'polls never overlap');
  const polls = count(runtime, 'pollStepEvents');
  assert.ok(polls >= 2 && polls <= 6, `about one poll per 25 ms, got ${polls}`);
  assert.equal(active, 0, 'stop waited for the poll in progress');
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(count(runtime, 'pollStepEvents'), polls, 'no polls after stop');
});
