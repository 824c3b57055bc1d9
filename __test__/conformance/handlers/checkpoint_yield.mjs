// checkpoint_yield_test_ts (ts_e2e_checkpoint): class-style handlers. One batch
// of `total_items` items; the worker yields a checkpoint every
// `items_per_checkpoint` items and, when the task context asks for it, fails
// once after `fail_after_items` (retryable, or permanent) to prove a retry
// resumes from the last checkpoint. Item i is worth i + 1, so the running
// total shows whether any item was counted twice or skipped.
import { pkg } from '../../helpers/package.mjs';

const { batches, checkpoint, collectBatchResults, noBatches, PermanentError, RetryableError } = pkg;

/** One run of a batch worker: from where it left off to the next checkpoint, or to the end. */
export function processItems(ctx) {
  const { batch, checkpoint: saved, taskContext } = ctx;
  const every = taskContext.items_per_checkpoint ?? ctx.stepConfig.items_per_checkpoint;
  const failAfter = taskContext.fail_after_items;
  const failOnAttempt = taskContext.fail_on_attempt ?? 1;
  const progress = saved?.accumulatedResults ?? { running_total: 0, checkpoints: [] };
  let runningTotal = progress.running_total;
  let done = saved?.itemsProcessed ?? 0;
  const until = Math.min(batch.cursor.end, batch.resumeFrom + every);
  for (let item = batch.resumeFrom; item < until; item++) {
    if (failAfter !== undefined && done >= failAfter && ctx.retryCount + 1 === failOnAttempt) {
      const message = `injected failure after ${done} items (item ${item}, attempt ${ctx.retryCount + 1})`;
      throw taskContext.permanent_failure ? new PermanentError(message, { errorCode: 'INJECTED' }) : new RetryableError(message);
    }
    runningTotal += item + 1;
    done++;
  }
  if (until < batch.cursor.end) return checkpoint(until, done, { running_total: runningTotal, checkpoints: [...progress.checkpoints, until] });
  return { items_processed: done, running_total: runningTotal, checkpoints: progress.checkpoints, finished_on_attempt: ctx.retryCount + 1 };
}

/** The aggregate over the batch workers' results. */
export function aggregate(ctx, workerTemplate) {
  const collected = collectBatchResults(ctx, workerTemplate);
  const sum = (field) => collected.results.reduce((n, r) => n + r[field], 0);
  return {
    total_processed: sum('items_processed'),
    running_total: sum('running_total'),
    checkpoints_used: collected.results.reduce((n, r) => n + r.checkpoints.length, 0),
    worker_count: collected.batches.length,
    failed_workers: collected.failed.map((f) => f.stepName),
  };
}

export class CheckpointYieldAnalyzerHandler {
  constructor({ worker_template_name }) {
    this.workerTemplate = worker_template_name;
  }

  call(ctx) {
    const total = ctx.requireInput('total_items');
    if (total <= 0) return noBatches({ total_items: 0 });
    return batches(this.workerTemplate, [{ start: 0, end: total }], { total_items: total });
  }
}

export class CheckpointYieldWorkerHandler {
  call(ctx) {
    return processItems(ctx);
  }
}

export class CheckpointYieldAggregatorHandler {
  call(ctx) {
    return aggregate(ctx, 'checkpoint_yield_batch_ts');
  }
}
