// A task cancelled through the API while its step runs: the handler's
// ctx.signal aborts within 1 s (reason: StepCancelledError), no result is
// sent for it, nothing is logged above `info`, and the worker goes on with
// other steps. The tasker-worker command runs in a child process (its own
// log, native lines included, is read whole), in push and in poll delivery.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { startCli } from '../helpers/cli-process.mjs';
import { eventually, runtimeName, suiteTemplates, useEnvironment } from '../helpers/environment.mjs';

let env;
let templates;
let handlers;
const started = [];

// `long.step` runs until its signal aborts, then logs how it ended;
// `single.step` answers at once.
const HANDLERS = {
  'long.mjs': `export async function step(ctx) {
  ctx.logger.info('handler started', { task: ctx.taskUuid });
  await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
  ctx.logger.info('handler aborted', { task: ctx.taskUuid, reason: ctx.signal.reason?.name, message: ctx.signal.reason?.message, at: Date.now() });
  return { late: true };
}
`,
  'single.mjs': 'export const step = (ctx) => ({ echoed: ctx.taskContext.n });\n',
};

function launch(delivery) {
  const worker = startCli(
    ['--handlers', handlers, '--templates', templates.path, '--namespace', templates.namespace, '--delivery', delivery, '--log-format', 'json', '--log-level', 'info'],
    { env: { DATABASE_URL: env.databaseUrl, TASKER_ENV: 'test', NO_COLOR: '1', ...(process.env.TASKER_FFI_MODULE_PATH ? { TASKER_FFI_MODULE_PATH: process.env.TASKER_FFI_MODULE_PATH } : {}) } },
  );
  started.push(worker);
  return worker;
}

/** Lines of the worker's output above info: its JSON lines and the native (tracing) lines. */
function aboveInfo(output) {
  // eslint-disable-next-line no-control-regex
  const plain = output.replace(/\x1b\[[0-9;]*m/g, '');
  return plain.split('\n').filter((line) => {
    if (line.startsWith('{')) {
      try {
        return ['warn', 'error'].includes(JSON.parse(line).level);
      } catch {
        return false;
      }
    }
    return /\b(WARN|ERROR)\b/.test(line);
  });
}

describe('cancelling a task while its step runs', { timeout: 240000 }, () => {
  before(async () => {
    env = await useEnvironment();
    templates = suiteTemplates('cancel', ['long', 'single']);
    handlers = mkdtempSync(join(tmpdir(), 'wt-cancel-handlers-'));
    for (const [file, source] of Object.entries(HANDLERS)) writeFileSync(join(handlers, file), source);
  });

  after(async () => {
    await Promise.all(started.map((w) => w.stop('SIGKILL')));
    templates?.remove();
    rmSync(handlers, { recursive: true, force: true });
    await env?.release();
  });

  for (const delivery of ['push', 'poll']) {
    test(`${delivery}: the handler's signal aborts within 1 s, no result is sent, nothing above info is logged`, async () => {
      const worker = launch(delivery);
      await worker.waitFor((e) => e.msg === 'worker started');
      const { taskUuid } = await env.client.createTask({ name: 'long', namespace: templates.namespace, context: { run: `${delivery}-${Date.now()}` } });
      await worker.waitFor((e) => e.msg === 'handler started' && e.task === taskUuid);
      const cancelledAt = Date.now();
      await env.client.cancelTask(taskUuid);
      const aborted = await worker.waitFor((e) => e.msg === 'handler aborted' && e.task === taskUuid, 10000);
      const latency = aborted.at - cancelledAt;
      console.log(`cancellation (${runtimeName}, ${delivery}): the handler's signal aborted ${latency} ms after cancelTask returned`);
      assert.ok(latency <= 1000, `aborted ${latency} ms after the cancel`);
      assert.equal(aborted.reason, 'StepCancelledError');
      assert.equal(aborted.message, 'the task was cancelled');

      // The worker goes on: another task completes.
      const other = await env.client.createTask({ name: 'single', namespace: templates.namespace, context: { n: 1, run: `${delivery}-${Date.now()}` } });
      assert.equal((await env.client.waitForTask(other.taskUuid, { timeoutMs: 30000 })).status, 'complete');

      const task = await env.client.getTask(taskUuid);
      assert.equal(task.status, 'cancelled');
      const [step] = await env.client.listSteps(taskUuid);
      assert.equal(step.currentState, 'cancelled');
      assert.deepEqual(await env.client.getStepAudit(taskUuid, step.stepUuid), [], 'no result was stored for the cancelled step');
      await worker.stop();
      const loud = aboveInfo(worker.output);
      assert.deepEqual(loud, [], `nothing above info:\n${loud.join('\n')}`);
      assert.match(worker.output, /the task was cancelled while its handler ran/);
    });
  }
});
