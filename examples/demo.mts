/**
 * The demo: brings up the local environment (PostgreSQL + tasker-core
 * orchestration), starts a TypeScript worker with the shop handlers, runs a
 * real order through the workflow, shows its progress and the results, and
 * tears everything down.
 */
import { EventNames, TaskerClient, Worker } from '@tasker-systems/worker';
import { fileURLToPath } from 'node:url';

import { startEnvironment } from '../devenv/environment.mjs';
import { registerShopHandlers } from './handlers.mjs';

const say = (line: string) => console.log(line);

async function main(): Promise<void> {
  const started = Date.now();
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)}s`;
  say('Bringing up PostgreSQL (pgmq, tasker schema) and the tasker-core orchestration server...');
  const env = await startEnvironment({ log: (m) => say(`  [env] ${m}`) });
  const worker = new Worker({
    config: {
      databaseUrl: env.databaseUrl,
      templatePath: fileURLToPath(new URL('./templates', import.meta.url)),
      namespace: 'demo_shop',
      logLevel: 'error',
    },
    concurrency: 4,
  });
  try {
    registerShopHandlers(worker);
    worker.events.subscribe(EventNames.STEP_EXECUTION_RECEIVED, ({ event }) =>
      say(`  [${elapsed()}] ▶ ${event.workflowStep.name} (attempt ${event.workflowStep.attempts + 1})`),
    );
    worker.events.subscribe(EventNames.STEP_COMPLETION_SENT, ({ outcome, durationMs, stepUuid }) =>
      say(`  [${elapsed()}] ${outcome === 'success' ? '✔' : '✖'} ${outcome} in ${durationMs.toFixed(1)} ms (${stepUuid.slice(0, 8)})`),
    );
    const boot = await worker.start();
    say(`TypeScript worker ${boot.workerId} is running (push delivery).`);

    const order = {
      orderId: 'ORD-1001',
      customer: 'ada@example.com',
      items: [
        { sku: 'KB-01', qty: 1, price: 89.9 },
        { sku: 'MS-02', qty: 2, price: 24.5 },
      ],
    };
    // What any service does to submit and watch work: the package's client.
    const client = new TaskerClient({ baseUrl: env.orchestrationUrl });
    const { taskUuid } = await client.createTask({ name: 'order_fulfillment', namespace: 'demo_shop', context: order, reason: 'demo', tags: ['demo'] });
    say(`Created task ${taskUuid} for order ${order.orderId}; waiting for it to finish...`);
    const task = await client.waitForTask(taskUuid, { timeoutMs: 120000 });
    const steps = new Map((await client.listSteps(taskUuid)).map((step) => [step.name, step]));
    say(`\nTask ${taskUuid}: ${task.status} after ${elapsed()}`);
    for (const name of ['validate_order', 'reserve_inventory', 'charge_payment', 'ship_order']) {
      const step = steps.get(name);
      if (!step) throw new Error(`the task has no step ${name}`);
      const result = (step.results as { result?: unknown } | undefined)?.result;
      say(`  ${name.padEnd(18)} ${step.currentState.padEnd(9)} attempts=${step.attempts}  ${JSON.stringify(result)}`);
    }
    if (task.status !== 'complete') process.exitCode = 1;
  } finally {
    const summary = await worker.stop();
    say(`\nWorker stopped (${JSON.stringify(summary)}); tearing down the environment.`);
    await env.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
