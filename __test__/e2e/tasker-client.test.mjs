// TaskerClient against a real orchestration that requires API keys and
// serves gRPC beside REST: every method, over both transports, with the
// failures a caller meets (not found, invalid input, wrong credentials,
// unreachable or silent servers) as coded errors.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';

import { prepareTemplates, startEnvironment, uniqueNamespace } from '../../devenv/environment.mjs';
import { query } from '../../devenv/orchestration.mjs';
import { freePort } from '../../devenv/processes.mjs';
import { eventually, runtimeName } from '../helpers/environment.mjs';
import { pkg } from '../helpers/package.mjs';
import { scriptCommand } from '../helpers/runtime.mjs';

const { TaskerClient, TaskerClientError, PermanentError } = pkg;
const FULL = { key: `full-${randomBytes(8).toString('hex')}`, permissions: ['tasks:*', 'steps:*', 'dlq:*', 'templates:*', 'system:*'] };
const READER = { key: `reader-${randomBytes(8).toString('hex')}`, permissions: ['tasks:read'] };
const NO_TASK = '00000000-0000-7000-8000-000000000000';

let env;
let templates;
let worker;
let rest;
let grpc;
let ns;

/** Asserts that `promise` rejects with a TaskerClientError of `code` (and `status`, when given). */
async function rejectsWith(promise, code, status) {
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof TaskerClientError, `a TaskerClientError, not ${e?.constructor?.name}: ${e?.message}`);
    assert.equal(e.code, code, e.message);
    if (status !== undefined) assert.equal(e.status, status, e.message);
    return true;
  });
}

const stepNamed = async (client, taskUuid, name) => (await client.listSteps(taskUuid)).find((s) => s.name === name);

