/**
 * What a handler returns besides a plain value: a success with metadata, a
 * decision, batches, a checkpoint. The handler's own result is never changed:
 * decision and batch outcomes travel beside it (the addon stores them in an
 * envelope and dependents see only the result), so it may be any JSON value.
 * Each helper checks its arguments and throws a TypeError or RangeError that
 * says what is wrong.
 */
import type { StepCompletion } from '../index';

const RESULT = Symbol.for('tasker.worker.stepResult');
/** Type-level only: carries the handler's result type through the helpers. */
declare const resultType: unique symbol;

/** Which helper built a result. */
export type StepResultKind = 'success' | 'decision' | 'batches' | 'checkpoint';

/** A result built with `success`, `decision`, `noBranches`, `batches`, `noBatches` or `checkpoint`. */
export interface StepResult<R = unknown> {
  readonly [RESULT]: true;
  readonly kind: StepResultKind;
  /** What is sent to tasker (absent for a checkpoint). */
  readonly completion?: Omit<StepCompletion, 'executionTimeMs'>;
  /** Progress to save (checkpoint results only). */
  readonly checkpoint?: { cursor: unknown; itemsProcessed: number; accumulatedResults?: unknown };
  readonly [resultType]?: R;
}

export interface SuccessResult<R = unknown> extends StepResult<R> {
  readonly kind: 'success';
}

/** A decision: the declared steps to create (none for `noBranches`). */
export interface DecisionResult<R = unknown, B extends string = string> extends StepResult<R> {
  readonly kind: 'decision';
  readonly branches: readonly B[];
}

/** A batchable step's outcome: batch workers to create (none for `noBatches`). */
export interface BatchesResult<R = unknown> extends StepResult<R> {
  readonly kind: 'batches';
}

/** Progress saved by a batch worker, which then runs again from `cursor`. */
export interface CheckpointResult<C = unknown, A = unknown> extends StepResult<never> {
  readonly kind: 'checkpoint';
  readonly checkpoint: { cursor: C; itemsProcessed: number; accumulatedResults?: A };
}

export function isStepResult(value: unknown): value is StepResult {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[RESULT] === true;
}

export interface SuccessOptions {
  /** Custom metadata stored with the result. */
  metadata?: Record<string, unknown>;
}

const EMPTY = (): Record<string, never> => ({});

function checkMetadata(where: string, options: SuccessOptions | undefined): Record<string, unknown> | undefined {
  if (options === undefined || options === null) return undefined;
  if (typeof options !== 'object') throw new TypeError(`${where}: options must be an object such as { metadata: {...} }`);
  const { metadata } = options;
  if (metadata !== undefined && (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata))) {
    throw new TypeError(`${where}: options.metadata must be an object of key/values`);
  }
  return metadata;
}

function build<T extends StepResult>(fields: Omit<T, typeof RESULT>): T {
  return { [RESULT]: true, ...fields } as T;
}

/** A successful result with metadata. */
export function success(): SuccessResult<Record<string, never>>;
export function success<R>(result: R, options?: SuccessOptions): SuccessResult<R>;
export function success(result: unknown = EMPTY(), options?: SuccessOptions): SuccessResult {
  const metadata = checkMetadata('success', options);
  return build<SuccessResult>({ kind: 'success', completion: { outcome: 'success', result: result === undefined ? {} : result, metadata } });
}

const STEP_NAME_MAX = 255;

function checkStepName(where: string, name: unknown): string {
  if (typeof name !== 'string' || name.trim() === '' || name.length > STEP_NAME_MAX) {
    throw new TypeError(`${where}: ${JSON.stringify(name) ?? String(name)} is not a step name (a non-empty string of at most ${STEP_NAME_MAX} characters)`);
  }
  return name;
}

/**
 * Decision step: create these steps, declared in the template as dependents
 * of the decision step (an empty list is the same as `noBranches`). `result`
 * is what dependents see as this step's result.
 */
