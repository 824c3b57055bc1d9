// A worker process whose JS event loop blocks: once it has taken its first
// step event (push or poll, DELIVERY), it prints `BLOCK <epoch ms>` and
// busy-waits BLOCK_MS, then completes everything, prints the dispatch
// metrics as `METRICS <json>` and stops. The starvation warning goes to
// stderr with the worker's other log lines.
import { native } from './native.mjs';

const env = process.env;
const blockMs = Number(env.BLOCK_MS);
const success = { outcome: 'success', result: {} };
await native.bootstrapWorkerAsync({
  databaseUrl: env.DATABASE_URL,
  templatePath: env.TEMPLATE_PATH,
  namespace: env.NAMESPACE,
  environment: 'test',
  logLevel: 'warn',
  dispatch: { starvationThresholdMs: Number(env.THRESHOLD_MS), completionTimeoutMs: 120_000 },
});
process.stdout.write('READY\n');

const taken = [];
const block = () => {
  process.stdout.write(`BLOCK ${Date.now()}\n`);
  const until = Date.now() + blockMs;
  while (Date.now() < until) {
    // The event loop is blocked: nothing JS runs, the native side goes on.
  }
};
await new Promise((resolve) => {
  if (env.DELIVERY === 'push') {
    const subscription = native.subscribeStepEvents((event) => {
      taken.push(event);
      if (taken.length === 1) {
        block();
        subscription.close();
        resolve();
      }
    }, { maxInFlight: 1 });
  } else {
    const timer = setInterval(() => {
      taken.push(...native.pollStepEvents(1));
      if (taken.length) {
        clearInterval(timer);
        block();
        resolve();
      }
    }, 10);
  }
});
process.stdout.write(`METRICS ${JSON.stringify(native.getFfiDispatchMetrics())}\n`);
for (const event of taken) native.completeStepEvent(event.eventId, success);
// Whatever waited in the channel meanwhile.
for (let idle = 0; idle < 20; ) {
  const events = native.pollStepEvents(10);
  for (const event of events) native.completeStepEvent(event.eventId, success);
  idle = events.length ? 0 : idle + 1;
  await new Promise((r) => setTimeout(r, 100));
}
await native.stopWorkerAsync();
process.stdout.write('DONE\n');
