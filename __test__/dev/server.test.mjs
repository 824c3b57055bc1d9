// The dev page's API and server without a database: a fake TaskerClient and
// a fake SQL reader stand in for the orchestration and tasker's tables, so
// every answer (and every refusal) can be checked exactly. The real thing
// is driven by a browser in page.test.mjs.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

const require = createRequire(import.meta.url);
const { handleApi, buildAttempts } = require('../../dist/dev/page-api.js');
const { startDevServer } = require('../../dist/dev/index.js');
const { TaskerClientError } = require('../../dist/index.js');

const TASK = '01a23a1e-35f5-7b8a-aa64-d78fb58f1523';
const STEP = '01a23a1e-3658-7673-90ef-4f4ef940798d';
const at = (s) => `2026-01-01T00:00:${String(s).padStart(2, '0')}.000Z`;

/** A flaky step: failed retryably (1 s backoff asked), retried, then succeeded. */
const transitions = [
  ['t1', null, 'pending', 0],
  ['t2', 'pending', 'enqueued', 1],
  ['t3', 'enqueued', 'in_progress', 2],
  ['t4', 'in_progress', 'enqueued_as_error_for_orchestration', 3],
  ['t5', 'enqueued_as_error_for_orchestration', 'waiting_for_retry', 4],
  ['t6', 'waiting_for_retry', 'pending', 6],
  ['t7', 'pending', 'enqueued', 7],
  ['t8', 'enqueued', 'in_progress', 8],
  ['t9', 'in_progress', 'enqueued_for_orchestration', 9],
  ['t10', 'enqueued_for_orchestration', 'complete', 10],
].map(([uuid, from, to, s]) => ({ uuid, from, to, at: at(s) }));

const audits = [
  {
    transitionUuid: 't4', success: false, workerUuid: 'w1',
    result: { data: { error: { error_type: 'RetryableError', message: 'not yet', retryable: true }, metadata: { execution_time_ms: 3, retryable: true, error_code: null }, orchestration_metadata: { backoff_hint: { delay_seconds: 1 } } } },
  },
  { transitionUuid: 't9', success: true, workerUuid: 'w1', result: { data: { result: { charged: 42 }, metadata: { execution_time_ms: 1 } } } },
];

/** A SQL reader answering by the table a query reads; records every call. */
function fakeSql({ fail, tracked = true } = {}) {
  const calls = [];
  return {
    calls,
    async query(sql, params = []) {
      calls.push({ sql, params });
      if (fail) throw new Error(fail);
      if (sql.includes('to_regclass')) return [{ tracked }];
      if (sql.includes("'state' AS kind")) return [{ kind: 'state', value: 'complete', count: 2 }, { kind: 'namespace', value: 'shop', count: 2 }, { kind: 'state', value: 'error', count: 1 }];
      if (sql.includes('FROM tasker.task_transitions WHERE')) return [{ uuid: 'x', from: null, to: 'pending', at: at(0), event: null }];
      if (sql.includes('WHERE ws.task_uuid = $1::uuid')) return [{ stepUuid: STEP, name: 'flaky_step', state: 'complete', attempts: 2, maxAttempts: 3, transitions, dependsOn: [] }];
      if (sql.includes('WHERE t.task_uuid = $1::uuid')) return params[0] === TASK ? [{ taskUuid: TASK, name: 'flaky', state: 'complete' }] : [];
      if (sql.includes('FROM tasker_worker_js.leases l')) return [{ workerId: 'ts-worker-1', steps: [] }];
      if (sql.includes('ORDER BY t.created_at DESC')) return [{ taskUuid: TASK, name: 'flaky', state: 'complete' }];
      if (sql.includes("to_state = 'in_progress'")) return [{ n: 3 }];
      throw new Error(`unexpected SQL: ${sql}`);
    },
  };
}

function fakeClient(overrides = {}) {
  const calls = [];
  const record = (name, answer) => async (...args) => (calls.push([name, ...args]), typeof answer === 'function' ? answer(...args) : answer);
  return {
    calls,
    createTask: record('createTask', (req) => ({ taskUuid: TASK, name: req.name, status: 'pending' })),
    listTemplates: record('listTemplates', { namespaces: [], templates: [{ name: 'flaky', namespace: 'shop', version: '1.0.0', stepCount: 1 }], totalCount: 1 }),
    getStepAudit: record('getStepAudit', audits),
    listDlq: record('listDlq', [{ taskUuid: TASK, dlqReason: 'staleness_timeout' }]),
    getDlqStats: record('getDlqStats', [{ dlqReason: 'staleness_timeout', totalEntries: 1, pending: 1 }]),
    ...overrides,
  };
}

