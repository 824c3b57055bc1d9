// Delivery latency: synthetic steps enter the dispatch channel at a jittered
// pace; the real Worker (push or 10 ms poll) runs a handler whose first act
// records how long the step took from the channel to the handler. Delivery
// `callback` subscribes without the Worker: the addon's push alone.
import { native, pkg } from '../lib/package.mjs';
import { params, report, runCase, sleep } from '../lib/child.mjs';
import { distribution } from '../lib/stats.mjs';
import { harnessRuntime } from '../lib/harness-runtime.mjs';

async function settle(harness, expected, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  while (harness.resultsReceived < expected) {
    if (Date.now() > deadline) throw new Error(`only ${harness.resultsReceived} of ${expected} completions arrived`);
    await sleep(10);
  }
}

/** The addon's subscription with a bare callback, shaped like the Worker calls used here. */
function rawSubscriber(harness, maxInFlight) {
  let subscription;
  return {
    register() {},
    async start() {
      subscription = harness.subscribe((event) => {
        harness.markStarted(event.eventId);
        if (!harness.tryComplete(event.eventId, { outcome: 'success', result: { shipped: true } })) {
          harness.completeAsync(event.eventId, { outcome: 'success', result: { shipped: true } });
        }
      }, { maxInFlight });
    },
    async stop() {
      subscription.close();
    },
  };
}

runCase(async () => {
  const { delivery, events = 2000, meanGapUs = 2000, warmup = 300, concurrency = 10 } = params();
  const harness = native.bench.createHarness();
  const runtime = harnessRuntime(harness);
  const worker = delivery === 'callback' ? rawSubscriber(harness, concurrency) : new pkg.Worker({ config: {}, runtime, delivery, concurrency });
  worker.register('shop.ship', (ctx) => {
    harness.markStarted(ctx.event.eventId);
    return { shipped: true };
  });
  await worker.start();
  await harness.inject(warmup, 200, true);
  await settle(harness, warmup);
  harness.takeLatenciesUs();
  await harness.inject(events, meanGapUs, true);
  await settle(harness, warmup + events);
  const latencies = harness.takeLatenciesUs();
  await worker.stop();
  harness.close();
  if (latencies.length !== events) throw new Error(`measured ${latencies.length} of ${events} events`);
  report({ delivery, events, meanGapUs, latencyUs: distribution(latencies) });
});
