// Every callback the addon calls may be `async`, may throw, may reject later
// or may never settle: none of it may end the process (an unhandled
// rejection would) or strand a step. Against a real worker and real tasks:
// step event callbacks (one event per call, and batches) fail their steps as
// retryable with the reason, and the orchestration retries them; a domain
// event subscriber's failures are counted; a publisher's failures skip its
// event; the steps complete.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { eventually, sleep, suiteTemplates, useEnvironment } from '../helpers/environment.mjs';
import { native } from '../helpers/native.mjs';

// A never-settling callback holds its steps until the completion timeout.
const COMPLETION_TIMEOUT_MS = 1500;
let env;
let templates;
const unhandled = [];
const onUnhandled = (reason) => unhandled.push(reason);

/** Callback shapes that fail, by name: each returns what a careless callback would. */
const FAILING = {
  syncThrow: () => {
    throw new Error('sync boom');
  },
  asyncReject: async () => {
    throw new Error('async boom');
  },
  throwAfterAwait: async () => {
    await sleep(20);
    throw new Error('later boom');
  },
  rejectsWithString: () => Promise.reject('a plain string'),
  brokenThenable: () => ({
    get then() {
      throw new Error('then getter boom');
    },
  }),
  thenableRejects: () => ({ then: (_resolve, reject) => setTimeout(() => reject(new Error('custom thenable boom')), 5) }),
  neverSettles: () => new Promise(() => {}),
};
const REASON = {
  syncThrow: /threw: sync boom/,
  asyncReject: /rejected: async boom/,
  throwAfterAwait: /rejected: later boom/,
  rejectsWithString: /rejected: a plain string/,
  brokenThenable: /then getter boom/,
  thenableRejects: /rejected: custom thenable boom/,
  neverSettles: /timed out|ffi_timeout|completion/i,
};

const success = (result) => ({ outcome: 'success', result, executionTimeMs: 1 });

async function createTask(name, context) {
  return (await env.client.createTask({ name, namespace: templates.namespace, context })).taskUuid;
}

/** Every stored result of the task's only step, oldest first. */
async function audit(taskUuid) {
  const [step] = await env.client.listSteps(taskUuid);
  const entries = await env.client.getStepAudit(taskUuid, step.stepUuid);
  return entries.sort((a, b) => a.recordedAt.localeCompare(b.recordedAt));
}

/**
 * Subscribes `failing` (chosen per task by its context's `shape`), creates a
 * task per shape, waits until each task's step failed once, then serves with
 * a good callback: every task must complete, its step having run twice.
 */
async function failThenRecover(subscribe, shapes) {
  const run = `${Date.now()}-${Math.random()}`;
  const failing = subscribe((arg) => {
    const first = Array.isArray(arg) ? arg[0] : arg;
    return FAILING[first.task.context.shape](arg);
  });
  const tasks = {};
  for (const shape of shapes) tasks[shape] = await createTask('single', { shape, run });
  const failedAll = () =>
    Promise.all(shapes.map(async (shape) => (await audit(tasks[shape])).some((a) => a.success === false)));
  await eventually(async () => (await failedAll()).every(Boolean), { timeoutMs: 30000, intervalMs: 200, what: 'a failed attempt of every task' });
  failing.close();
  const good = subscribe((arg) => {
    for (const event of Array.isArray(arg) ? arg : [arg]) native.completeStepEvent(event.eventId, success({ served: true }));
  });
  try {
    for (const shape of shapes) {
      const task = await env.client.waitForTask(tasks[shape], { timeoutMs: 60000 });
      assert.equal(task.status ?? task.state, 'complete', `${shape}: the task completes`);
      const attempts = await audit(tasks[shape]);
      const failure = attempts.find((a) => a.success === false);
      assert.ok(failure, `${shape}: a failed attempt was stored`);
      assert.match(JSON.stringify(failure.result ?? failure), REASON[shape], `${shape}: the failure says why`);
      assert.equal(attempts.at(-1).success, true, `${shape}: then it succeeded`);
    }
  } finally {
    good.close();
  }
}

