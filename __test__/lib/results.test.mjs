// The result helpers: what they send to tasker, and a clear error for every
// bad argument. The handler's result is never changed or wrapped.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { pkg } from '../helpers/package.mjs';

const { success, decision, noBranches, batches, noBatches, batchRanges, checkpoint, isStepResult } = pkg;

describe('results', () => {
  test('success keeps any result as it is, with metadata beside it', () => {
    const result = [1, 2, 3];
    const r = success(result, { metadata: { source: 'x' } });
    assert.ok(isStepResult(r));
    assert.equal(r.kind, 'success');
    assert.equal(r.completion.result, result, 'the same value, not a copy');
    assert.deepEqual(r.completion.metadata, { source: 'x' });
    assert.deepEqual(success().completion.result, {});
    assert.equal(success(7).completion.result, 7);
    assert.throws(() => success(1, { metadata: [] }), /options\.metadata must be an object/);
    assert.throws(() => success(1, 'meta'), /options must be an object/);
  });

  test('decision: one name or a list; the result travels beside the outcome', () => {
    assert.deepEqual(decision('express').completion.decision, { createSteps: ['express'] });
    const d = decision(['a', 'b'], 42);
    assert.equal(d.kind, 'decision');
    assert.deepEqual(d.branches, ['a', 'b']);
    assert.equal(d.completion.result, 42);
    assert.deepEqual(d.completion.decision, { createSteps: ['a', 'b'] });
    const none = noBranches([1]);
    assert.deepEqual(none.completion.decision, { createSteps: [] });
    assert.deepEqual(none.completion.result, [1]);
    assert.deepEqual(noBranches().completion.result, {});
  });

  test('decision: bad step names are clear errors', () => {
    assert.throws(() => decision(['a', '']), /"" is not a step name/);
    assert.throws(() => decision(['a', 'a']), /'a' is listed twice/);
    assert.throws(() => decision([7]), /7 is not a step name/);
    assert.throws(() => decision({ a: 1 }), /steps must be a step name or an array/);
    assert.throws(() => decision(['x'.repeat(256)]), /at most 255 characters/);
  });

  test('batches: ranges become cursors with generated ids; sizes and totals are computed', () => {
    const b = batches('worker', [{ start: 0, end: 10 }, { start: 10, end: 25 }], { planned: true });
    assert.equal(b.kind, 'batches');
    assert.deepEqual(b.completion.result, { planned: true });
    assert.deepEqual(b.completion.batch, {
      workerTemplateName: 'worker',
      totalItems: 25,
      cursors: [
        { batchId: '001', startCursor: 0, endCursor: 10, batchSize: 10 },
        { batchId: '002', startCursor: 10, endCursor: 25, batchSize: 15 },
      ],
    });
    const named = batches('w', [{ id: 'jan', start: '2025-01-01', end: '2025-02-01', size: 31 }], 5, { totalItems: 40, metadata: { m: 1 } });
    assert.deepEqual(named.completion.batch.cursors, [{ batchId: 'jan', startCursor: '2025-01-01', endCursor: '2025-02-01', batchSize: 31 }]);
    assert.equal(named.completion.batch.totalItems, 40);
    assert.equal(named.completion.result, 5);
    assert.deepEqual(named.completion.metadata, { m: 1 });
    const many = batches('w', batchRanges(1000, 1));
    assert.equal(many.completion.batch.cursors[0].batchId, '0001', 'ids are as wide as the count needs');
  });

  test('batches: bad arguments are clear errors', () => {
    assert.throws(() => batches('', [{ start: 0, end: 1 }]), /workerTemplate: "" is not a step name/);
    assert.throws(() => batches('w', []), /no ranges given; return noBatches\(\)/);
    assert.throws(() => batches(undefined, [], 0, {}), /return noBatches\(\) when there is nothing to split/);
    assert.throws(() => batches('w', 'x'), /ranges must be an array/);
    assert.throws(() => batches('w', [null]), /ranges\[0\] must be an object/);
    assert.throws(() => batches('w', [{ start: 0 }]), /ranges\[0\]: start and end are required/);
    assert.throws(() => batches('w', [{ start: 'a', end: 'b' }]), /give size when start and end are not numbers/);
    assert.throws(() => batches('w', [{ start: 5, end: 1 }]), /size -4 is not a whole number/);
    assert.throws(() => batches('w', [{ id: 'a b', start: 0, end: 1 }]), /"a b" is not a batch id/);
    assert.throws(() => batches('w', [{ id: 'x', start: 0, end: 1 }, { id: 'x', start: 1, end: 2 }]), /'x' is used twice/);
    assert.throws(() => batches('w', [{ batchId: 'b', startCursor: 0, endCursor: 1, batchSize: 1 }], 1), /earlier form; give \{ id\?, start, end, size\? \}/);
    assert.throws(() => batches('w', [{ start: 0, end: 1 }], {}, { totalItems: -1 }), /totalItems -1/);
  });

  test('noBatches: no cursors, no template, any result', () => {
    const n = noBatches(0);
    assert.equal(n.kind, 'batches');
    assert.equal(n.completion.result, 0);
    assert.deepEqual(n.completion.batch, { cursors: [], totalItems: 0 });
    assert.deepEqual(noBatches().completion.result, {});
  });

  test('batchRanges splits evenly, with a shorter last range, within maxBatches', () => {
    assert.deepEqual(batchRanges(10, 4), [{ start: 0, end: 4 }, { start: 4, end: 8 }, { start: 8, end: 10 }]);
    assert.deepEqual(batchRanges(0, 4), []);
    assert.deepEqual(batchRanges(3, 10, { start: 100 }), [{ start: 100, end: 103 }]);
    const capped = batchRanges(1000, 10, { maxBatches: 4 });
    assert.equal(capped.length, 4);
    assert.deepEqual(capped.at(-1), { start: 750, end: 1000 });
    assert.throws(() => batchRanges(10, 0), /batchSize 0 must be a whole number above 0/);
    assert.throws(() => batchRanges(1.5, 1), /totalItems 1.5/);
    assert.throws(() => batchRanges(10, 1, { maxBatches: 0 }), /maxBatches 0/);
  });

  test('checkpoint: cursor, items processed, what is carried forward', () => {
    const c = checkpoint({ page: 3 }, 300, { sum: 9 });
    assert.equal(c.kind, 'checkpoint');
    assert.deepEqual(c.checkpoint, { cursor: { page: 3 }, itemsProcessed: 300, accumulatedResults: { sum: 9 } });
    assert.throws(() => checkpoint(undefined, 1), /cursor is required/);
    assert.throws(() => checkpoint(1, -1), /itemsProcessed -1/);
    assert.throws(() => checkpoint(1, NaN), /itemsProcessed NaN/);
  });
});
