// Memory: RSS and JS heap of a process as events flow through the whole
// bridge (push delivery, the Worker, completions), after a warm-up, with full
// garbage collections before each reading. A reading every `every` events
// tells a leak (steady growth) from an allocator settling (growth that stops):
// the slope over the second half is reported beside the overall growth.
import { native, pkg } from '../lib/package.mjs';
import { collectGarbage, params, report, runCase, sleep } from '../lib/child.mjs';
import { harnessRuntime } from '../lib/harness-runtime.mjs';

async function drive(harness, count) {
  const target = harness.resultsReceived + count;
  await harness.inject(count, 0);
  while (harness.resultsReceived < target) await sleep(5);
}

async function reading(events) {
  for (let i = 0; i < 3; i++) {
    collectGarbage();
    await sleep(50);
  }
  const m = process.memoryUsage();
  return { events, rssBytes: m.rss, heapUsedBytes: m.heapUsed };
}

/** Least-squares slope of `key` against events, in bytes per 10k events. */
function slopePer10k(readings, key) {
  const n = readings.length;
  const mx = readings.reduce((s, r) => s + r.events, 0) / n;
  const my = readings.reduce((s, r) => s + r[key], 0) / n;
  const num = readings.reduce((s, r) => s + (r.events - mx) * (r[key] - my), 0);
  const den = readings.reduce((s, r) => s + (r.events - mx) ** 2, 0);
  return Math.round((num / den) * 10_000);
}

runCase(async () => {
  const { events = 100_000, warmup = 10_000, every = 10_000, maxInFlight = 64 } = params();
  // A worker holds at most maxInFlight claimed steps (src/admission.rs): the
  // harness's channel is sized the same, not filled a thousand deep.
  const harness = native.bench.createHarness({ capacity: maxInFlight });
  const runtime = harnessRuntime(harness);
  const worker = new pkg.Worker({ config: {}, runtime, concurrency: maxInFlight });
  worker.register('shop.ship', (ctx) => ({ shipped: true, items: ctx.taskContext.items?.length }));
  await worker.start();
  await drive(harness, warmup);
  const readings = [await reading(0)];
  let busy = 0;
  for (let done = 0; done < events; done += every) {
    const started = process.hrtime.bigint();
    await drive(harness, Math.min(every, events - done));
    busy += Number(process.hrtime.bigint() - started) / 1e9;
    readings.push(await reading(Math.min(done + every, events)));
  }
  await worker.stop();
  harness.close();
  const [before, after] = [readings[0], readings.at(-1)];
  const secondHalf = readings.slice(Math.floor(readings.length / 2));
  const per10k = (key) => Math.round(((after[key] - before[key]) / events) * 10_000);
  report({
    events,
    before,
    after,
    growthPer10kBytes: { rss: per10k('rssBytes'), heapUsed: per10k('heapUsedBytes') },
    secondHalfSlopePer10kBytes: { rss: slopePer10k(secondHalf, 'rssBytes'), heapUsed: slopePer10k(secondHalf, 'heapUsedBytes') },
    readings,
    eventsPerSecond: Math.round(events / busy),
  });
});
