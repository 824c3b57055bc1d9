// The tasker-worker command against the devenv: started as a child process
// (under Node through `npx tasker-worker`, under Bun with bun itself) on the
// guide's handler folder, it serves tasker's health and metrics endpoints,
// runs workflows to completion and drains on SIGTERM, finishing the step in
// flight. Start failures have their exit codes. Every process is stopped.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { prepareTemplates, uniqueNamespace } from '../../devenv/environment.mjs';
import { unitsInStock } from '../../examples/guide/handlers/inventory.mjs';
import { freePort, startCli } from '../helpers/cli-process.mjs';
import { eventually, runtimeName, stepsByName, suiteTemplates, useEnvironment } from '../helpers/environment.mjs';

const root = new URL('../../', import.meta.url).pathname;
const GUIDE_HANDLERS = join(root, 'examples/guide/handlers');
const BATCH_HANDLERS = join(root, '__test__/helpers/batch-handlers');

let env;
let templates;
let slowDir;
const started = [];

/** Under Node the command runs as users run it, through npx; under Bun with bun. */
function launch(args, extraEnv = {}) {
  const viaNpx = runtimeName === 'node';
  const worker = startCli(args, {
    env: { DATABASE_URL: env.databaseUrl, TASKER_ENV: 'test', ...extraEnv },
    ...(viaNpx ? { command: 'npx', prefix: ['--no-install', 'tasker-worker'] } : {}),
  });
  started.push(worker);
  return worker;
}