const get = (deps, path, query = '') => handleApi(deps, 'GET', path, new URLSearchParams(query));
const post = (deps, body) => handleApi(deps, 'POST', '/api/tasks', new URLSearchParams(), body);

describe('dev page API', () => {
  test('a step timeline: one attempt per in_progress, each with what the handler answered', () => {
    const attempts = buildAttempts({ transitions }, audits);
    assert.deepEqual(attempts, [
      { number: 1, startedAt: at(2), endedAt: at(3), outcome: 'retryable_failure', workerUuid: 'w1', durationMs: 3, error: { type: 'RetryableError', message: 'not yet', code: undefined }, backoffSeconds: 1, retriedAt: at(6) },
      { number: 2, startedAt: at(8), endedAt: at(9), outcome: 'success', workerUuid: 'w1', durationMs: 1, result: { charged: 42 } },
    ]);
  });

  test('an attempt still running, a permanent failure, and one that ended without a result', () => {
    const running = buildAttempts({ transitions: transitions.slice(0, 3) }, []);
    assert.deepEqual(running, [{ number: 1, startedAt: at(2), outcome: 'running' }]);
    const permanent = buildAttempts({ transitions: transitions.slice(0, 4) }, [
      { transitionUuid: 't4', success: false, result: { data: { error: { error_type: 'PermanentError', message: 'card declined', retryable: false }, metadata: { error_code: 'DECLINED', retryable: false } } } },
    ]);
    assert.equal(permanent[0].outcome, 'permanent_failure');
    assert.deepEqual(permanent[0].error, { type: 'PermanentError', message: 'card declined', code: 'DECLINED' });
    // Put back to pending by hand or by recovery: no result was stored for it.
    const reset = buildAttempts({ transitions: [...transitions.slice(0, 3), { uuid: 'r', from: 'in_progress', to: 'pending', at: at(5) }] }, []);
    assert.equal(reset[0].outcome, 'interrupted');
  });

  test('tasks: filters reach the SQL as parameters, facets come along', async () => {
    const sql = fakeSql();
    const answer = await get({ sql, client: fakeClient() }, '/api/tasks', 'state=complete&namespace=shop&limit=20');
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.body.tasks, [{ taskUuid: TASK, name: 'flaky', state: 'complete' }]);
    assert.deepEqual(answer.body.facets, { states: [{ value: 'complete', count: 2 }, { value: 'error', count: 1 }], namespaces: [{ value: 'shop', count: 2 }] });
    assert.deepEqual(sql.calls[0].params, ['complete', 'shop', '20']);
    const all = fakeSql();
    await get({ sql: all, client: fakeClient() }, '/api/tasks');
    assert.deepEqual(all.calls[0].params, [null, null, '100']);
  });

  test('bad parameters are 400s that never reach the database', async () => {
    for (const [path, query] of [['/api/tasks', 'state=x%27%3B%20DROP'], ['/api/tasks', 'limit=0'], ['/api/tasks', 'limit=99999'], ['/api/tasks', 'namespace=a%20b'], ['/api/tasks/not-a-uuid', '']]) {
      const sql = fakeSql();
      const answer = await get({ sql, client: fakeClient() }, path, query);
      assert.equal(answer.status, 400, `${path}?${query}`);
      assert.match(answer.body.error, /invalid|limit|uuid/);
      assert.equal(sql.calls.length, 0);
    }
  });

  test('a task: its row, its transitions, and each step with its attempts from the audit', async () => {
    const client = fakeClient();
    const answer = await get({ sql: fakeSql(), client }, `/api/tasks/${TASK}`);
    assert.equal(answer.status, 200);
    assert.equal(answer.body.task.name, 'flaky');
    assert.equal(answer.body.transitions.length, 1);
    assert.equal(answer.body.steps[0].attempts, 2);
    assert.deepEqual(answer.body.steps[0].attemptLog.map((a) => a.outcome), ['retryable_failure', 'success']);
    assert.deepEqual(client.calls, [['getStepAudit', TASK, STEP]]);
    const missing = await get({ sql: fakeSql(), client }, '/api/tasks/01a23a1e-0000-7000-8000-000000000000');
    assert.deepEqual(missing, { status: 404, body: { error: 'no task 01a23a1e-0000-7000-8000-000000000000' } });
  });

  test("a settled step's audit is read once; a running step's on every refresh", async () => {
    const client = fakeClient();
    const settled = { sql: fakeSql(), client };
    await get(settled, `/api/tasks/${TASK}`);
    await get(settled, `/api/tasks/${TASK}`);
    assert.equal(client.calls.length, 1);
    const sql = fakeSql();
    const query = sql.query;
    // The same step, still in progress (its last transition is the start of attempt 2).
    sql.query = async (text, params) => {
      const rows = await query(text, params);
      return text.includes('WHERE ws.task_uuid') ? rows.map((r) => ({ ...r, state: 'in_progress', transitions: transitions.slice(0, 8) })) : rows;
    };
    const runningClient = fakeClient();
    await get({ sql, client: runningClient }, `/api/tasks/${TASK}`);
    await get({ sql, client: runningClient }, `/api/tasks/${TASK}`);
    assert.equal(runningClient.calls.length, 2);
  });

  test('a step whose audit the orchestration cannot give keeps its timeline, with the reason', async () => {
    const client = fakeClient({ getStepAudit: async () => { throw new TaskerClientError('getStepAudit', 'UNAVAILABLE', 'down', undefined, undefined, 'connection refused'); } });
    const answer = await get({ sql: fakeSql(), client }, `/api/tasks/${TASK}`);
    assert.equal(answer.status, 200);
    assert.equal(answer.body.steps[0].auditError, 'connection refused');
    assert.deepEqual(answer.body.steps[0].attemptLog.map((a) => a.outcome), ['retryable_failure', 'success']);
  });

  test('creating a task: the request tasker gets, and what is refused before it', async () => {
    const client = fakeClient();
    const made = await post({ sql: fakeSql(), client }, JSON.stringify({ name: 'flaky', namespace: 'shop', version: '1.0.0', context: { amount: 42 } }));
    assert.equal(made.status, 201);
    assert.equal(made.body.task.taskUuid, TASK);
    assert.deepEqual(client.calls[0], ['createTask', { name: 'flaky', namespace: 'shop', version: '1.0.0', context: { amount: 42 }, initiator: 'tasker-worker dev', reason: 'created from the dev page' }]);
    for (const [body, error] of [
      ['{not json', /not JSON/],
      ['[1]', /JSON object/],
      ['{"namespace":"shop"}', /name and namespace/],
      ['{"name":"a","namespace":"b","context":[1]}', /context must be a JSON object/],
      ['{"name":"a","namespace":"b","version":3}', /version/],
    ]) {
      const answer = await post({ sql: fakeSql(), client: fakeClient() }, body);
      assert.equal(answer.status, 400, body);
      assert.match(answer.body.error, error);
    }
  });

  test("tasker's refusals keep their status and its own words; other failures are 502 or 500", async () => {
    const refusing = (e) => fakeClient({ createTask: async () => { throw e; } });
    const body = JSON.stringify({ name: 'flaky', namespace: 'shop', context: {} });
    const conflict = await post({ sql: fakeSql(), client: refusing(new TaskerClientError('createTask', 'CONFLICT', 'HTTP 409', 409, 'CONFLICT', 'A task with this identity already exists')) }, body);
    assert.deepEqual(conflict, { status: 409, body: { error: 'A task with this identity already exists', code: 'CONFLICT' } });
    const invalid = await post({ sql: fakeSql(), client: refusing(new TaskerClientError('createTask', 'INVALID_ARGUMENT', 'priority out of range')) }, body);
    assert.equal(invalid.status, 400);
    const down = await post({ sql: fakeSql(), client: refusing(new TaskerClientError('createTask', 'UNAVAILABLE', 'connection refused')) }, body);
    assert.deepEqual(down, { status: 502, body: { error: 'createTask: connection refused', code: 'UNAVAILABLE' } });
    const sqlDown = await get({ sql: fakeSql({ fail: 'relation "tasker.tasks" does not exist' }), client: fakeClient() }, '/api/tasks');
    assert.deepEqual(sqlDown, { status: 500, body: { error: 'relation "tasker.tasks" does not exist' } });
  });

  test('workers: leases with their steps, or none before any worker made the schema', async () => {
    const tracked = await get({ sql: fakeSql(), client: fakeClient() }, '/api/workers');
    assert.deepEqual(tracked.body, { tracked: true, workers: [{ workerId: 'ts-worker-1', steps: [] }], otherInProgress: 3 });
    const sql = fakeSql({ tracked: false });
    const untracked = await get({ sql, client: fakeClient() }, '/api/workers');
    assert.deepEqual(untracked.body, { tracked: false, workers: [], otherInProgress: 3 });
    assert.ok(!sql.calls.some((c) => c.sql.includes('tasker_worker_js.leases l')), 'no query of a table that does not exist');
  });

  test('templates and the dead-letter queue come from the orchestration', async () => {
    const client = fakeClient();
    assert.equal((await get({ sql: fakeSql(), client }, '/api/templates')).body.templates[0].name, 'flaky');
    const dlq = await get({ sql: fakeSql(), client }, '/api/dlq');
    assert.deepEqual(dlq.body, { entries: [{ taskUuid: TASK, dlqReason: 'staleness_timeout' }], stats: [{ dlqReason: 'staleness_timeout', totalEntries: 1, pending: 1 }] });
    assert.deepEqual(client.calls.find((c) => c[0] === 'listDlq'), ['listDlq', { limit: 50 }]);
  });

  test('unknown paths are 404, wrong methods 405', async () => {
    const deps = { sql: fakeSql(), client: fakeClient() };
    assert.equal((await get(deps, '/api/nope')).status, 404);
    assert.equal((await handleApi(deps, 'DELETE', '/api/tasks', new URLSearchParams())).status, 405);
    assert.equal((await handleApi(deps, 'POST', '/api/workers', new URLSearchParams(), '{}')).status, 405);
  });
});

