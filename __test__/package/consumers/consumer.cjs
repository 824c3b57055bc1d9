// Shared by the packaging check's consumers (Node ESM and CommonJS, Bun,
// Deno): given the installed package as loaded by that consumer, check runtime
// detection and version, then run one real step through a Worker, creating and
// watching the task with the package's TaskerClient. `version` is the
// installed package's, read here from node_modules unless the consumer passes
// it (without a node_modules folder, as with Deno's npm cache, a local file
// cannot require the package).
const assert = require('node:assert/strict');
const { readFileSync } = require('node:fs');

function installedVersion() {
  return JSON.parse(readFileSync(require.resolve('@tasker-systems/worker/package.json'), 'utf8')).version;
}

async function run(pkg, expectedRuntime, label, version = installedVersion()) {
  const { DATABASE_URL, ORCHESTRATION_URL, TEMPLATE_DIR, NAMESPACE } = process.env;
  assert.equal(pkg.detectRuntime(), expectedRuntime);
  assert.equal(pkg.isRuntimeSupported(), true);
  assert.equal(pkg.getTaskerRuntime().getVersion(), version);

  const worker = new pkg.Worker({
    config: { databaseUrl: DATABASE_URL, templatePath: TEMPLATE_DIR, namespace: NAMESPACE, environment: 'test', logLevel: 'error' },
  });
  worker.register('single.step', (ctx) => ({ consumer: label, n: ctx.taskContext.n * 2 }));
  await worker.start();
  try {
    const client = new pkg.TaskerClient({ baseUrl: ORCHESTRATION_URL });
    const created = await client.createTask({ name: 'single', namespace: NAMESPACE, context: { n: 21, consumer: label }, initiator: 'package-check', reason: label });
    assert.match(created.taskUuid, /^[0-9a-f-]{36}$/);
    const task = await client.waitForTask(created.taskUuid, { timeoutMs: 60000 });
    assert.equal(task.status, 'complete');
    const [step] = await client.listSteps(created.taskUuid);
    assert.deepEqual(step.results.result, { consumer: label, n: 42 });
    await assert.rejects(client.getTask('00000000-0000-0000-0000-000000000000'), (e) => e instanceof pkg.TaskerClientError && e.code === 'NOT_FOUND');
  } finally {
    await worker.stop();
  }
  console.log(`${label}: loaded @tasker-systems/worker ${version} (${expectedRuntime}), created and completed a real task with TaskerClient`);
}

module.exports = { run };