export function decision<B extends string>(steps: B | readonly B[]): DecisionResult<Record<string, never>, B>;
export function decision<B extends string, R>(steps: B | readonly B[], result: R, options?: SuccessOptions): DecisionResult<R, B>;
export function decision(steps: string | readonly string[], result: unknown = EMPTY(), options?: SuccessOptions): DecisionResult {
  const list = typeof steps === 'string' ? [steps] : steps;
  if (!Array.isArray(list)) throw new TypeError('decision: steps must be a step name or an array of step names');
  const seen = new Set<string>();
  for (const name of list) {
    checkStepName('decision', name);
    if (seen.has(name)) throw new TypeError(`decision: '${name}' is listed twice`);
    seen.add(name);
  }
  const metadata = checkMetadata('decision', options);
  return build<DecisionResult>({
    kind: 'decision',
    branches: [...list],
    completion: { outcome: 'success', result: result === undefined ? {} : result, decision: { createSteps: [...list] }, metadata },
  });
}

/** Decision step: create none of the branches (the task goes on without them). */
export function noBranches(): DecisionResult<Record<string, never>, never>;
export function noBranches<R>(result: R, options?: SuccessOptions): DecisionResult<R, never>;
export function noBranches(result: unknown = EMPTY(), options?: SuccessOptions): DecisionResult<unknown, never> {
  return decision([] as never[], result, options);
}

/** The slice of work of one batch worker: from `start` (inclusive) to `end` (exclusive). */
export interface BatchRange<C = number> {
  /** Names the worker step `<workerTemplate>_<id>` (default: 001, 002, ...). Letters, digits, _ and -. */
  id?: string;
  start: C;
  end: C;
  /** Items in the range (default: `end - start` for numbers; required otherwise). */
  size?: number;
}

export interface BatchesOptions extends SuccessOptions {
  /** Items over all batches (default: the sum of the sizes). */
  totalItems?: number;
}

const BATCH_ID = /^[A-Za-z0-9_-]{1,64}$/;
const U32_MAX = 4294967295;

function isCount(n: unknown, max = Number.MAX_SAFE_INTEGER): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= max;
}

/**
 * Batchable step: create one worker per range from the `type: batch_worker`
 * template step `workerTemplate`. `result` is what dependents see as this
 * step's result. Use `noBatches()` when there is nothing to split.
 */
export function batches<C>(workerTemplate: string, ranges: readonly BatchRange<C>[]): BatchesResult<Record<string, never>>;
export function batches<C, R>(workerTemplate: string, ranges: readonly BatchRange<C>[], result: R, options?: BatchesOptions): BatchesResult<R>;
export function batches(workerTemplate: string, ranges: readonly BatchRange<unknown>[], result: unknown = EMPTY(), options?: BatchesOptions): BatchesResult {
  if (workerTemplate === undefined && Array.isArray(ranges) && ranges.length === 0) {
    throw new TypeError('batches: no worker template and no ranges; return noBatches() when there is nothing to split');
  }
  checkStepName('batches: workerTemplate', workerTemplate);
  if (!Array.isArray(ranges)) throw new TypeError('batches: ranges must be an array of { start, end } (see batchRanges())');
  if (ranges.length === 0) throw new RangeError('batches: no ranges given; return noBatches() when there is nothing to split');
  const width = Math.max(3, String(ranges.length).length);
  const ids = new Set<string>();
  let sum = 0;
  const cursors = ranges.map((range, i) => {
    const where = `batches: ranges[${i}]`;
    if (typeof range !== 'object' || range === null) throw new TypeError(`${where} must be an object { start, end, size? }`);
    if ('startCursor' in range) {
      throw new TypeError(`${where}: { batchId, startCursor, ... } is the earlier form; give { id?, start, end, size? } (and totalItems in the options)`);
    }
    const id = range.id ?? String(i + 1).padStart(width, '0');
    if (typeof id !== 'string' || !BATCH_ID.test(id)) {
      throw new TypeError(`${where}.id: ${JSON.stringify(id)} is not a batch id (1-64 letters, digits, _ or -)`);
    }
    if (ids.has(id)) throw new TypeError(`${where}.id: '${id}' is used twice`);
    ids.add(id);
    if (range.start === undefined || range.end === undefined) throw new TypeError(`${where}: start and end are required`);
    let size = range.size;
    if (size === undefined) {
      if (typeof range.start !== 'number' || typeof range.end !== 'number') {
        throw new TypeError(`${where}: give size when start and end are not numbers`);
      }
      size = range.end - range.start;
    }
    if (!isCount(size, U32_MAX)) throw new RangeError(`${where}: size ${size} is not a whole number from 0 to ${U32_MAX}`);
    sum += size;
    return { batchId: id, startCursor: range.start, endCursor: range.end, batchSize: size };
  });
  const totalItems = options?.totalItems ?? sum;
  if (!isCount(totalItems)) throw new RangeError(`batches: totalItems ${totalItems} is not a whole number of items`);
  const metadata = checkMetadata('batches', options);
  return build<BatchesResult>({
    kind: 'batches',
    completion: { outcome: 'success', result: result === undefined ? {} : result, batch: { workerTemplateName: workerTemplate, cursors, totalItems }, metadata },
  });
}

