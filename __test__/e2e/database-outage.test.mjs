// PostgreSQL stopped for 5 s (the real server, restarted on the same port)
// while tasks flow: the worker keeps running, healthCheck() says the
// database is away, steps flow again within 5 s of the server answering, a
// result lost in the outage (its handler finished while the database was
// down) is retried within 5 s of the server answering, and every task
// created completes, the first one created after the restart within 5 s end
// to end. This suite starts an environment of its own.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { prepareTemplates, startEnvironment, uniqueNamespace } from '../../devenv/environment.mjs';
import { query } from '../../devenv/orchestration.mjs';
import { eventually, runtimeName, sleep, stepsByName } from '../helpers/environment.mjs';
import { pkg } from '../helpers/package.mjs';

const OUTAGE_MS = 5000;
let env;
let templates;

// What a task that did not complete looks like, for whoever reads the failure.
async function describeTask(uuid, what) {
  const task = await env.client.getTask(uuid).catch((e) => ({ status: e.message }));
  const steps = await stepsByName(env.client, uuid).catch((e) => e.message);
  const history = await query(
    env.databaseUrl,
    `SELECT s.to_state, s.created_at, s.metadata FROM tasker.workflow_step_transitions s JOIN tasker.workflow_steps w ON w.workflow_step_uuid = s.workflow_step_uuid WHERE w.task_uuid = '${uuid}' ORDER BY s.created_at`,
  ).catch((e) => e.message);
  const taskHistory = await query(
    env.databaseUrl,
    `SELECT to_state, created_at FROM tasker.task_transitions WHERE task_uuid = '${uuid}' ORDER BY created_at`,
  ).catch((e) => e.message);
  return `${what} (${task.status}); task transitions ${JSON.stringify(taskHistory)}; steps ${JSON.stringify(steps)}; step transitions ${JSON.stringify(history)}`;
}

// tasker-orchestration 0.1.8 moves a new task through `initializing` and
// `enqueuing_steps` in transitions of their own, and marks a step enqueued
// (committed) before it sends the step's message: an outage in between
// leaves the task in one of those states for good, with its step pending, or
// enqueued with no message ever sent (its readiness poller skips tasks in
// those states, its staleness check never looks at them). That is the
// orchestration's defect, not the worker's: a task asked for within 5 s
// before the outage or during it (its answer may come after the restart; a
// busy orchestration can take seconds to enqueue a task's steps), left so,
// is counted (at most 2) and not waited for. Of `uuids`, those left so. An
// enqueued step counts only where the test can see the queue (PGMQ): no
// message of it in the namespace's queue or its archive, so no worker took
// it; a message there that no worker claimed fails the test.
async function leftUnstartedByOrchestration(uuids) {
  if (uuids.length === 0) return new Set();
  const queue = `worker_${templates.namespace}_queue`;
  const neverSent = env.messaging === 'pgmq'
    ? `(st.to_state = 'enqueued' AND NOT EXISTS (SELECT 1 FROM pgmq.q_${queue} q WHERE q.message->>'step_uuid' = ws.workflow_step_uuid::text)
                                      AND NOT EXISTS (SELECT 1 FROM pgmq.a_${queue} a WHERE a.message->>'step_uuid' = ws.workflow_step_uuid::text))`
    : 'false';
  const rows = await query(
    env.databaseUrl,
    `SELECT t.task_uuid FROM tasker.tasks t JOIN tasker.task_transitions tt ON tt.task_uuid = t.task_uuid AND tt.most_recent
     WHERE tt.to_state IN ('initializing', 'enqueuing_steps') AND t.task_uuid = ANY('{${uuids.join(',')}}'::uuid[])
       AND NOT EXISTS (SELECT 1 FROM tasker.workflow_steps ws JOIN tasker.workflow_step_transitions st ON st.workflow_step_uuid = ws.workflow_step_uuid
                       WHERE ws.task_uuid = t.task_uuid AND st.to_state <> 'pending' AND NOT ${neverSent})`,
  );
  return new Set(rows.map((r) => r.task_uuid));
}

