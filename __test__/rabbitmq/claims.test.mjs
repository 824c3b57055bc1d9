// On RabbitMQ, claims follow the handlers as on PGMQ: a worker with every
// slot busy claims nothing more (its consumers are cancelled), the steps it
// has no room for wait in the broker, and a second worker on the namespace
// takes them. Two `tasker-worker` processes, each with two slots, on the
// RabbitMQ environment (scripts/test-all.sh's RabbitMQ pass, or one of this
// file's own).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { prepareTemplates, startEnvironment, uniqueNamespace } from '../../devenv/environment.mjs';
import { DevTaskerClient } from '../../devenv/client.mjs';
import { startCli } from '../helpers/cli-process.mjs';
import { eventually, runtimeName, sleep } from '../helpers/environment.mjs';

const SLOTS = 2;
let env;
let own;
let templates;
let dir;
const started = [];

/** The RabbitMQ environment of the test run, or one of this file's own. */
async function rabbitEnvironment() {
  const { TASKER_MESSAGING_BACKEND, RABBITMQ_URL, TASKER_TEST_DATABASE_URL, TASKER_TEST_ORCHESTRATION_URL } = process.env;
  if (TASKER_MESSAGING_BACKEND === 'rabbitmq' && RABBITMQ_URL && TASKER_TEST_DATABASE_URL && TASKER_TEST_ORCHESTRATION_URL) {
    return { databaseUrl: TASKER_TEST_DATABASE_URL, rabbitmqUrl: RABBITMQ_URL, client: new DevTaskerClient({ baseUrl: TASKER_TEST_ORCHESTRATION_URL }) };
  }
  own = await startEnvironment({ messaging: 'rabbitmq' });
  return own;
}

function worker(name) {
  const child = startCli(
    ['--handlers', join(dir, 'handlers'), '--templates', templates.path, '--namespace', templates.namespace, '--concurrency', String(SLOTS), '--log-format', 'json', '--log-level', 'warn'],
    { env: { DATABASE_URL: env.databaseUrl, TASKER_ENV: 'test', TASKER_MESSAGING_BACKEND: 'rabbitmq', RABBITMQ_URL: env.rabbitmqUrl, WORKER_NAME: name, RUNS_DIR: dir } },
  );
  started.push(child);
  return child;
}

/** Which worker started which task's step, from the handlers' own records. */
const runs = () =>
  existsSync(join(dir, 'runs'))
    ? readFileSync(join(dir, 'runs'), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l))
    : [];

describe('claims on RabbitMQ', { timeout: 240_000 }, () => {
  before(async () => {
    env = await rabbitEnvironment();
    templates = prepareTemplates(uniqueNamespace(`rmq_claims_${runtimeName}`), undefined, { only: ['long'] });
    dir = mkdtempSync(join(tmpdir(), 'wt-rmq-claims-'));
    const handlers = join(dir, 'handlers');
    (await import('node:fs')).mkdirSync(handlers);
    // `long.step` (a 600 s timeout) records who ran it, then holds until the test releases it.
    writeFileSync(
      join(handlers, 'long.mjs'),
      `import { appendFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
export async function step(ctx) {
  appendFileSync(join(process.env.RUNS_DIR, 'runs'), JSON.stringify({ worker: process.env.WORKER_NAME, task: ctx.taskUuid }) + '\\n');
  while (!existsSync(join(process.env.RUNS_DIR, 'release'))) await new Promise((r) => setTimeout(r, 20));
  return { by: process.env.WORKER_NAME };
}
`,
    );
  });

  after(async () => {
    await Promise.all(started.map((c) => c.stop('SIGKILL')));
    templates?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
    await own?.stop();
  });

  test('a busy worker claims no more than its slots; the waiting steps go to the other worker', async () => {
    const first = worker('first');
    await first.waitFor((e) => e.msg === 'worker started' || e.level === 'error');
    const tasks = [];
    for (let i = 0; i < SLOTS * 2; i++) tasks.push((await env.client.createTask({ name: 'long', namespace: templates.namespace, context: { run: `${runtimeName}-${Date.now()}-${i}` } })).taskUuid);
    await eventually(() => runs().length === SLOTS, { what: 'the first worker to fill its slots' });
    // Saturated: it takes nothing more, however long the others wait.
    await sleep(1500);
    assert.deepEqual(runs().map((r) => r.worker), Array(SLOTS).fill('first'), 'no more than its slots');

    const second = worker('second');
    await second.waitFor((e) => e.msg === 'worker started' || e.level === 'error');
    await eventually(() => runs().length === SLOTS * 2, { what: 'the second worker to take the waiting steps' });
    const by = runs().reduce((acc, r) => ({ ...acc, [r.worker]: (acc[r.worker] ?? 0) + 1 }), {});
    assert.deepEqual(by, { first: SLOTS, second: SLOTS }, 'each ran two: the waiting ones stayed in the broker for the second');

    writeFileSync(join(dir, 'release'), 'go');
    for (const uuid of tasks) assert.equal((await env.client.waitForTask(uuid, { timeoutMs: 30_000 })).status, 'complete');
    assert.equal(runs().length, SLOTS * 2, 'every step ran once');
  });
});
