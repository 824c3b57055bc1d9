// The benchmark exports measure the real bridge, so they must carry the same
// data as the API: the typed event equals its JSON baseline, a harness
// delivers synthetic steps by poll and push and takes their completions,
// and opaque results cross with JSON semantics (no database needed).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { benchAddon } from '../helpers/bench-addon.mjs';
import { expectCode } from '../helpers/native.mjs';

const { bench } = benchAddon;
const withoutIds = (event) => JSON.parse(JSON.stringify({ ...event, eventId: undefined }));

async function until(predicate, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('bench bridge functions', () => {
  test('the typed event and the JSON baseline carry the same data', () => {
    const typed = bench.stepEvent();
    const parsed = JSON.parse(bench.stepEventJson());
    // JSON leaves absent optionals as null where the typed object leaves them out.
    const dropNulls = (v) => JSON.parse(JSON.stringify(v, (_, x) => (x === null ? undefined : x)));
    assert.deepEqual(dropNulls(withoutIds(typed)), dropNulls(withoutIds(parsed)));
    assert.equal(typed.task.context.items.length, 20);
    assert.ok(bench.stepEventJson().length > 2000, 'a realistic event of a few KB');
  });

  test('completions convert the same either way, and bad ones are refused', async () => {
    const completion = { outcome: 'success', result: { n: 1, list: [1, 2] }, executionTimeMs: 2 };
    assert.equal(bench.acceptCompletion(completion), true);
    assert.equal(bench.acceptCompletionJson(JSON.stringify(completion)), true);
    const failed = { outcome: 'retryable_failure', error: { message: 'down' } };
    assert.equal(bench.acceptCompletion(failed), false);
    assert.equal(bench.acceptCompletionJson(JSON.stringify(failed)), false);
    await expectCode(() => bench.acceptCompletionJson('{not json'), 'INVALID_ARGUMENT', /json/);
  });

  test('a field of the wrong type is named in the error', async () => {
    await expectCode(() => bench.acceptCompletion({ outcome: 'success', executionTimeMs: 'slow' }), 'INVALID_ARGUMENT', /executionTimeMs/);
    await expectCode(() => bench.acceptCompletion({ outcome: 'finished' }), 'INVALID_ARGUMENT', /outcome.*success/);
    await expectCode(() => bench.acceptCompletion({ outcome: 'retryable_failure', error: { message: 7 } }), 'INVALID_ARGUMENT', /error\.message/);
    await expectCode(() => bench.acceptCompletion([1]), 'INVALID_ARGUMENT', /object/);
    await expectCode(() => bench.acceptCompletion('success'), 'INVALID_ARGUMENT', /object/);
  });

  test('a result that is not JSON-serializable is a clear error', async () => {
    const circular = { a: 1 };
    circular.self = circular;
    await expectCode(() => bench.acceptCompletion({ outcome: 'success', result: circular }), 'INVALID_ARGUMENT', /result.*JSON-serializable.*(circular|cyclic)/i);
    await expectCode(() => bench.acceptCompletion({ outcome: 'success', result: { big: 10n } }), 'INVALID_ARGUMENT', /JSON-serializable/);
    await expectCode(() => bench.acceptCompletion({ outcome: 'success', result: () => 1 }), 'INVALID_ARGUMENT', /result/);
    // Dates and toJSON follow JSON.stringify.
    assert.equal(bench.acceptCompletion({ outcome: 'success', result: { at: new Date(0), v: { toJSON: () => 'x' } } }), true);
  });
});

describe('bench harness', () => {
  test('poll delivers injected steps; completions reach the channel; latency is recorded', async () => {
    const harness = bench.createHarness();
    try {
      assert.equal(await harness.inject(5, 0, true), 5);
      await until(() => harness.metrics().pendingCount === 5);
      const events = harness.poll(10);
      assert.equal(events.length, 5);
      assert.equal(new Set(events.map((e) => e.stepUuid)).size, 5, 'each synthetic step has its own uuid');
      for (const e of events) harness.markStarted(e.eventId);
      assert.equal(harness.takeLatenciesUs().length, 5);
      assert.equal(harness.metrics().inFlightCount, 5);
      for (const e of events) await harness.completeAsync(e.eventId, { outcome: 'success', result: { ok: true } });
      await until(() => harness.resultsReceived === 5);
      assert.equal(harness.metrics().completedCount, 5);
      await expectCode(() => harness.complete(events[0].eventId, { outcome: 'success' }), 'UNKNOWN_EVENT');
    } finally {
      harness.close();
    }
  });

  test('an idle dispatch still times out a step on time: the monitor wakes when a step is taken', async () => {
    const harness = bench.createHarness({ completionTimeoutMs: 300 });
    try {
      // Long enough for the monitor to find nothing to watch and sleep (its
      // fallback check is 5 s away).
      await new Promise((resolve) => setTimeout(resolve, 600));
      await harness.inject(1, 0, true);
      await until(() => harness.metrics().pendingCount === 1);
      const [event] = harness.poll(1);
      const taken = Date.now();
      await until(() => harness.metrics().timedOutCount === 1, 5000);
      const ms = Date.now() - taken;
      // 300 ms timeout + one 250 ms check period + scheduling slack.
      assert.ok(ms < 1500, `timed out after ${ms} ms`);
      await expectCode(() => harness.complete(event.eventId, { outcome: 'success' }), 'UNKNOWN_EVENT');
    } finally {
      harness.close();
    }
  });

  test('push delivers at most maxInFlight until completions free slots', async () => {
    const harness = bench.createHarness();
    const received = [];
    const subscription = harness.subscribe((event) => received.push(event), { maxInFlight: 3 });
    try {
      await harness.inject(10, 0);
      await until(() => received.length === 3);
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(received.length, 3, 'no more than maxInFlight outstanding');
      for (let done = 0; done < 10; done++) {
        await until(() => received.length > done);
        harness.complete(received[done].eventId, { outcome: 'success' });
      }
      await until(() => harness.resultsReceived === 10);
    } finally {
      subscription.close();
      harness.close();
    }
  });
  test('batch push hands ready events over together, within maxBatch and maxInFlight', async () => {
    const harness = bench.createHarness();
    await harness.inject(10, 0);
    const calls = [];
    const subscription = harness.subscribeBatches((events) => calls.push(events), { maxInFlight: 4, maxBatch: 3 });
    try {
      await until(() => calls.flat().length === 4);
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual(calls.map((c) => c.length), [3, 1], 'three ready at once, then the last free slot');
      assert.equal(subscription.inFlight, 4);
      for (let done = 0; done < 10; done++) {
        await until(() => calls.flat().length > done);
        harness.complete(calls.flat()[done].eventId, { outcome: 'success' });
      }
      await until(() => harness.resultsReceived === 10);
      const all = calls.flat();
      assert.equal(new Set(all.map((e) => e.eventId)).size, 10, 'each event once');
      assert.ok(calls.every((c) => c.length >= 1 && c.length <= 3));
    } finally {
      subscription.close();
      harness.close();
    }
  });

  test("a throwing batch callback fails every event of that call as retryable", async () => {
    const harness = bench.createHarness();
    await harness.inject(3, 0);
    let first;
    const subscription = harness.subscribeBatches((events) => {
      first ??= events;
      throw new Error('batch consumer broke');
    }, { maxInFlight: 5 });
    try {
      await until(() => harness.metrics().failedCount === 3);
      assert.equal(first.length, 3);
      assert.equal(harness.metrics().inFlightCount, 0);
      await expectCode(() => harness.complete(first[0].eventId, { outcome: 'success' }), 'UNKNOWN_EVENT');
    } finally {
      subscription.close();
      harness.close();
    }
  });

  test('maxBatch is checked, and belongs to batch subscriptions', async () => {
    const harness = bench.createHarness();
    try {
      await expectCode(() => harness.subscribeBatches(() => {}, { maxBatch: 0 }), 'INVALID_ARGUMENT', /maxBatch/);
      await expectCode(() => harness.subscribeBatches(() => {}, { maxBatch: 1001 }), 'INVALID_ARGUMENT', /maxBatch/);
      await expectCode(() => harness.subscribe(() => {}, { maxBatch: 8 }), 'INVALID_ARGUMENT', /subscribeStepEventBatches/);
      await expectCode(() => harness.subscribeBatches('nope'), 'INVALID_ARGUMENT', /callback/);
    } finally {
      harness.close();
    }
  });
});
