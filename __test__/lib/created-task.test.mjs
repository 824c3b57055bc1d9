// TaskerClient.createTask when the orchestration answers a server error: the
// task the request made is found and answered; anything else keeps the error.
// The native client is a stand-in here; __test__/e2e/tasker-client.test.mjs
// makes the real orchestration fail the same way.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { pkg } from '../helpers/package.mjs';

const { TaskerClient, TaskerClientError } = pkg;
const SERVER_ERROR = Object.assign(new Error('POST /v1/tasks answered 500 DATABASE_ERROR: Database operation failed'), { code: 'SERVER_ERROR', status: 500, serverCode: 'DATABASE_ERROR' });

/** A task as tasker lists it. */
function task(fields) {
  return { taskUuid: fields.taskUuid ?? crypto.randomUUID(), name: 'single', namespace: 'shop', version: '1.0.0', initiator: '@tasker-systems/worker', correlationId: crypto.randomUUID(), context: {}, ...fields };
}

/**
 * A TaskerClient over a stand-in native client: createTask fails with
 * `failure` after "making" `made(request)` (when given); the namespace's
 * tasks are `others` with the made one at `madeAt`, listed `perPage` at a time.
 */
function clientWith({ transport = 'rest', failure = SERVER_ERROR, made, madeAt = 0, others = [], listFails = false }) {
  const calls = { created: [], listed: [], fetched: [] };
  let tasks = [...others];
  const native = {
    transport,
    async createTask(request) {
      calls.created.push(request);
      if (made) tasks.splice(madeAt, 0, made(request));
      throw failure;
    },
    async listTasks(query) {
      calls.listed.push(query);
      if (listFails) throw Object.assign(new Error('down'), { code: 'UNAVAILABLE' });
      const start = (query.page - 1) * query.perPage;
      return { tasks: tasks.slice(start, start + query.perPage), pagination: { hasNext: start + query.perPage < tasks.length } };
    },
    async getTask(uuid) {
      calls.fetched.push(uuid);
      return { ...tasks.find((t) => t.taskUuid === uuid), fetched: true };
    },
  };
  const client = new TaskerClient({}, { createTaskerClient: () => native });
  return { client, calls };
}

async function rejectsWithServerError(promise) {
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof TaskerClientError);
    assert.equal(e.code, 'SERVER_ERROR');
    assert.equal(e.serverCode, 'DATABASE_ERROR');
    return true;
  });
}

describe('createTask after a server error', () => {
  test('REST: the task the request made, named by the correlation id the client gave it', async () => {
    const context = { order: 'A-1', lines: [{ sku: 'KB', qty: 2 }] };
    // A newer task of the same template and context (a template whose identity allows it), and a busy namespace.
    const twin = task({ context, correlationId: crypto.randomUUID() });
    const busy = Array.from({ length: 150 }, (_, i) => task({ context: { i } }));
    const { client, calls } = clientWith({
      made: (r) => task({ context: { lines: [{ qty: 2, sku: 'KB' }], order: 'A-1' }, correlationId: r.correlationId }),
      madeAt: 1,
      others: [twin, ...busy],
    });
    const answered = await client.createTask({ name: 'single', namespace: 'shop', context });
    const sent = calls.created[0];
    assert.match(sent.correlationId, /^[0-9a-f-]{36}$/, 'a correlation id was added');
    assert.deepEqual({ ...sent, correlationId: undefined }, { name: 'single', namespace: 'shop', context, correlationId: undefined });
    assert.equal(answered.fetched, true, 'read back with getTask');
    assert.equal(answered.correlationId, sent.correlationId);
    assert.notEqual(answered.taskUuid, twin.taskUuid);
    assert.deepEqual(calls.listed, [{ namespace: 'shop', perPage: 100, page: 1 }]);
  });

  test("REST: the caller's own correlation id is kept and names the task; found on a later page", async () => {
    const correlationId = crypto.randomUUID();
    const busy = Array.from({ length: 120 }, (_, i) => task({ context: { i } }));
    const mine = task({ context: { n: 1 }, correlationId, version: '2.0.0' });
    const { client, calls } = clientWith({ others: [...busy, mine] });
    const answered = await client.createTask({ name: 'single', namespace: 'shop', version: '2.0.0', context: { n: 1 }, correlationId });
    assert.equal(calls.created[0].correlationId, correlationId);
    assert.equal(answered.taskUuid, mine.taskUuid);
    assert.deepEqual(calls.listed.map((q) => q.page), [1, 2]);
  });

  test('gRPC: no correlation id is added (tasker refuses it there); template, context and initiator name the task', async () => {
    const { client, calls } = clientWith({
      transport: 'grpc',
      others: [task({ context: { n: 2 }, initiator: 'billing' }), task({ context: { n: 2 }, initiator: 'someone else', name: 'other' })],
    });
    const answered = await client.createTask({ name: 'single', namespace: 'shop', context: { n: 2 }, initiator: 'billing' });
    assert.equal(calls.created[0].correlationId, undefined);
    assert.equal(answered.initiator, 'billing');
    assert.equal(answered.name, 'single');
  });

  test('nothing made: the server error stands, after at most 3 pages', async () => {
    const busy = Array.from({ length: 450 }, (_, i) => task({ context: { i } }));
    const { client, calls } = clientWith({ others: busy });
    // Same template and context but not this request's correlation id: not this request's task.
    busy[5].context = { wanted: true };
    await rejectsWithServerError(client.createTask({ name: 'single', namespace: 'shop', context: { wanted: true } }));
    assert.deepEqual(calls.listed.map((q) => q.page), [1, 2, 3]);
    assert.equal(calls.fetched.length, 0);
  });

  test('a failed lookup keeps the server error; other errors are not looked into', async () => {
    await rejectsWithServerError(clientWith({ listFails: true }).client.createTask({ name: 'single', namespace: 'shop' }));
    const conflict = clientWith({ failure: Object.assign(new Error('409'), { code: 'CONFLICT', status: 409 }), made: (r) => task({ correlationId: r.correlationId }) });
    await assert.rejects(conflict.client.createTask({ name: 'single', namespace: 'shop' }), (e) => e.code === 'CONFLICT');
    assert.equal(conflict.calls.listed.length, 0);
  });

  test('a request that is not an object goes to the native client as it is (which refuses it)', async () => {
    for (const bad of [null, undefined, 'single', ['single']]) {
      const { client, calls } = clientWith({});
      await rejectsWithServerError(client.createTask(bad));
      assert.equal(calls.created[0], bad);
      assert.equal(calls.listed.length, 0);
    }
  });
});
