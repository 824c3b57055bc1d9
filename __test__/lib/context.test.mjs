// The handler's context: tasker's batch records and checkpoints in this
// package's names, inputs without tasker's keys, fan-in helpers, and the
// batch workers' results collected at a convergence step. The raw shapes
// here are the ones a real batch run delivers (see __test__/e2e/guide.test.mjs).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { makeEvent } from '../helpers/fake-runtime.mjs';
import { pkg } from '../helpers/package.mjs';

const { createStepContext, collectBatchResults, defineBatchWorker, defineHandler, PermanentError } = pkg;

const logger = { error() {}, warn() {}, info() {}, debug() {}, trace() {} };
const contextOf = (event) => createStepContext(event, new AbortController().signal, logger);

const workerInputs = (batchId, start, end, { noOp = false } = {}) => ({
  __template_step_name: 'count_stock',
  batch_metadata: { cursor_field: 'sku', failure_strategy: 'continue_on_failure' },
  cursor: { batch_id: batchId, batch_size: end - start, end_cursor: end, start_cursor: start },
  is_no_op: noOp,
  checkpointEvery: 100,
});

const envelope = (result, outcome) => ({ result, result_envelope: 'tasker-worker-js/1', batch_processing_outcome: outcome });
const created = (ids, total = 100) => ({
  type: 'create_batches',
  worker_template_name: 'count_stock',
  worker_count: ids.length,
  total_items: total,
  cursor_configs: ids.map((id, i) => ({ batch_id: id, start_cursor: i * 10, end_cursor: i * 10 + 10, batch_size: 10 })),
});

describe('step context', () => {
  test('a batch worker sees ctx.batch, and inputs without tasker’s batch record', () => {
    const ctx = contextOf(makeEvent({ name: 'count_stock_002', stepType: 'batch_worker', inputs: workerInputs('002', 250, 500) }));
    assert.deepEqual(ctx.batch, {
      batchId: '002',
      cursor: { start: 250, end: 500 },
      size: 250,
      isNoOp: false,
      workerTemplate: 'count_stock',
      cursorField: 'sku',
      failureStrategy: 'continueOnFailure',
      resumeFrom: 250,
      resumed: false,
    });
    assert.deepEqual(ctx.inputs, { checkpointEvery: 100 });
    assert.equal(ctx.checkpoint, undefined);
    assert.equal(ctx.stepType, 'batch_worker');
  });

  test('a checkpoint, first as re-dispatched, then as stored after a retry', () => {
    const fresh = { accumulated_results: { units: 5 }, cursor: 350, items_processed: 100, step_uuid: 'x' };
    let ctx = contextOf(makeEvent({ inputs: workerInputs('002', 250, 500), checkpoint: fresh }));
    assert.deepEqual(ctx.checkpoint, { cursor: 350, itemsProcessed: 100, accumulatedResults: { units: 5 }, savedAt: undefined, history: [] });
    assert.equal(ctx.batch.resumeFrom, 350);
    assert.equal(ctx.batch.resumed, true);
    const stored = {
      accumulated_results: null,
      cursor: { page: 4 },
      items_processed: 40,
      timestamp: '2026-11-30T23:49:45.387Z',
      history: [{ cursor: { page: 2 }, timestamp: '2026-11-30T23:49:40.000Z' }],
    };
    ctx = contextOf(makeEvent({ checkpoint: stored }));
    assert.deepEqual(ctx.checkpoint, {
      cursor: { page: 4 },
      itemsProcessed: 40,
      accumulatedResults: undefined,
      savedAt: '2026-11-30T23:49:45.387Z',
      history: [{ cursor: { page: 2 }, savedAt: '2026-11-30T23:49:40.000Z' }],
    });
    assert.equal(ctx.batch, undefined, 'not a batch worker');
  });

  test('other steps: no batch, inputs as given, a non-object task context is an empty object', () => {
    const event = makeEvent({ inputs: { cursor: 'mine', a: 1 } });
    event.task.context = [1, 2];
    const ctx = contextOf(event);
    assert.equal(ctx.batch, undefined);
    assert.deepEqual(ctx.inputs, { cursor: 'mine', a: 1 });
    assert.deepEqual(ctx.taskContext, {});
    assert.equal(ctx.handlerMethod, 'call');
  });

  test('dependency results are unwrapped; dependencyResultsMatching fans in by prefix or RegExp', () => {
    const ctx = contextOf(
      makeEvent({
        deps: { fetch_b: 2, fetch_a: 1, other: 0 },
        rawDeps: { analyze: { result: envelope([1, 2], { type: 'no_batches' }), success: true } },
      }),
    );
    assert.deepEqual(ctx.dependencyResult('analyze'), [1, 2]);
    assert.deepEqual(ctx.dependencyResultsMatching('fetch_'), [{ stepName: 'fetch_a', result: 1 }, { stepName: 'fetch_b', result: 2 }]);
    assert.deepEqual(ctx.dependencyResultsMatching(/^(other|fetch_b)$/g).map((m) => m.stepName), ['fetch_b', 'other']);
    assert.deepEqual(ctx.dependencyResultsMatching('none'), []);
    assert.throws(() => ctx.dependencyResultsMatching(5), /give a step name prefix \(string\) or a RegExp/);
  });

  test('signal is made only when read, and no context carries an accessor of its own', () => {
    // An own getter would give every context an accessor pair in V8's old
    // generation, holding the step's event through young collections
    // (BENCHMARKS.md, "The Worker's tail in Node").
    let made = 0;
    const controller = new AbortController();
    const ctx = createStepContext(makeEvent({}), () => (made++, controller.signal), logger);
    assert.equal(made, 0);
    assert.equal(ctx.signal, controller.signal);
    assert.equal(made, 1);
    controller.abort(new Error('stop'));
    assert.equal(ctx.signal.aborted, true);
    const accessors = Object.entries(Object.getOwnPropertyDescriptors(ctx)).filter(([, d]) => d.get || d.set).map(([k]) => k);
    assert.deepEqual(accessors, []);
    // A signal given as is is the one handlers see.
    assert.equal(createStepContext(makeEvent({}), controller.signal, logger).signal, controller.signal);
  });
});

