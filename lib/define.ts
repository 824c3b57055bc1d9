/**
 * Typed handler definitions: the user's own types for the task context, the
 * dependencies' results, the initialization and the result, checked by the
 * compiler. Each returns a handler for `worker.register` (or a module the
 * module resolver loads). At run time they add only what their kind needs.
 */
import type { BatchContext, Checkpoint } from './batch';
import { PermanentError } from './failures';
import { missingRequirementError, missingRequirements, type StepContext } from './handler';
import type { BatchesResult, CheckpointResult, DecisionResult, SuccessResult } from './results';

type Awaitable<T> = T | PromiseLike<T>;
type Rec = Record<string, unknown>;

/** A plain handler: returns its result (or `success(result, { metadata })`). */
export type Handler<TContext = Rec, TResult = unknown, TDeps extends object = Rec, TConfig = Rec> = (
  context: StepContext<TContext, TDeps, TConfig>,
) => Awaitable<TResult | SuccessResult<TResult>>;

/** A decision handler: returns `decision([...], result)` or `noBranches(result)`. */
export type DecisionHandler<TContext = Rec, TResult = unknown, TBranch extends string = string, TDeps extends object = Rec, TConfig = Rec> = (
  context: StepContext<TContext, TDeps, TConfig>,
) => Awaitable<DecisionResult<TResult, TBranch>>;

/** A batchable step's handler: returns `batches(...)` or `noBatches(result)`. */
export type BatchAnalyzer<TContext = Rec, TResult = unknown, TDeps extends object = Rec, TConfig = Rec> = (
  context: StepContext<TContext, TDeps, TConfig>,
) => Awaitable<BatchesResult<TResult>>;

/** A batch worker's context: `batch` is always there, `checkpoint` typed by the cursor and what is carried forward. */
export interface BatchWorkerContext<TContext = Rec, TCursor = number, TAccumulated = unknown, TDeps extends object = Rec, TConfig = Rec>
  extends StepContext<TContext, TDeps, TConfig> {
  readonly batch: BatchContext<TCursor>;
  readonly checkpoint: Checkpoint<TCursor, TAccumulated> | undefined;
}

/** A batch worker: returns its result, or `checkpoint(cursor, itemsProcessed, accumulated)` to go on later. */
export type BatchWorker<TContext = Rec, TResult = unknown, TCursor = number, TAccumulated = unknown, TDeps extends object = Rec, TConfig = Rec> = (
  context: BatchWorkerContext<TContext, TCursor, TAccumulated, TDeps, TConfig>,
) => Awaitable<TResult | SuccessResult<TResult> | CheckpointResult<TCursor, TAccumulated>>;

function checkFunction(where: string, fn: unknown): void {
  if (typeof fn !== 'function') throw new TypeError(`${where}: the handler must be a function, got ${fn === null ? 'null' : typeof fn}`);
}

/**
 * What a handler cannot run without, checked before it is called: a missing
 * (or null) one fails the step as a permanent error naming every one that is
 * missing (`MISSING_DEPENDENCY`, `MISSING_INPUT`). Names are typed by `TDeps`
 * and `TContext`.
 */
export interface Requirements<TContext = Rec, TDeps extends object = Rec> {
  /** Dependency steps whose results must be there. */
  dependencies?: readonly (keyof TDeps & string)[];
  /** Task context fields that must be there (tasker-core's DSL calls them inputs). */
  inputs?: readonly (keyof TContext & string)[];
}

function checkNames(where: string, what: string, names: unknown): readonly string[] {
  if (names === undefined) return [];
  if (!Array.isArray(names) || !names.every((n) => typeof n === 'string' && n !== '')) {
    throw new TypeError(`${where}: ${what} must be an array of non-empty names`);
  }
  return names as string[];
}

/** `handler`, checking `requirements` before each call (the handler itself when there are none). */
function requiring<C extends StepContext<any, any, any>, R>(where: string, handler: (context: C) => R, requirements: unknown): (context: C) => R {
  if (requirements === undefined) return handler;
  if (typeof requirements !== 'object' || requirements === null) throw new TypeError(`${where}: requirements must be an object ({ dependencies, inputs })`);
  const wanted = {
    dependencies: checkNames(where, 'dependencies', (requirements as Requirements).dependencies),
    inputs: checkNames(where, 'inputs', (requirements as Requirements).inputs),
  };
  if (wanted.dependencies.length === 0 && wanted.inputs.length === 0) return handler;
  return (context) => {
    const missing = missingRequirements(context, wanted);
    if (missing.dependencies.length > 0 || missing.inputs.length > 0) throw missingRequirementError(context, missing);
    return handler(context);
  };
}