describe('TaskerClient', { timeout: 300_000 }, () => {
  before(async () => {
    env = await startEnvironment({ grpc: true, apiKeys: [FULL, READER], log: (m) => process.stderr.write(`[env] ${m}\n`) });
    // The client reads every template of the namespace; the worker runs the few steps the tests start.
    templates = prepareTemplates(uniqueNamespace(`client_${runtimeName}`), undefined, {
      only: ['arithmetic', 'diamond', 'doomed', 'events', 'flaky', 'long', 'routing', 'single'],
    });
    ns = templates.namespace;
    const webUrl = `127.0.0.1:${await freePort()}`;
    worker = new pkg.Worker({
      config: { databaseUrl: env.databaseUrl, templatePath: templates.path, namespace: ns, environment: 'test', logLevel: 'off', webBindAddress: webUrl },
      validateHandlers: false,
    });
    worker.register('single.step', (ctx) => ({ echoed: ctx.taskContext }));
    worker.register('long.step', (ctx) => new Promise((resolve) => {
      const timer = setTimeout(() => resolve({ finished: true }), 1500);
      ctx.signal.addEventListener('abort', () => (clearTimeout(timer), resolve({ aborted: true })));
    }));
    worker.register('doomed.step', () => {
      throw new PermanentError('this order can never be valid', { errorCode: 'INVALID_ORDER' });
    });
    worker.register('doomed.after', () => ({ after: true }));
    await worker.start();
    rest = new TaskerClient({ baseUrl: env.orchestrationUrl, apiKey: FULL.key, workerUrl: `http://${webUrl}` });
    grpc = new TaskerClient({ transport: 'grpc', grpcUrl: env.grpcUrl, apiKey: FULL.key });
  });

  after(async () => {
    await worker?.stop();
    templates?.remove();
    await env?.stop();
  });

  test('creates a task with all its fields, watches it finish and reads it back (REST)', async () => {
    const correlationId = randomUUID();
    const context = { order: 'A-1', snake_case_key: 1, items: [{ sku: 'KB', qty: 2 }] };
    const created = await rest.createTask({ name: 'single', namespace: ns, context, tags: ['web', 'rush'], priority: 7, initiator: 'checkout', sourceSystem: 'shop', reason: 'order placed', correlationId });
    assert.equal(rest.transport, 'rest');
    assert.match(created.taskUuid, /^[0-9a-f-]{36}$/);
    assert.deepEqual(created.context, context, 'user data keeps its keys');
    assert.deepEqual([created.tags, created.priority, created.initiator, created.sourceSystem, created.reason, created.correlationId], [['web', 'rush'], 7, 'checkout', 'shop', 'order placed', correlationId]);

    const done = await rest.waitForTask(created.taskUuid, { timeoutMs: 60_000 });
    assert.equal(done.status, 'complete');
    assert.equal(done.completionPercentage, 100);
    assert.deepEqual(await rest.getTaskContext(created.taskUuid), context);
    const summary = await rest.getTaskSummary(created.taskUuid);
    assert.equal(summary.task.taskUuid, created.taskUuid);
    assert.equal(summary.dlq.inDlq, false);

    const [step] = await rest.listSteps(created.taskUuid);
    assert.equal(step.name, 'only_step');
    assert.equal(step.currentState, 'complete');
    assert.deepEqual(step.results.result, { echoed: context });
    assert.deepEqual((await rest.getStep(created.taskUuid, step.stepUuid)).results.result, { echoed: context });
    const audit = await rest.getStepAudit(created.taskUuid, step.stepUuid);
    assert.ok(audit.length >= 1, 'the step has an audit record');
    assert.equal(audit[0].workflowStepUuid, step.stepUuid);
    assert.equal(audit[0].success, true);

    // tasker's identity: the same template and context twice is one task.
    await rejectsWith(rest.createTask({ name: 'single', namespace: ns, context }), 'CONFLICT', 409);
  });

  test('lists tasks page by page, filtered by namespace and state', async () => {
    const made = [];
    for (let i = 0; i < 3; i++) made.push((await rest.createTask({ name: 'single', namespace: ns, context: { page: i } })).taskUuid);
    for (const uuid of made) await rest.waitForTask(uuid);
    const first = await rest.listTasks({ namespace: ns, perPage: 2 });
    assert.equal(first.tasks.length, 2);
    assert.ok(first.pagination.totalCount >= 3, JSON.stringify(first.pagination));
    assert.equal(first.pagination.hasNext, true);
    const second = await rest.listTasks({ namespace: ns, perPage: 2, page: 2 });
    assert.equal(second.pagination.hasPrevious, true);
    const firstIds = new Set(first.tasks.map((t) => t.taskUuid));
    assert.ok(second.tasks.every((t) => !firstIds.has(t.taskUuid)), 'pages do not overlap');
    assert.ok([...first.tasks, ...second.tasks].every((t) => t.namespace === ns));
    for (const status of ['completed', 'pending']) {
      const page = await rest.listTasks({ namespace: ns, status, perPage: 100 });
      assert.ok(page.tasks.every((t) => t.status === status), `${status}: ${page.tasks.map((t) => t.status)}`);
    }
    await rejectsWith(rest.listTasks({ status: 'complete' }), 'INVALID_ARGUMENT');
    await rejectsWith(rest.listTasks({ perPage: 0 }), 'INVALID_ARGUMENT');
  });

  test('cancels a running task; the worker carries on', async () => {
    const { taskUuid } = await rest.createTask({ name: 'long', namespace: ns, context: { cancel: true } });
    await eventually(async () => (await stepNamed(rest, taskUuid, 'long_step'))?.currentState === 'in_progress', { what: 'the long step to run' });
    await rest.cancelTask(taskUuid);
    assert.equal((await rest.getTask(taskUuid)).status, 'cancelled');
    assert.equal((await stepNamed(rest, taskUuid, 'long_step')).currentState, 'cancelled');
    await rejectsWith(rest.cancelTask(taskUuid), 'VALIDATION', 400);
    await rejectsWith(rest.cancelTask(NO_TASK), 'NOT_FOUND', 404);
    // The handler finishes after the cancel; its late result is refused and the worker goes on.
    const next = await rest.createTask({ name: 'single', namespace: ns, context: { afterCancel: true } });
    assert.equal((await rest.waitForTask(next.taskUuid)).status, 'complete');
  });

  test('a task made by a request the orchestration failed is answered; a request that made nothing keeps the error', async () => {
    // tasker-orchestration 0.1.8 starts a new task after committing it, racing
    // its own poller; when the poller wins, the request fails (500 / INTERNAL)
    // and the task runs all the same. Here the database refuses every start
    // of a task marked `blockStart`, as the lost race does, until the test
    // lets it: the request fails after making its task, and the poller
    // starts the task later.
    const sql = (text) => query(env.databaseUrl, text);
    await sql(`CREATE FUNCTION test_block_start() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.to_state = 'initializing' AND (SELECT context ? 'blockStart' FROM tasker.tasks WHERE task_uuid = NEW.task_uuid) THEN
          RAISE unique_violation USING MESSAGE = 'duplicate key value violates unique constraint "idx_task_transitions_uuid_most_recent"';
        END IF;
        RETURN NEW;
      END $$`);
    await sql(`CREATE FUNCTION test_refuse_task() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.context ? 'refuse' THEN RAISE EXCEPTION 'refused by the test'; END IF;
        RETURN NEW;
      END $$`);
    const blockStarts = (on) => sql(on ? 'CREATE TRIGGER test_block_start BEFORE INSERT ON tasker.task_transitions FOR EACH ROW EXECUTE FUNCTION test_block_start()' : 'DROP TRIGGER IF EXISTS test_block_start ON tasker.task_transitions');
    const tasksWith = async (condition) => (await sql(`SELECT count(*)::int AS n FROM tasker.tasks WHERE ${condition}`))[0].n;
    try {
      for (const client of [rest, grpc]) {
        const context = { blockStart: client.transport };
        await blockStarts(true);
        const created = await client.createTask({ name: 'single', namespace: ns, context });
        await blockStarts(false);
        assert.deepEqual(created.context, context);
        assert.equal(created.status, 'pending', 'not started: the request failed to start it');
        assert.equal(await tasksWith(`context @> '${JSON.stringify(context)}'`), 1, 'one task, not two');
        assert.equal((await client.waitForTask(created.taskUuid)).status, 'complete');
      }
      await sql('CREATE TRIGGER test_refuse_task BEFORE INSERT ON tasker.tasks FOR EACH ROW EXECUTE FUNCTION test_refuse_task()');
      for (const [client, status] of [[rest, 500], [grpc, 13]]) {
        await rejectsWith(client.createTask({ name: 'single', namespace: ns, context: { refuse: client.transport } }), 'SERVER_ERROR', status);
      }
      assert.equal(await tasksWith("context ? 'refuse'"), 0);
    } finally {
      await blockStarts(false);
      await sql('DROP TRIGGER IF EXISTS test_refuse_task ON tasker.tasks');
    }
  });

  test('resolves a failed step by hand', async () => {
    const { taskUuid } = await rest.createTask({ name: 'doomed', namespace: ns, context: { resolve: 'complete' } });
    assert.equal((await rest.waitForTask(taskUuid)).status, 'blocked_by_failures');
    const failed = await stepNamed(rest, taskUuid, 'doomed_step');
    assert.equal(failed.currentState, 'error');
    const resolved = await rest.resolveStep(taskUuid, failed.stepUuid, { action: 'complete_manually', reason: 'valid after all', by: 'ops@example.com', result: { fixed: true } });
    assert.equal(resolved.currentState, 'complete');
    assert.deepEqual(resolved.results.result, { fixed: true });
    assert.deepEqual((await rest.getStep(taskUuid, failed.stepUuid)).results.result, { fixed: true });
    assert.ok((await rest.getStepAudit(taskUuid, failed.stepUuid)).some((a) => a.success === false), 'the failure stays in the audit');

    const other = await rest.createTask({ name: 'doomed', namespace: ns, context: { resolve: 'reset' } });
    await rest.waitForTask(other.taskUuid);
    const again = await stepNamed(rest, other.taskUuid, 'doomed_step');
    assert.equal((await rest.resolveStep(other.taskUuid, again.stepUuid, { action: 'reset_for_retry', reason: 'data fixed', by: 'ops' })).currentState, 'pending');
    await rejectsWith(rest.resolveStep(other.taskUuid, again.stepUuid, { action: 'explode', reason: 'r', by: 'ops' }), 'INVALID_ARGUMENT');
    await rejectsWith(rest.resolveStep(other.taskUuid, again.stepUuid, { action: 'complete_manually', reason: 'r', by: 'ops' }), 'INVALID_ARGUMENT');
    await rejectsWith(rest.getStep(other.taskUuid, NO_TASK), 'NOT_FOUND', 404);
  });

  test('reads templates, health, worker metrics', async () => {
    const list = await rest.listTemplates(ns);
    assert.deepEqual(list.templates.map((t) => t.name).sort(), ['arithmetic', 'diamond', 'doomed', 'events', 'flaky', 'long', 'routing', 'single']);
    const single = await rest.getTemplate(ns, 'single', '1.0.0');
    assert.deepEqual(single.steps.map((s) => [s.name, s.defaultMaxAttempts]), [['only_step', 4]]);
    await rejectsWith(rest.getTemplate(ns, 'nope', '1.0.0'), 'NOT_FOUND', 404);
    const validation = await rest.validateTemplate(ns, 'single', '1.0.0');
    assert.equal(validation.valid, true);
    assert.deepEqual(validation.stepHandlers, ['single.step']);

    assert.equal((await rest.health()).status, 'healthy');
    assert.equal((await rest.liveness()).status, 'alive');
    assert.equal((await rest.readiness()).checks.orchestrationDatabase.status, 'healthy');
    assert.equal((await rest.healthDetailed()).checks.orchestrationDatabase.status, 'healthy');
    assert.ok(Array.isArray(await rest.getStalenessMonitoring(10)));

    const metrics = await rest.getWorkerMetrics();
    assert.match(metrics.workerId, /^worker-/);
    assert.equal(typeof metrics.metrics.uptimeSeconds.value, 'number');
    assert.equal(typeof (await rest.getDomainEventStats()).inProcessBus.ffiChannelDrops, 'number');
    await rejectsWith(grpc.getWorkerMetrics(), 'INVALID_ARGUMENT');
  });

  test('works the dead letter queue', async () => {
    const { taskUuid } = await rest.createTask({ name: 'doomed', namespace: ns, context: { dlq: true } });
    await rest.waitForTask(taskUuid);
    // tasker's staleness detector files a task here after minutes at the
    // least; the test files it as the detector does.
    await query(env.databaseUrl, `INSERT INTO tasker.tasks_dlq (task_uuid, original_state, dlq_reason, task_snapshot) VALUES ('${taskUuid}', 'blocked_by_failures', 'staleness_timeout', '{"test": true}')`);
    const pending = await rest.listDlq({ resolutionStatus: 'pending' });
    const entry = pending.find((e) => e.taskUuid === taskUuid);
    assert.ok(entry, 'the entry is listed');
    assert.deepEqual([entry.dlqReason, entry.resolutionStatus, entry.originalState], ['staleness_timeout', 'pending', 'blocked_by_failures']);
    assert.equal((await rest.getDlqEntry(taskUuid)).dlqEntryUuid, entry.dlqEntryUuid);
    assert.ok((await rest.getDlqStats()).some((s) => s.dlqReason === 'staleness_timeout' && s.pending >= 1), 'counted');
    assert.ok((await rest.getDlqInvestigationQueue(10)).some((q) => q.dlqEntryUuid === entry.dlqEntryUuid && q.dlqReason === 'staleness_timeout'), 'queued for investigation');
    await rest.updateDlqInvestigation(entry.dlqEntryUuid, { resolutionStatus: 'manually_resolved', resolutionNotes: 'replayed by hand', resolvedBy: 'ops' });
    const updated = await rest.getDlqEntry(taskUuid);
    assert.deepEqual([updated.resolutionStatus, updated.resolutionNotes, updated.resolvedBy], ['manually_resolved', 'replayed by hand', 'ops']);
    assert.ok(!(await rest.listDlq({ resolutionStatus: 'pending' })).some((e) => e.taskUuid === taskUuid), 'no longer pending');
    assert.ok((await grpc.listDlq({ resolutionStatus: 'manually_resolved' })).some((e) => e.taskUuid === taskUuid), 'gRPC sees the update');
    await rejectsWith(rest.getDlqEntry(NO_TASK), 'NOT_FOUND', 404);
    await rejectsWith(rest.listDlq({ resolutionStatus: 'lost' }), 'INVALID_ARGUMENT');
  });

  test('the gRPC transport serves the same calls, keeping every field of a new task', async () => {
    assert.equal(grpc.transport, 'grpc');
    const created = await grpc.createTask({ name: 'single', namespace: ns, context: { via: 'grpc', n: 3 }, tags: ['grpc'], initiator: 'billing', reason: 'invoice due' });
    assert.deepEqual([created.tags, created.initiator, created.reason], [['grpc'], 'billing', 'invoice due']);
    // Fields tasker's gRPC service would drop are refused, not lost.
    await rejectsWith(grpc.createTask({ name: 'single', namespace: ns, context: { lost: 1 }, priority: 5 }), 'INVALID_ARGUMENT');
    assert.equal((await grpc.waitForTask(created.taskUuid)).status, 'complete');
    const [step] = await grpc.listSteps(created.taskUuid);
    assert.deepEqual(step.results.result, { echoed: { via: 'grpc', n: 3 } });
    assert.equal((await grpc.getStep(created.taskUuid, step.stepUuid)).stepUuid, step.stepUuid);
    assert.equal((await grpc.getStepAudit(created.taskUuid, step.stepUuid))[0].success, true);
    assert.equal((await grpc.getTaskSummary(created.taskUuid)).task.taskUuid, created.taskUuid);
    assert.ok((await grpc.listTasks({ namespace: ns, perPage: 100 })).tasks.some((t) => t.taskUuid === created.taskUuid));
    assert.ok((await grpc.listTemplates(ns)).templates.some((t) => t.name === 'single'));
    assert.equal((await grpc.getTemplate(ns, 'single', '1.0.0')).steps[0].name, 'only_step');
    assert.equal((await grpc.health()).status, 'healthy');
    assert.equal((await grpc.healthDetailed()).checks.orchestrationDatabase.status, 'healthy');
    assert.ok(Array.isArray(await grpc.getDlqStats()));

    const long = await grpc.createTask({ name: 'long', namespace: ns, context: { grpcCancel: true } });
    await grpc.cancelTask(long.taskUuid);
    assert.equal((await grpc.getTask(long.taskUuid)).status, 'cancelled');
    const doomed = await grpc.createTask({ name: 'doomed', namespace: ns, context: { grpc: true } });
    await grpc.waitForTask(doomed.taskUuid);
    const failed = await stepNamed(grpc, doomed.taskUuid, 'doomed_step');
    const resolved = await grpc.resolveStep(doomed.taskUuid, failed.stepUuid, { action: 'complete_manually', reason: 'ok', by: 'ops', result: { viaGrpc: true } });
    assert.deepEqual(resolved.results.result, { viaGrpc: true });

    await rejectsWith(grpc.getTask(NO_TASK), 'NOT_FOUND');
    await rejectsWith(grpc.createTask({ name: 'nope', namespace: ns }), 'VALIDATION');
    await rejectsWith(grpc.createTask({ name: 'single', namespace: ns, context: [1, 2] }), 'INVALID_ARGUMENT');
  });

  test('wrong or missing credentials are UNAUTHORIZED, missing permissions FORBIDDEN', async () => {
    const { taskUuid } = await rest.createTask({ name: 'single', namespace: ns, context: { auth: true } });
    const reader = new TaskerClient({ baseUrl: env.orchestrationUrl, apiKey: READER.key });
    assert.equal((await reader.getTask(taskUuid)).taskUuid, taskUuid);
    const forbidden = reader.createTask({ name: 'single', namespace: ns, context: { reader: true } });
    await assert.rejects(forbidden, (e) => e.code === 'FORBIDDEN' && e.status === 403 && e.serverCode === 'AUTHORIZATION_FAILED' && /tasks:create/.test(e.serverMessage));
    await rejectsWith(new TaskerClient({ baseUrl: env.orchestrationUrl }).getTask(taskUuid), 'UNAUTHORIZED', 401);
    await rejectsWith(new TaskerClient({ baseUrl: env.orchestrationUrl, apiKey: 'not-a-key' }).getTask(taskUuid), 'UNAUTHORIZED', 401);
    await rejectsWith(new TaskerClient({ baseUrl: env.orchestrationUrl, bearerToken: 'not.a.jwt' }).getTask(taskUuid), 'UNAUTHORIZED', 401);
    const grpcReader = new TaskerClient({ transport: 'grpc', grpcUrl: env.grpcUrl, apiKey: READER.key });
    await rejectsWith(grpcReader.createTask({ name: 'single', namespace: ns, context: { grpcReader: true } }), 'FORBIDDEN');
    await rejectsWith(new TaskerClient({ transport: 'grpc', grpcUrl: env.grpcUrl }).getTask(taskUuid), 'UNAUTHORIZED');
    await rejectsWith(new TaskerClient({ transport: 'grpc', grpcUrl: env.grpcUrl, apiKey: 'not-a-key' }).getTask(taskUuid), 'UNAUTHORIZED');
  });

  test('bad input, unreachable and silent servers are coded errors, never a hang', async () => {
    assert.throws(() => new TaskerClient({ transport: 'smoke' }), (e) => e instanceof TaskerClientError && e.code === 'INVALID_ARGUMENT');
    assert.throws(() => new TaskerClient({ baseUrl: 'ftp://example.com' }), (e) => e.code === 'INVALID_ARGUMENT');
    assert.throws(() => new TaskerClient({ timeoutMs: 1 }), (e) => e.code === 'INVALID_ARGUMENT');
    await rejectsWith(rest.getTask('not-a-uuid'), 'INVALID_ARGUMENT');
    await rejectsWith(rest.createTask({}), 'INVALID_ARGUMENT');
    await rejectsWith(rest.createTask({ name: 'single', namespace: ns, priority: 500 }), 'INVALID_ARGUMENT');
    await rejectsWith(rest.createTask({ name: 'nope', namespace: ns }), 'NOT_FOUND', 404);
    await rejectsWith(rest.getTask(NO_TASK), 'NOT_FOUND', 404);

    const closed = await freePort();
    await rejectsWith(new TaskerClient({ baseUrl: `http://127.0.0.1:${closed}` }).health(), 'UNAVAILABLE');
    await rejectsWith(new TaskerClient({ transport: 'grpc', grpcUrl: `http://127.0.0.1:${closed}` }).health(), 'UNAVAILABLE');

    // A server that accepts and never answers: the timeout, not a hang.
    const sockets = new Set();
    const silent = createServer((socket) => sockets.add(socket));
    await new Promise((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const started = Date.now();
      await rejectsWith(new TaskerClient({ baseUrl: `http://127.0.0.1:${silent.address().port}`, timeoutMs: 300 }).health(), 'TIMEOUT');
      assert.ok(Date.now() - started < 5000, `gave up after ${Date.now() - started} ms`);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  test('waitForTask rejects with TIMEOUT or ABORTED, and can wait for any state', async () => {
    const { taskUuid } = await rest.createTask({ name: 'long', namespace: ns, context: { wait: true } });
    await rejectsWith(rest.waitForTask(taskUuid, { timeoutMs: 200, intervalMs: 50 }), 'TIMEOUT');
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('user left')), 100);
    const started = Date.now();
    await rejectsWith(rest.waitForTask(taskUuid, { signal: controller.signal, intervalMs: 10_000 }), 'ABORTED');
    assert.ok(Date.now() - started < 2000, 'the abort ends the wait at once');
    const running = await rest.waitForTask(taskUuid, { states: ['steps_in_process', 'complete'] });
    assert.ok(['steps_in_process', 'complete'].includes(running.status));
    assert.equal((await rest.waitForTask(taskUuid)).status, 'complete');
  });

  test('reads its settings from the environment variables tasker uses', async () => {
    const fromEnv = (apiKey) => {
      const childEnv = { ...process.env, TASKER_ORCHESTRATION_URL: env.orchestrationUrl, TASKER_API_KEY: apiKey, TASKER_CLIENT_TRANSPORT: 'rest' };
      const out = execFileSync(...scriptCommand(new URL('../helpers/client-from-env.mjs', import.meta.url).pathname, [ns]), { env: childEnv, encoding: 'utf8', timeout: 60_000 });
      return JSON.parse(out.trim().split('\n').at(-1));
    };
    assert.deepEqual(fromEnv(FULL.key), { templates: 8 });
    assert.deepEqual(fromEnv(READER.key), { code: 'FORBIDDEN', status: 403 });
  });
});
