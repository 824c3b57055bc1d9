// End to end: real tasks created through the orchestration API, run by the
// Worker's TypeScript handlers in this process, reach their expected final
// states with the expected results.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { stepsByName, suiteTemplates, useEnvironment } from '../helpers/environment.mjs';
import { pkg } from '../helpers/package.mjs';

const { Worker, RetryableError, PermanentError, decision } = pkg;

let env;
let templates;
let worker;
const calls = {};
const count = (name) => (calls[name] = (calls[name] ?? 0) + 1);

function registerHandlers(w) {
  w.register('arithmetic.double', (ctx) => (count('double'), { value: ctx.taskContext.value * 2 }));
  w.register(
    'arithmetic.add',
    class {
      constructor(init) {
        this.addend = init.addend;
      }
      call(ctx) {
        count('add');
        return { value: ctx.dependencyResult('double').value + this.addend };
      }
    },
  );
  w.register('arithmetic.square', async (ctx) => {
    count('square');
    const { value } = ctx.dependencyResult('add_ten');
    return { value: value * value };
  });

  w.register('diamond.start', (ctx) => ({ n: ctx.taskContext.n }));
  w.register('diamond.left', (ctx) => ({ v: ctx.dependencyResult('start').n + 1 }));
  w.register('diamond.right', (ctx) => ({ v: ctx.dependencyResult('start').n * 2 }));
  w.register('diamond.join', (ctx) => ({
    parents: Object.keys(ctx.dependencyResults).sort(),
    sum: ctx.dependencyResult('left').v + ctx.dependencyResult('right').v,
  }));

  w.register('flaky.step', (ctx) => {
    count('flaky');
    if (ctx.retryCount === 0) throw new RetryableError('the service is warming up', { backoffSeconds: 1 });
    return { succeededOnAttempt: ctx.retryCount + 1 };
  });

  w.register('doomed.step', () => {
    count('doomed');
    throw new PermanentError('this order can never be valid', { errorCode: 'INVALID_ORDER' });
  });
  w.register('doomed.after', () => (count('never_runs'), {}));

  w.register('routing.check', (ctx) => ({ amount: ctx.taskContext.amount }));
  w.register('routing.route', (ctx) => {
    const big = ctx.dependencyResult('check').amount >= ctx.stepConfig.threshold;
    return decision([big ? 'big_path' : 'small_path'], { amount: ctx.taskContext.amount });
  });
  w.register('routing.small', () => ({ path: 'small' }));
  w.register('routing.big', () => ({ path: 'big' }));
  w.register('routing.finish', (ctx) => ({
    took: (ctx.dependencyResult('small_path') ?? ctx.dependencyResult('big_path')).path,
  }));
}

async function run(name, context) {
  const { taskUuid: uuid } = await env.client.createTask({ name, namespace: templates.namespace, context });
  const task = await env.client.waitForTask(uuid, { timeoutMs: 90000 });
  return { task, steps: await stepsByName(env.client, uuid) };
}

describe('workflows through real tasker-core', { timeout: 300000 }, () => {
  before(async () => {
    env = await useEnvironment();
    templates = suiteTemplates('e2e', ['arithmetic', 'diamond', 'flaky', 'doomed', 'routing']);
    worker = new Worker({
      config: { databaseUrl: env.databaseUrl, templatePath: templates.path, namespace: templates.namespace, environment: 'test', logLevel: 'error' },
      concurrency: 8,
    });
    registerHandlers(worker);
    await worker.start();
  });

  after(async () => {
    await worker?.stop();
    await pkg.getTaskerRuntime().close();
    templates?.remove();
    await env?.release();
  });

  test('linear: each step uses the previous result', async () => {
    const { task, steps } = await run('arithmetic', { value: 3 });
    assert.equal(task.status, 'complete');
    assert.deepEqual(steps.double.results.result, { value: 6 });
    assert.deepEqual(steps.add_ten.results.result, { value: 16 });
    assert.deepEqual(steps.square.results.result, { value: 256 });
  });

  test('diamond: the join sees both parents', async () => {
    const { task, steps } = await run('diamond', { n: 5 });
    assert.equal(task.status, 'complete');
    // Dependency results are transitive: the join also sees start.
    assert.deepEqual(steps.join.results.result, { parents: ['left', 'right', 'start'], sum: 16 });
  });

  test('retryable failure: retried, then succeeds', async () => {
    const before = calls.flaky ?? 0;
    const { task, steps } = await run('flaky', {});
    assert.equal(task.status, 'complete');
    assert.equal((calls.flaky ?? 0) - before, 2, 'the handler ran twice');
    assert.deepEqual(steps.flaky_step.results.result, { succeededOnAttempt: 2 });
    assert.equal(steps.flaky_step.attempts, 2);
  });

  test('permanent failure: the step ends in error without retries, blocking the task', async () => {
    const before = calls.doomed ?? 0;
    const { task, steps } = await run('doomed', {});
    assert.equal(task.status, 'blocked_by_failures');
    assert.equal((calls.doomed ?? 0) - before, 1, 'never retried');
    assert.equal(steps.doomed_step.currentState, 'error');
    assert.equal(calls.never_runs, undefined, 'the dependent step never ran');
  });

  test('decision point: the chosen branch runs and the convergence sees it', async () => {
    const small = await run('routing', { amount: 50 });
    assert.equal(small.task.status, 'complete');
    assert.deepEqual(small.steps.finish.results.result, { took: 'small' });
    assert.equal(small.steps.big_path, undefined, 'the other branch was never created');
    const big = await run('routing', { amount: 5000 });
    assert.equal(big.task.status, 'complete');
    assert.deepEqual(big.steps.finish.results.result, { took: 'big' });
  });

  test('many tasks at once all complete', async () => {
    const values = Array.from({ length: 12 }, (_, i) => i + 1);
    const uuids = await Promise.all(values.map((value) => env.client.createTask({ name: 'arithmetic', namespace: templates.namespace, context: { value, batch: 'many' } }).then((t) => t.taskUuid)));
    for (const [i, uuid] of uuids.entries()) {
      const task = await env.client.waitForTask(uuid, { timeoutMs: 90000 });
      assert.equal(task.status, 'complete');
      const steps = await stepsByName(env.client, uuid);
      assert.equal(steps.square.results.result.value, (values[i] * 2 + 10) ** 2);
    }
  });
});
