// A worker process for the crash tests. Every handler run is logged to
// RUNS_FILE (a JSON line: step, pid, attempt, time) before it starts, then
// holds for HOLD_MS (so a kill finds handlers running). Prints READY once
// started; drains and exits on SIGTERM, printing STOPPED once stopped.
import { appendFileSync } from 'node:fs';

import { pkg } from './package.mjs';

const env = process.env;
const worker = new pkg.Worker({
  config: {
    databaseUrl: env.DATABASE_URL,
    templatePath: env.TEMPLATE_PATH,
    namespace: env.NAMESPACE,
    workerId: env.WORKER_ID,
    environment: 'test',
    logLevel: 'warn',
  },
  concurrency: Number(env.CONCURRENCY),
  handleSignals: true,
  drainTimeoutMs: 2000,
});
worker.register('long.step', async (ctx) => {
  appendFileSync(env.RUNS_FILE, `${JSON.stringify({ step: ctx.stepUuid, pid: process.pid, attempt: ctx.retryCount, at: Date.now() })}\n`);
  await new Promise((resolve) => {
    const timer = setTimeout(resolve, Number(env.HOLD_MS));
    ctx.signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  return { pid: process.pid };
});
worker.events.subscribe(pkg.EventNames.WORKER_STOPPED, () => process.stdout.write('STOPPED\n'));
await worker.start();
process.stdout.write('READY\n');
