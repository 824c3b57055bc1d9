// Shared by the packaging check's consumers (ESM, CommonJS, Bun): given the
// installed package as loaded by that consumer, check runtime detection and
// version, then run one real step through a Worker and the orchestration.
const assert = require('node:assert/strict');
const { readFileSync } = require('node:fs');

async function waitForTask(orchestrationUrl, uuid) {
  const deadline = Date.now() + 60000;
  while (Date.now() < deadline) {
    const task = await (await fetch(`${orchestrationUrl}/v1/tasks/${uuid}`)).json();
    if (['complete', 'error', 'blocked_by_failures'].includes(task.status)) return task;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`task ${uuid} did not finish`);
}

async function run(pkg, expectedRuntime, label) {
  const { DATABASE_URL, ORCHESTRATION_URL, TEMPLATE_DIR, NAMESPACE } = process.env;
  assert.equal(pkg.detectRuntime(), expectedRuntime);
  assert.equal(pkg.isRuntimeSupported(), true);
  const version = JSON.parse(readFileSync(require.resolve('@tasker-systems/worker/package.json'), 'utf8')).version;
  assert.equal(pkg.getTaskerRuntime().getVersion(), version);

  const worker = new pkg.Worker({
    config: { databaseUrl: DATABASE_URL, templatePath: TEMPLATE_DIR, namespace: NAMESPACE, environment: 'test', logLevel: 'error' },
  });
  worker.register('single.step', (ctx) => ({ consumer: label, n: ctx.taskContext.n * 2 }));
  await worker.start();
  try {
    const res = await fetch(`${ORCHESTRATION_URL}/v1/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'single', namespace: NAMESPACE, version: '1.0.0', context: { n: 21, consumer: label }, initiator: 'package-check', source_system: 'package-check', reason: label }),
    });
    const created = await res.json();
    assert.ok(created.task_uuid, JSON.stringify(created));
    const task = await waitForTask(ORCHESTRATION_URL, created.task_uuid);
    assert.equal(task.status, 'complete');
    const steps = await (await fetch(`${ORCHESTRATION_URL}/v1/tasks/${created.task_uuid}/workflow_steps`)).json();
    assert.deepEqual(steps[0].results.result, { consumer: label, n: 42 });
  } finally {
    await worker.stop();
  }
  console.log(`${label}: loaded @tasker-systems/worker ${version} (${expectedRuntime}), completed a real step`);
}

module.exports = { run };
