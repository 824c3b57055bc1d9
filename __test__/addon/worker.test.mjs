// The addon against a real worker: PostgreSQL with tasker's schema and the
// orchestration server. Events arrive by poll and by push, are completed,
// and their results are persisted; the metrics follow each event.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { eventually, sleep, stepsByName, suiteTemplates, useEnvironment } from '../helpers/environment.mjs';
import { expectCode, native } from '../helpers/native.mjs';

const COMPLETION_TIMEOUT_MS = 3000;
let env;
let templates;

async function createSingle(context) {
  return (await env.client.createTask({ name: 'single', namespace: templates.namespace, context })).taskUuid;
}

/** Polls the channel until one event arrives. */
async function pollOne() {
  return eventually(() => native.pollStepEvents(1)[0], { what: 'a step event by poll' });
}

const success = (result) => ({ outcome: 'success', result, executionTimeMs: 1 });

describe('native worker', { timeout: 240000 }, () => {
  before(async () => {
    env = await useEnvironment();
    templates = suiteTemplates('native');
    const started = await native.bootstrapWorkerAsync({
      databaseUrl: env.databaseUrl,
      templatePath: templates.path,
      namespace: templates.namespace,
      environment: 'test',
      logLevel: process.env.TEST_WORKER_LOG ?? 'error',
      dispatch: { completionTimeoutMs: COMPLETION_TIMEOUT_MS, starvationThresholdMs: 1000 },
    });
    assert.equal(started.status, 'started');
    assert.match(started.workerId, /^ts-worker-/);
  });

  after(async () => {
    await native.stopWorkerAsync();
    templates?.remove();
    await env?.release();
  });

  test('a second bootstrap starts nothing', () => {
    const again = native.bootstrapWorker({ databaseUrl: env.databaseUrl, templatePath: templates.path });
    assert.equal(again.status, 'already_running');
    assert.ok(again.handleId.length > 0);
  });

  test('status reports the running worker', () => {
    const status = native.getWorkerStatus();
    assert.equal(status.running, true);
    assert.equal(status.environment, 'test');
    assert.equal(status.workerCoreStatus, 'running');
    assert.ok(status.namespaces.includes(templates.namespace), status.namespaces.join(','));
    assert.ok(status.databasePoolSize > 0);
    assert.equal(native.healthCheck().healthy, true);
  });

  test('poll: a real step event, completed and persisted, with metrics moving', async () => {
    const before = native.getFfiDispatchMetrics();
    // Nothing is claimed until JS consumes: the first poll starts claiming
    // (up to 10 steps held, as no maxClaimedSteps was given).
    assert.equal(before.maxClaimedSteps, 0);
    assert.deepEqual(native.pollStepEvents(1), []);
    assert.equal(native.getFfiDispatchMetrics().maxClaimedSteps, 10);
    const context = { mode: 'poll', payload: { n: 7, tags: ['a', 'b'] } };
    const taskUuid = await createSingle(context);

    // Claimed by the worker and waiting in the channel: pending.
    await eventually(() => native.getFfiDispatchMetrics().pendingCount >= 1, { what: 'a pending event' });
    const [event] = native.pollStepEvents(5);
    assert.ok(event, 'an event was polled');
    assert.equal(event.taskUuid, taskUuid);
    assert.equal(event.task.name, 'single');
    assert.equal(event.task.namespace, templates.namespace);
    assert.deepEqual(event.task.context, context);
    assert.equal(event.workflowStep.name, 'only_step');
    assert.equal(event.workflowStep.attempts, 0);
    assert.equal(event.stepDefinition.handlerCallable, 'single.step');
    assert.equal(event.stepDefinition.handlerMethod, 'call');
    assert.equal(event.stepDefinition.timeoutSeconds, 2);
    assert.equal(event.stepDefinition.retry.maxAttempts, 4);
    assert.deepEqual(event.dependencyResults, {});
    assert.match(event.task.createdAt, /Z$/);

    // Taken by JS: in flight.
    let m = native.getFfiDispatchMetrics();
    assert.equal(m.pendingCount, 0);
    assert.equal(m.inFlightCount, 1);
    assert.deepEqual(native.pollStepEvents(), [], 'nothing else is pending');

    native.completeStepEvent(event.eventId, success({ echoed: context.payload }));
    m = native.getFfiDispatchMetrics();
    assert.equal(m.inFlightCount, 0);
    assert.equal(m.completedCount, before.completedCount + 1);

    const task = await env.client.waitForTask(taskUuid);
    assert.equal(task.status, 'complete');
    const steps = await stepsByName(env.client, taskUuid);
    assert.deepEqual(steps.only_step.results.result, { echoed: context.payload });
  });

  test('bad completions get coded errors and lose nothing', async () => {
    const taskUuid = await createSingle({ mode: 'bad-input' });
    const event = await pollOne();
    await expectCode(() => native.completeStepEvent('not-a-uuid', success({})), 'INVALID_ARGUMENT', /^eventId/);
    await expectCode(
      () => native.completeStepEvent('0190a3b2-0000-7000-8000-0000000000ff', success({})),
      'UNKNOWN_EVENT',
      /not in flight/,
    );
    await expectCode(() => native.completeStepEvent(event.eventId, {}), 'INVALID_ARGUMENT', /^result\.outcome/);
    await expectCode(() => native.completeStepEvent(event.eventId, { outcome: 'maybe' }), 'INVALID_ARGUMENT');
    await expectCode(
      () => native.completeStepEvent(event.eventId, { outcome: 'permanent_failure' }),
      'INVALID_ARGUMENT',
      /^result\.error/,
    );
    await expectCode(
      () => native.completeStepEventAsync(event.eventId, { ...success({}), stepUuid: 'nope' }),
      'INVALID_ARGUMENT',
      /^result\.stepUuid/,
    );
    await expectCode(() => native.pollStepEvents(0), 'INVALID_ARGUMENT', /^max/);
    // None of that consumed the event: it still completes.
    assert.equal(native.getFfiDispatchMetrics().inFlightCount, 1);
    await native.completeStepEventAsync(event.eventId, success({ fine: true }));
    await expectCode(() => native.completeStepEvent(event.eventId, success({})), 'UNKNOWN_EVENT', /already completed/);
    assert.equal((await env.client.waitForTask(taskUuid)).status, 'complete');
  });

  test('a permanent failure blocks the task with the step in error; a retryable one is retried', async () => {
    const doomed = await createSingle({ mode: 'permanent' });
    const first = await pollOne();
    native.completeStepEvent(first.eventId, {
      outcome: 'permanent_failure',
      error: { message: 'cannot ever work', errorType: 'ValidationError', backtrace: ['at handler'] },
    });
    assert.equal((await env.client.waitForTask(doomed)).status, 'blocked_by_failures');
    const doomedStep = (await stepsByName(env.client, doomed)).only_step;
    assert.equal(doomedStep.currentState, 'error');
    assert.equal(doomedStep.attempts, 1);

    const flaky = await createSingle({ mode: 'retryable' });
    const attempt1 = await pollOne();
    await native.completeStepEventAsync(attempt1.eventId, {
      outcome: 'retryable_failure',
      error: { message: 'try again', errorType: 'Transient' },
      backoff: { delaySeconds: 1, kind: 'rate_limit' },
    });
    const attempt2 = await pollOne();
    assert.equal(attempt2.stepUuid, attempt1.stepUuid);
    assert.equal(attempt2.workflowStep.attempts, 1);
    native.completeStepEvent(attempt2.eventId, success({ attempt: 2 }));
    assert.equal((await env.client.waitForTask(flaky)).status, 'complete');
  });

  test('an event nobody completes starves, times out by itself and is retried', async () => {
    const taskUuid = await createSingle({ mode: 'abandoned' });
    const abandoned = await pollOne();
    const timedOut = native.getFfiDispatchMetrics().timedOutCount;
    // Past the 1 s starvation threshold: flagged within about a second.
    await sleep(1000 + 700);
    const starving = native.getFfiDispatchMetrics();
    assert.equal(starving.starvationDetected, true);
    assert.equal(starving.starvingEventCount, 1);
    assert.ok(starving.oldestPendingAgeMs >= 1000, String(starving.oldestPendingAgeMs));
    native.checkStarvationWarnings();
    // Past the completion timeout the event is failed as retryable in the
    // background (poll mode too), without a cleanupTimeouts() call.
    await eventually(() => native.getFfiDispatchMetrics().timedOutCount === timedOut + 1, { what: 'the timeout', timeoutMs: COMPLETION_TIMEOUT_MS + 2000 });
    assert.equal(native.cleanupTimeouts(), 0, 'nothing overdue is left');
    await expectCode(() => native.completeStepEvent(abandoned.eventId, success({})), 'UNKNOWN_EVENT', /timed out/);
    const retry = await pollOne();
    assert.equal(retry.stepUuid, abandoned.stepUuid);
    native.completeStepEvent(retry.eventId, success({ late: false }));
    assert.equal((await env.client.waitForTask(taskUuid)).status, 'complete');
  });

  test('checkpoint yield re-dispatches the step with its checkpoint', async () => {
    const taskUuid = await createSingle({ mode: 'checkpoint' });
    const first = await pollOne();
    assert.equal(first.workflowStep.checkpoint ?? null, null);
    await expectCode(
      () => native.checkpointYieldStepEvent(first.eventId, { cursor: 1, itemsProcessed: -1 }),
      'INVALID_ARGUMENT',
      /itemsProcessed/,
    );
    await native.checkpointYieldStepEvent(first.eventId, { cursor: { page: 2 }, itemsProcessed: 50, accumulatedResults: { sum: 10 } });
    const resumed = await pollOne();
    assert.equal(resumed.stepUuid, first.stepUuid);
    assert.notEqual(resumed.eventId, first.eventId);
    assert.deepEqual(resumed.workflowStep.checkpoint.cursor, { page: 2 });
    native.completeStepEvent(resumed.eventId, success({ pages: 2 }));
    assert.equal((await env.client.waitForTask(taskUuid)).status, 'complete');
  });

  test('push: events reach the callback, at most maxInFlight at once', async () => {
    const received = [];
    const subscription = native.subscribeStepEvents((event) => received.push(event), { maxInFlight: 2 });
    try {
      assert.equal(subscription.maxInFlight, 2);
      await expectCode(() => native.pollStepEvents(), 'SUBSCRIPTION_ACTIVE');
      await expectCode(() => native.subscribeStepEvents(() => {}), 'SUBSCRIPTION_ACTIVE');
      const tasks = await Promise.all([1, 2, 3, 4].map((i) => createSingle({ mode: 'push', i })));
      await eventually(() => received.length === 2, { what: 'two pushed events' });
      await sleep(1500);
      assert.equal(received.length, 2, 'no third event while two are in flight');
      assert.equal(subscription.inFlight, 2);
      // Claims follow maxInFlight: the other two stay in the queue, unclaimed.
      const metrics = native.getFfiDispatchMetrics();
      assert.equal(metrics.maxClaimedSteps, 2);
      assert.equal(metrics.pendingCount, 0);
      assert.equal(metrics.inFlightCount, 2);

      for (let done = 0; done < 4; done++) {
        await eventually(() => received.length > done, { what: `event ${done + 1}` });
        await native.completeStepEventAsync(received[done].eventId, success({ i: received[done].task.context.i }));
      }
      for (const uuid of tasks) assert.equal((await env.client.waitForTask(uuid)).status, 'complete');
      assert.deepEqual(new Set(received.map((e) => e.taskUuid)), new Set(tasks));
    } finally {
      subscription.close();
    }
    assert.equal(subscription.closed, true);
  });

  test('push: a throwing callback fails the event as retryable, and it comes back', async () => {
    const deliveries = [];
    const failedBefore = native.getFfiDispatchMetrics().failedCount;
    const subscription = native.subscribeStepEvents((event) => {
      deliveries.push(event);
      if (deliveries.length === 1) throw new Error('handler blew up');
      native.completeStepEvent(event.eventId, success({ recovered: true }));
    });
    try {
      const taskUuid = await createSingle({ mode: 'throw' });
      assert.equal((await env.client.waitForTask(taskUuid)).status, 'complete');
      assert.equal(deliveries.length, 2);
      assert.equal(deliveries[1].workflowStep.attempts, 1);
      assert.equal(native.getFfiDispatchMetrics().failedCount, failedBefore + 1);
    } finally {
      subscription.close();
    }
  });

  test('push batches: real steps arrive in arrays within maxInFlight, and complete', async () => {
    const calls = [];
    const subscription = native.subscribeStepEventBatches((events) => calls.push(events), { maxInFlight: 3, maxBatch: 8 });
    try {
      const tasks = await Promise.all([1, 2, 3, 4, 5].map((i) => createSingle({ mode: 'batch', i })));
      await eventually(() => calls.flat().length === 3, { what: 'three pushed events' });
      await sleep(1000);
      assert.equal(calls.flat().length, 3, 'no fourth event while three are in flight');
      for (let done = 0; done < 5; done++) {
        await eventually(() => calls.flat().length > done, { what: `event ${done + 1}` });
        const event = calls.flat()[done];
        native.completeStepEvent(event.eventId, success({ i: event.task.context.i }));
      }
      for (const uuid of tasks) assert.equal((await env.client.waitForTask(uuid)).status, 'complete');
      assert.ok(calls.every((c) => Array.isArray(c) && c.length >= 1 && c.length <= 3), JSON.stringify(calls.map((c) => c.length)));
      assert.deepEqual(new Set(calls.flat().map((e) => e.taskUuid)), new Set(tasks));
    } finally {
      subscription.close();
    }
  });

  test('after close(), events wait for the next reader', async () => {
    const pushed = [];
    const subscription = native.subscribeStepEvents((event) => pushed.push(event));
    subscription.close();
    const taskUuid = await createSingle({ mode: 'after-close' });
    await eventually(() => native.getFfiDispatchMetrics().pendingCount === 1, { what: 'a pending event' });
    assert.equal(pushed.length, 0);
    const event = await pollOne();
    native.completeStepEvent(event.eventId, success({}));
    assert.equal((await env.client.waitForTask(taskUuid)).status, 'complete');
  });

  test('graceful shutdown stops claiming; stop hands back what is left', async () => {
    const inFlightTask = await createSingle({ mode: 'in-flight-at-shutdown' });
    const inFlight = await pollOne();
    const transition = await native.transitionToGracefulShutdownAsync();
    assert.equal(transition.status, 'transitioned');
    assert.equal(native.getWorkerStatus().gracefulShutdown, true);
    // Completions of in-flight steps are still accepted.
    native.completeStepEvent(inFlight.eventId, success({ finished: 'during graceful shutdown' }));
    assert.equal((await env.client.waitForTask(inFlightTask)).status, 'complete');
    // New steps are no longer claimed.
    const unclaimed = await createSingle({ mode: 'after-graceful' });
    await sleep(2000);
    assert.deepEqual(native.pollStepEvents(), []);
    assert.ok(['pending', 'enqueued'].includes((await stepsByName(env.client, unclaimed)).only_step.currentState), 'not claimed');
    const stopped = await native.stopWorkerAsync();
    assert.equal(stopped.status, 'stopped');
    assert.equal(native.isWorkerRunning(), false);
    await expectCode(() => native.pollStepEvents(), 'NOT_BOOTSTRAPPED');
  });

  test('the sync forms return at once; a stopped worker starts again and finds the waiting step', async () => {
    const again = await native.bootstrapWorkerAsync({
      databaseUrl: env.databaseUrl,
      templatePath: templates.path,
      namespace: templates.namespace,
      environment: 'test',
      logLevel: 'error',
    });
    assert.equal(again.status, 'started');
    // The step created during the previous graceful shutdown was never claimed: this worker gets it.
    const waiting = await pollOne();
    assert.equal(waiting.task.context.mode, 'after-graceful');
    native.completeStepEvent(waiting.eventId, success({ picked_up_by: 'restarted worker' }));
    assert.equal((await env.client.waitForTask(waiting.taskUuid)).status, 'complete');

    let started = Date.now();
    assert.equal(native.transitionToGracefulShutdown().status, 'transitioning');
    assert.ok(Date.now() - started < 100, 'transitionToGracefulShutdown does not block');
    await eventually(() => native.getWorkerStatus().gracefulShutdown, { what: 'the graceful flag' });
    started = Date.now();
    assert.equal(native.stopWorker().status, 'stopping');
    assert.ok(Date.now() - started < 100, 'stopWorker does not block');
    assert.equal(native.isWorkerRunning(), false);
    // A new bootstrap waits for that shutdown to finish, then starts.
    const third = await native.bootstrapWorkerAsync({ databaseUrl: env.databaseUrl, templatePath: templates.path, logLevel: 'error' });
    assert.equal(third.status, 'started');
    assert.notEqual(third.handleId, again.handleId);
  });
});
