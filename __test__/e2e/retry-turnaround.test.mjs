// Retries come back on time: a step that asks for a 1 s backoff is run again
// about a second later, and one that fails all three attempts with 1 s
// backoffs reaches its final error within seconds (the devenv's orchestration
// looks for due retries every second, as tasker-core's own test setup does).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { suiteTemplates, useEnvironment } from '../helpers/environment.mjs';
import { pkg } from '../helpers/package.mjs';

const { RetryableError } = pkg;
let env;
let templates;
let worker;
const attempts = new Map(); // task uuid → start times of its attempts (ms)

describe('retry turnaround', { timeout: 120_000 }, () => {
  before(async () => {
    env = await useEnvironment();
    templates = suiteTemplates('retry', ['flaky']);
    worker = new pkg.Worker({
      config: { databaseUrl: env.databaseUrl, templatePath: templates.path, namespace: templates.namespace, environment: 'test', logLevel: 'error' },
    });
    worker.register('flaky.step', (ctx) => {
      const seen = attempts.get(ctx.taskUuid) ?? [];
      seen.push(Date.now());
      attempts.set(ctx.taskUuid, seen);
      if (ctx.taskContext.failAlways || ctx.retryCount === 0) throw new RetryableError('not yet', { backoffSeconds: 1 });
      return { attempt: ctx.retryCount + 1 };
    });
    await worker.start();
  });

  after(async () => {
    await worker?.stop();
    templates?.remove();
    await env?.release();
  });

  test('a 1 s backoff is run again within a few seconds', async () => {
    const { taskUuid } = await env.client.createTask({ name: 'flaky', namespace: templates.namespace, context: { turnaround: Date.now() } });
    assert.equal((await env.client.waitForTask(taskUuid, { timeoutMs: 60_000, intervalMs: 100 })).status, 'complete');
    const [first, second] = attempts.get(taskUuid);
    const gap = second - first;
    console.log(`# retry turnaround: backoff 1000 ms requested, attempt 2 began ${gap} ms after attempt 1`);
    assert.ok(gap >= 900, `not before the backoff: ${gap} ms`);
    assert.ok(gap < 5000, `re-run ${gap} ms after a 1 s backoff`);
  });

  test('three attempts with 1 s backoffs reach their final error in under 10 s', async () => {
    const created = Date.now();
    const { taskUuid } = await env.client.createTask({ name: 'flaky', namespace: templates.namespace, context: { failAlways: true, at: created } });
    const task = await env.client.waitForTask(taskUuid, { timeoutMs: 60_000, intervalMs: 100 });
    const elapsed = Date.now() - created;
    const starts = attempts.get(taskUuid);
    console.log(`# retry turnaround: 3 attempts, gaps ${starts.slice(1).map((t, i) => t - starts[i]).join(' / ')} ms, final state ${elapsed} ms after creation`);
    assert.equal(task.status, 'blocked_by_failures');
    assert.equal(starts.length, 3);
    assert.ok(elapsed < 10_000, `final error after ${elapsed} ms`);
  });
});
