/**
 * Batch processing as handlers see it: a batch worker's slice (`ctx.batch`),
 * its saved progress (`ctx.checkpoint`), and the workers' results collected
 * at the convergence step. tasker's own records (`cursor.batch_id`,
 * `items_processed`, ...) are read here and nowhere else.
 */
import type { StepEvent } from '../index';
import { storedBatchOutcome, storedResult } from './envelope';
import { PermanentError } from './failures';

/** How the template's `batch_config.failure_strategy` treats a failed batch. */
export type BatchFailureStrategy = 'continueOnFailure' | 'failFast' | 'isolate';

/** A batch worker's slice of the work (`ctx.batch`). */
export interface BatchContext<C = unknown> {
  /** The id given to `batches()` (the step is named `<workerTemplate>_<batchId>`). */
  readonly batchId: string;
  /** The range to process: from `start` (inclusive) to `end` (exclusive). */
  readonly cursor: { readonly start: C; readonly end: C };
  /** Items in the range. */
  readonly size: number;
  /** True for the placeholder worker tasker runs after `noBatches()`: there is nothing to do. */
  readonly isNoOp: boolean;
  /** The `type: batch_worker` template step this worker was made from. */
  readonly workerTemplate: string;
  /** The template's `batch_config.cursor_field`. */
  readonly cursorField: string;
  readonly failureStrategy: BatchFailureStrategy;
  /** Where to go on from: the checkpoint's cursor when resuming, else `cursor.start`. */
  readonly resumeFrom: C;
  /** Whether a checkpoint was saved earlier (by this attempt or one before a retry). */
  readonly resumed: boolean;
}

/** Progress saved with `checkpoint(...)` (`ctx.checkpoint`). */
export interface Checkpoint<C = unknown, A = unknown> {
  /** Where to resume. */
  readonly cursor: C;
  /** Items done so far in this batch. */
  readonly itemsProcessed: number;
  /** What the handler carried forward. */
  readonly accumulatedResults: A | undefined;
  /** When it was saved (ISO 8601), when tasker recorded it. */
  readonly savedAt?: string;
  /** Earlier checkpoints of this step, oldest first. */
  readonly history: ReadonlyArray<{ readonly cursor: C; readonly savedAt?: string }>;
}

type Raw = Record<string, unknown>;
const isRecord = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Keys tasker merges into a batch worker's inputs (BatchWorkerInputs). */
const BATCH_INPUT_KEYS = ['cursor', 'batch_metadata', 'is_no_op', '__template_step_name'];

const STRATEGIES: Record<string, BatchFailureStrategy> = {
  continue_on_failure: 'continueOnFailure',
  fail_fast: 'failFast',
  isolate: 'isolate',
};

/** The checkpoint in a step event, in this package's names. */
export function parseCheckpoint(raw: unknown): Checkpoint | undefined {
  if (!isRecord(raw) || !('cursor' in raw)) return undefined;
  const history = Array.isArray(raw.history)
    ? raw.history.filter(isRecord).map((h) => ({ cursor: h.cursor, savedAt: typeof h.timestamp === 'string' ? h.timestamp : undefined }))
    : [];
  return {
    cursor: raw.cursor,
    itemsProcessed: typeof raw.items_processed === 'number' ? raw.items_processed : 0,
    accumulatedResults: raw.accumulated_results ?? undefined,
    savedAt: typeof raw.timestamp === 'string' ? raw.timestamp : undefined,
    history,
  };
}

/** A batch worker's slice from its inputs, or undefined for other steps. */
export function parseBatchContext(inputs: unknown, checkpoint: Checkpoint | undefined, templateStepName: string): BatchContext | undefined {
  if (!isRecord(inputs) || !isRecord(inputs.cursor) || typeof inputs.cursor.batch_id !== 'string') return undefined;
  const cursor = inputs.cursor;
  const metadata = isRecord(inputs.batch_metadata) ? inputs.batch_metadata : {};
  return {
    batchId: cursor.batch_id as string,
    cursor: { start: cursor.start_cursor, end: cursor.end_cursor },
    size: typeof cursor.batch_size === 'number' ? cursor.batch_size : 0,
    isNoOp: inputs.is_no_op === true,
    workerTemplate: typeof inputs.__template_step_name === 'string' ? inputs.__template_step_name : templateStepName,
    cursorField: typeof metadata.cursor_field === 'string' ? metadata.cursor_field : 'id',
    failureStrategy: STRATEGIES[String(metadata.failure_strategy)] ?? 'failFast',
    resumeFrom: checkpoint ? checkpoint.cursor : cursor.start_cursor,
    resumed: checkpoint !== undefined,
  };
}