describe('required dependencies and inputs', () => {
  const permanent = (code, pattern) => (e) => e instanceof PermanentError && e.options.errorCode === code && pattern.test(e.message);

  test('requireDependency / requireInput give the value, or fail permanently naming what is missing', () => {
    const ctx = contextOf(makeEvent({ name: 'charge', deps: { validate_order: { total: 5 }, empty: null }, context: { orderId: 'A-1', note: null } }));
    assert.deepEqual(ctx.requireDependency('validate_order'), { total: 5 });
    assert.equal(ctx.requireInput('orderId'), 'A-1');
    assert.throws(() => ctx.requireDependency('fetch_rates'), permanent('MISSING_DEPENDENCY', /^step 'charge' requires dependency result 'fetch_rates' \(results present: 'validate_order'\), which is missing$/));
    assert.throws(() => ctx.requireDependency('empty'), permanent('MISSING_DEPENDENCY', /'empty'/));
    assert.throws(() => ctx.requireInput('customerId'), permanent('MISSING_INPUT', /requires task context field 'customerId' \(the task context has: 'orderId', 'note'\)/));
    assert.throws(() => ctx.requireInput('note'), permanent('MISSING_INPUT', /'note'/));
  });

  test('the helpers work destructured from the context, and a spread copies every field but the signal', () => {
    const ctx = contextOf(makeEvent({ name: 'charge', deps: { validate_order: { total: 5 }, validate_card: { ok: true } }, context: { orderId: 'A-1' } }));
    const { dependencyResult, dependencyResultsMatching, requireDependency, requireInput } = ctx;
    assert.deepEqual(dependencyResult('validate_order'), { total: 5 });
    assert.deepEqual(dependencyResultsMatching('validate_').map((m) => m.stepName), ['validate_card', 'validate_order']);
    assert.deepEqual(requireDependency('validate_card'), { ok: true });
    assert.equal(requireInput('orderId'), 'A-1');
    assert.throws(() => requireInput('customerId'), permanent('MISSING_INPUT', /^step 'charge' requires task context field 'customerId'/));
    const copy = { ...ctx };
    assert.equal(copy.signal, undefined);
    assert.deepEqual(Object.keys(copy).sort(), [
      'batch', 'checkpoint', 'dependencyResult', 'dependencyResults', 'dependencyResultsMatching', 'event', 'handlerMethod', 'handlerName', 'inputs', 'logger',
      'maxAttempts', 'requireDependency', 'requireInput', 'retryCount', 'spanId', 'stepConfig', 'stepName', 'stepType', 'stepUuid', 'taskContext', 'taskUuid', 'templateStepName', 'traceId',
    ]);
  });

  test('defineHandler checks its requirements before the handler runs, naming every missing one', async () => {
    let ran = 0;
    const handler = defineHandler(() => ++ran, { dependencies: ['a', 'b'], inputs: ['x'] });
    assert.equal(await handler(contextOf(makeEvent({ deps: { a: 1, b: 2 }, context: { x: 0 } }))), 1);
    assert.throws(
      () => handler(contextOf(makeEvent({ name: 's', deps: { a: 1 }, context: {} }))),
      permanent('MISSING_DEPENDENCY', /requires dependency result 'b' \(results present: 'a'\) and task context field 'x'/),
    );
    assert.equal(ran, 1, 'the handler did not run');
    const plain = () => 1;
    assert.equal(defineHandler(plain), plain, 'no requirements: the handler itself');
    assert.throws(() => defineHandler(plain, { dependencies: 'a' }), /dependencies must be an array of non-empty names/);
    assert.throws(() => defineHandler(plain, 5), /requirements must be an object/);
  });

  test('a batch worker checks them too, but not on the placeholder after noBatches()', async () => {
    const handler = defineBatchWorker(() => 'ran', { dependencies: ['analyze'] });
    await assert.rejects(handler(contextOf(makeEvent({ inputs: workerInputs('001', 0, 10) }))), permanent('MISSING_DEPENDENCY', /'analyze'/));
    assert.deepEqual(await handler(contextOf(makeEvent({ inputs: workerInputs('000', 0, 0, { noOp: true }) }))), { noOp: true });
  });
});

