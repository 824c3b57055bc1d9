// Bridge capacity: synthetic steps enter the dispatch channel as fast as it
// takes them; push delivery hands them to trivial handlers whose results go
// back through the completion path. Events per second, round trip:
//   worker         the real Worker (batched push, its default)
//   worker-single  the Worker with maxBatch 1: one event per native call
//   addon          a bare batch callback completing each event
//   addon-single   a bare one-event callback
// The *-single modes are the baseline of the same run.
import { native, pkg } from '../lib/package.mjs';
import { params, report, runCase, sleep } from '../lib/child.mjs';
import { harnessRuntime } from '../lib/harness-runtime.mjs';
import { median } from '../lib/stats.mjs';

const RESULT = { outcome: 'success', result: { shipped: true } };

/** Starts consuming the harness's events the way `mode` says; returns the stop function. */
async function consume(harness, mode, maxInFlight) {
  if (mode.startsWith('worker')) {
    const worker = new pkg.Worker({ config: {}, runtime: harnessRuntime(harness), concurrency: maxInFlight, maxBatch: mode === 'worker' ? 64 : 1 });
    worker.register('shop.ship', () => ({ shipped: true }));
    await worker.start();
    return () => worker.stop();
  }
  const complete = (event) => {
    if (!harness.tryComplete(event.eventId, RESULT)) harness.completeAsync(event.eventId, RESULT);
  };
  const subscription =
    mode === 'addon'
      ? harness.subscribeBatches((events) => events.forEach(complete), { maxInFlight })
      : harness.subscribe(complete, { maxInFlight });
  return () => subscription.close();
}

async function roundTrip(harness, count) {
  const target = harness.resultsReceived + count;
  const started = process.hrtime.bigint();
  await harness.inject(count, 0);
  while (harness.resultsReceived < target) await sleep(1);
  return count / (Number(process.hrtime.bigint() - started) / 1e9);
}

runCase(async () => {
  const { mode, events = 50_000, warmup = 5_000, rounds = 3, maxInFlight = 64 } = params();
  const harness = native.bench.createHarness({ capacity: 10_000 });
  const stop = await consume(harness, mode, maxInFlight);
  await roundTrip(harness, warmup);
  const rates = [];
  for (let round = 0; round < rounds; round++) rates.push(await roundTrip(harness, events));
  const metrics = harness.metrics();
  await stop();
  harness.close();
  // Every event tracked and completed: nothing dropped, nothing left in flight.
  const expected = warmup + rounds * events;
  if (metrics.completedCount !== expected || metrics.inFlightCount !== 0) {
    throw new Error(`expected ${expected} completions and none in flight, got ${JSON.stringify(metrics)}`);
  }
  report({ mode, maxInFlight, events, rounds, eventsPerSecond: Math.round(median(rates)), rates: rates.map(Math.round) });
});
