// The floors the benchmarks compare against must measure what they claim:
// every call arrives, a round trip never has more than its window of calls
// unanswered, and the event a floor carries is the bridge benchmark's event.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { benchAddon } from '../helpers/bench-addon.mjs';
import { expectCode } from '../helpers/native.mjs';

const { bench } = benchAddon;

/** Runs `count` round-trip calls; the callback answers each by returning. */
function roundTrips(count, window, withEvent) {
  return new Promise((resolve) => {
    const seen = [];
    bench.roundTripFloor((event) => {
      seen.push(event);
      if (seen.length === count) resolve(seen);
    }, count, window, withEvent);
  });
}

describe('bench floors', () => {
  test('a round trip carries the bridge benchmark event, every call arriving', async () => {
    const events = await roundTrips(200, 8, true);
    assert.equal(events.length, 200);
    const expected = JSON.parse(bench.stepEventJson());
    for (const event of events) {
      assert.equal(typeof event.eventId, 'string');
      assert.deepEqual(event.task.context, expected.task.context);
    }
  });

  test('bare round trips carry their send time', async () => {
    const before = bench.monotonicNs();
    const sent = await roundTrips(100, 4, false);
    assert.equal(sent.length, 100);
    for (let i = 0; i < sent.length; i++) {
      assert.ok(sent[i] >= before && sent[i] <= bench.monotonicNs(), `call ${i} sent at ${sent[i]}`);
      if (i > 0) assert.ok(sent[i] >= sent[i - 1], 'calls arrive in the order sent');
    }
  });

  test('a delivery ping carries its send time and, with withEvent, the bridge benchmark event', async () => {
    const pings = (count, withEvent) =>
      new Promise((resolve) => {
        const seen = [];
        bench.pingFloor((sent) => {
          seen.push({ sent, at: bench.monotonicNs() });
          if (seen.length === count) resolve(seen);
        }, count, 50, withEvent);
      });
    const before = bench.monotonicNs();
    const expected = JSON.parse(bench.stepEventJson());
    const carried = await pings(40, true);
    for (const { sent, at } of carried) {
      assert.ok(Array.isArray(sent) && sent.length === 2, `[sentNs, event], got ${typeof sent}`);
      assert.ok(sent[0] >= before && sent[0] <= at, `sent at ${sent[0]}, seen at ${at}`);
      assert.equal(typeof sent[1].eventId, 'string');
      assert.deepEqual({ ...sent[1], eventId: expected.eventId }, expected);
    }
    const bare = await pings(40, false);
    for (const { sent, at } of bare) assert.ok(typeof sent === 'number' && sent >= before && sent <= at);
  });

  test('no call beyond the window is sent before one is answered', async () => {
    // The first callback blocks the JS thread: the window's other calls are
    // sent meanwhile, the next only after the first returned.
    const window = 3;
    let firstReturnedAt;
    const sent = await new Promise((resolve) => {
      const times = [];
      bench.roundTripFloor((sentNs) => {
        times.push(sentNs);
        if (times.length === 1) {
          const until = Date.now() + 50;
          while (Date.now() < until);
          firstReturnedAt = bench.monotonicNs();
        }
        if (times.length === 10) resolve(times);
      }, 10, window, false);
    });
    for (let i = 1; i < window; i++) assert.ok(sent[i] < firstReturnedAt, `call ${i} is within the window`);
    assert.ok(sent[window] >= firstReturnedAt, `call ${window} waited for the first answer (${sent[window]} < ${firstReturnedAt})`);
  });

  test('bad arguments are refused with a code', async () => {
    await expectCode(() => bench.roundTripFloor(() => {}, 1, 0, false), 'INVALID_ARGUMENT', /window/);
    await expectCode(() => bench.roundTripFloor('not a function', 1, 1, false), 'INVALID_ARGUMENT', /callback/);
    await expectCode(() => bench.roundTripFloor(() => {}, -1, 1, false), 'INVALID_ARGUMENT', /count/);
    await expectCode(() => bench.pingFloor(() => {}, -1, 10), 'INVALID_ARGUMENT', /count/);
    await expectCode(() => bench.pingFloor(() => {}, 1, 10, 'yes'), 'INVALID_ARGUMENT', /withEvent/);
  });
});