/**
 * Batchable step: nothing to split. When the batchable step's template names
 * `handler.initialization.worker_template_name`, tasker runs one placeholder
 * worker of that template (its `ctx.batch.isNoOp` is true) so that the
 * convergence step runs. Without it, tasker creates no worker and finishes
 * the task with the batchable step alone (as tasker-core's own workers see
 * it); the Worker's start-up validation notes such templates once.
 */
export function noBatches(): BatchesResult<Record<string, never>>;
export function noBatches<R>(result: R, options?: SuccessOptions): BatchesResult<R>;
export function noBatches(result: unknown = EMPTY(), options?: SuccessOptions): BatchesResult {
  const metadata = checkMetadata('noBatches', options);
  return build<BatchesResult>({
    kind: 'batches',
    completion: { outcome: 'success', result: result === undefined ? {} : result, batch: { cursors: [], totalItems: 0 }, metadata },
  });
}

export interface BatchRangesOptions {
  /** First item's position (default 0). */
  start?: number;
  /** Most batches: the batch size grows to stay within it. */
  maxBatches?: number;
}

/** Splits items `start .. start + totalItems` into ranges of `batchSize` (the last may be shorter). */
export function batchRanges(totalItems: number, batchSize: number, options: BatchRangesOptions = {}): BatchRange<number>[] {
  if (!isCount(totalItems)) throw new RangeError(`batchRanges: totalItems ${totalItems} is not a whole number of items`);
  if (!isCount(batchSize) || batchSize === 0) throw new RangeError(`batchRanges: batchSize ${batchSize} must be a whole number above 0`);
  const start = options.start ?? 0;
  if (!Number.isSafeInteger(start)) throw new RangeError(`batchRanges: start ${start} is not a whole number`);
  let size = batchSize;
  if (options.maxBatches !== undefined) {
    if (!isCount(options.maxBatches) || options.maxBatches === 0) throw new RangeError(`batchRanges: maxBatches ${options.maxBatches} must be a whole number above 0`);
    size = Math.max(size, Math.ceil(totalItems / options.maxBatches));
  }
  const ranges: BatchRange<number>[] = [];
  for (let from = 0; from < totalItems; from += size) {
    ranges.push({ start: start + from, end: start + Math.min(from + size, totalItems) });
  }
  return ranges;
}

/**
 * Batch worker: save progress and run the step again from `cursor` (it sees
 * the saved progress in `ctx.checkpoint`, also after a retry).
 * `itemsProcessed` counts every item done so far in this batch.
 */
export function checkpoint<C, A = undefined>(cursor: C, itemsProcessed: number, accumulatedResults?: A): CheckpointResult<C, A> {
  if (cursor === undefined) throw new TypeError('checkpoint: cursor is required (where to resume)');
  if (!isCount(itemsProcessed)) throw new RangeError(`checkpoint: itemsProcessed ${itemsProcessed} is not a whole number of items`);
  return build<CheckpointResult<C, A>>({ kind: 'checkpoint', checkpoint: { cursor, itemsProcessed, accumulatedResults } });
}