describe('dev page server', () => {
  let server;
  let ui;
  const logged = [];
  before(async () => {
    // A page folder of its own: the server serves whatever ships beside it.
    ui = mkdtempSync(join(tmpdir(), 'tasker-dev-ui-'));
    writeFileSync(join(ui, 'index.html'), '<!doctype html><title>page</title>');
    writeFileSync(join(ui, 'app.js'), 'console.log(1)');
    server = await startDevServer({ client: fakeClient(), sql: fakeSql(), uiDir: ui, log: (m) => logged.push(m) });
  });
  after(async () => {
    await server?.close();
    rmSync(ui, { recursive: true, force: true });
  });

  test('listens on 127.0.0.1 and serves the page and its files', async () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await fetch(server.url);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type'), /text\/html/);
    assert.match(page.headers.get('content-security-policy'), /default-src 'self'/);
    assert.equal(await page.text(), '<!doctype html><title>page</title>');
    const script = await fetch(new URL('app.js', server.url));
    assert.match(script.headers.get('content-type'), /javascript/);
    for (const path of ['missing.js', '..%2fpackage.json', '.hidden.js', 'notes.txt']) {
      assert.equal((await fetch(new URL(path, server.url))).status, 404, path);
    }
  });

  test('the API over HTTP: JSON answers, JSON errors', async () => {
    const tasks = await fetch(new URL('api/tasks', server.url));
    assert.equal(tasks.status, 200);
    assert.equal((await tasks.json()).tasks[0].taskUuid, TASK);
    const bad = await fetch(new URL('api/tasks?limit=abc', server.url));
    assert.equal(bad.status, 400);
    assert.match((await bad.json()).error, /invalid limit/);
    const created = await fetch(new URL('api/tasks', server.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"flaky","namespace":"shop"}' });
    assert.equal(created.status, 201);
  });

  test('refuses what a foreign page could send: form posts, other host names, huge bodies', async () => {
    const form = await fetch(new URL('api/tasks', server.url), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'name=x' });
    assert.equal(form.status, 415);
    const port = new URL(server.url).port;
    const rebound = await rawRequest(port, `GET /api/tasks HTTP/1.1\r\nHost: attacker.example:${port}\r\nConnection: close\r\n\r\n`);
    assert.match(rebound, /^HTTP\/1\.1 421/);
    const huge = await fetch(new URL('api/tasks', server.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'x'.repeat(2 << 20) }).catch((e) => e);
    assert.ok(huge instanceof Error || huge.status === 413, `status ${huge.status}`);
  });

  test('a request stuck on the database is answered 504, not left hanging', async () => {
    const stuck = await startDevServer({ client: fakeClient(), sql: { query: () => new Promise(() => {}) }, uiDir: ui, requestTimeoutMs: 100 });
    try {
      const answer = await fetch(new URL('api/tasks', stuck.url));
      assert.equal(answer.status, 504);
      assert.match((await answer.json()).error, /no answer within 100 ms/);
    } finally {
      await stuck.close();
    }
  });

  test('a failing query is a 500 with the message, logged; the server goes on', async () => {
    const failing = await startDevServer({ client: fakeClient(), sql: fakeSql({ fail: 'connection refused' }), uiDir: ui, log: (m) => logged.push(m) });
    try {
      const answer = await fetch(new URL('api/workers', failing.url));
      assert.equal(answer.status, 500);
      assert.deepEqual(await answer.json(), { error: 'connection refused' });
      assert.ok(logged.some((m) => m.includes('500 connection refused')), logged.join('\n'));
      assert.equal((await fetch(failing.url)).status, 200);
    } finally {
      await failing.close();
    }
  });
});

/** One HTTP request as written (fetch will not send a Host header of our choosing). */
async function rawRequest(port, text) {
  const { connect } = await import('node:net');
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => socket.write(text));
    let answer = '';
    socket.on('data', (d) => (answer += d));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
}