describe('the tasker-worker command', { timeout: 300000 }, () => {
  before(async () => {
    env = await useEnvironment();
    templates = suiteTemplates('cli', ['guide_checkout', 'guide_shipping', 'single']);
    // A handler module of the test's own: `single.step` holds until its signal file appears.
    slowDir = mkdtempSync(join(tmpdir(), 'wt-cli-slow-'));
    writeFileSync(
      join(slowDir, 'single.mjs'),
      `import { existsSync, writeFileSync } from 'node:fs';
export async function step(ctx) {
  writeFileSync(ctx.taskContext.startedFile, 'started');
  while (!existsSync(ctx.taskContext.releaseFile)) await new Promise((r) => setTimeout(r, 20));
  return { finished: true, pid: process.pid };
}
`,
    );
  });

  after(async () => {
    await Promise.all(started.map((w) => w.stop('SIGKILL')));
    templates?.remove();
    if (slowDir) rmSync(slowDir, { recursive: true, force: true });
    await env?.release();
  });

  test('serves health and metrics, runs workflows, and drains on SIGTERM', async () => {
    const port = await freePort();
    const worker = launch(
      ['--handlers', GUIDE_HANDLERS, '--handlers', slowDir, '--templates', templates.path, '--namespace', templates.namespace,
        '--web', `127.0.0.1:${port}`, '--concurrency', '4', '--drain-timeout', '20000', '--log-format', 'json', '--log-level', 'warn'],
      // warn for the native worker, and for this command's own lines only its start and stop
    );
    const startedAt = Date.now();
    const ready = await worker.waitFor((e) => e.msg === 'worker started' || e.level === 'error');
    assert.equal(ready.msg, 'worker started', worker.output);
    process.stdout.write(`# tasker-worker (${runtimeName}) ready in ${Date.now() - startedAt} ms\n`);
    assert.equal(ready.health, `http://127.0.0.1:${port}/health`);
    assert.equal(ready.namespaces, templates.namespace);
    assert.equal(typeof ready.pid, 'number');
    if (runtimeName !== 'node') assert.equal(ready.pid, worker.child.pid);

    const health = await fetch(`http://127.0.0.1:${port}/health`);
    assert.equal(health.status, 200);
    const metrics = await fetch(`http://127.0.0.1:${port}/metrics`);
    assert.equal(metrics.status, 200);
    assert.ok((await metrics.text()).length > 0);

    const { taskUuid: checkout } = await env.client.createTask({
      name: 'checkout',
      namespace: templates.namespace,
      context: { orderId: 'CLI-1', country: 'FR', lines: [{ sku: 'A', quantity: 2, unitPrice: 10, weightKg: 1 }] },
    });
    const task = await env.client.waitForTask(checkout, { timeoutMs: 60000 });
    assert.equal(task.status, 'complete');
    const steps = await stepsByName(env.client, checkout);
    assert.deepEqual(steps.price_order.results.result, { orderId: 'CLI-1', subtotal: 20, tax: 4, total: 24 });

    // A step in flight when SIGTERM comes is finished, not abandoned.
    const work = mkdtempSync(join(tmpdir(), 'wt-cli-drain-'));
    try {
      const startedFile = join(work, 'started');
      const releaseFile = join(work, 'release');
      const { taskUuid: slow } = await env.client.createTask({ name: 'single', namespace: templates.namespace, context: { startedFile, releaseFile } });
      await eventually(() => existsSync(startedFile), { what: 'the slow handler to start' });
      const signalledAt = Date.now();
      // The worker process itself: npm (under npx) does not pass SIGTERM on to its child.
      process.kill(worker.workerPid, 'SIGTERM');
      await worker.waitFor((e) => /^SIGTERM: draining/.test(e.msg ?? ''));
      setTimeout(() => writeFileSync(releaseFile, 'go'), 300);
      const exit = await worker.exited;
      assert.deepEqual(exit, { code: 0, signal: null }, worker.output);
      const stopped = worker.entries.find((e) => e.msg === 'worker stopped');
      assert.deepEqual([stopped.completed, stopped.abandoned], [1, 0], JSON.stringify(stopped));
      process.stdout.write(`# tasker-worker (${runtimeName}) drained and exited ${Date.now() - signalledAt} ms after SIGTERM\n`);
      const done = await env.client.waitForTask(slow, { timeoutMs: 30000 });
      assert.equal(done.status, 'complete');
      assert.equal((await stepsByName(env.client, slow)).only_step.results.result.finished, true);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  test('start failures: a missing handler exits 3 before booting, an unreachable database 4', async () => {
    const missing = launch(['--handlers', GUIDE_HANDLERS, '--templates', templates.path, '--log-format', 'json']);
    const missingExit = await missing.exited;
    assert.equal(missingExit.code, 3, missing.output);
    assert.match(missing.output, /step 'only_step' .*no handler for 'single\.step'/);
    const noDatabase = launch(['--handlers', GUIDE_HANDLERS, '--templates', templates.path, '--no-validate', '--log-format', 'json'], {
      DATABASE_URL: 'postgresql://nobody:secret@127.0.0.1:1/none',
    });
    const noDatabaseExit = await noDatabase.exited;
    assert.equal(noDatabaseExit.code, 4, noDatabase.output);
    assert.match(noDatabase.output, /"msg":"cannot start"/);
  });

  test('1,200 items in batches over two worker processes: a transient failure resumes from its checkpoint', async () => {
    const batchTemplates = prepareTemplates(uniqueNamespace(`cli_batch_${runtimeName}`), undefined, { only: ['guide_inventory'] });
    const work = mkdtempSync(join(tmpdir(), 'wt-cli-batch-'));
    const runsFile = join(work, 'runs.jsonl');
    writeFileSync(runsFile, '');
    try {
      const args = ['--handlers', BATCH_HANDLERS, '--templates', batchTemplates.path, '--concurrency', '1', '--log-format', 'json', '--log-level', 'warn'];
      const batchEnv = { RUNS_FILE: runsFile, FAIL_BATCH: '002', SEGMENT_DELAY_MS: '300' };
      const workers = [launch(args, batchEnv), launch(args, batchEnv)];
      for (const w of workers) assert.equal((await w.waitFor((e) => e.msg === 'worker started' || e.level === 'error')).msg, 'worker started', w.output);

      const startedAt = Date.now();
      const { taskUuid } = await env.client.createTask({ name: 'stock_count', namespace: batchTemplates.namespace, context: { warehouse: 'HAM-2', skuCount: 1200 } });
      const task = await env.client.waitForTask(taskUuid, { timeoutMs: 120000 });
      assert.equal(task.status, 'complete');
      process.stdout.write(`# tasker-worker (${runtimeName}) counted 1,200 SKUs in 5 batches over 2 processes in ${Date.now() - startedAt} ms\n`);

      let units = 0;
      let lowStock = 0;
      for (let sku = 0; sku < 1200; sku++) {
        const n = await unitsInStock('HAM-2', sku);
        units += n;
        if (n < 10) lowStock++;
      }
      const steps = await stepsByName(env.client, taskUuid);
      const summary = steps.summarize_stock.results.result;
      assert.deepEqual(summary, { warehouse: 'HAM-2', skus: 1200, batches: 5, units, lowStock }, 'every item counted exactly once');

      const runs = readFileSync(runsFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      // Two processes never count an item twice (above), and they share the
      // work: with one slot each and segments of at least 300 ms, the idle
      // one is woken for the batches waiting in the queue. One that runs
      // none does not serve the namespace: both booted on it at once and its
      // template registration lost tasker's find-then-insert race (its log
      // says "errors during TaskTemplate discovery"), so tasker-worker left
      // it serving 'default'.
      const perWorker = workers.map((w) => runs.filter((r) => r.pid === w.workerPid).length);
      process.stdout.write(`# segments per process: ${perWorker.join(', ')}\n`);
      workers.forEach((w, i) => assert.ok(perWorker[i] > 0, `worker ${w.workerPid} ran no segment (${perWorker.join('/')}); its output:\n${w.output.slice(-3000)}`));
      const failing = runs.filter((r) => r.batch === '002');
      const failed = failing.find((r) => r.failed);
      assert.ok(failed, `batch 002 failed once: ${JSON.stringify(failing)}`);
      assert.equal(failed.from, 450, 'it failed after two checkpoints (250 + 200)');
      const retried = failing.filter((r) => !r.failed && r.attempt > 0);
      assert.ok(retried.length > 0, `batch 002 ran again: ${JSON.stringify(failing)}`);
      assert.equal(retried[0].from, 450, 'the retry resumed at the checkpoint, not at the start of the batch');
      assert.equal(steps.count_stock_002.attempts, 2);

      for (const w of workers) {
        const exit = await w.stop('SIGTERM');
        assert.equal(exit.code, 0, w.output);
      }
    } finally {
      batchTemplates.remove();
      rmSync(work, { recursive: true, force: true });
    }
  });
});