describe('callbacks that throw, reject or never settle', { timeout: 300000 }, () => {
  before(async () => {
    process.on('unhandledRejection', onUnhandled);
    env = await useEnvironment();
    templates = suiteTemplates('callbacks', ['single', 'events']);
    const started = await native.bootstrapWorkerAsync({
      databaseUrl: env.databaseUrl,
      templatePath: templates.path,
      namespace: templates.namespace,
      environment: 'test',
      logLevel: process.env.TEST_WORKER_LOG ?? 'error',
      dispatch: { completionTimeoutMs: COMPLETION_TIMEOUT_MS },
    });
    assert.equal(started.status, 'started');
  });

  after(async () => {
    process.off('unhandledRejection', onUnhandled);
    await native.stopWorkerAsync();
    templates?.remove();
    await env?.release();
  });

  test('subscribeStepEvents: every failing shape fails its step as retryable, with the reason; the retry completes', async () => {
    await failThenRecover((fn) => native.subscribeStepEvents(fn, { maxInFlight: 8 }), Object.keys(FAILING));
    assert.deepEqual(unhandled, [], 'no unhandled rejection reached the process');
  });

  test('subscribeStepEventBatches: the same for a whole call', async () => {
    await failThenRecover((fn) => native.subscribeStepEventBatches(fn, { maxInFlight: 8, maxBatch: 4 }), ['asyncReject', 'throwAfterAwait', 'brokenThenable']);
    assert.deepEqual(unhandled, []);
  });

  test('a Promise rejecting after its events were completed changes nothing', async () => {
    const taskUuid = await createTask('single', { shape: 'completesThenRejects', run: Date.now() });
    const sub = native.subscribeStepEvents(async (event) => {
      await native.completeStepEventAsync(event.eventId, success({ done: true }));
      throw new Error('after completing');
    });
    try {
      const task = await env.client.waitForTask(taskUuid, { timeoutMs: 30000 });
      assert.equal(task.status ?? task.state, 'complete');
      assert.deepEqual((await audit(taskUuid)).map((a) => a.success), [true], 'one attempt, successful');
    } finally {
      sub.close();
    }
    assert.deepEqual(unhandled, []);
  });

  test('subscribeDomainEvents: failures are counted per event, and the steps complete', async () => {
    native.registerDomainEventPublisher('payment_shaper', (ctx) => ({ amount: ctx.payload.amount }));
    const steps = native.subscribeStepEvents((event) => {
      const callable = event.stepDefinition.handlerCallable;
      native.completeStepEvent(event.eventId, success(callable === 'events.charge' ? { amount: event.task.context.amount } : { carrier: 'ups' }));
    });
    const rejecting = native.subscribeDomainEvents(FAILING.throwAfterAwait);
    const throwing = native.subscribeDomainEvents(FAILING.syncThrow);
    const hanging = native.subscribeDomainEvents(FAILING.neverSettles);
    const seen = [];
    const fine = native.subscribeDomainEvents((e) => seen.push(e.name));
    try {
      const taskUuid = await createTask('events', { amount: 7, run: Date.now() });
      const task = await env.client.waitForTask(taskUuid, { timeoutMs: 30000 });
      assert.equal(task.status ?? task.state, 'complete');
      // Two fast events per task (payment.captured, order.shipped).
      await eventually(() => seen.length === 2 && rejecting.failed === 2 && throwing.failed === 2, { what: 'both fast events failed in both bad subscribers' });
      assert.deepEqual(seen.sort(), ['order.shipped', 'payment.captured']);
      assert.equal(hanging.failed, 0, 'a pending Promise is not a failure');
      assert.equal(hanging.delivered, 2);
      assert.equal(fine.failed, 0);
    } finally {
      for (const s of [steps, rejecting, throwing, hanging, fine]) s.close();
    }
    assert.deepEqual(unhandled, []);
  });

  test('registerDomainEventPublisher: a throw, a rejection or no reply skips the event; a plain return publishes', async () => {
    const steps = native.subscribeStepEvents((event) => {
      const callable = event.stepDefinition.handlerCallable;
      native.completeStepEvent(event.eventId, success(callable === 'events.charge' ? { amount: event.task.context.amount } : { carrier: 'ups' }));
    });
    const payments = [];
    const listener = native.subscribeDomainEvents((e) => payments.push(e), { patterns: ['payment.*'] });
    try {
      for (const shape of ['syncThrow', 'asyncReject', 'throwAfterAwait', 'brokenThenable']) {
        native.registerDomainEventPublisher('payment_shaper', FAILING[shape]);
        const taskUuid = await createTask('events', { amount: 1, shape, run: Date.now() });
        const task = await env.client.waitForTask(taskUuid, { timeoutMs: 30000 });
        assert.equal(task.status ?? task.state, 'complete', `${shape}: the steps are not affected`);
      }
      native.registerDomainEventPublisher('payment_shaper', (ctx) => ({ amount: ctx.payload.amount * 100 }));
      const taskUuid = await createTask('events', { amount: 3, run: Date.now() });
      await env.client.waitForTask(taskUuid, { timeoutMs: 30000 });
      await eventually(() => payments.length === 1, { what: 'the plainly returned payload published' });
      await sleep(300);
      assert.equal(payments.length, 1, 'the four failing publishers published nothing');
      assert.equal(payments[0].payload.amount, 300);
    } finally {
      steps.close();
      listener.close();
    }
    assert.deepEqual(unhandled, []);
  });
});
