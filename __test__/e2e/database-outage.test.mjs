// PostgreSQL stopped for 5 s (the real server, restarted on the same port)
// while tasks flow: the worker keeps running, healthCheck() says the
// database is away, steps flow again within 5 s of the server answering, and
// every task created completes. This suite starts an environment of its own.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { prepareTemplates, startEnvironment, uniqueNamespace } from '../../devenv/environment.mjs';
import { query } from '../../devenv/orchestration.mjs';
import { eventually, runtimeName, sleep, stepsByName } from '../helpers/environment.mjs';
import { pkg } from '../helpers/package.mjs';

let env;
let templates;

describe('database outage', { timeout: 300_000 }, () => {
  before(async () => {
    env = await startEnvironment();
    templates = prepareTemplates(uniqueNamespace(`outage_${runtimeName}`), undefined, { only: ['single'] });
  });

  after(async () => {
    await pkg.getTaskerRuntime().close();
    templates?.remove();
    await env?.stop();
  });

  test('steps flow again within 5 s of PostgreSQL answering, and every task completes', async () => {
    const handled = [];
    const worker = new pkg.Worker({
      config: { databaseUrl: env.databaseUrl, templatePath: templates.path, namespace: templates.namespace, environment: 'test', logLevel: 'error' },
      concurrency: 4,
    });
    worker.register('single.step', (ctx) => {
      handled.push({ at: Date.now(), task: ctx.taskUuid });
      return { ok: true };
    });
    await worker.start();
    const runtime = pkg.getTaskerRuntime();
    const created = [];
    let creating = true;
    const creator = (async () => {
      for (let i = 0; creating; i++) {
        try {
          created.push((await env.client.createTask({ name: 'single', namespace: templates.namespace, context: { mode: 'outage', i } })).taskUuid);
        } catch {
          // The orchestration cannot create tasks while the database is down.
        }
        await sleep(200);
      }
    })();
    try {
      await eventually(() => handled.length >= 3, { what: 'tasks flowing' });
      await env.stopDatabase();
      const downAt = Date.now();
      await eventually(() => runtime.healthCheck().databaseReachable === false, { timeoutMs: 10_000, what: 'healthCheck to see the outage' });
      const health = runtime.healthCheck();
      assert.equal(health.healthy, false);
      assert.match(health.message, /cannot reach its database/);
      await sleep(Math.max(0, 5000 - (Date.now() - downAt)));
      await env.startDatabase();
      const upAt = Date.now();
      const first = await eventually(() => handled.find((h) => h.at > upAt), { timeoutMs: 30_000, what: 'a step after the restart' });
      const resumedMs = first.at - upAt;
      console.log(`database outage (${runtimeName}): down ${upAt - downAt} ms; first step ${resumedMs} ms after PostgreSQL answered again`);
      assert.ok(resumedMs <= 5000, `steps flow again ${resumedMs} ms after the restart`);
      await eventually(() => runtime.healthCheck().databaseReachable, { timeoutMs: 10_000, what: 'healthCheck to see the database again' });
      creating = false;
      await creator;
      for (const uuid of created) {
        // What a task that did not complete looks like, for whoever reads the failure.
        const describeTask = async (what) => {
          const steps = await stepsByName(env.client, uuid).catch((e) => e.message);
          const history = await query(
            env.databaseUrl,
            `SELECT s.to_state, s.created_at, s.metadata FROM tasker.workflow_step_transitions s JOIN tasker.workflow_steps w ON w.workflow_step_uuid = s.workflow_step_uuid WHERE w.task_uuid = '${uuid}' ORDER BY s.created_at`,
          ).catch((e) => e.message);
          return `${what}; task ${created.indexOf(uuid) + 1} of ${created.length}; steps ${JSON.stringify(steps)}; step transitions ${JSON.stringify(history)}`;
        };
        // A step whose result was lost in the outage is failed as retryable
        // after a 60 s grace (a result may still be in transit until then),
        // then retried: up to ~65 s plus the retry's backoff.
        // blocked_by_failures can be passing while a retry is pending: wait for an end state.
        const task = await env.client.waitForTask(uuid, { timeoutMs: 120_000, states: ['complete', 'error', 'cancelled', 'resolved_manually'] }).catch(async (error) => {
          throw new Error(await describeTask(error.message));
        });
        if (task.status !== 'complete') assert.fail(await describeTask(`task ${uuid} ended ${task.status}`));
      }
      console.log(`database outage (${runtimeName}): all ${created.length} tasks created complete`);
    } finally {
      creating = false;
      await creator;
      await worker.stop();
    }
  });
});