/**
 * A handler whose context, dependencies, initialization and result are
 * typed; `requirements` names the dependencies and task context fields it
 * cannot run without.
 */
export function defineHandler<TContext = Rec, TResult = unknown, TDeps extends object = Rec, TConfig = Rec>(
  handler: Handler<TContext, TResult, TDeps, TConfig>,
  requirements?: Requirements<TContext, TDeps>,
): Handler<TContext, TResult, TDeps, TConfig> {
  checkFunction('defineHandler', handler);
  return requiring('defineHandler', handler, requirements);
}

/**
 * A decision step's handler (`type: decision`): it must return a decision.
 * `TBranch` lists the step names it may create, so a misspelt one does not compile.
 */
export function defineDecisionHandler<TContext = Rec, TResult = unknown, TBranch extends string = string, TDeps extends object = Rec, TConfig = Rec>(
  handler: DecisionHandler<TContext, TResult, TBranch, TDeps, TConfig>,
  requirements?: Requirements<TContext, TDeps>,
): DecisionHandler<TContext, TResult, TBranch, TDeps, TConfig> {
  checkFunction('defineDecisionHandler', handler);
  return requiring('defineDecisionHandler', handler, requirements);
}

/** A batchable step's handler (`type: batchable`): it must return `batches(...)` or `noBatches()`. */
export function defineBatchAnalyzer<TContext = Rec, TResult = unknown, TDeps extends object = Rec, TConfig = Rec>(
  handler: BatchAnalyzer<TContext, TResult, TDeps, TConfig>,
  requirements?: Requirements<TContext, TDeps>,
): BatchAnalyzer<TContext, TResult, TDeps, TConfig> {
  checkFunction('defineBatchAnalyzer', handler);
  return requiring('defineBatchAnalyzer', handler, requirements);
}

export interface BatchWorkerOptions<TContext = Rec, TResult = unknown, TDeps extends object = Rec, TConfig = Rec>
  extends Requirements<TContext, TDeps> {
  /**
   * Runs instead of the handler for the placeholder worker tasker creates
   * after `noBatches()` (default: complete it with `{ noOp: true }`, which
   * `collectBatchResults` leaves out).
   */
  onNoOp?: (context: StepContext<TContext, TDeps, TConfig>) => Awaitable<TResult | SuccessResult<TResult>>;
}

/**
 * A batch worker's handler (instances of a `type: batch_worker` step): it
 * gets `ctx.batch` (its range) and `ctx.checkpoint` typed by `TCursor` and
 * `TAccumulated`. The placeholder worker after `noBatches()` does not call it.
 */
export function defineBatchWorker<TContext = Rec, TResult = unknown, TCursor = number, TAccumulated = unknown, TDeps extends object = Rec, TConfig = Rec>(
  handler: BatchWorker<TContext, TResult, TCursor, TAccumulated, TDeps, TConfig>,
  options: BatchWorkerOptions<TContext, TResult, TDeps, TConfig> = {},
): (context: StepContext<TContext, TDeps, TConfig>) => Promise<TResult | SuccessResult<TResult> | CheckpointResult<TCursor, TAccumulated> | { noOp: true }> {
  checkFunction('defineBatchWorker', handler);
  if (options.onNoOp !== undefined) checkFunction('defineBatchWorker: options.onNoOp', options.onNoOp);
  const checked = requiring('defineBatchWorker', handler, { dependencies: options.dependencies, inputs: options.inputs });
  return async (context) => {
    const batch = context.batch;
    if (!batch) {
      throw new PermanentError(
        `step '${context.stepName}' carries no batch range: a batch worker handler runs on the workers a batchable step creates ` +
          `from a 'type: batch_worker' template step (this step's type: ${context.stepType})`,
        { errorCode: 'NOT_A_BATCH_WORKER' },
      );
    }
    if (batch.isNoOp) return options.onNoOp ? options.onNoOp(context) : { noOp: true as const };
    return checked(context as unknown as BatchWorkerContext<TContext, TCursor, TAccumulated, TDeps, TConfig>);
  };
}