describe('collectBatchResults', () => {
  const convergence = (rawDeps, dependencies = ['count_stock']) => {
    const event = makeEvent({ name: 'summarize', rawDeps });
    event.stepDefinition.dependencies = dependencies;
    return contextOf(event);
  };

  test('the workers’ results in the order of the ranges, failures apart', () => {
    const ctx = convergence({
      plan: { result: envelope(30, created(['001', '002', '003'], 30)), success: true },
      count_stock_002: { result: { units: 2 }, success: true },
      count_stock_001: { result: { units: 1 }, success: true },
      count_stock_003: { result: null, success: false, errorMessage: 'disk full' },
      count_stock_extra: { result: { units: 99 }, success: true },
    });
    const collected = collectBatchResults(ctx);
    assert.equal(collected.workerTemplate, 'count_stock');
    assert.equal(collected.noBatches, false);
    assert.equal(collected.totalItems, 30);
    assert.deepEqual(collected.results, [{ units: 1 }, { units: 2 }]);
    assert.deepEqual(collected.batches.map((b) => b.stepName), ['count_stock_001', 'count_stock_002']);
    assert.deepEqual(collected.failed, [{ batchId: '003', stepName: 'count_stock_003', errorMessage: 'disk full' }]);
    assert.equal(collected.reduce((sum, r) => sum + r.units, 0), 3);
    assert.deepEqual(collectBatchResults(ctx, 'count_stock').results, collected.results);
  });

  test('after noBatches() the placeholder contributes nothing', () => {
    const ctx = convergence({
      plan: { result: envelope(0, { type: 'no_batches' }), success: true },
      count_stock_000: { result: { noOp: true }, success: true },
    });
    for (const collected of [collectBatchResults(ctx), collectBatchResults(ctx, 'count_stock')]) {
      assert.equal(collected.noBatches, true);
      assert.deepEqual(collected.results, []);
      assert.equal(collected.reduce((n) => n + 1, 0), 0);
    }
  });

  test('no batchable step, or several, is a clear permanent error', () => {
    assert.throws(() => collectBatchResults(convergence({ a: { result: 1, success: true } }, ['a'])), (e) => e instanceof PermanentError && /no batchable step feeds step 'summarize'/.test(e.message));
    const two = convergence({
      p1: { result: envelope(1, created(['001'])), success: true },
      p2: { result: envelope(1, { ...created(['001']), worker_template_name: 'other' }), success: true },
    });
    assert.throws(() => collectBatchResults(two), /several batch worker templates feed step 'summarize' \(count_stock, other\)/);
    assert.equal(collectBatchResults(two, 'other').workerTemplate, 'other');
    assert.throws(() => collectBatchResults(two, 'missing'), /no batchable step that created 'missing' workers/);
    assert.throws(() => collectBatchResults(two, ''), /workerTemplate must be the name/);
  });
});

describe('defineBatchWorker', () => {
  test('runs the handler with ctx.batch; the placeholder worker skips it', async () => {
    const seen = [];
    const handler = defineBatchWorker((ctx) => (seen.push(ctx.batch.batchId), ctx.batch.size));
    assert.equal(await handler(contextOf(makeEvent({ inputs: workerInputs('001', 0, 10) }))), 10);
    assert.deepEqual(await handler(contextOf(makeEvent({ inputs: workerInputs('000', 0, 0, { noOp: true }) }))), { noOp: true });
    assert.deepEqual(seen, ['001']);
    const custom = defineBatchWorker(() => 1, { onNoOp: () => ({ nothing: true }) });
    assert.deepEqual(await custom(contextOf(makeEvent({ inputs: workerInputs('000', 0, 0, { noOp: true }) }))), { nothing: true });
  });

  test('on a step that is not a batch worker it fails permanently, saying why', async () => {
    const handler = defineBatchWorker(() => 1);
    await assert.rejects(handler(contextOf(makeEvent({ stepType: 'standard' }))), (e) => e instanceof PermanentError && /carries no batch range.*type: standard/.test(e.message));
    assert.throws(() => defineBatchWorker('x'), /the handler must be a function, got string/);
    assert.throws(() => defineBatchWorker(() => 1, { onNoOp: 3 }), /options\.onNoOp: the handler must be a function/);
  });
});