describe('database outage', { timeout: 300_000 }, () => {
  before(async () => {
    // On the backend of the run (scripts/test-all.sh runs it on RabbitMQ too).
    env = await startEnvironment({ messaging: process.env.TASKER_MESSAGING_BACKEND ?? 'pgmq' });
    templates = prepareTemplates(uniqueNamespace(`outage_${runtimeName}`), undefined, { only: ['single'] });
  });

  after(async () => {
    await pkg.getTaskerRuntime().close();
    templates?.remove();
    await env?.stop();
  });

  test('steps flow again, a lost result is retried and new tasks complete, each within 5 s of PostgreSQL answering', async () => {
    const handled = [];
    let down = false;
    const worker = new pkg.Worker({
      config: {
        databaseUrl: env.databaseUrl,
        messagingBackend: env.messaging,
        rabbitmqUrl: env.rabbitmqUrl,
        templatePath: templates.path,
        namespace: templates.namespace,
        environment: 'test',
        logLevel: 'error',
        // A result waiting for a connection longer than this is lost: the
        // outage outlasts it, so the 'lose' task's first result is lost.
        databaseAcquireTimeoutSeconds: 1,
      },
      concurrency: 4,
    });
    worker.register('single.step', async (ctx) => {
      handled.push({ at: Date.now(), task: ctx.taskUuid, attempt: ctx.retryCount });
      if (ctx.taskContext.mode === 'lose' && ctx.retryCount === 0) {
        // Finish while the database is down: the result cannot be stored.
        await eventually(() => down, { timeoutMs: 60_000, intervalMs: 20, what: 'the outage' });
        await sleep(300);
      }
      return { ok: true };
    });
    await worker.start();
    const runtime = pkg.getTaskerRuntime();
    const created = [];
    let creating = true;
    const creator = (async () => {
      for (let i = 0; creating; i++) {
        const sentAt = Date.now();
        try {
          const { taskUuid } = await env.client.createTask({ name: 'single', namespace: templates.namespace, context: { mode: 'outage', i } });
          created.push({ uuid: taskUuid, sentAt, at: Date.now() });
        } catch {
          // The orchestration cannot create tasks while the database is down.
        }
        await sleep(200);
      }
    })();
    const completedAt = new Map();
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        for (const { uuid } of created.filter((c) => !completedAt.has(c.uuid))) {
          const task = await env.client.getTask(uuid).catch(() => undefined);
          if (task?.status === 'complete') completedAt.set(uuid, Date.now());
        }
        await sleep(100);
      }
    })();
    try {
      await eventually(() => handled.length >= 3, { what: 'tasks flowing' });
      const lostSentAt = Date.now();
      const { taskUuid: lost } = await env.client.createTask({ name: 'single', namespace: templates.namespace, context: { mode: 'lose' } });
      created.push({ uuid: lost, sentAt: lostSentAt, at: Date.now() });
      await eventually(() => handled.some((h) => h.task === lost), { what: 'the lost-result handler to start' });
      const inFlight = created.map((c) => c.uuid).filter((uuid) => uuid !== lost);
      await env.stopDatabase();
      down = true;
      const downAt = Date.now();
      await eventually(() => runtime.healthCheck().databaseReachable === false, { timeoutMs: 10_000, what: 'healthCheck to see the outage' });
      const health = runtime.healthCheck();
      assert.equal(health.healthy, false);
      assert.match(health.message, /cannot reach its database/);
      await sleep(Math.max(0, OUTAGE_MS - (Date.now() - downAt)));
      await env.startDatabase();
      down = false;
      const upAt = Date.now();
      const first = await eventually(() => handled.find((h) => h.at > upAt), { timeoutMs: 30_000, what: 'a step after the restart' });
      const retry = await eventually(() => handled.find((h) => h.task === lost && h.attempt > 0), { timeoutMs: 90_000, what: 'the lost result to be retried' });
      const firstNew = await eventually(() => created.find((c) => c.at > upAt && completedAt.has(c.uuid)), { timeoutMs: 60_000, what: 'a task created after the restart to complete' });
      // Tasks the orchestration left unstarted (see leftUnstartedByOrchestration).
      const nearOutage = (uuid) => created.some((c) => c.uuid === uuid && c.sentAt >= downAt - 5000 && c.sentAt <= upAt);
      const when = (uuid) => {
        const { sentAt, at } = created.find((c) => c.uuid === uuid);
        return `asked for ${sentAt - downAt} ms and answered ${at - downAt} ms after the outage began (it lasted ${upAt - downAt} ms)`;
      };
      const unfinished = (uuids) => uuids.filter((uuid) => !completedAt.has(uuid));
      const stranded = async (uuids) => leftUnstartedByOrchestration(unfinished(uuids).filter(nearOutage));
      await eventually(
        async () => {
          const left = unfinished([...inFlight, lost]);
          if (left.length === 0) return true;
          if (Date.now() - upAt < 10_000) return false;
          const orchestrations = await stranded(left);
          return left.every((uuid) => orchestrations.has(uuid));
        },
        { timeoutMs: 60_000, intervalMs: 100, what: 'the tasks in flight at the outage to complete' },
      ).catch(async (error) => {
        const stuck = unfinished([...inFlight, lost]);
        throw new Error(`${error.message}: ${(await Promise.all(stuck.map((uuid) => describeTask(uuid, `task ${uuid}`)))).join(' | ')}`);
      });
      const inFlightDone = [...inFlight, lost].filter((uuid) => completedAt.has(uuid));
      const figures = {
        firstStep: first.at - upAt,
        lostResultRetried: retry.at - upAt,
        firstNewTaskComplete: completedAt.get(firstNew.uuid) - upAt,
        inFlightTasksComplete: Math.max(...inFlightDone.map((uuid) => completedAt.get(uuid))) - upAt,
      };
      console.log(`database outage (${runtimeName}, ${env.messaging}): down ${upAt - downAt} ms; after PostgreSQL answered again (ms): ${JSON.stringify(figures)}`);
      assert.ok(figures.firstStep <= 5000, `steps flow again ${figures.firstStep} ms after the restart`);
      assert.ok(figures.lostResultRetried <= 5000, `the lost result's step ran again ${figures.lostResultRetried} ms after the restart`);
      assert.ok(figures.firstNewTaskComplete <= 5000, `the first task created after the restart completed ${figures.firstNewTaskComplete} ms after it`);
      await eventually(() => runtime.healthCheck().databaseReachable, { timeoutMs: 10_000, what: 'healthCheck to see the database again' });
      creating = false;
      await creator;
      const leftUnstarted = await stranded(created.map((c) => c.uuid));
      assert.ok(leftUnstarted.size <= 2, `${leftUnstarted.size} tasks left unstarted by the orchestration`);
      if (leftUnstarted.size > 0) {
        const which = [...leftUnstarted].map(when).join('; ');
        console.log(`database outage (${runtimeName}): ${leftUnstarted.size} task(s) left unstarted by tasker-orchestration 0.1.8 (its defect; not waited for): ${which}`);
      }
      for (const { uuid } of created.filter((c) => !leftUnstarted.has(c.uuid))) {
        // blocked_by_failures can be passing while a retry is pending: wait for an end state.
        const task = await env.client.waitForTask(uuid, { timeoutMs: 60_000, states: ['complete', 'error', 'cancelled', 'resolved_manually'] }).catch(async (error) => {
          throw new Error(await describeTask(uuid, `${error.message}, ${when(uuid)}`));
        });
        if (task.status !== 'complete') assert.fail(await describeTask(uuid, `task ${uuid} ended ${task.status}`));
      }
      console.log(`database outage (${runtimeName}): all ${created.length - leftUnstarted.size} tasks created complete${leftUnstarted.size ? ` (and ${leftUnstarted.size} the orchestration left unstarted)` : ''}`);
    } finally {
      creating = false;
      watching = false;
      await creator;
      await watcher;
      await worker.stop();
    }
  });
});