/** A batch worker's inputs without tasker's batch record: what the template's initialization gave. */
export function userInputs(inputs: Raw, batch: BatchContext | undefined): Raw {
  if (!batch) return inputs;
  return Object.fromEntries(Object.entries(inputs).filter(([k]) => !BATCH_INPUT_KEYS.includes(k)));
}

/** One batch worker's result at the convergence step. */
export interface BatchWorkerResult<R = unknown> {
  readonly batchId: string;
  /** The worker step's name, `<workerTemplate>_<batchId>`. */
  readonly stepName: string;
  readonly result: R;
}

/** A batch worker that failed (kept going with `failure_strategy: continue_on_failure`). */
export interface BatchWorkerFailure {
  readonly batchId: string;
  readonly stepName: string;
  readonly errorMessage?: string;
}

/** The batch workers' results, as `collectBatchResults` finds them. */
export interface BatchResults<R = unknown> {
  readonly workerTemplate: string;
  /** The batchable step returned `noBatches()`: `batches` is empty. */
  readonly noBatches: boolean;
  /** `totalItems` the batchable step announced. */
  readonly totalItems: number;
  /** Successful workers, in the order of the batchable step's ranges. */
  readonly batches: ReadonlyArray<BatchWorkerResult<R>>;
  readonly results: readonly R[];
  readonly failed: readonly BatchWorkerFailure[];
  /** Folds the results, in batch order. */
  reduce<T>(reducer: (accumulator: T, result: R, batch: BatchWorkerResult<R>) => T, initial: T): T;
}

/** What collectBatchResults needs from a context. */
interface BatchSource {
  readonly event: StepEvent;
  readonly stepName: string;
}

/**
 * At a convergence step: the results of the workers a batchable step
 * created. `workerTemplate` (the `type: batch_worker` step's name) may be
 * left out when one batchable step feeds this one. A placeholder worker
 * (after `noBatches()`) contributes nothing.
 */
export function collectBatchResults<R = unknown>(ctx: BatchSource, workerTemplate?: string): BatchResults<R> {
  const deps = ctx.event.dependencyResults;
  const declared = ctx.event.stepDefinition.dependencies ?? [];
  if (workerTemplate !== undefined && (typeof workerTemplate !== 'string' || workerTemplate === '')) {
    throw new TypeError('collectBatchResults: workerTemplate must be the name of a type: batch_worker template step');
  }
  const outcomes = Object.values(deps)
    .map((dep) => storedBatchOutcome(dep.result))
    .filter((o): o is NonNullable<typeof o> => o !== undefined);
  const created = outcomes.filter((o) => o.type === 'createBatches');
  let template = workerTemplate;
  if (template === undefined) {
    const names = [...new Set(created.map((o) => o.workerTemplate))];
    // After noBatches() the outcome names no template: the declared dependency whose placeholder ran does.
    const fromDeclared = declared.filter((d) => !(d in deps) && Object.keys(deps).some((k) => k.startsWith(`${d}_`)));
    const candidates = names.length > 0 ? names : fromDeclared;
    if (candidates.length !== 1) {
      throw new PermanentError(
        candidates.length === 0
          ? `collectBatchResults: no batchable step feeds step '${ctx.stepName}' (its dependencies: ${Object.keys(deps).join(', ') || 'none'})`
          : `collectBatchResults: several batch worker templates feed step '${ctx.stepName}' (${candidates.join(', ')}); name the one to collect`,
        { errorCode: 'NO_BATCH_OUTCOME' },
      );
    }
    template = candidates[0]!;
  }
  const outcome = created.find((o) => o.workerTemplate === template);
  const results: BatchWorkerResult<R>[] = [];
  const failed: BatchWorkerFailure[] = [];
  if (!outcome && !outcomes.some((o) => o.type === 'noBatches')) {
    throw new PermanentError(`collectBatchResults: no batchable step that created '${template}' workers feeds step '${ctx.stepName}'`, {
      errorCode: 'NO_BATCH_OUTCOME',
    });
  }
  for (const batchId of outcome?.batchIds ?? []) {
    const stepName = `${template}_${batchId}`;
    const dep = deps[stepName];
    if (dep && dep.success !== false) results.push({ batchId, stepName, result: storedResult(dep.result) as R });
    else failed.push({ batchId, stepName, errorMessage: dep?.errorMessage ?? (dep ? undefined : 'no result reached this step') });
  }
  return {
    workerTemplate: template,
    noBatches: !outcome,
    totalItems: outcome?.totalItems ?? 0,
    batches: results,
    results: results.map((r) => r.result),
    failed,
    reduce: (reducer, initial) => results.reduce((acc, batch) => reducer(acc, batch.result, batch), initial),
  };
}
