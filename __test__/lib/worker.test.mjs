// The Worker over a scripted runtime: results, failures, timeouts, the
// concurrency limit and the shutdown order. The real-environment tests are
// in __test__/e2e.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { FakeRuntime, makeEvent } from '../helpers/fake-runtime.mjs';
import { fakeWorker, resultOf, tick, waitFor } from '../helpers/fake-worker.mjs';
import { pkg } from '../helpers/package.mjs';

const { Worker, RetryableError, PermanentError, StepCancelledError, success, decision, noBranches, batches, noBatches, checkpoint, EventNames } = pkg;
const config = { databaseUrl: 'postgresql://u:p@127.0.0.1:1/d', templatePath: '/tmp' };
const setup = (options = {}) => fakeWorker(config, options);

describe('Worker', () => {
  test('validates its options and registrations', () => {
    const runtime = new FakeRuntime();
    assert.throws(() => new Worker({ runtime }), /options\.config is required/);
    assert.throws(() => new Worker({ config, runtime, concurrency: 0 }), /concurrency must be an integer/);
    assert.throws(() => new Worker({ config, runtime, maxBatch: 0 }), /maxBatch must be an integer from 1 to 1000/);
    assert.throws(() => new Worker({ config, runtime, maxBatch: 2.5 }), /maxBatch must be an integer/);
    const worker = new Worker({ config, runtime });
    assert.throws(() => worker.register('bad name!', () => 1), /not a handler callable/);
    assert.throws(() => worker.register('ok', 42), /must be a function, a class or an object/);
    worker.register('ok', () => 1);
    assert.throws(() => worker.register('ok', () => 2), /already registered/);
  });

  test('start needs a handler; it bootstraps with the config', async () => {
    const { runtime, worker } = setup();
    await assert.rejects(worker.start(), /register at least one handler/);
    worker.register('test.handler', () => 1);
    const started = [];
    worker.events.subscribe(EventNames.WORKER_STARTED, (p) => started.push(p));
    await worker.start();
    // Poll delivery: claims are limited to what the handlers can run.
    assert.deepEqual(runtime.calls.find((c) => c[0] === 'bootstrapWorker'), ['bootstrapWorker', { ...config, maxClaimedSteps: worker.concurrency }]);
    assert.deepEqual(started, [{ workerId: 'fake-worker', delivery: 'poll', namespaces: ['ns'] }]);
    await worker.stop();
  });

  test('a returned value is a success with the typed context', async () => {
    const { runtime, worker } = setup();
    let seen;
    worker.register('test.handler', async (ctx) => {
      seen = ctx;
      return { doubled: ctx.taskContext.n * ctx.stepConfig.factor, dep: ctx.dependencyResult('prev') };
    });
    await worker.start();
    const event = makeEvent({ context: { n: 21 }, deps: { prev: { x: 1 } } });
    runtime.queue.push(event);
    await waitFor(() => resultOf(runtime, event));
    const result = resultOf(runtime, event);
    assert.equal(result.outcome, 'success');
    assert.deepEqual(result.result, { doubled: 42, dep: { x: 1 } });
    assert.ok(result.executionTimeMs >= 0);
    assert.equal(seen.stepUuid, event.stepUuid);
    assert.equal(seen.retryCount, 0);
    assert.equal(seen.signal.aborted, false);
    seen.logger.info('hello', { extra: 1 });
    assert.deepEqual(runtime.logs.at(-1), ['info', 'hello', { task_uuid: event.taskUuid, step_uuid: event.stepUuid, step: event.workflowStep.name, extra: 1 }]);
    await worker.stop();
  });

  test('a cancelled step: its signal aborts with StepCancelledError, no result is sent, step.cancelled is emitted', async () => {
    for (const delivery of ['poll', 'push']) {
      const { runtime, worker } = setup({ delivery });
      const seen = [];
      worker.events.on(EventNames.STEP_CANCELLED, (p) => seen.push(p));
      let signal;
      let finished = false;
      worker.register('slow', async (ctx) => {
        signal = ctx.signal;
        await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
        finished = true;
        return { late: true };
      });
      worker.register('quick', () => 1);
      await worker.start();
      const [slow, quick] = [makeEvent({ callable: 'slow' }), makeEvent({ callable: 'quick' })];
      if (delivery === 'poll') runtime.queue.push(slow);
      else runtime.push(slow);
      await waitFor(() => signal !== undefined);
      assert.equal(worker.inFlight, 1);
      assert.ok(runtime.cancel(slow));
      await waitFor(() => finished);
      assert.ok(signal.reason instanceof StepCancelledError, String(signal.reason));
      assert.equal(signal.reason.code, 'STEP_CANCELLED');
      assert.equal(signal.reason.message, 'the task was cancelled');
      assert.equal(worker.inFlight, 0, `${delivery}: the slot is free`);
      assert.deepEqual(seen.map((p) => [p.eventId, p.stepUuid, p.callable, p.reason]), [[slow.eventId, slow.stepUuid, 'slow', 'the task was cancelled']]);
      if (delivery === 'poll') runtime.queue.push(quick);
      else runtime.push(quick);
      await waitFor(() => runtime.completions.length === 1);
      assert.equal(resultOf(runtime, slow), undefined, `${delivery}: nothing was sent for the cancelled step`);
      assert.equal(resultOf(runtime, quick).result, 1);
      assert.equal(runtime.cancel(quick), true);
      await worker.stop();
      assert.equal(runtime.cancellationSubscription.closed, true, 'closed at stop');
    }
  });

  test('helpers: success with metadata, decision, checkpoint', async () => {
    const { runtime, worker } = setup();
    worker.register('a', () => success({ ok: 1 }, { metadata: { m: 2 } }));
    worker.register('b', () => decision(['left'], { why: 'small' }));
    worker.register('c', () => checkpoint({ page: 2 }, 10));
    await worker.start();
    const [a, b, c] = [makeEvent({ callable: 'a' }), makeEvent({ callable: 'b' }), makeEvent({ callable: 'c' })];
    runtime.queue.push(a, b, c);
    await waitFor(() => runtime.completions.length === 2 && runtime.checkpoints.length === 1);
    assert.deepEqual(resultOf(runtime, a).metadata, { m: 2 });
    assert.deepEqual(resultOf(runtime, b).decision, { createSteps: ['left'] });
    assert.deepEqual(runtime.checkpoints[0], { eventId: c.eventId, data: { cursor: { page: 2 }, itemsProcessed: 10, accumulatedResults: undefined } });
    await worker.stop();
  });

  test('throws and rejections are classified: retryable by default, PermanentError permanent', async () => {
    const { runtime, worker } = setup();
    const errors = [];
    worker.events.subscribe(EventNames.HANDLER_ERROR, (p) => errors.push(p.error.message));
    worker.register('sync-throw', () => {
      throw new TypeError('bad thing');
    });
    worker.register('reject', async () => {
      throw new RetryableError('rate limited', { backoffSeconds: 5, backoffKind: 'rate_limit', errorCode: 'RL' });
    });
    worker.register('permanent', async () => {
      throw new PermanentError('invalid card', { errorCode: 'CARD', context: { last4: '4242' } });
    });
    await worker.start();
    const events = ['sync-throw', 'reject', 'permanent'].map((callable) => makeEvent({ callable }));
    runtime.queue.push(...events);
    await waitFor(() => runtime.completions.length === 3);
    const [thrown, rejected, permanent] = events.map((e) => resultOf(runtime, e));
    assert.equal(thrown.outcome, 'retryable_failure');
    assert.equal(thrown.error.errorType, 'TypeError');
    assert.equal(thrown.error.message, 'bad thing');
    assert.ok(thrown.error.backtrace.length > 0);
    assert.equal(rejected.outcome, 'retryable_failure');
    assert.deepEqual(rejected.backoff, { delaySeconds: 5, kind: 'rate_limit' });
    assert.equal(rejected.error.errorCode, 'RL');
    assert.equal(permanent.outcome, 'permanent_failure');
    assert.equal(permanent.backoff, undefined);
    assert.deepEqual(permanent.error.context, { last4: '4242' });
    assert.deepEqual(errors.sort(), ['bad thing', 'invalid card', 'rate limited']);
    await worker.stop();
  });

  test('a thrown non-Error is recorded meaningfully: a string as the message, a value with its type', async () => {
    const { runtime, worker } = setup();
    const thrown = { undef: undefined, nul: null, text: 'card expired', object: { code: 7, why: 'x' }, number: 42 };
    for (const [callable, value] of Object.entries(thrown)) {
      worker.register(callable, () => {
        throw value;
      });
    }
    await worker.start();
    const events = Object.keys(thrown).map((callable) => makeEvent({ callable }));
    runtime.queue.push(...events);
    await waitFor(() => runtime.completions.length === events.length);
    const messages = events.map((e) => resultOf(runtime, e).error.message);
    assert.deepEqual(messages, [
      'undefined was thrown',
      'null was thrown',
      'card expired',
      'a non-Error was thrown: Object {"code":7,"why":"x"}',
      'a non-Error was thrown: number 42',
    ]);
    for (const e of events) assert.equal(resultOf(runtime, e).outcome, 'retryable_failure');
    await worker.stop();
  });

  test('an unknown handler fails the step permanently with a clear message', async () => {
    const { runtime, worker } = setup();
    worker.register('known', () => 1);
    await worker.start();
    const event = makeEvent({ callable: 'missing.handler' });
    runtime.queue.push(event);
    await waitFor(() => resultOf(runtime, event));
    const result = resultOf(runtime, event);
    assert.equal(result.outcome, 'permanent_failure');
    assert.match(result.error.message, /no handler registered for 'missing\.handler'.*registered: known.*worker\.register\('missing\.handler'/);
    await worker.stop();
  });

  test('classes are constructed with the initialization; handler.method is honoured', async () => {
    const { runtime, worker } = setup();
    const constructed = [];
    worker.register(
      'cls',
      class {
        constructor(init) {
          constructed.push(init);
          this.factor = init.factor;
        }
        call(ctx) {
          return { v: ctx.taskContext.n * this.factor };
        }
        other() {
          return { other: true };
        }
      },
    );
    worker.register('obj', { call: () => ({ obj: true }) });
    await worker.start();
    const events = [makeEvent({ callable: 'cls', context: { n: 4 } }), makeEvent({ callable: 'cls', method: 'other' }), makeEvent({ callable: 'obj' })];
    runtime.queue.push(...events);
    await waitFor(() => runtime.completions.length === 3);
    assert.deepEqual(events.map((e) => resultOf(runtime, e).result), [{ v: 8 }, { other: true }, { obj: true }]);
    assert.deepEqual(constructed, [{ factor: 2 }], 'one instance per callable');
    await worker.stop();
  });

  test('a signal first read after the step was aborted is already aborted, with the first reason', async () => {
    const { runtime, worker } = setup({ drainTimeoutMs: 50 });
    let afterTimeout;
    let afterStop;
    worker.register('slow', async (ctx) => {
      await new Promise((resolve) => setTimeout(resolve, 400));
      // Read only now, after the step timed out (and, for the second, after the worker stopped too).
      if (ctx.taskContext.n === 1) afterTimeout = ctx.signal;
      else afterStop = ctx.signal;
      return { late: true };
    });
    await worker.start();
    const timedOut = makeEvent({ callable: 'slow', timeoutSeconds: 0.1, context: { n: 1 } });
    const abandoned = makeEvent({ callable: 'slow', timeoutSeconds: 60, context: { n: 2 } });
    runtime.queue.push(timedOut, abandoned);
    await waitFor(() => resultOf(runtime, timedOut));
    await worker.stop();
    await waitFor(() => afterTimeout && afterStop);
    assert.equal(afterTimeout.aborted, true);
    assert.equal(afterTimeout.reason.name, 'TimeoutError');
    assert.equal(afterStop.aborted, true);
    assert.match(afterStop.reason.message, /shutting down/);
    assert.match(resultOf(runtime, abandoned).error.message, /shut down before the handler finished/);
  });

  test('a handler past its timeout sees its signal abort and the step fails as retryable', async () => {
    const { runtime, worker } = setup();
    let signal;
    worker.register('slow', (ctx) => {
      signal = ctx.signal;
      return new Promise((resolve) => setTimeout(() => resolve({ late: true }), 3000));
    });
    await worker.start();
    const event = makeEvent({ callable: 'slow', timeoutSeconds: 0.2 });
    runtime.queue.push(event);
    await waitFor(() => resultOf(runtime, event));
    const result = resultOf(runtime, event);
    assert.equal(result.outcome, 'retryable_failure');
    assert.match(result.error.message, /timed out after 200 ms/);
    assert.equal(signal.aborted, true);
    assert.equal(signal.reason.name, 'TimeoutError');
    assert.equal(worker.inFlight, 0);
    await worker.stop();
    assert.equal(runtime.completions.filter((c) => c.eventId === event.eventId).length, 1, 'the late result is dropped');
  });

  test('concurrency: never more handlers than the limit, and no event taken without room', async () => {
    const { runtime, worker } = setup({ concurrency: 2 });
    let active = 0;
    let maxActive = 0;
    const release = [];
    worker.register('test.handler', () => {
      active++;
      maxActive = Math.max(maxActive, active);
      return new Promise((resolve) => release.push(() => (active--, resolve({}))));
    });
    await worker.start();
    runtime.queue.push(...Array.from({ length: 5 }, () => makeEvent()));
    await waitFor(() => active === 2);
    await tick(30);
    assert.equal(maxActive, 2);
    assert.equal(runtime.queue.length, 3, 'the other events stay in the channel');
    const polls = runtime.calls.filter((c) => c[0] === 'pollStepEvents');
    assert.ok(polls.every((c) => c[1] <= 2), 'never asks for more than the free slots');
    while (runtime.completions.length < 5) {
      release.shift()?.();
      await tick(5);
    }
    assert.equal(maxActive, 2);
    await worker.stop();
  });

  test('push mode asks the native side for maxInFlight = concurrency', async () => {
    const { runtime, worker } = setup({ delivery: 'push', concurrency: 3 });
    worker.register('test.handler', () => ({ pushed: true }));
    await worker.start();
    assert.deepEqual(runtime.calls.find((c) => c[0] === 'subscribeStepEvents')[1], { maxInFlight: 3 });
    const event = makeEvent();
    runtime.push(event);
    await waitFor(() => resultOf(runtime, event));
    assert.deepEqual(resultOf(runtime, event).result, { pushed: true });
    await worker.stop();
    assert.equal(runtime.subscription.closed, true);
  });

  for (const delivery of ['push', 'poll']) {
    test(`${delivery}: dispatch metrics are read only while something listens to poller.metrics`, async () => {
      const { runtime, worker } = setup({ delivery });
      let reads = 0;
      const read = runtime.getFfiDispatchMetrics.bind(runtime);
      runtime.getFfiDispatchMetrics = () => (reads++, read());
      worker.register('test.handler', () => ({}));
      await worker.start();
      // Push publishes every second, poll every 100 polls (1 ms each here).
      await tick(1200);
      assert.equal(reads, 0, 'nobody listens: no native reads');
      const got = [];
      const listener = (m) => got.push(m);
      worker.events.on(EventNames.POLLER_METRICS, listener);
      await waitFor(() => got.length >= 1, 3000);
      assert.equal(got[0].mode, delivery);
      assert.ok(reads >= 1);
      worker.events.off(EventNames.POLLER_METRICS, listener);
      const n = reads;
      await tick(1200);
      assert.equal(reads, n, 'the listener left: reads stop');
      await worker.stop();
    });
  }

  test('stop: stop taking, go graceful, drain, abort the rest, then stop the core', async () => {
    const { runtime, worker } = setup({ drainTimeoutMs: 200 });
    const signals = [];
    worker.register('test.handler', (ctx) => {
      signals.push(ctx.signal);
      const ms = ctx.taskContext.ms;
      return new Promise((resolve) => setTimeout(() => resolve({ ms }), ms));
    });
    await worker.start();
    const quick = makeEvent({ context: { ms: 50 } });
    const stuck = makeEvent({ context: { ms: 5000 }, timeoutSeconds: 60 });
    runtime.queue.push(quick, stuck);
    await waitFor(() => worker.inFlight === 2);
    const waiting = makeEvent({ context: { ms: 1 } });
    const stopped = worker.stop();
    runtime.queue.push(waiting);
    const summary = await stopped;
    assert.deepEqual(summary, { completed: 1, abandoned: 1, handedBack: 1 });
    assert.equal(resultOf(runtime, quick).outcome, 'success');
    assert.equal(resultOf(runtime, stuck).outcome, 'retryable_failure');
    assert.match(resultOf(runtime, stuck).error.message, /shut down before the handler finished/);
    assert.equal(signals[1].aborted, true);
    assert.equal(resultOf(runtime, waiting), undefined, 'never taken, handed back by the core');
    const order = runtime.calls.map((c) => c[0]).filter((n) => ['transitionToGracefulShutdown', 'stopWorker'].includes(n));
    assert.deepEqual(order, ['transitionToGracefulShutdown', 'stopWorker']);
    const lastCompletion = runtime.calls.findLastIndex((c) => c[0] === 'completeStepEvent');
    assert.ok(lastCompletion < runtime.calls.findIndex((c) => c[0] === 'stopWorker'), 'results are sent before the core stops');
    assert.equal(await worker.stop(), summary, 'stop is idempotent');
  });

  test('any JSON value is a result: numbers, arrays, null; undefined is {}', async () => {
    const { runtime, worker } = setup();
    const values = { num: 42, arr: [1, 'a'], nul: null, undef: undefined, str: 'done' };
    for (const [callable, value] of Object.entries(values)) worker.register(callable, () => value);
    await worker.start();
    const events = Object.keys(values).map((callable) => makeEvent({ callable }));
    runtime.queue.push(...events);
    await waitFor(() => runtime.completions.length === events.length);
    assert.deepEqual(events.map((e) => resultOf(runtime, e).result), [42, [1, 'a'], null, {}, 'done']);
    await worker.stop();
  });

  test("a result that does not fit the step's type fails it permanently, saying what to return", async () => {
    const { runtime, worker } = setup();
    worker.register('plain', () => ({ ok: true }));
    worker.register('decides', () => decision(['a'], 7));
    worker.register('none', () => noBranches());
    worker.register('splits', () => batches('w', [{ start: 0, end: 10 }], [1]));
    worker.register('nothing', () => noBatches(0));
    worker.register('saves', () => checkpoint(5, 5));
    await worker.start();
    const cases = [
      ['plain', 'decision', /is a decision step: its handler must return decision\(\[\.\.\.steps\], result\) or noBranches\(result\)/],
      ['decides', 'standard', /returned a decision, but its template step is of type 'standard', not 'decision'/],
      ['plain', 'batchable', /is a batchable step: its handler must return batches\(workerTemplate, ranges, result\) or noBatches\(result\)/],
      ['splits', 'decision', /is a decision step/],
      ['splits', 'standard', /returned batches, but its template step is of type 'standard'/],
    ];
    const events = cases.map(([callable, stepType]) => makeEvent({ callable, stepType }));
    const fine = [
      makeEvent({ callable: 'decides', stepType: 'decision' }),
      makeEvent({ callable: 'none', stepType: 'decision' }),
      makeEvent({ callable: 'splits', stepType: 'batchable' }),
      makeEvent({ callable: 'nothing', stepType: 'batchable', initialization: { worker_template_name: 'w' } }),
      makeEvent({ callable: 'saves', stepType: 'batch_worker' }),
      makeEvent({ callable: 'plain' }),
      // Without a worker template to run a placeholder of, tasker still accepts it: sent as is.
      makeEvent({ callable: 'nothing', stepType: 'batchable' }),
    ];
    runtime.queue.push(...events, ...fine);
    await waitFor(() => runtime.completions.length === events.length + fine.length - 1 && runtime.checkpoints.length === 1);
    cases.forEach(([, , message], i) => {
      const result = resultOf(runtime, events[i]);
      assert.equal(result.outcome, 'permanent_failure', `case ${i}`);
      assert.equal(result.error.errorCode, 'RESULT_DOES_NOT_FIT_STEP');
      assert.match(result.error.message, message);
    });
    const [decides, none, splits, nothing, , , bare] = fine.map((e) => resultOf(runtime, e));
    assert.equal(decides.result, 7);
    assert.deepEqual(none.decision, { createSteps: [] });
    assert.deepEqual(splits.result, [1]);
    assert.equal(nothing.result, 0);
    assert.equal(bare.outcome, 'success');
    assert.equal(bare.result, 0);
    assert.deepEqual(bare.batch.cursors, []);
    await worker.stop();
  });

  test('stepLog receives ctx.logger lines instead of the native log', async () => {
    const lines = [];
    const { runtime, worker } = setup({ stepLog: (level, message, fields) => lines.push([level, message, fields.step, fields.k]) });
    worker.register('test.handler', (ctx) => (ctx.logger.warn('careful', { k: 1 }), 1));
    await worker.start();
    const event = makeEvent();
    runtime.queue.push(event);
    await waitFor(() => resultOf(runtime, event));
    await worker.stop();
    assert.deepEqual(lines, [['warn', 'careful', event.workflowStep.name, 1]]);
    assert.deepEqual(runtime.logs, []);
  });

  test('a result that cannot be stored fails the step instead of stranding it', async () => {
    const { runtime, worker } = setup();
    let first = true;
    runtime.completeStepEvent = async function (eventId, result) {
      if (first) {
        first = false;
        const { FfiCallError } = pkg;
        throw new FfiCallError('completeStepEvent', 'INVALID_ARGUMENT', 'result.result: not JSON');
      }
      this.completions.push({ eventId, result });
    };
    worker.register('test.handler', () => ({ big: 1n }));
    await worker.start();
    const event = makeEvent();
    runtime.queue.push(event);
    await waitFor(() => resultOf(runtime, event));
    assert.equal(resultOf(runtime, event).outcome, 'permanent_failure');
    assert.match(resultOf(runtime, event).error.message, /result was rejected/);
    await worker.stop();
  });
});
