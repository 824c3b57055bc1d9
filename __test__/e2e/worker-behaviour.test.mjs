// The Worker against the real environment: timeouts, the concurrency limit,
// poll delivery, and a shutdown in the middle of a burst that leaves no step
// claimed but unprocessed.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { eventually, sleep, stepsByName, suiteTemplates, useEnvironment } from '../helpers/environment.mjs';
import { pkg } from '../helpers/package.mjs';

const { Worker, EventNames, getTaskerRuntime } = pkg;

let env;
let templates;

function newWorker(options = {}) {
  return new Worker({
    config: {
      databaseUrl: env.databaseUrl,
      templatePath: templates.path,
      namespace: templates.namespace,
      environment: 'test',
      logLevel: 'error',
    },
    ...options,
  });
}

const createSingle = async (context) => (await env.client.createTask({ name: 'single', namespace: templates.namespace, context })).taskUuid;

describe('Worker on the real environment', { timeout: 300000 }, () => {
  before(async () => {
    env = await useEnvironment();
    templates = suiteTemplates('behaviour', ['single']);
  });

  after(async () => {
    // A failed test may leave a worker running: stop it before the environment.
    await getTaskerRuntime().close();
    templates?.remove();
    await env?.release();
  });

  test('timeouts, the concurrency limit and poll delivery', async () => {
    const worker = newWorker({ delivery: 'poll', concurrency: 2 });
    let active = 0;
    let maxActive = 0;
    const aborted = [];
    worker.register('single.step', async (ctx) => {
      active++;
      maxActive = Math.max(maxActive, active);
      try {
        if (ctx.taskContext.mode === 'hang' && ctx.retryCount === 0) {
          // Past the template's 2 s timeout: the signal must fire.
          await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
          aborted.push(ctx.signal.reason.name);
          return { ignored: true };
        }
        await sleep(150);
        return { attempt: ctx.retryCount + 1 };
      } finally {
        active--;
      }
    });
    await worker.start();
    try {
      const hung = await createSingle({ mode: 'hang' });
      const burst = await Promise.all(Array.from({ length: 8 }, (_, i) => createSingle({ mode: 'burst', i })));
      const task = await env.client.waitForTask(hung, { timeoutMs: 60000 });
      assert.equal(task.status, 'complete');
      assert.deepEqual(aborted, ['TimeoutError'], 'the handler saw its signal fire');
      const step = (await stepsByName(env.client, hung)).only_step;
      assert.deepEqual(step.results.result, { attempt: 2 }, 'retried after the timeout');
      for (const uuid of burst) assert.equal((await env.client.waitForTask(uuid, { timeoutMs: 60000 })).status, 'complete');
      assert.ok(maxActive >= 1 && maxActive <= 2, `never more than the concurrency limit (saw ${maxActive})`);
    } finally {
      await worker.stop();
    }
  });

  test('shutdown in the middle of a burst leaves no step claimed but unprocessed', async () => {
    const worker = newWorker({ concurrency: 4, drainTimeoutMs: 400 });
    let finished = 0;
    const slowStarts = [];
    worker.register('single.step', async (ctx) => {
      // Even ones finish quickly; odd ones outlast the drain deadline.
      if (ctx.taskContext.i % 2 === 0) {
        await sleep(100);
        finished++;
      } else {
        slowStarts.push(Date.now());
        await sleep(5000);
      }
      return { i: ctx.taskContext.i };
    });
    await worker.start();
    let tasks;
    let summary;
    try {
      tasks = await Promise.all(Array.from({ length: 16 }, (_, i) => createSingle({ mode: 'shutdown-burst', i })));
      // Stop mid-burst: some steps done, a slow handler still running. It
      // started under a second ago, so that the drain deadline (400 ms), not
      // its step's 2 s timeout, ends it even when events arrive slowly.
      const slowJustStarted = () => slowStarts.some((at) => Date.now() - at < 1000);
      await eventually(() => finished >= 1 && slowJustStarted(), { what: 'a finished step and a slow handler that just started' });
    } finally {
      summary = await worker.stop();
    }
    assert.ok(summary.abandoned >= 1, `some handlers were cut off: ${JSON.stringify(summary)}`);

    // Every step is either complete or was handed back: none stays in_progress.
    const states = async () => {
      const all = await Promise.all(tasks.map((uuid) => stepsByName(env.client, uuid)));
      return all.map((steps) => steps.only_step.currentState);
    };
    const settled = await eventually(
      async () => {
        const now = await states();
        return now.every((s) => !['in_progress', 'enqueued_for_orchestration', 'enqueued_as_error_for_orchestration'].includes(s)) && now;
      },
      { timeoutMs: 30000, what: 'no step left in progress' },
    );
    assert.ok(settled.includes('complete'), `some finished: ${settled}`);
    assert.ok(settled.some((s) => s !== 'complete'), `some were handed back: ${settled}`);

    // A new worker finishes the rest: nothing was lost.
    const second = newWorker({ concurrency: 8 });
    const handled = [];
    second.events.subscribe(EventNames.STEP_EXECUTION_RECEIVED, ({ event }) => handled.push(event.workflowStep.attempts));
    second.register('single.step', (ctx) => ({ i: ctx.taskContext.i, resumed: true }));
    await second.start();
    try {
      for (const uuid of tasks) {
        const task = await env.client.waitForTask(uuid, { timeoutMs: 60000 }).catch(async (e) => {
          const steps = await env.client.listSteps(uuid);
          throw new Error(`${e.message}; steps: ${JSON.stringify(steps)}`);
        });
        assert.equal(task.status, 'complete');
      }
      // Handed-back steps come back as retries; steps the first worker never
      // claimed (claims follow its concurrency) arrive as first attempts.
      assert.ok(handled.some((attempts) => attempts >= 1), `the second worker ran retries: ${handled}`);
    } finally {
      await second.stop();
    }
  });
  test('stop returns within a second of the last handler finishing, not at the drain deadline', async () => {
    const worker = newWorker({ drainTimeoutMs: 5000 });
    let startedAt;
    let finishedAt;
    worker.register('single.step', async () => {
      startedAt = Date.now();
      await sleep(1500);
      finishedAt = Date.now();
      return { slow: true };
    });
    await worker.start();
    const task = await createSingle({ mode: 'prompt-stop' });
    await eventually(() => startedAt, { what: 'the handler to start' });
    const summary = await worker.stop();
    const stoppedAt = Date.now();
    const afterLastMs = stoppedAt - finishedAt;
    console.log(`stop: returned ${afterLastMs} ms after the last handler finished (drainTimeoutMs 5000)`);
    assert.equal(summary.completed, 1);
    assert.equal(summary.abandoned, 0);
    assert.ok(afterLastMs <= 1000, `stop took ${afterLastMs} ms after the last handler`);
    assert.equal((await env.client.waitForTask(task)).status, 'complete');
  });
});
